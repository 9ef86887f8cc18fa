"""The per-candidate screening flow: MP gate then BVSE gate, stopping on a failed gate."""

from __future__ import annotations

from jobflow import run_locally

from sseflows.campaign.results import query_tier_docs
from sseflows.core.candidate import Candidate
from sseflows.data.prototypes import pymatgen_structure
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.gates.bvse.maker import BVSEGateMaker
from sseflows.gates.mp.maker import MPGateMaker
from sseflows.stores import build_job_store
from tests.conftest import DEMO_SNAPSHOT as SNAPSHOT


def _maker(**mp) -> ScreeningFlowMaker:
    return ScreeningFlowMaker(
        mp_gate=MPGateMaker(snapshot=str(SNAPSHOT), use_live=False, **mp),
        bvse_gate=BVSEGateMaker(timeout_s=0, compute_path=False),
    )


def test_lifepo4_passes_both_gates() -> None:
    store = build_job_store("memory")
    cand = Candidate.from_structure(pymatgen_structure("LiFePO4"), "LFP")
    run_locally(_maker().make(cand), store=store, log=False)
    docs = {d["tier"]: d for d in query_tier_docs(store, candidate_id="LFP")}
    assert docs["mp"]["status"] == "passed"
    assert docs["mp"]["mp_id"] == "mp-19017"
    assert docs["bvse"]["status"] == "passed"
    assert docs["bvse"]["e1d_ev"] < docs["bvse"]["e3d_ev"]


def test_mp_drop_stops_the_bvse_gate() -> None:
    """E_hull given with the candidate (0.2 eV/atom) is above 0.07: BVSE never runs."""
    store = build_job_store("memory")
    cand = Candidate.from_structure(
        pymatgen_structure("Li2O"), "unstable", e_hull_ev_per_atom=0.2, band_gap_ev=5.0
    )
    run_locally(_maker().make(cand), store=store, log=False)
    docs = query_tier_docs(store, candidate_id="unstable")
    assert [d["tier"] for d in docs] == ["mp"]
    assert docs[0]["status"] == "dropped"
    assert "0.2" in docs[0]["reason"]
