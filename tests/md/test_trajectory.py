"""Reading XDATCAR / extended XYZ / ASE trajectories into the analysis, and their checks."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.io import write
from pymatgen.core import Element, Lattice, Structure
from pymatgen.core.trajectory import Trajectory

from sseflows.md.analysis import fit_diffusivity
from sseflows.md.trajectory import check_trajectory, read_trajectory


def _structures(positions, species, lattice):
    return [
        Structure(Lattice(lattice), species, frame, coords_are_cartesian=True, to_unit_cell=True)
        for frame in positions
    ]


def test_xdatcar_with_known_displacements(tmp_path):
    """A wrapped XDATCAR (pymatgen's Trajectory.write_Xdatcar); one Li moves +0.5 Å/frame in x.

    Unwrapped, that Li is 0.5·k Å from its start after k frames (it crosses the 10 Å cell),
    so its MSD at lag k is exactly (0.5 k)² Å²; all other atoms stand still.
    """
    n_frames = 40
    lattice = np.eye(3) * 10.0
    species = ["Li", "Li", "S", "S"]
    start = np.array([[1.0, 1.0, 1.0], [5.0, 5.0, 5.0], [2.0, 7.0, 3.0], [7.0, 2.0, 8.0]])
    positions = np.repeat(start[None], n_frames, axis=0)
    positions[:, 0, 0] += 0.5 * np.arange(n_frames)
    path = tmp_path / "XDATCAR"
    Trajectory.from_structures(_structures(positions, species, lattice)).write_Xdatcar(str(path))
    traj = read_trajectory(path)
    assert traj.species == ("Li", "Li", "S", "S")
    assert traj.n_frames == n_frames
    assert traj.positions.max() < 10.0  # the file is wrapped
    fit = fit_diffusivity(traj.positions, list(traj.species), traj.lattice, 2.0)
    # COM removal: the moving Li drags the centre of mass by m_Li/M per step
    masses = np.array([Element(e).atomic_mass for e in species], dtype=float)
    v = 0.5 * (1 - masses[0] / masses.sum())
    lag = np.arange(n_frames)
    other = 0.5 * masses[0] / masses.sum()
    expected = 0.5 * ((v * lag) ** 2 + (other * lag) ** 2)
    assert np.allclose(fit.li_msd_a2, expected, rtol=1e-6, atol=1e-6)


def test_extxyz_and_ase_traj_give_the_same_d(tmp_path, make_walk):
    positions, species, lattice = make_walk(n_frames=300, seed=7)
    frames = [Atoms(species, positions=p, cell=lattice, pbc=True) for p in positions]
    write(tmp_path / "md.extxyz", frames)
    write(tmp_path / "md.traj", frames)
    fits = []
    for name in ("md.extxyz", "md.traj"):
        traj = read_trajectory(tmp_path / name)
        assert traj.frame_interval_fs is None
        fits.append(fit_diffusivity(traj.positions, list(traj.species), traj.lattice, 10.0))
    direct = fit_diffusivity(positions, species, lattice, 10.0)
    for fit in fits:
        assert fit.diffusivity_cm2_per_s == pytest.approx(direct.diffusivity_cm2_per_s, rel=1e-6)


def test_check_trajectory_rejects_mismatches(tmp_path, make_walk):
    positions, species, lattice = make_walk(n_frames=20)
    write(
        tmp_path / "a.extxyz",
        [Atoms(species, positions=p, cell=lattice, pbc=True) for p in positions],
    )
    traj = read_trajectory(tmp_path / "a.extxyz")
    check_trajectory(traj, 10.0, tuple(species))
    with pytest.raises(ValueError, match="do not match the other trajectories"):
        check_trajectory(traj, 10.0, ("Na",) * 59)
    with pytest.raises(ValueError, match="in a different order"):
        check_trajectory(traj, 10.0, tuple(reversed(species)))
    stamped = traj.__class__(traj.species, traj.positions, traj.lattice, 2.0, None, "x.xml")
    with pytest.raises(
        ValueError, match="stores frames every 2 fs but the time step given is 10 fs"
    ):
        check_trajectory(stamped, 10.0)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_trajectory(tmp_path / "nope.traj")
    bad = tmp_path / "XDATCAR"
    bad.write_text("not an xdatcar\n")
    with pytest.raises(ValueError, match="could not be read"):
        read_trajectory(bad)
