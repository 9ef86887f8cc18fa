"""Oxidation states: kept, guessed (ordered and partially occupied), or a clear rejection."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.errors import CandidateError
from sseflows.core.oxidation import ensure_oxidation_states, has_oxidation_states, net_charge
from sseflows.data.prototypes import pymatgen_structure


def _states(structure: Structure) -> dict[str, float]:
    return {sp.symbol: sp.oxi_state for site in structure for sp in site.species}


def test_guess_for_ordered_lifepo4() -> None:
    decorated = ensure_oxidation_states(pymatgen_structure("LiFePO4"), "LiFePO4")
    assert _states(decorated) == {"Li": 1, "Fe": 2, "P": 5, "O": -2}
    assert net_charge(decorated) == pytest.approx(0.0)


def test_all_zero_states_are_treated_as_missing() -> None:
    raw = pymatgen_structure("Li3V2(PO4)3")  # ships with every species at 0+
    assert not has_oxidation_states(raw)
    assert _states(ensure_oxidation_states(raw, "LVP"))["V"] == 3


def test_partially_occupied_lgps_is_neutral_within_tolerance() -> None:
    lgps = pymatgen_structure("Li10GeP2S12")
    assert not lgps.is_ordered
    decorated = ensure_oxidation_states(lgps, "LGPS")
    assert _states(decorated) == {"Li": 1, "Ge": 4, "P": 5, "S": -2}
    # Li20.2 Ge2.06 P3.94 S24: 20.2 + 8.24 + 19.7 - 48 = +0.14 e per cell
    assert net_charge(decorated) == pytest.approx(0.14, abs=1e-6)


def test_charged_structure_is_rejected_with_its_charge() -> None:
    s = Structure(Lattice.cubic(4), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.add_oxidation_state_by_element({"Li": 1, "Cl": -2})
    with pytest.raises(CandidateError, match=r"Candidate 'charged'.*charged \(-1\.00 e"):
        ensure_oxidation_states(s, "charged")


def test_unassignable_states_are_rejected() -> None:
    s = Structure(Lattice.cubic(3.5), ["Li", "Na"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(CandidateError, match="Candidate 'LiNa'"):
        ensure_oxidation_states(s, "LiNa")
