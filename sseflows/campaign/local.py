"""Run jobflow flows on this machine, one candidate per worker process.

Each worker runs one candidate's flow with ``run_locally`` against an in-memory JobStore
and hands back the raw documents; the parent writes them into the campaign's JobStore.
Only the parent touches the persistent store, so a file-backed MontyStore is safe, and a
crash or timeout in one candidate never loses another candidate's results: each flow's
documents are written as soon as that flow finishes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, JobStore, run_locally

from sseflows.stores import build_job_store

logger = logging.getLogger(__name__)

RawDocs = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@dataclass
class FlowRun:
    """What happened to one flow: its key, whether it finished, and an error sentence."""

    key: str
    finished: bool
    error: str = ""
    n_docs: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def run_flow_in_memory(flow: Flow) -> RawDocs:
    """Run ``flow`` against a fresh memory JobStore; return (docs, data-store docs)."""
    store = build_job_store("memory")
    store.connect()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    logging.getLogger("jobflow").setLevel(logging.WARNING)
    run_locally(flow, store=store, ensure_success=False, log=False)
    docs = [_strip_id(d) for d in store.docs_store.query({})]
    data = [_strip_id(d) for d in store.additional_stores["data"].query({})]
    return docs, data


def _strip_id(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("_id", None)
    return doc


def write_raw_docs(store: JobStore, raw: RawDocs) -> int:
    """Insert one flow's raw documents into ``store``; returns how many job outputs."""
    docs, data = raw
    if data:
        store.additional_stores["data"].update(data, key="blob_uuid")
    if docs:
        store.docs_store.update(docs, key=["uuid", "index"])
    return len(docs)


def run_flows(
    flows: Iterable[tuple[str, Flow]],
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
            run.n_docs = write_raw_docs(store, raw)
        runs.append(run)
        if on_done:
            on_done(run)

    pending = list(flows)
    if workers <= 1:
        for key, flow in pending:
            try:
                finish(key, run_flow_in_memory(flow))
            except Exception as exc:  # a jobflow/engine crash must not stop the campaign
                logger.exception("flow for %s crashed", key)
                finish(key, None, f"Candidate '{key}': the flow crashed ({exc}).")
        return runs

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future, str] = {pool.submit(run_flow_in_memory, f): k for k, f in pending}
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                key = futures.pop(future)
                try:
                    finish(key, future.result())
                except Exception as exc:  # worker died (killed, out of memory) or flow crashed
                    logger.error("flow for %s crashed: %s", key, exc)
                    finish(key, None, f"Candidate '{key}': the flow crashed ({exc}).")
    return runs
