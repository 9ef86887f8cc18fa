"""BVSE hop paths: the tube around the hop, smoothing, the other Li⁺, real hops.

Hand-built grids have paths and saddles readable by eye; the real structures are built from
published lattice parameters (Li2O, α-Li3N) or ship with pymatgen (LiFePO4).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from bvlain.potentials import BVSEPotential
from pymatgen.core import Lattice, Structure

from sseflows.core.hops import enumerate_li_hops
from sseflows.data.prototypes import li3n_alpha
from sseflows.gates.bvse.barriers import bvse_li_path, percolation_barriers
from sseflows.gates.bvse.path import (
    grid_min_energy_path,
    li_repulsion,
    path_is_continuous,
    smooth_path,
)


def _deviation(points: np.ndarray) -> np.ndarray:
    """Distance (Å) of each point from the straight segment between the path's ends."""
    chord = points[-1] - points[0]
    t = np.clip((points - points[0]) @ chord / (chord @ chord), 0.0, 1.0)
    return np.linalg.norm(points - points[0] - t[:, None] * chord, axis=1)


def _length(points: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def _detour_grid() -> np.ndarray:
    """16 Å cube, 0.5 Å steps: a straight valley x = 4..20 at y = z = 16 with a 0.6 eV bump
    in the middle, and a 0.1 eV detour 3 Å away (y = 22) joining its two ends."""
    grid = np.full((32, 32, 32), 3.0)
    grid[4:21, 16, 16] = 0.3
    grid[12, 16, 16] = 0.6
    grid[4, 16:23, 16] = 0.1
    grid[20, 16:23, 16] = 0.1
    grid[4:21, 22, 16] = 0.1
    grid[4, 16, 16] = grid[20, 16, 16] = 0.3
    return grid


def test_tube_keeps_the_path_on_the_hop_instead_of_the_detour() -> None:
    grid, lattice = _detour_grid(), np.eye(3) * 16.0
    start, end = np.array([4, 16, 16]) / 32, np.array([20, 16, 16]) / 32
    free, free_e = grid_min_energy_path(grid, lattice, start, end)
    assert free_e.max() == pytest.approx(0.3)  # around the bump through the detour
    assert _deviation(free).max() == pytest.approx(3.0)
    tube, tube_e = grid_min_energy_path(grid, lattice, start, end, tube_radius=1.0)
    assert tube_e.max() == pytest.approx(0.6)  # over the bump: the hop's own saddle
    assert _deviation(tube).max() <= 1.0
    assert _length(tube) == pytest.approx(8.0)
    assert path_is_continuous(tube, grid.shape, lattice)


def test_disconnected_tube_is_reported() -> None:
    grid, lattice = _detour_grid(), np.eye(3) * 16.0
    grid[12, 14:19, 14:19] = 50.0  # a wall across the whole tube, above e_max
    with pytest.raises(ValueError, match="within 1 Å of the hop segment"):
        grid_min_energy_path(
            grid, lattice, np.array([4, 16, 16]) / 32, np.array([20, 16, 16]) / 32, tube_radius=1
        )


def test_smooth_path_removes_the_staircase_and_keeps_the_ends() -> None:
    x = np.arange(0.0, 4.01, 0.2)
    stair = np.stack([x, 0.1 * (np.arange(len(x)) % 2), np.zeros_like(x)], axis=1)
    stair[-1, 1] = 0.0
    out = smooth_path(stair)
    np.testing.assert_allclose(out[0], stair[0], atol=1e-12)
    np.testing.assert_allclose(out[-1], stair[-1], atol=1e-12)
    assert np.abs(out[:, 1]).max() < 0.06  # ±0.05 Å oscillation about the mean line, damped
    assert _length(stair) > 4.4
    assert _length(out) < 4.05  # nearly the straight 4 Å
    assert np.linalg.norm(np.diff(out, axis=0), axis=1).max() <= 0.05 + 1e-9
    # A smooth curve (half circle, radius 1 Å) keeps its shape.
    theta = np.linspace(np.pi, 0, 200)
    arc = np.stack([np.cos(theta), np.sin(theta), 0 * theta], axis=1)
    assert smooth_path(arc)[:, 1].max() == pytest.approx(1.0, abs=0.03)


def test_li_repulsion_is_bvse_coulomb_between_two_li() -> None:
    field = li_repulsion(np.array([[0.0, 0, 0], [10.0, 0, 0]]), np.array([1.0, 0.5]))
    energies = field(np.array([[2.0, 0, 0], [20.0, 0, 0]]))
    by_hand = 7.2 * math.erfc(2.0 / (0.74 * 2.56)) / 2.0  # the 10 Å ion is beyond the 7 Å cut-off
    assert energies[0] == pytest.approx(by_hand)
    assert energies[0] == pytest.approx(
        BVSEPotential.Coulomb(2.0, 1, 1, 1.28, 1.28, 2, 2, f=0.74), rel=1e-9
    )
    assert energies[1] == 0.0


def _li2o() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.62), ["Li", "O"], [[0.25] * 3, [0] * 3]
    ).get_primitive_structure()


def test_li2o_hop_path_stays_near_the_straight_hop() -> None:
    """The unconstrained BVSE valley detours via the empty octahedral site (a 2.31 Å hop
    as a 4.2 Å path); the hop path stays within 1.3 × the straight length."""
    li2o = _li2o()
    result = percolation_barriers(li2o, "Li2O")
    hop = enumerate_li_hops(li2o)[0]
    assert hop.length_angstrom == pytest.approx(2.31)
    args = (li2o, hop.site_a, hop.site_b, hop.jimage)
    points, energies = bvse_li_path(*args, result=result)
    end = li2o.lattice.get_cartesian_coords(li2o[hop.site_b].frac_coords + np.array(hop.jimage))
    np.testing.assert_allclose(points[0], li2o[hop.site_a].coords, atol=1e-9)
    np.testing.assert_allclose(points[-1], end, atol=1e-9)
    assert _length(points) < 1.3 * hop.length_angstrom
    assert _deviation(points).max() <= 1.0 + 0.2
    assert path_is_continuous(points, result.grid_shape, li2o.lattice.matrix)
    assert len(energies) == len(points)
    valley, _ = bvse_li_path(*args, result=result, tube_radius=None, li_li=False, smooth=False)
    assert _length(valley) > 1.6 * hop.length_angstrom  # the detour the tube removes


def test_lifepo4_hop_path_is_curved() -> None:
    """Olivine's b-axis hop is known to be curved; the BVSE hop path bows off the line."""
    root = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"
    lfp = Structure.from_file(root / "LiFePO4.json")
    result = percolation_barriers(lfp, "LiFePO4")
    hop = enumerate_li_hops(lfp)[0]
    assert 2.9 < hop.length_angstrom < 3.1
    points, _ = bvse_li_path(lfp, hop.site_a, hop.site_b, hop.jimage, result=result)
    assert 0.4 < _deviation(points).max() <= 1.0 + 0.2
    assert path_is_continuous(points, result.grid_shape, lfp.lattice.matrix)


def test_li3n_in_plane_hop_has_a_path_and_a_consistent_barrier() -> None:
    """α-Li3N: Li2–Li2 hop of a/√3 = 2.106 Å. Unconstrained, its BVSE saddle is the
    percolation energy E_1D (0.17 eV); the tube can only raise it."""
    li3n = li3n_alpha()
    result = percolation_barriers(li3n, "Li3N")
    hop = enumerate_li_hops(li3n)[0]
    assert hop.length_angstrom == pytest.approx(3.648 / math.sqrt(3))
    args = (li3n, hop.site_a, hop.site_b, hop.jimage)
    _, free = bvse_li_path(*args, result=result, tube_radius=None, li_li=False, smooth=False)
    assert free.max() == pytest.approx(result.e1d_ev, abs=0.01)
    points, tube = bvse_li_path(*args, result=result, li_li=False, smooth=False)
    assert tube.max() >= free.max() - 1e-9
    assert _deviation(points).max() <= 1.0 + 0.2
    points, _ = bvse_li_path(*args, result=result)
    assert path_is_continuous(points, result.grid_shape, li3n.lattice.matrix)
    assert _length(points) < 1.6 * hop.length_angstrom


def test_too_narrow_tube_falls_back_to_the_unconstrained_path() -> None:
    li3n = li3n_alpha()
    result = percolation_barriers(li3n, "Li3N")
    hop = enumerate_li_hops(li3n)[0]
    args = (li3n, hop.site_a, hop.site_b, hop.jimage)
    narrow, _ = bvse_li_path(*args, result=result, tube_radius=0.02)
    free, _ = bvse_li_path(*args, result=result, tube_radius=None)
    np.testing.assert_allclose(narrow, free)
