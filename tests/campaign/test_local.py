"""The local runner: worker processes, results written as flows end, crashes isolated."""

from __future__ import annotations

from jobflow import Flow, Response, job

from sseflows.campaign.local import run_flows
from sseflows.campaign.results import query_tier_docs
from sseflows.stores import build_job_store


@job
def gate(cid: str, ok: bool) -> Response:
    status = "passed" if ok else "dropped"
    doc = {"candidate_id": cid, "tier": "first", "status": status, "reason": ""}
    return Response(output=doc, stop_children=not ok)


@job
def second(cid: str, upstream: str) -> dict:
    return {"candidate_id": cid, "tier": "second", "status": "passed", "reason": upstream}


@job
def explode(cid: str) -> dict:
    raise RuntimeError(f"boom in {cid}")


def _flow(cid: str, ok: bool) -> Flow:
    first = gate(cid, ok)
    return Flow([first, second(cid, first.output["status"])])


def test_two_workers_write_every_result_and_stop_children(tmp_path) -> None:
    store = build_job_store(str(tmp_path / "db"))
    store.connect()
    runs = run_flows([("a", _flow("a", True)), ("b", _flow("b", False))], store, workers=2)
    assert sorted(r.key for r in runs) == ["a", "b"]
    assert all(r.finished for r in runs)
    assert {d["tier"] for d in query_tier_docs(store, candidate_id="a")} == {"first", "second"}
    # b was dropped by its first gate: its second job never ran
    assert [d["tier"] for d in query_tier_docs(store, candidate_id="b")] == ["first"]
    assert query_tier_docs(store, status="dropped")[0]["candidate_id"] == "b"


def test_a_crashing_job_does_not_stop_the_others() -> None:
    store = build_job_store("memory")
    store.connect()
    runs = run_flows([("bad", Flow([explode("bad")])), ("a", _flow("a", True))], store, workers=1)
    by_key = {r.key: r for r in runs}
    assert by_key["a"].finished
    assert len(query_tier_docs(store, candidate_id="a")) == 2


def test_crashed_job_gets_a_failed_document_naming_it() -> None:
    store = build_job_store("memory")
    store.connect()
    flow = Flow([explode("bad")])
    flow.update_metadata({"candidate_id": "bad"})
    run_flows([("bad", flow)], store, workers=1)
    (doc,) = query_tier_docs(store, candidate_id="bad")
    assert doc["status"] == "failed"
    assert "job 'explode' crashed (RuntimeError: boom in bad)" in doc["reason"]


@job
def killed(cid: str) -> dict:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def test_a_killed_worker_loses_only_its_own_candidate(tmp_path) -> None:
    store = build_job_store(str(tmp_path / "db"))
    store.connect()
    flows = [("k", Flow([killed("k")])), ("a", _flow("a", True)), ("b", _flow("b", True))]
    runs = {r.key: r for r in run_flows(flows, store, workers=2)}
    assert not runs["k"].finished
    assert runs["k"].error == "Candidate 'k': its worker process was killed."
    assert runs["a"].finished and runs["b"].finished
    assert {d["candidate_id"] for d in query_tier_docs(store)} == {"a", "b"}
