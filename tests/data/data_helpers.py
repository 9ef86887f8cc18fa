"""Small structures built by hand for the candidate reader tests (imported by the tests)."""

from __future__ import annotations

from pymatgen.core import Lattice, Structure


def li2o() -> Structure:
    """Antifluorite Li2O, a = 4.61 Å (Li8O4 conventional cell)."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def licl_rocksalt() -> Structure:
    """LiCl, rock salt, a = 5.13 Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def licl_cscl_type() -> Structure:
    """LiCl in the CsCl structure (a hypothetical polymorph), a = 3.2 Å."""
    return Structure(Lattice.cubic(3.2), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def nacl() -> Structure:
    """NaCl, rock salt: a structure without Li."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
