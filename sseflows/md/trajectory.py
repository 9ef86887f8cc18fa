"""Reading MD trajectories of any engine into one plain container.

Formats: ASE trajectory (``.traj``), extended XYZ (``.xyz``/``.extxyz``) and anything else
ASE reads; VASP ``XDATCAR`` and ``vasprun.xml`` (pymatgen); pymatgen ``Trajectory`` objects
(atomate2's forcefield MD output) and lists of structures. Positions may be wrapped or
unwrapped; :mod:`sseflows.md.analysis` unwraps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from pymatgen.core.trajectory import Trajectory


@dataclass(frozen=True)
class TrajectoryData:
    """Frames of one MD run at fixed cell (NVT).

    Attributes:
        species: Element symbol of each atom.
        positions: (n_frames, n_atoms, 3) Cartesian positions, Å.
        lattice: (3, 3) lattice matrix of the first frame, Å.
        frame_interval_fs: Time between frames stored in the file, fs (None if unknown).
        energies_ev: Potential energy per frame, eV (None if unknown).
        source: File name or job the frames came from.
    """

    species: tuple[str, ...]
    positions: np.ndarray
    lattice: np.ndarray
    frame_interval_fs: float | None = None
    energies_ev: np.ndarray | None = None
    source: str = ""

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.positions.shape[0])

    def first_structure(self) -> Structure:
        """The first frame as a pymatgen Structure (for densities)."""
        return Structure(
            self.lattice, list(self.species), self.positions[0], coords_are_cartesian=True
        )

    def skip(self, n_frames: int) -> TrajectoryData:
        """The same trajectory without its first ``n_frames`` frames (equilibration)."""
        energies = None if self.energies_ev is None else self.energies_ev[n_frames:]
        return TrajectoryData(
            self.species,
            self.positions[n_frames:],
            self.lattice,
            self.frame_interval_fs,
            energies,
            self.source,
        )


def from_structures(
    structures: list[Structure],
    frame_interval_fs: float | None = None,
    energies_ev: list[float] | None = None,
    source: str = "",
) -> TrajectoryData:
    """Frames from a list of structures with the same sites in the same order."""
    if not structures:
        raise ValueError(f"trajectory {source or '(in memory)'} has no frames")
    positions = np.array([s.cart_coords for s in structures], dtype=float)
    return TrajectoryData(
        species=tuple(site.specie.symbol for site in structures[0]),
        positions=positions,
        lattice=np.array(structures[0].lattice.matrix, dtype=float),
        frame_interval_fs=frame_interval_fs,
        energies_ev=None if energies_ev is None else np.array(energies_ev, dtype=float),
        source=source,
    )


def from_pymatgen_trajectory(
    trajectory: Trajectory, frame_interval_fs: float | None = None, source: str = ""
) -> TrajectoryData:
    """Frames from a pymatgen ``Trajectory`` (e.g. atomate2 forcefield MD output)."""
    lattices = np.asarray(trajectory.lattice, dtype=float)
    lattice = lattices if lattices.ndim == 2 else lattices[0]
    coords = np.asarray(trajectory.coords, dtype=float)
    if trajectory.coords_are_displacement:
        coords = np.asarray(trajectory.base_positions)[None] + np.cumsum(coords, axis=0)
    energies = None
    if trajectory.frame_properties and all("energy" in p for p in trajectory.frame_properties):
        energies = np.array([p["energy"] for p in trajectory.frame_properties], dtype=float)
    species = tuple(getattr(s, "symbol", str(s)) for s in trajectory.species)
    return TrajectoryData(
        species=species,
        positions=coords @ lattice,
        lattice=lattice,
        frame_interval_fs=frame_interval_fs,
        energies_ev=energies,
        source=source,
    )


def _read_vasprun(path: Path) -> TrajectoryData:
    from pymatgen.io.vasp.outputs import Vasprun

    run = Vasprun(str(path), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    energies = [step.get("e_fr_energy", np.nan) for step in run.ionic_steps]
    potim = run.parameters.get("POTIM") or run.incar.get("POTIM")
    return from_structures(
        run.structures, float(potim) if potim else None, energies, source=str(path)
    )


def _read_ase(path: Path) -> TrajectoryData:
    from ase.io import read

    frames = read(str(path), index=":")
    if not isinstance(frames, list):
        frames = [frames]
    if not frames:
        raise ValueError(f"trajectory {path} has no frames")
    energies = None
    if all(a.calc is not None and "energy" in a.calc.results for a in frames):
        energies = np.array([a.calc.results["energy"] for a in frames], dtype=float)
    return TrajectoryData(
        species=tuple(frames[0].get_chemical_symbols()),
        positions=np.array([a.get_positions() for a in frames], dtype=float),
        lattice=np.array(frames[0].cell[:], dtype=float),
        frame_interval_fs=None,
        energies_ev=energies,
        source=str(path),
    )


def read_trajectory(path: str | Path) -> TrajectoryData:
    """Read a trajectory file: XDATCAR, vasprun.xml, or any ASE-readable format.

    The format is chosen from the name: ``XDATCAR*`` or ``*.xdatcar`` → pymatgen
    ``Xdatcar``; ``vasprun*.xml*`` → pymatgen ``Vasprun`` (frame interval = POTIM);
    everything else → ``ase.io.read`` (ASE ``.traj``, extended XYZ, ...).

    Raises:
        ValueError: The file is missing, unreadable or empty (one sentence).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"trajectory file {path} does not exist")
    name = path.name.lower()
    try:
        if name.startswith("xdatcar") or name.endswith(".xdatcar"):
            from pymatgen.io.vasp.outputs import Xdatcar

            return from_structures(Xdatcar(str(path)).structures, source=str(path))
        if name.startswith("vasprun") and ".xml" in name:
            return _read_vasprun(path)
        return _read_ase(path)
    except (OSError, ValueError, KeyError, IndexError, StopIteration) as exc:
        raise ValueError(f"trajectory file {path} could not be read ({exc})") from exc


def check_trajectory(
    trajectory: TrajectoryData,
    frame_interval_fs: float,
    reference_species: tuple[str, ...] | None = None,
    rel_tol: float = 1e-3,
) -> None:
    """Raise ValueError (one sentence) when the time step or the species do not match.

    Args:
        trajectory: The frames.
        frame_interval_fs: Time between frames the user or the maker says, fs.
        reference_species: Species every trajectory of the candidate must have, in order.
        rel_tol: Relative tolerance on the frame interval.
    """
    if trajectory.n_frames < 2:
        raise ValueError(f"trajectory {trajectory.source} has fewer than two frames")
    stored = trajectory.frame_interval_fs
    if stored is not None and abs(stored - frame_interval_fs) > rel_tol * frame_interval_fs:
        raise ValueError(
            f"trajectory {trajectory.source} stores frames every {stored:g} fs but the time "
            f"step given is {frame_interval_fs:g} fs"
        )
    if reference_species is not None and tuple(trajectory.species) != tuple(reference_species):
        if sorted(trajectory.species) == sorted(reference_species):
            raise ValueError(
                f"trajectory {trajectory.source} has the same atoms as the other trajectories "
                "but in a different order, so atoms cannot be matched"
            )
        raise ValueError(
            f"trajectory {trajectory.source} has species {_formula(trajectory.species)} that do "
            f"not match the other trajectories ({_formula(reference_species)})"
        )


def _formula(species: tuple[str, ...]) -> str:
    symbols, counts = np.unique(np.array(species), return_counts=True)
    return "".join(f"{s}{c}" for s, c in zip(symbols, counts, strict=True)) + f" ({len(species)})"
