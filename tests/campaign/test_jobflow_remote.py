"""The campaign's flows are plain jobflow: they serialise the way jobflow-remote stores them.

jobflow-remote (not installed here) keeps every Job in its queue database as
``jsanitize(job, strict=True, enum_values=True, allow_bson=True)``, decodes it on the worker
with monty, and checks that every additional store a job writes to (``data=[...]``) exists
in the project's JobStore. These tests do the same with the flows the campaign builds
(screening, as planned with result keys, and the expensive tiers), then run the decoded
screening flow.
"""

from __future__ import annotations

import json

from jobflow import Flow, Job, run_locally
from monty.json import MontyDecoder, jsanitize

from sseflows.campaign.plan import plan_flows
from sseflows.campaign.results import query_tier_docs
from sseflows.campaign.screen import build_screening_maker
from sseflows.core.candidate import Candidate
from sseflows.data.prototypes import pymatgen_structure
from sseflows.data.readers import CandidateSet
from sseflows.md.makers import MDArrheniusMaker
from sseflows.stores import build_job_store
from tests.conftest import DEMO_SNAPSHOT


def _as_stored(job: Job) -> dict:
    """A job as jobflow-remote's queue database holds it (JSON, strict, no objects)."""
    return json.loads(json.dumps(jsanitize(job, strict=True, enum_values=True, allow_bson=True)))


def _round_trip(flow: Flow | Job) -> list[tuple[Job, Job]]:
    flow = flow if isinstance(flow, Flow) else Flow([flow])
    pairs = []
    for job, _parents in flow.iterflow():
        decoded = MontyDecoder().process_decoded(_as_stored(job))
        assert isinstance(decoded, Job)
        pairs.append((job, decoded))
    return pairs


def _campaign_flows() -> tuple[Flow, list[Flow | Job]]:
    li2o = Candidate.from_structure(pymatgen_structure("Li2O"), "li2o")
    store = build_job_store("memory")
    store.connect()
    screening = build_screening_maker(str(DEMO_SNAPSHOT))
    plan = plan_flows(CandidateSet(candidates=[li2o], failures=[]), screening, store)
    ((_, planned),) = plan.flows
    from sseflows.forcefields.neb import ChgnetNebMaker

    tiers = [ChgnetNebMaker().make(li2o), MDArrheniusMaker().make(li2o)]
    return planned, tiers


def test_campaign_jobs_serialise_strictly_and_decode_to_the_same_job() -> None:
    planned, tiers = _campaign_flows()
    stores = set(build_job_store("memory").additional_stores)
    for flow in [planned, *tiers]:
        pairs = _round_trip(flow)
        assert pairs
        for job, decoded in pairs:
            assert (decoded.uuid, decoded.index, decoded.name) == (job.uuid, job.index, job.name)
            assert decoded.function.__qualname__ == job.function.__qualname__
            assert decoded.metadata == jsanitize(job.metadata, strict=True, enum_values=True)
            # jobflow-remote refuses a flow whose jobs write to a store the project lacks
            assert set(job._kwargs) - {"output_schema"} <= stores | {"data"}
    # the whole flow too, as `submit_flow` receives it from a file
    flow_dict = json.loads(json.dumps(jsanitize(planned, strict=True, enum_values=True)))
    decoded_flow = Flow.from_dict(flow_dict)
    assert [j.uuid for j, _ in decoded_flow.iterflow()] == [j.uuid for j, _ in planned.iterflow()]


def test_a_decoded_screening_flow_runs_to_the_same_documents() -> None:
    planned, _ = _campaign_flows()
    flow_dict = json.loads(json.dumps(jsanitize(planned, strict=True, enum_values=True)))
    results = []
    for flow in (Flow.from_dict(flow_dict), planned):
        store = build_job_store("memory")
        run_locally(flow, store=store, log=False, ensure_success=True)
        docs = query_tier_docs(store, candidate_id="li2o")
        results.append({d["tier"]: (d["status"], d["reason"]) for d in docs})
    decoded, original = results
    assert {tier: status for tier, (status, _) in decoded.items()} == {
        "mp": "passed",
        "bvse": "passed",
    }
    assert decoded == original
