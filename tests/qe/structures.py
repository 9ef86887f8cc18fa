"""Tiny structures shared by the QE tier's tests."""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

from sseflows.qe.units import BOHR_ANG


def make_lih_vacancy() -> Structure:
    """Rock-salt LiH (a = 4 Å, conventional cell) with one Li removed: 3 Li + 4 H."""
    s = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.0), ["Li", "H"], [[0, 0, 0], [0.5, 0, 0]]
    )
    s.remove_sites([0])
    return s


def lif(a: float = 4.03) -> Structure:
    """Rock-salt LiF, conventional cell (8 atoms)."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    )


def lif_primitive(a: float = 4.03) -> Structure:
    """Rock-salt LiF, primitive cell (2 atoms)."""
    return lif(a).get_primitive_structure()


def h3(positions_bohr: list[float]) -> Structure:
    """Three collinear H atoms in QE example01's 12 × 5 × 5 bohr box."""
    lattice = Lattice(np.diag([12.0, 5.0, 5.0]) * BOHR_ANG)
    coords = [[x * BOHR_ANG, 0.0, 0.0] for x in positions_bohr]
    return Structure(lattice, ["H"] * 3, coords, coords_are_cartesian=True)
