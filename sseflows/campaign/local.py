"""Run jobflow flows on this machine, one candidate per worker process.

Each worker runs one candidate's flow with ``run_locally`` against an in-memory JobStore
and hands back the raw documents; the parent writes them into the campaign's JobStore.
Only the parent touches the persistent store, so a file-backed MontyStore is safe, and a
crash or timeout in one candidate never loses another candidate's results: each flow's
documents are written as soon as that flow finishes. Workers exit when the parent dies
(:func:`exit_with_parent`), so a killed ``sseflows screen`` leaves no idle processes.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from jobflow import Flow, Job, JobStore, run_locally
from monty.json import MontyDecoder

from sseflows.core.documents import TierDoc
from sseflows.stores import build_job_store

logger = logging.getLogger(__name__)

RawDocs = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@dataclass
class FlowRun:
    """What happened to one flow: its key, whether it finished, and an error sentence."""

    key: str
    finished: bool
    error: str = ""


class _CrashCollector(logging.Handler):
    """Collects "<job> failed with exception" messages from jobflow's local manager."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.crashes: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        marker = " failed with exception:"
        if marker in message:
            name, _, trace = message.partition(marker)
            lines = [line for line in trace.strip().splitlines() if line.strip()]
            self.crashes[name] = lines[-1] if lines else "unknown error"


def _crash_doc(job: Job, error: str, key: str) -> dict[str, Any]:
    """A ``failed`` tier document standing in for a job that raised."""
    candidate_id = job.metadata.get("candidate_id", key)
    doc = TierDoc(
        candidate_id=candidate_id,
        tier=job.name.split(" ")[0] if job.name else "job",
        status="failed",
        reason=f"Candidate '{candidate_id}': job '{job.name}' crashed ({error}).",
    )
    return {
        "uuid": job.uuid,
        "index": job.index,
        "name": job.name,
        "output": doc.model_dump(mode="json"),
        "metadata": dict(job.metadata),
        "completed_at": doc.created_at.isoformat(),
        "hosts": list(job.hosts),
    }


def exit_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Make this (child) process exit when ``parent_pid``, its parent, dies.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere, or when that is unavailable, a daemon thread polls ``os.getppid()`` every
    ``poll_s`` seconds. A parent that already died before this call ends the process now.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            pr_set_pdeathsig = 1
            if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    if os.getppid() != parent_pid:
        os._exit(1)
    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers exit when this process dies (even by SIGKILL)."""
    return ProcessPoolExecutor(
        max_workers=workers, initializer=exit_with_parent, initargs=(os.getpid(),)
    )


def run_flow_in_memory(flow_dict: dict[str, Any], key: str = "") -> RawDocs:
    """Run a serialised flow (or job) against a fresh memory JobStore; return (docs, data docs).

    The flow travels as its ``as_dict()`` (as it would to FireWorks), so everything a flow
    holds must serialise. A job that raises gets a ``failed`` document naming it.
    """
    decoded = MontyDecoder().process_decoded(flow_dict)
    flow = decoded if isinstance(decoded, Flow) else Flow([decoded])
    with _scratch_store() as store:
        return _run_in(store, flow, key)


_SCRATCH: list[JobStore] = []
"""This process's idle scratch JobStores (memory), reused flow after flow."""


@contextmanager
def _scratch_store() -> Iterator[JobStore]:
    """An empty memory JobStore, reused: every maggma store adds a ``NullHandler`` to its
    class's logger when created and never removes it, so a new store per flow made the
    handler lists (and each later ``addHandler``) grow with the campaign, O(n²) in all."""
    store = _SCRATCH.pop() if _SCRATCH else None
    if store is None:
        store = build_job_store("memory")
        store.connect()
    try:
        yield store
    finally:
        store.docs_store.remove_docs({})
        _data_store(store).remove_docs({})
        _SCRATCH.append(store)


def _run_in(store: JobStore, flow: Flow, key: str) -> RawDocs:
    """Run ``flow`` against the empty ``store``; its (docs, data docs)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    local_logger = logging.getLogger("jobflow.managers.local")
    collector = _CrashCollector()
    local_logger.addHandler(collector)
    previous_level = local_logger.level
    local_logger.setLevel(logging.INFO)
    try:
        run_locally(flow, store=store, ensure_success=False, log=False)
    finally:
        local_logger.removeHandler(collector)
        local_logger.setLevel(previous_level)
    docs = [_strip_id(d) for d in store.docs_store.query({})]
    done = {d["uuid"] for d in docs}
    for job, _parents in flow.iterflow():
        if job.uuid not in done and job.name in collector.crashes:
            docs.append(_crash_doc(job, collector.crashes[job.name], key))
    data = [_strip_id(d) for d in _data_store(store).query({})]
    return docs, data


def _data_store(store: JobStore) -> Any:
    """The JobStore's ``data`` store (jobflow's attribute defeats mypy's inference)."""
    stores: dict[str, Any] = store.additional_stores  # type: ignore[has-type]
    return stores["data"]


def _strip_id(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("_id", None)
    return doc


def write_raw_docs(store: JobStore, raw: RawDocs) -> int:
    """Insert one flow's raw documents into ``store``; returns how many job outputs."""
    docs, data = raw
    if data:
        _data_store(store).update(data, key="blob_uuid")
    if docs:
        store.docs_store.update(docs, key=["uuid", "index"])
    return len(docs)


def run_flows(
    flows: Iterable[tuple[str, Flow | Job]],
    store: JobStore,
    workers: int = 1,
    on_done: Callable[[FlowRun], None] | None = None,
) -> list[FlowRun]:
    """Run keyed flows with ``workers`` processes, writing results into ``store`` as they end.

    Args:
        flows: ``(key, flow)`` pairs; the key (a candidate id) labels progress and errors.
        store: Connected campaign JobStore.
        workers: Worker processes; 1 runs everything in this process.
        on_done: Called after each flow with its :class:`FlowRun`.
    """
    runs: list[FlowRun] = []

    def finish(key: str, raw: RawDocs | None, error: str = "") -> None:
        run = FlowRun(key=key, finished=raw is not None, error=error)
        if raw is not None:
            write_raw_docs(store, raw)
        runs.append(run)
        if on_done:
            on_done(run)

    pending = list(flows)
    if workers <= 1:
        for key, flow in pending:
            try:
                finish(key, run_flow_in_memory(flow.as_dict(), key))
            except Exception as exc:  # a jobflow/engine crash must not stop the campaign
                logger.exception("flow for %s crashed", key)
                finish(key, None, f"Candidate '{key}': the flow crashed ({exc}).")
        return runs

    broken: list[tuple[str, Flow | Job]] = []
    flows_by_key = dict(pending)
    with worker_pool(workers) as pool:
        futures: dict[Future, str] = {
            pool.submit(run_flow_in_memory, f.as_dict(), k): k for k, f in pending
        }
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                key = futures.pop(future)
                try:
                    finish(key, future.result())
                except BrokenProcessPool:
                    broken.append((key, flows_by_key[key]))
                except Exception as exc:  # flow crashed outside any job
                    logger.error("flow for %s crashed: %s", key, exc)
                    finish(key, None, f"Candidate '{key}': the flow crashed ({exc}).")
    # A killed worker breaks the whole pool: rerun the affected flows one per pool so
    # that only the flow that kills its process is lost, and say which one it was.
    for key, flow in broken:
        with worker_pool(1) as pool:
            try:
                finish(key, pool.submit(run_flow_in_memory, flow.as_dict(), key).result())
            except BrokenProcessPool:
                finish(key, None, f"Candidate '{key}': its worker process was killed.")
            except Exception as exc:
                finish(key, None, f"Candidate '{key}': the flow crashed ({exc}).")
    return runs
