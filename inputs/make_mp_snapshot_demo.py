"""Build the demo's offline MP snapshot (``sseflows/campaign/demo_inputs/``) for ``make demo``.

The Materials Project API is not reachable when the demo runs, so this script writes
MP-summary-shaped documents for the demo compounds. Structures come from the structures
that ship with pymatgen (``pymatgen/util/structures``) or are built from published lattice
parameters; E_hull and band gaps are reference values transcribed by hand from the
Materials Project (GGA/GGA+U, eV/atom and eV), not downloaded. Refresh them on a machine
with a key:  ``sseflows mp snapshot --mp-id mp-1960 ... --out inputs/mp_snapshot_real.json``.

Run:  python inputs/make_mp_snapshot_demo.py [--out PATH]  (default: the package's copy)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pymatgen.core
from pymatgen.core import Lattice, Structure

PMG_STRUCTURES = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"
DEFAULT_OUT = (
    Path(__file__).resolve().parents[1]
    / "sseflows"
    / "campaign"
    / "demo_inputs"
    / "mp_snapshot_demo.json"
)


def pymatgen_structure(name: str) -> Structure:
    """A structure shipped with pymatgen, without site properties."""
    structure = Structure.from_file(PMG_STRUCTURES / f"{name}.json")
    return Structure(structure.lattice, structure.species_and_occu, structure.frac_coords)


def lgps_ordered() -> Structure:
    """Ordered approximant of pymatgen's disordered Li10GeP2S12 (P4_2/nmc, ICSD-like).

    The four mixed Ge0.515/P0.485 (4d) sites become 2 Ge + 2 P; of the partially occupied
    Li sites the 4 full and 16 occ-0.69 ones are kept and the 8 occ-0.64 ones dropped:
    Li20Ge2P4S24 = 2 x Li10GeP2S12, like MP's 50-atom mp-696138 cell (which is P1).
    """
    structure = pymatgen_structure("Li10GeP2S12")
    mixed = [i for i, site in enumerate(structure) if len(site.species) > 1]
    for k, index in enumerate(mixed):
        structure.replace(index, "Ge" if k < len(mixed) // 2 else "P")
    dropped = [
        i
        for i, site in enumerate(structure)
        if site.species.elements[0].symbol == "Li" and site.species.num_atoms < 0.66
    ]
    structure.remove_sites(dropped)
    for index, site in enumerate(structure):
        if not site.is_ordered or site.species.num_atoms < 1:
            structure.replace(index, site.species.elements[0].symbol)
    return structure


def rocksalt(cation: str, anion: str, a: float) -> Structure:
    """Rock salt (Fm-3m) with lattice parameter ``a`` in Å."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), [cation, anion], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def antifluorite_li2s() -> Structure:
    """Li2S, antifluorite (Fm-3m), a = 5.708 Å: S 4a, Li 8c."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.708), ["S", "Li"], [[0, 0, 0], [0.25, 0.25, 0.25]]
    )


def antiperovskite_li3ocl() -> Structure:
    """Li3OCl, cubic antiperovskite (Pm-3m), a = 3.91 Å: Cl 1a, O 1b, Li 3c."""
    return Structure.from_spacegroup(
        "Pm-3m", Lattice.cubic(3.91), ["Cl", "O", "Li"], [[0, 0, 0], [0.5] * 3, [0.5, 0.5, 0]]
    )


def alpha_li3n() -> Structure:
    """alpha-Li3N (P6/mmm), a = 3.648 Å, c = 3.875 Å: N 1a, Li 1b and 2c."""
    return Structure.from_spacegroup(
        "P6/mmm",
        Lattice.hexagonal(3.648, 3.875),
        ["N", "Li", "Li"],
        [[0, 0, 0], [0, 0, 0.5], [1 / 3, 2 / 3, 0]],
    )


# (material_id, formula_pretty, structure builder or None, E_hull eV/atom, band gap eV, note).
# Values are transcribed Materials Project reference values (approximate); None = not
# transcribed.
ENTRIES = [
    ("mp-1960", "Li2O", lambda: pymatgen_structure("Li2O"), 0.0, 5.0, "antifluorite"),
    ("mp-841", "Li2O2", lambda: pymatgen_structure("Li2O2"), 0.0, 2.0, "P6_3/mmc"),
    ("mp-19017", "LiFePO4", lambda: pymatgen_structure("LiFePO4"), 0.0, 3.7, "olivine, GGA+U"),
    (
        "demo-Li3V2(PO4)3",
        "Li3V2(PO4)3",
        lambda: pymatgen_structure("Li3V2(PO4)3"),
        None,
        2.6,
        "MP id and E_hull not transcribed (unsure); gap approximate (GGA+U). The demo "
        "shows a candidate judged on the band gap alone.",
    ),
    (
        "mp-696138",
        "Li10Ge(PS6)2",
        lgps_ordered,
        0.0188,
        2.54,
        "LGPS, metastable; structure is an ordered approximant of pymatgen's disordered "
        "cell, not MP's relaxed P1 cell",
    ),
    ("mp-22905", "LiCl", lambda: rocksalt("Li", "Cl", 5.13), 0.0, 6.3, "rock salt"),
    ("mp-1138", "LiF", lambda: rocksalt("Li", "F", 4.026), 0.0, 8.7, "rock salt"),
    ("mp-22862", "NaCl", lambda: rocksalt("Na", "Cl", 5.64), 0.0, 5.0, "rock salt, no Li"),
    ("mp-1153", "Li2S", antifluorite_li2s, 0.0, 3.4, "antifluorite"),
    (
        "mp-985585",
        "Li3ClO",
        antiperovskite_li3ocl,
        0.02,
        5.0,
        "Li3OCl antiperovskite, metastable (DFT puts it about 20 meV/atom above "
        "Li2O + LiCl); both values approximate",
    ),
    (
        "mp-2251",
        "Li3N",
        alpha_li3n,
        0.0,
        None,
        "alpha-Li3N, experimental lattice; PBE gap about 1 eV, right at the threshold, "
        "so not transcribed: refresh with the live API",
    ),
    ("mp-985583", "Li3PS4", None, 0.0, 2.81, "structure not transcribed: match by mp-id"),
    (
        "mp-942733",
        "Li7La3Zr2O12",
        None,
        0.0068,
        4.17,
        "tetragonal LLZO (I4_1/acd); structure not transcribed: match by mp-id",
    ),
]


def build_docs() -> list[dict]:
    """The snapshot documents (MP summary shape)."""
    docs = []
    for material_id, formula, builder, e_hull, gap, note in ENTRIES:
        structure = builder() if builder else None
        if structure is not None and structure.composition.reduced_formula != formula:
            raise ValueError(f"{material_id}: built {structure.composition.reduced_formula}")
        docs.append(
            {
                "material_id": material_id,
                "formula_pretty": formula,
                "chemsys": "-".join(sorted(formula_elements(formula))),
                "structure": structure.as_dict() if structure else None,
                "energy_above_hull": e_hull,
                "band_gap": gap,
                "is_stable": None if e_hull is None else e_hull == 0.0,
                "database_version": None,
                "origin": f"transcribed reference values; {note}",
            }
        )
    return docs


def formula_elements(formula: str) -> set[str]:
    """Element symbols of a formula."""
    from pymatgen.core import Composition

    return {el.symbol for el in Composition(formula).elements}


def main() -> None:
    """Write the demo snapshot JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    payload = {
        "_comment": (
            "Demo Materials Project snapshot for `make demo`, built by "
            "inputs/make_mp_snapshot_demo.py. energy_above_hull (eV/atom) and band_gap (eV) "
            "are reference values transcribed by hand from the Materials Project for the "
            "listed mp-ids (approximate, database version not recorded), not downloaded; "
            "structures come from pymatgen's bundled structures or published lattice "
            "parameters. Use `sseflows mp snapshot` with MP_API_KEY for real data."
        ),
        "provenance": {
            "script": "inputs/make_mp_snapshot_demo.py",
            "pymatgen_version": pymatgen.core.__version__,
            "values": "transcribed Materials Project reference values (GGA/GGA+U)",
        },
        "docs": build_docs(),
    }
    args.out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"Wrote {len(payload['docs'])} documents to {args.out}.")


if __name__ == "__main__":
    main()
