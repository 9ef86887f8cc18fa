"""MP gate logic: thresholds of the decision and matching candidates to MP entries.

Entries live in an in-memory snapshot store; no network is involved.
"""

from __future__ import annotations

from pathlib import Path

import pymatgen.core
import pytest
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.gates.mp.match import (
    candidate_formulas,
    match_candidate,
    mp_gate_decision,
    structures_match,
)
from sseflows.gates.mp.sources import ChainSource, SnapshotSource

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def pmg(name: str) -> Structure:
    return Structure.from_file(PMG / f"{name}.json")


def rocksalt_licl(a: float = 5.13) -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def cscl_licl(a: float = 3.2) -> Structure:
    return Structure(Lattice.cubic(a), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def lgps_ordered() -> Structure:
    """Ordered Li20Ge2P4S24 cut from pymatgen's disordered LGPS (as the demo snapshot)."""
    s = pmg("Li10GeP2S12")
    mixed = [i for i, site in enumerate(s) if len(site.species) > 1]
    for k, i in enumerate(mixed):
        s.replace(i, "Ge" if k < 2 else "P")
    s.remove_sites([i for i, x in enumerate(s) if x.species.num_atoms < 0.66])
    for i, site in enumerate(s):
        if not site.is_ordered:
            s.replace(i, site.species.elements[0].symbol)
    return s


def doc(mp_id: str, structure: Structure | None, e_hull: float | None, gap: float | None):
    formula = structure.composition.reduced_formula if structure else "Li3PS4"
    return {
        "material_id": mp_id,
        "formula_pretty": formula,
        "structure": structure.as_dict() if structure else None,
        "energy_above_hull": e_hull,
        "band_gap": gap,
    }


def snapshot(*docs) -> SnapshotSource:
    store = MemoryStore(collection_name="mp_snapshot")
    store.connect()
    store.update(list(docs), key="material_id")
    return SnapshotSource(store)


@pytest.fixture
def source() -> SnapshotSource:
    return snapshot(
        doc("mp-1960", pmg("Li2O"), 0.0, 4.99),
        doc("mp-19017", pmg("LiFePO4"), 0.0, 3.7),
        doc("mp-22905", rocksalt_licl(), 0.0, 6.3),
        doc("mp-696138", lgps_ordered(), 0.0188, 2.54),
        doc("mp-985583", None, 0.0, 2.81),
    )


# --- decision -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e_hull", "gap", "status"),
    [
        (0.0, 5.0, "passed"),
        (0.07, 1.0, "passed"),  # both exactly on the (inclusive) thresholds
        (0.0701, 1.0, "dropped"),
        (0.07, 0.999, "dropped"),
        (0.2, 0.5, "dropped"),
        (0.01, None, "passed"),  # judged on what is known
        (0.08, None, "dropped"),
        (None, 0.5, "dropped"),
        (None, 3.0, "passed"),
        (None, None, "unknown"),
        (float("nan"), float("nan"), "unknown"),
    ],
)
def test_decision_thresholds(e_hull, gap, status):
    assert mp_gate_decision(e_hull, gap)[0] == status


def test_decision_reasons_name_the_failing_values():
    status, reason = mp_gate_decision(0.2, 0.5)
    assert status == "dropped"
    assert "E_hull 0.2 eV/atom is above the 0.07 eV/atom limit" in reason
    assert "band gap 0.5 eV is below the 1 eV minimum" in reason
    assert mp_gate_decision(0.0, None)[1].endswith("band gap unknown, judged on E_hull only.")


def test_decision_custom_thresholds_and_missing_policy():
    assert mp_gate_decision(0.0, 2.0, band_gap_min_ev=2.5)[0] == "dropped"
    assert mp_gate_decision(0.1, 2.0, e_hull_max_ev_per_atom=0.1)[0] == "passed"
    assert mp_gate_decision(0.0, 2.0, e_hull_max_ev_per_atom=0.0)[0] == "passed"
    status, reason = mp_gate_decision(None, None, missing_policy="drop")
    assert status == "dropped" and "'drop' policy" in reason
    # the policy is about missing data only: known good values still pass
    assert mp_gate_decision(0.0, 3.0, missing_policy="drop")[0] == "passed"
    with pytest.raises(ConfigurationError, match="missing_policy"):
        mp_gate_decision(None, None, missing_policy="maybe")


# --- matching -------------------------------------------------------------------------


def test_match_by_mp_id_without_structure(source):
    candidate = Candidate(id="lps", mp_id="mp-985583")
    entry = match_candidate(candidate, source)
    assert entry is not None and entry.material_id == "mp-985583"
    assert entry.band_gap == pytest.approx(2.81) and entry.source == "snapshot"


def test_match_by_structure_scaled_supercell(source):
    structure = pmg("LiFePO4")
    structure.make_supercell([1, 2, 1])
    structure.scale_lattice(structure.volume * 1.02**3)  # lattice 2 % larger
    entry = match_candidate(Candidate.from_structure(structure, "lfp"), source)
    assert entry is not None and entry.material_id == "mp-19017"


def test_oxidation_states_do_not_prevent_a_match(source):
    structure = pmg("Li2O")
    structure.add_oxidation_state_by_element({"Li": 1, "O": -2})
    entry = match_candidate(Candidate.from_structure(structure, "li2o"), source)
    assert entry is not None and entry.material_id == "mp-1960"


def test_other_polymorph_and_unknown_formula_do_not_match(source):
    assert not structures_match(cscl_licl(), rocksalt_licl())
    assert match_candidate(Candidate.from_structure(cscl_licl(), "licl-b2"), source) is None
    assert match_candidate(Candidate.from_structure(pmg("Li2O2"), "li2o2"), source) is None
    assert match_candidate(Candidate(id="ghost", mp_id="mp-0"), source) is None


def test_disordered_lgps_matches_ordered_entry_on_its_framework(source):
    disordered = pmg("Li10GeP2S12")
    assert not disordered.is_ordered
    candidate = Candidate.from_structure(disordered, "lgps")
    assert "Li10Ge(PS6)2" in candidate_formulas(candidate)
    entry = match_candidate(candidate, source)
    assert entry is not None and entry.material_id == "mp-696138"


def test_disordered_candidate_with_other_framework_does_not_match():
    """A disordered candidate never crashes the matcher; another framework is no match."""
    disordered = pmg("Li10GeP2S12")
    other_elements = lgps_ordered()
    other_elements.replace_species({"Ge": "P"})  # Li20P6S24
    assert not structures_match(disordered, other_elements)
    strained = lgps_ordered()
    strained.apply_strain([0.0, 0.0, 0.35])  # c/a far outside the 20 % length tolerance
    assert not structures_match(disordered, strained)
    assert structures_match(disordered, lgps_ordered())


def test_several_matches_take_lowest_e_hull():
    licl = rocksalt_licl()
    source = snapshot(
        doc("mp-2", licl, 0.05, 6.0),
        doc("mp-1", rocksalt_licl(5.2), 0.01, 6.1),
        doc("mp-3", cscl_licl(), 0.0, 5.0),  # other polymorph: lowest E_hull, no match
    )
    entry = match_candidate(Candidate.from_structure(licl, "licl"), source)
    assert entry is not None and entry.material_id == "mp-1"


def test_chain_is_asked_in_order():
    first = snapshot(doc("mp-a", rocksalt_licl(), 0.03, 6.0))
    second = snapshot(doc("mp-b", rocksalt_licl(), 0.0, 6.0))
    candidate = Candidate.from_structure(rocksalt_licl(), "licl")
    assert match_candidate(candidate, ChainSource([first, second])).material_id == "mp-a"
    assert match_candidate(candidate, ChainSource([second, first])).material_id == "mp-b"
    assert match_candidate(candidate, ChainSource([])) is None
