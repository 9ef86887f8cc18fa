"""Candidate ids are safe, and candidates carry their formula."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate, make_candidate_id, validate_candidate_id
from sseflows.core.errors import CandidateError


@pytest.mark.parametrize("good", ["mp-1960", "Li3PS4_beta", "icsd.12345", "a"])
def test_safe_ids_are_accepted(good: str) -> None:
    assert validate_candidate_id(good) == good


@pytest.mark.parametrize("bad", ["../etc", "a/b", "..", ".", "", "a b", "x" * 129, "a..b"])
def test_unsafe_ids_name_the_candidate(bad: str) -> None:
    with pytest.raises(CandidateError) as info:
        validate_candidate_id(bad)
    assert f"Candidate '{bad}'" in str(info.value)
    assert str(info.value).endswith(".")


def test_make_candidate_id_sanitises_paths_and_formulas() -> None:
    assert make_candidate_id("Li3V2(PO4)3") == "Li3V2_PO4_3"
    assert make_candidate_id("../../secret") == "_._secret"
    assert "/" not in make_candidate_id("a/b/c")
    validate_candidate_id(make_candidate_id("../../x y"))


def test_candidate_from_structure_fills_formula() -> None:
    s = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cand = Candidate.from_structure(s, "LiCl-1", source="test")
    assert cand.formula == "LiCl"
    with pytest.raises(CandidateError, match="Candidate 'a/b'"):
        Candidate(id="a/b")


def test_coerce_rebuilds_a_serialised_candidate() -> None:
    s = Structure(Lattice.cubic(4.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    cand = Candidate.from_structure(s, "LiCl-1", e_hull_ev_per_atom=0.01)
    data = cand.model_dump()
    data["structure"] = s.as_dict()
    back = Candidate.coerce(data | {"@module": "x", "@class": "Candidate"})
    assert back.structure == s
    assert back.e_hull_ev_per_atom == 0.01
    assert Candidate.coerce(cand) is cand
