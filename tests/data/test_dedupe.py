"""De-duplication with StructureMatcher: copies merge, polymorphs stay apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymatgen.core
from data_helpers import li2o, licl_cscl_type, licl_rocksalt
from pymatgen.core import Structure

from sseflows.core.candidate import Candidate
from sseflows.data.dedupe import deduplicate

LGPS_JSON = Path(pymatgen.core.__file__).parents[1] / "util" / "structures" / "Li10GeP2S12.json"


def perturbed(structure: Structure, sigma_angstrom: float = 0.03, seed: int = 0) -> Structure:
    rng = np.random.default_rng(seed)
    out = structure.copy()
    for i in range(len(out)):
        out.translate_sites([i], rng.normal(0.0, sigma_angstrom, 3), frac_coords=False)
    return out


def supercell(structure: Structure, scaling: list[int]) -> Structure:
    out = structure.copy()
    out.make_supercell(scaling)
    return out


def test_copies_merge_and_polymorphs_do_not() -> None:
    base = licl_rocksalt()
    candidates = [
        Candidate.from_structure(base, "licl"),
        Candidate.from_structure(base.copy(), "licl-again", e_hull_ev_per_atom=0.0),
        Candidate.from_structure(supercell(base, [2, 1, 1]), "licl-super", mp_id="mp-22905"),
        Candidate.from_structure(perturbed(base), "licl-perturbed", band_gap_ev=6.3),
        Candidate.from_structure(licl_cscl_type(), "licl-cscl"),
        Candidate.from_structure(li2o(), "li2o"),
    ]
    kept, merges = deduplicate(candidates)
    assert [c.id for c in kept] == ["licl", "licl-cscl", "li2o"]
    (record,) = merges
    assert record.kept_id == "licl"
    assert record.merged_ids == ["licl-again", "licl-super", "licl-perturbed"]
    assert record.formula == "LiCl"
    first = kept[0]
    assert (first.e_hull_ev_per_atom, first.mp_id, first.band_gap_ev) == (0.0, "mp-22905", 6.3)
    assert first.provenance["merged"] == record.merged_ids


def test_known_values_of_the_kept_candidate_win() -> None:
    base = licl_rocksalt()
    kept, _ = deduplicate(
        [
            Candidate.from_structure(base, "a", band_gap_ev=6.0),
            Candidate.from_structure(base.copy(), "b", band_gap_ev=1.0),
        ]
    )
    assert kept[0].band_gap_ev == 6.0


def test_partially_occupied_structures() -> None:
    """Li10GeP2S12 with fractional Li and Ge/P occupancies: a doubled cell and a perturbed
    copy merge (their formulas, Li20.2Ge2.06P3.94S24 and Li40.4..., do not reduce alike)."""
    lgps = Structure.from_file(LGPS_JSON)
    candidates = [
        Candidate.from_structure(lgps, "lgps"),
        Candidate.from_structure(supercell(lgps, [1, 1, 2]), "lgps-112"),
        Candidate.from_structure(perturbed(lgps, seed=1), "lgps-perturbed"),
    ]
    kept, merges = deduplicate(candidates)
    assert [c.id for c in kept] == ["lgps"]
    assert merges[0].merged_ids == ["lgps-112", "lgps-perturbed"]


def test_matcher_settings_are_passed_through() -> None:
    """With a tight site tolerance a perturbed copy is no longer a duplicate."""
    base = licl_rocksalt()
    candidates = [
        Candidate.from_structure(base, "a"),
        Candidate.from_structure(perturbed(base, sigma_angstrom=0.05), "b"),
    ]
    assert len(deduplicate(candidates)[0]) == 1
    assert len(deduplicate(candidates, stol=0.001)[0]) == 2
