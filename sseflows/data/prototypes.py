"""Small Li compounds built from published lattice parameters (for demos and tests).

Each builder returns an ordered, oxidation-state-decorated pymatgen ``Structure``.
Lattice parameters (room temperature, Å) are from the cited structure reports.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from pymatgen.core import Lattice, Structure


def li2s_antifluorite(a: float = 5.708) -> Structure:
    """Li2S, antifluorite Fm-3m, a = 5.708 Å (Buehrer & Bill, Helv. Chim. Acta 1977)."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["S", "Li"], [[0, 0, 0], [0.25] * 3])
    s.add_oxidation_state_by_element({"Li": 1, "S": -2})
    return s


def licl_rocksalt(a: float = 5.130) -> Structure:
    """LiCl, rock salt Fm-3m, a = 5.130 Å (ICSD 26909)."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Li", "Cl"], [[0, 0, 0], [0.5] * 3])
    s.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    return s


def lif_rocksalt(a: float = 4.027) -> Structure:
    """LiF, rock salt Fm-3m, a = 4.027 Å."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Li", "F"], [[0, 0, 0], [0.5] * 3])
    s.add_oxidation_state_by_element({"Li": 1, "F": -1})
    return s


def li3n_alpha(a: float = 3.648, c: float = 3.875) -> Structure:
    """α-Li3N, P6/mmm, a = 3.648 Å, c = 3.875 Å (Rabenau & Schulz, J. Less-Common Met. 1976)."""
    s = Structure.from_spacegroup(
        "P6/mmm",
        Lattice.hexagonal(a, c),
        ["N", "Li", "Li"],
        [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0]],
    )
    s.add_oxidation_state_by_element({"Li": 1, "N": -3})
    return s


def li3ocl_antiperovskite(a: float = 3.91) -> Structure:
    """Li3OCl, antiperovskite Pm-3m, a = 3.91 Å (Zhao & Daemen, JACS 2012)."""
    s = Structure(
        Lattice.cubic(a),
        ["O", "Cl", "Li", "Li", "Li"],
        [[0.5, 0.5, 0.5], [0.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.0, 0.5, 0.5]],
    )
    s.add_oxidation_state_by_element({"Li": 1, "O": -2, "Cl": -1})
    return s


def nacl_rocksalt(a: float = 5.640) -> Structure:
    """NaCl, rock salt, a = 5.640 Å: a structure *without* Li, to show a clean failure."""
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5] * 3])
    s.add_oxidation_state_by_element({"Na": 1, "Cl": -1})
    return s


PROTOTYPES: dict[str, Callable[[], Structure]] = {
    "Li2S": li2s_antifluorite,
    "LiCl": licl_rocksalt,
    "LiF": lif_rocksalt,
    "Li3N": li3n_alpha,
    "Li3OCl": li3ocl_antiperovskite,
    "NaCl": nacl_rocksalt,
}
"""Prototype builders by name."""


PYMATGEN_STRUCTURES = ("Li2O", "Li2O2", "LiFePO4", "Li3V2(PO4)3", "Li10GeP2S12")
"""Li compounds whose structures ship with pymatgen (``pymatgen/util/structures``)."""


def pymatgen_structure(name: str) -> Structure:
    """One of the structures that ship with pymatgen, by file stem (e.g. ``LiFePO4``)."""
    folder = Path(str(files("pymatgen.util") / "structures"))
    path = folder / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"pymatgen ships no structure named {name!r} in {folder}")
    return Structure.from_file(path)
