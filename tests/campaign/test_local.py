"""The local runner: worker processes, results written as flows end, crashes isolated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
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


ORPHANS = """
import os, sys, time
from pathlib import Path
from jobflow import Flow, job
from sseflows.campaign.local import run_flows
from sseflows.stores import build_job_store

@job
def nap(cid, pid_dir):
    Path(pid_dir, str(os.getpid())).touch()
    time.sleep(600)
    return {"candidate_id": cid, "tier": "nap", "status": "passed", "reason": ""}

store = build_job_store("memory")
store.connect()
pid_dir = sys.argv[1]
run_flows([(c, Flow([nap(c, pid_dir)])) for c in ("a", "b")], store, workers=2)
"""


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaps counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _wait_for(condition, what: str, timeout: float) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_the_parent_is_killed(tmp_path) -> None:
    """``sseflows screen``'s pool: SIGKILL the parent mid-run, its workers go too."""
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANS, str(pid_dir)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    pids: list[int] = []
    try:
        _wait_for(lambda: len(list(pid_dir.iterdir())) == 2, "both workers to start", 180)
        pids = [int(p.name) for p in pid_dir.iterdir()]
        assert not any(_gone(pid) for pid in pids)
        parent.kill()  # SIGKILL: no chance to shut the pool down
        parent.wait(timeout=60)
        _wait_for(lambda: all(_gone(pid) for pid in pids), "the orphaned workers to exit", 30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=60)
        for pid in pids:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
