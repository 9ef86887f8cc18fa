"""Screen a set of candidates through the cheap gates and summarise the funnel.

Resuming is automatic: every flow is tagged with a *screen key* (a hash of the candidate's
structure and known properties and of the gate settings). A candidate whose key already
has documents in the store is not recomputed; change a setting or the structure and it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, JobStore, Maker
from monty.json import jsanitize

from sseflows.campaign.local import FlowRun, run_flows
from sseflows.campaign.results import (
    latest_by_candidate,
    query_tier_docs,
    rank_records,
    summarize_candidate,
)
from sseflows.core.candidate import Candidate
from sseflows.core.documents import PROCEEDS
from sseflows.data.readers import CandidateSet, MergeRecord
from sseflows.flows.failures import record_input_failure
from sseflows.flows.screening import ScreeningFlowMaker


def screen_key(candidate: Candidate, maker: Maker) -> str:
    """Hash of what determines a candidate's result in a tier (structure, props, settings)."""
    payload = {
        "structure": candidate.structure.as_dict() if candidate.structure is not None else None,
        "mp_id": candidate.mp_id,
        "e_hull": candidate.e_hull_ev_per_atom,
        "gap": candidate.band_gap_ev,
        "maker": maker.as_dict(),
    }
    text = json.dumps(jsanitize(payload, strict=False, allow_bson=False), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def failure_key(candidate_id: str, source: str, reason: str) -> str:
    """Screen key of a candidate that could not be read."""
    return hashlib.sha256(f"{candidate_id}|{source}|{reason}".encode()).hexdigest()[:24]


def docs_by_screen_key(store: JobStore, keys: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Stored tier documents grouped by screen key, newest first, in one query."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for doc in query_tier_docs(store, metadata={"screen_key": {"$in": list(keys)}}):
        grouped.setdefault(doc["screen_key"], []).append(doc)
    return grouped


@dataclass
class ScreenReport:
    """Outcome of :func:`screen_candidates`.

    Attributes:
        records: One summary record per candidate (``SCREEN_RECORD_KEYS``), ranked.
        funnel: Ordered stage name → number of candidates still in the campaign.
        merges: Duplicate structures merged on reading.
        reused: Ids whose results were already in the store and were not recomputed.
        crashed: Flow runs that crashed outright (their candidates are recorded as failed).
    """

    records: list[dict[str, Any]]
    funnel: dict[str, int]
    merges: list[MergeRecord] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    crashed: list[FlowRun] = field(default_factory=list)
    tier_docs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def _funnel(records: list[dict[str, Any]], tier_docs: dict[str, dict[str, dict]]) -> dict[str, int]:
    def passed(cid: str, tier: str) -> bool:
        doc = tier_docs.get(cid, {}).get(tier)
        return doc is not None and doc["status"] in PROCEEDS

    ids = [r["id"] for r in records]
    readable = [c for c in ids if "input" not in tier_docs.get(c, {})]
    after_mp = [c for c in readable if passed(c, "mp")]
    after_bvse = [c for c in after_mp if passed(c, "bvse")]
    return {
        "candidates": len(ids),
        "readable": len(readable),
        "MP gate (E_hull, E_g)": len(after_mp),
        "BVSE gate (E_a)": len(after_bvse),
    }


def screen_candidates(
    candidate_set: CandidateSet,
    store: JobStore,
    maker: ScreeningFlowMaker | None = None,
    workers: int = 1,
    fresh: bool = False,
    on_done: Callable[[FlowRun], None] | None = None,
) -> ScreenReport:
    """Run the screening flow for every candidate (reusing stored results) and summarise.

    Args:
        candidate_set: Candidates read by :func:`sseflows.data.readers.read_candidates`,
            including read failures, which become ``failed`` documents of tier ``input``.
        store: Connected campaign JobStore.
        maker: Screening flow Maker (default settings when None).
        workers: Worker processes for the per-candidate flows.
        fresh: Recompute even when results with the same screen key exist.
        on_done: Progress callback, called once per candidate.
    """
    maker = maker or ScreeningFlowMaker()
    keys = {f.candidate_id: failure_key(f.candidate_id, f.source, f.reason)
            for f in candidate_set.failures}  # fmt: skip
    keys |= {c.id: screen_key(c, maker) for c in candidate_set.candidates}
    stored = {} if fresh else docs_by_screen_key(store, keys.values())
    flows: list[tuple[str, Flow]] = []
    reused: list[str] = []

    for failure in candidate_set.failures:
        key = keys[failure.candidate_id]
        if key in stored:
            reused.append(failure.candidate_id)
            continue
        job = record_input_failure(failure.candidate_id, failure.source, failure.reason)
        flow = Flow([job], name=f"input {failure.candidate_id}")
        flow.update_metadata({"screen_key": key, "candidate_id": failure.candidate_id})
        flows.append((failure.candidate_id, flow))
    for candidate in candidate_set.candidates:
        key = keys[candidate.id]
        if key in stored:
            reused.append(candidate.id)
            continue
        flow = maker.make(candidate)
        flow.update_metadata({"screen_key": key, "candidate_id": candidate.id})
        flows.append((candidate.id, flow))

    for cid in reused:
        if on_done:
            on_done(FlowRun(key=cid, finished=True))
    runs = run_flows(flows, store, workers=workers, on_done=on_done)

    stored = docs_by_screen_key(store, keys.values())
    tier_docs: dict[str, dict[str, dict]] = {}
    for cid, key in keys.items():
        tier_docs[cid] = latest_by_candidate(stored.get(key, [])).get(cid, {})
    crashed = [r for r in runs if not r.finished]
    for run in crashed:
        tier_docs[run.key] = {
            "flow": {
                "candidate_id": run.key,
                "tier": "flow",
                "status": "failed",
                "reason": run.error,
                "formula": "",
            }
        }
    records = [summarize_candidate(cid, tiers) for cid, tiers in tier_docs.items() if tiers]
    ranked = rank_records(records)
    return ScreenReport(
        records=ranked,
        funnel=_funnel(ranked, tier_docs),
        merges=list(candidate_set.merges),
        reused=reused,
        crashed=crashed,
        tier_docs=tier_docs,
    )
