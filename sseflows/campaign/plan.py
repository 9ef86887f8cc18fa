"""Planning, shared by both runners: candidates plus a Maker become keyed flows.

Every flow carries the *result key* of its candidate in its jobs' metadata
(``metadata.result_key``): a hash of what determines the result (the candidate's structure
and known properties, the Maker with all its settings). A candidate whose key already has
documents in the store is not planned again, whichever runner computed them: the local
runner (:func:`sseflows.campaign.local.run_flows`) and FireWorks
(:func:`sseflows.campaign.fireworks.submit_flows`) consume the same :class:`Plan`, so
results a cluster worker stored are reused by ``sseflows screen`` and ``campaign run``.
Change a setting or the structure and the key changes, so the candidate is recomputed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, Job, JobStore, Maker
from monty.json import jsanitize

from sseflows.campaign.results import latest_by_candidate, query_tier_docs
from sseflows.core.candidate import Candidate
from sseflows.data.readers import CandidateSet
from sseflows.flows.failures import record_input_failure

RESULT_KEY = "result_key"
"""Metadata field of every planned job holding its candidate's result key."""


def canonical_numbers(value: Any) -> Any:
    """``value`` (sanitised JSON) with every number a float (bools kept), so that equal
    numbers hash alike: pymatgen caches ``Species`` objects, and a process that created
    ``Li+`` with oxidation state ``1`` serialises every later ``Li+`` with ``1``, another
    process with ``1.0``; a ``charge`` or setting is ``0`` in one input and ``0.0`` in the
    next."""
    if isinstance(value, dict):
        return {k: canonical_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canonical_numbers(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def result_key(candidate: Candidate, maker: Maker) -> str:
    """Hash of what determines a candidate's result in a tier (structure, props, settings);
    the same in every process (:func:`canonical_numbers`)."""
    payload = {
        "structure": candidate.structure.as_dict() if candidate.structure is not None else None,
        "mp_id": candidate.mp_id,
        "e_hull": candidate.e_hull_ev_per_atom,
        "gap": candidate.band_gap_ev,
        "maker": maker.as_dict(),
    }
    sanitised = canonical_numbers(jsanitize(payload, strict=False, allow_bson=False))
    text = json.dumps(sanitised, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def failure_key(candidate_id: str, source: str, reason: str) -> str:
    """Result key of a candidate that could not be read."""
    return hashlib.sha256(f"{candidate_id}|{source}|{reason}".encode()).hexdigest()[:24]


def stored_docs_by_key(
    store: JobStore, keys: Iterable[str], tier: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Stored tier documents grouped by result key, newest first, in one query."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    criteria = {RESULT_KEY: {"$in": list(keys)}}
    for doc in query_tier_docs(store, tier=tier, metadata=criteria):
        grouped.setdefault(doc[RESULT_KEY], []).append(doc)
    return grouped


def tier_docs_by_key(store: JobStore, keys: dict[str, str], tier: str) -> dict[str, dict[str, Any]]:
    """``{candidate_id: newest stored ``tier`` document}`` of ``keys`` (``{id: result key}``);
    a candidate without one is left out."""
    stored = stored_docs_by_key(store, keys.values(), tier)
    docs = {}
    for cid, key in keys.items():
        found = latest_by_candidate(stored.get(key, [])).get(cid, {})
        if tier in found:
            docs[cid] = found[tier]
    return docs


@dataclass
class Plan:
    """What is left to compute.

    Attributes:
        flows: ``(candidate id, flow)`` pairs to run or submit, each flow tagged with the
            candidate's id and result key.
        keys: Result key of every candidate, planned or reused.
        reused: Ids whose results are already stored (nothing is planned for them).
    """

    flows: list[tuple[str, Flow]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)


def _keyed(flow: Flow | Job, candidate_id: str, key: str, name: str) -> Flow:
    flow = flow if isinstance(flow, Flow) else Flow([flow], name=name)
    flow.update_metadata({RESULT_KEY: key, "candidate_id": candidate_id})
    return flow


def plan_flows(
    candidate_set: CandidateSet,
    maker: Maker,
    store: JobStore,
    build: Callable[[Candidate], Flow | Job] | None = None,
    tier: str | None = None,
    only: Iterable[str] | None = None,
    fresh: bool = False,
) -> Plan:
    """Keyed flows for the candidates of ``candidate_set`` whose results are not stored.

    Args:
        candidate_set: Candidates and read failures; a read failure becomes a flow that
            records its ``failed`` document (tier ``input``).
        maker: The Maker whose settings the result keys hash.
        store: Connected JobStore holding earlier results.
        build: Builds a candidate's flow (default ``maker.make``).
        tier: Count only this tier's documents as stored results (default any).
        only: Plan just these candidate ids (read failures are then skipped).
        fresh: Plan every candidate, stored or not.
    """
    build = build or maker.make
    chosen = None if only is None else set(only)
    candidates = [c for c in candidate_set.candidates if chosen is None or c.id in chosen]
    failures = list(candidate_set.failures) if chosen is None else []
    keys = {f.candidate_id: failure_key(f.candidate_id, f.source, f.reason) for f in failures}
    keys |= {c.id: result_key(c, maker) for c in candidates}
    stored = {} if fresh else stored_docs_by_key(store, keys.values(), tier)
    plan = Plan(keys=keys)
    for failure in failures:
        cid = failure.candidate_id
        if keys[cid] in stored:
            plan.reused.append(cid)
            continue
        job = record_input_failure(cid, failure.source, failure.reason)
        plan.flows.append((cid, _keyed(job, cid, keys[cid], f"input {cid}")))
    for candidate in candidates:
        if keys[candidate.id] in stored:
            plan.reused.append(candidate.id)
            continue
        flow = _keyed(build(candidate), candidate.id, keys[candidate.id], candidate.id)
        plan.flows.append((candidate.id, flow))
    return plan
