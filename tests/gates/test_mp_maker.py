"""The MP gate Maker run through jobflow, and where its values come from.

The Materials Project web API is unreachable from here: ``mp_api.client.MPRester`` is
replaced by a fake that records its calls, or by one that fails the test when constructed.
"""

from __future__ import annotations

from pathlib import Path

import mp_api.client
import pymatgen.core
import pytest
from jobflow import Flow, job, run_locally
from pymatgen.core import Lattice, Structure

from sseflows.core.candidate import Candidate
from sseflows.gates.mp.maker import MPGateMaker, gate_candidate
from sseflows.gates.mp.schemas import MPGateDoc
from sseflows.gates.mp.sources import (
    ChainSource,
    LiveSource,
    SnapshotSource,
    open_snapshot,
    write_snapshot_json,
)
from sseflows.stores import build_job_store

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def pmg(name: str) -> Structure:
    return Structure.from_file(PMG / f"{name}.json")


def licl() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def summary(mp_id: str, structure: Structure, e_hull: float | None, gap: float | None) -> dict:
    return {
        "material_id": mp_id,
        "formula_pretty": structure.composition.reduced_formula,
        "structure": structure.as_dict(),
        "energy_above_hull": e_hull,
        "band_gap": gap,
    }


class RecordingRester:
    """Fake MPRester: answers LiCl (mp-22905, E_hull 0, gap 6.3 eV) and records queries."""

    queries: list = []

    def __init__(self, api_key, **kwargs):
        self.materials = self
        self.summary = self

    def search(self, fields=None, **criteria):
        RecordingRester.queries.append(criteria)
        if criteria.get("formula") in ("Li1Cl1", "LiCl") or criteria.get("material_ids") == (
            "mp-22905"
        ):
            return [summary("mp-22905", licl(), 0.0, 6.3)]
        return []


class ForbiddenRester:
    def __init__(self, *args, **kwargs):
        raise AssertionError("the live MP API must not be contacted without a key")


@pytest.fixture
def snapshot_file(tmp_path) -> Path:
    return write_snapshot_json(
        [
            summary("mp-1960", pmg("Li2O"), 0.0, 4.99),
            summary("mp-19017", pmg("LiFePO4"), 0.0, 3.7),
            summary("mp-lowgap", pmg("LiFePO4").copy(), 0.3, 0.2),
        ],
        tmp_path / "snap.json",
    )


@job
def later_tier(status: str) -> str:
    return f"ran after {status}"


def run_gate(maker: MPGateMaker, candidate: Candidate):
    """Run gate + a dependent child; return (doc from the store, child output or None)."""
    gate = maker.make(candidate)
    child = later_tier(gate.output.status)
    store = build_job_store("memory")
    run_locally(Flow([gate, child]), store=store, ensure_success=False)
    doc = store.query_one({"uuid": gate.uuid})
    child_doc = store.query_one({"uuid": child.uuid})
    return MPGateDoc(**doc["output"]), (child_doc or {}).get("output")


def test_maker_passed_from_snapshot(snapshot_file, monkeypatch):
    monkeypatch.setattr(mp_api.client, "MPRester", ForbiddenRester)
    candidate = Candidate.from_structure(pmg("Li2O"), "li2o")
    doc, child = run_gate(MPGateMaker(snapshot=str(snapshot_file)), candidate)
    assert doc.status == "passed" and doc.tier == "mp"
    assert doc.mp_id == "mp-1960" and doc.band_gap_ev == pytest.approx(4.99)
    assert doc.value_source == "snapshot"
    assert doc.settings["e_hull_max_ev_per_atom"] == 0.07
    assert child == "ran after passed"


def test_maker_dropped_stops_children(snapshot_file):
    candidate = Candidate.from_structure(pmg("Li2O"), "li2o", e_hull_ev_per_atom=0.2)
    doc, child = run_gate(MPGateMaker(snapshot=str(snapshot_file)), candidate)
    assert doc.status == "dropped" and "0.2 eV/atom" in doc.reason
    assert doc.value_sources == {"e_hull_ev_per_atom": "candidate", "band_gap_ev": "snapshot"}
    assert child is None  # the later tier never ran


def test_maker_threshold_fields_are_used(snapshot_file):
    candidate = Candidate.from_structure(pmg("Li2O"), "li2o")
    doc, child = run_gate(MPGateMaker(snapshot=str(snapshot_file), band_gap_min_ev=5.0), candidate)
    assert doc.status == "dropped" and doc.band_gap_min_ev == 5.0
    assert child is None


def test_maker_unknown_is_kept_and_drop_policy_drops(snapshot_file, monkeypatch):
    monkeypatch.setattr(mp_api.client, "MPRester", ForbiddenRester)
    candidate = Candidate.from_structure(pmg("Li2O2"), "li2o2")  # not in the snapshot
    doc, child = run_gate(MPGateMaker(snapshot=str(snapshot_file)), candidate)
    assert doc.status == "unknown" and doc.reason.startswith("No Materials Project entry")
    assert doc.mp_id is None and doc.value_source is None
    assert child == "ran after unknown"
    doc, child = run_gate(
        MPGateMaker(snapshot=str(snapshot_file), missing_policy="drop"), candidate
    )
    assert doc.status == "dropped" and child is None


def test_maker_failed_candidate_is_a_document(snapshot_file):
    candidate = Candidate(id="nothing")  # no structure, no mp-id, no values
    doc, child = run_gate(MPGateMaker(snapshot=str(snapshot_file)), candidate)
    assert doc.status == "failed"
    assert doc.reason.startswith("Candidate 'nothing':") and "mp-id" in doc.reason
    assert child is None


def test_maker_reads_snapshot_setting_at_run_time(snapshot_file, monkeypatch):
    monkeypatch.setattr(mp_api.client, "MPRester", ForbiddenRester)
    gate = MPGateMaker().make(Candidate.from_structure(pmg("LiFePO4"), "lfp"))
    monkeypatch.setenv("SSEFLOWS_MP_SNAPSHOT", str(snapshot_file))  # after make()
    store = build_job_store("memory")
    run_locally(gate, store=store)
    output = store.query_one({"uuid": gate.uuid})["output"]
    assert output["status"] == "passed" and output["mp_id"] == "mp-19017"


def test_candidate_values_beat_snapshot_beat_live(snapshot_file, monkeypatch):
    monkeypatch.setattr(mp_api.client, "MPRester", RecordingRester)
    RecordingRester.queries = []
    chain = ChainSource([SnapshotSource(open_snapshot(str(snapshot_file))), LiveSource("k")])

    # both values given: no source is even built
    def never():
        raise AssertionError("no lookup needed")

    given = Candidate.from_structure(pmg("Li2O"), "li2o", e_hull_ev_per_atom=0.05, band_gap_ev=9.0)
    doc = gate_candidate(given, never)
    assert (doc.e_hull_ev_per_atom, doc.band_gap_ev, doc.value_source) == (0.05, 9.0, "candidate")

    # a given gap is kept, the missing E_hull comes from the snapshot; live not asked
    partial = Candidate.from_structure(pmg("Li2O"), "li2o", band_gap_ev=0.5)
    doc = gate_candidate(partial, chain)
    assert doc.band_gap_ev == 0.5 and doc.e_hull_ev_per_atom == 0.0
    assert doc.value_sources == {"band_gap_ev": "candidate", "e_hull_ev_per_atom": "snapshot"}
    assert doc.status == "dropped" and RecordingRester.queries == []

    # not in the snapshot: the live API answers
    doc = gate_candidate(Candidate.from_structure(licl(), "licl"), chain)
    assert doc.value_source == "live" and doc.mp_id == "mp-22905"
    assert doc.status == "passed" and len(RecordingRester.queries) >= 1


def test_matched_entry_without_gap_is_judged_on_e_hull(tmp_path):
    snap = write_snapshot_json([summary("mp-22905", licl(), 0.2, None)], tmp_path / "s.json")
    source = SnapshotSource(open_snapshot(str(snap)))
    doc = gate_candidate(Candidate.from_structure(licl(), "licl"), source)
    assert doc.status == "dropped" and doc.band_gap_ev is None
    assert "band gap unknown" in doc.reason
