"""The filters gate: oxidation limit by hand, no transition metals, E_hull = 0, and a
snapshot that lacks the chemical system (kept as unknown or dropped, with the reason)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.entries.computed_entries import ComputedEntry

from sseflows.core.candidate import Candidate
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.gates.filters.maker import FiltersMaker, filter_candidate
from sseflows.gates.filters.oxidation import oxidation_limit
from sseflows.gates.mp.sources import (
    build_mp_source,
    entries_in_chemsys,
    read_snapshot_json,
    write_snapshot_json,
)
from tests.conftest import DEMO_SNAPSHOT

# Energies per atom of the elements (eV) and the formation energy of Li2S per formula unit.
E_LI, E_S, DH_LI2S = -1.9, -4.1, -4.6


def li_s_entries() -> list[ComputedEntry]:
    return [
        ComputedEntry("Li", E_LI),
        ComputedEntry("S", E_S),
        ComputedEntry("Li2S", 2 * E_LI + E_S + DH_LI2S),
        ComputedEntry("LiS", E_LI + E_S + 0.5),  # above the hull: plays no part
    ]


def li2s() -> Candidate:
    structure = Structure(Lattice.cubic(5.7), ["Li", "Li", "S"], [[0.25] * 3, [0.75] * 3, [0] * 3])
    return Candidate.from_structure(structure, "Li2S")


def test_binary_oxidation_limit_is_the_formation_energy_per_li() -> None:
    limit = oxidation_limit(li_s_entries(), "Li2S")
    # Li2S -> S + 2 Li happens at mu_Li - mu_Li^0 = dH_f / 2, so V = -dH_f / 2 = 2.3 V.
    assert limit.voltage_v == pytest.approx(-DH_LI2S / 2)
    assert limit.mu_li_ev == pytest.approx(DH_LI2S / 2)
    assert "Li2S -> S + 2 Li" in limit.reaction


def test_oxidation_limit_needs_li_and_every_elemental_reference() -> None:
    with pytest.raises(ValueError, match="contains no Li"):
        oxidation_limit(li_s_entries(), "S")
    with pytest.raises(ValueError, match="no elemental reference for S"):
        oxidation_limit([ComputedEntry("Li", E_LI)], "Li2S")


def _snapshot(tmp_path: Path, entries: dict | None) -> str:
    docs = read_snapshot_json(DEMO_SNAPSHOT)
    path = tmp_path / "snap.json"
    write_snapshot_json(docs, path, entries)
    return str(path)


def test_filters_use_the_snapshot_entries_of_the_chemical_system(tmp_path: Path) -> None:
    snapshot = _snapshot(tmp_path, {"S-Li": [e.as_dict() for e in li_s_entries()]})
    source = build_mp_source(snapshot, use_live=False)
    found = entries_in_chemsys(source, "Li-S")
    assert found is not None and found[1] == "snapshot" and len(found[0]) == 4
    kept = filter_candidate(li2s(), 0.0, source, e_hull_zero=True, oxidation_limit_min_v=2.0)
    assert kept.status == "passed" and kept.oxidation_limit_v == pytest.approx(2.3)
    assert kept.entries_source == "snapshot"
    dropped = filter_candidate(li2s(), 0.0, source, oxidation_limit_min_v=3.7)
    assert dropped.status == "dropped"
    assert "2.30 V" in dropped.reason and "3.7 V" in dropped.reason


@pytest.mark.parametrize("policy, status", [("keep", "unknown"), ("drop", "dropped")])
def test_snapshot_without_the_chemical_system(tmp_path: Path, policy: str, status: str) -> None:
    snapshot = _snapshot(tmp_path, {"Li-O": [ComputedEntry("Li", E_LI).as_dict()]})
    source = build_mp_source(snapshot, use_live=False)
    doc = filter_candidate(li2s(), 0.0, source, oxidation_limit_min_v=3.7, missing_policy=policy)
    assert doc.status == status and doc.oxidation_limit_v is None
    assert "no MP source holds the entries of the Li-S chemical system" in doc.reason
    assert doc.reason.count(". ") == 0 and doc.reason.endswith(".")


def test_old_snapshot_without_entries_still_loads() -> None:
    assert "entries" not in json.loads(DEMO_SNAPSHOT.read_text())
    source = build_mp_source(str(DEMO_SNAPSHOT), use_live=False)
    assert source.by_id("mp-1960") is not None
    assert entries_in_chemsys(source, "Li-O") is None
    doc = filter_candidate(li2s(), 0.0, source, oxidation_limit_min_v=3.7)
    assert doc.status == "unknown"


def test_transition_metals_and_e_hull_zero() -> None:
    lfp = Candidate(id="LiFePO4", formula="LiFePO4")
    doc = filter_candidate(lfp, 0.0, None, no_transition_metals=True)
    assert doc.status == "dropped" and "transition metals (Fe)" in doc.reason
    above = filter_candidate(li2s(), 0.002, None, e_hull_zero=True)
    assert above.status == "dropped" and "not on the convex hull" in above.reason
    on = filter_candidate(li2s(), 1e-9, None, e_hull_zero=True)
    assert on.status == "passed"
    unknown = filter_candidate(li2s(), None, None, e_hull_zero=True, missing_policy="drop")
    assert unknown.status == "dropped" and "E_hull is unknown" in unknown.reason


def test_screening_without_filters_keeps_its_result_keys() -> None:
    assert "filters" not in ScreeningFlowMaker().as_dict()
    with_filters = ScreeningFlowMaker(filters=FiltersMaker(e_hull_zero=True)).as_dict()
    assert with_filters["filters"]["e_hull_zero"] is True


def test_live_entries_come_first_when_the_api_answers(tmp_path: Path) -> None:
    """mp-api is mocked here: the API is unreachable from this machine."""
    from sseflows.gates.mp.sources import ChainSource, LiveSource, SnapshotSource, open_snapshot

    class FakeRester:
        def get_entries_in_chemsys(self, elements: list[str]) -> list[ComputedEntry]:
            assert elements == ["Li", "S"]
            return li_s_entries()[:3]

    live = LiveSource("key")
    live._rester = FakeRester()
    chain = ChainSource([SnapshotSource(open_snapshot(str(DEMO_SNAPSHOT))), live])
    entries, name = entries_in_chemsys(chain, "S-Li") or ([], "")
    assert name == "live" and len(entries) == 3


def test_filters_in_the_screening_flow(tmp_path: Path) -> None:
    from sseflows.campaign.screen import screen_candidates
    from sseflows.data.records import CandidateSet
    from sseflows.gates.mp.maker import MPGateMaker
    from sseflows.stores import build_job_store

    snapshot = _snapshot(tmp_path, {"Li-S": [e.as_dict() for e in li_s_entries()]})
    maker = ScreeningFlowMaker(
        mp_gate=MPGateMaker(snapshot=snapshot, use_live=False),
        filters=FiltersMaker(e_hull_zero=True, oxidation_limit_min_v=3.7, snapshot=snapshot),
        bvse_gate=None,
    )
    store = build_job_store("memory")
    store.connect()
    candidate = li2s().model_copy(update={"e_hull_ev_per_atom": 0.0, "band_gap_ev": 3.4})
    report = screen_candidates(CandidateSet(candidates=[candidate]), store, maker=maker)
    doc = report.tier_docs["Li2S"]["filters"]
    assert doc["status"] == "dropped" and doc["oxidation_limit_v"] == pytest.approx(2.3)
    assert report.funnel["filters (no TM, E_hull = 0, oxidation limit)"] == 0


def test_mp_snapshot_stores_entries_per_chemical_system(tmp_path: Path, monkeypatch) -> None:
    """mp-api is mocked here (the API is unreachable from this machine)."""
    import mp_api.client

    from sseflows.campaign.mp import fill_mp_snapshot

    class FakeRester:
        def __init__(self, *args, **kwargs) -> None:
            self.materials = self
            self.summary = self

        def search(self, fields, **criteria):
            return [{"material_id": "mp-1153", "formula_pretty": "Li2S", "chemsys": "Li-S"}]

        def get_entries_in_chemsys(self, elements):
            return li_s_entries()

    monkeypatch.setattr(mp_api.client, "MPRester", FakeRester)
    monkeypatch.setattr("sseflows.gates.mp.sources.live_api_problem", lambda *a: None)
    out = tmp_path / "snap.json"
    assert fill_mp_snapshot("key", ["mp-1153"], [], out) == 1
    source = build_mp_source(str(out), api_key="", use_live=False)
    doc = filter_candidate(li2s(), 0.0, source, oxidation_limit_min_v=2.0)
    assert doc.status == "passed" and doc.oxidation_limit_v == pytest.approx(2.3)
