"""Query tier documents in a JobStore and summarise one record per candidate."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from jobflow import JobStore

SEVERITY = {"failed": 4, "dropped": 3, "unknown": 1, "passed": 0, "completed": 0}
"""Worst status wins when summarising a candidate over its tiers."""

SCREEN_RECORD_KEYS = (
    "id",
    "formula",
    "status",
    "reason",
    "e_hull_ev_per_atom",
    "band_gap_ev",
    "bvse_ea_ev",
    "bvse_e1d_ev",
    "bvse_e2d_ev",
    "bvse_e3d_ev",
)
"""Keys of one ``sseflows screen --json`` record, in order."""


def query_tier_docs(
    store: JobStore,
    candidate_id: str | None = None,
    tier: str | None = None,
    status: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Tier documents (job ``output``s) filtered by candidate, tier and status.

    Uses the maggma docs store directly, so the same query works on MontyStore,
    MemoryStore and MongoDB. Newest first.
    """
    criteria: dict[str, Any] = {"output.tier": {"$exists": True}}
    if candidate_id is not None:
        criteria["output.candidate_id"] = candidate_id
    if tier is not None:
        criteria["output.tier"] = tier
    if status is not None:
        criteria["output.status"] = status
    for name, value in (metadata or {}).items():
        criteria[f"metadata.{name}"] = value
    docs = store.docs_store.query(criteria, properties=["output", "uuid", "metadata"])
    outputs = [
        d["output"]
        | {"job_uuid": d.get("uuid"), "result_key": d.get("metadata", {}).get("result_key")}
        for d in docs
    ]
    return sorted(outputs, key=lambda o: str(o.get("created_at", "")), reverse=True)


def latest_by_candidate(docs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{candidate_id: {tier: newest doc}}`` from a list of tier documents (newest first)."""
    table: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for doc in docs:
        table[doc["candidate_id"]].setdefault(doc["tier"], doc)
    return dict(table)


def summarize_candidate(candidate_id: str, tiers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One screening record: the worst status over the tiers and that tier's reason."""
    worst = max(tiers.values(), key=lambda d: SEVERITY.get(d["status"], 0))
    status = worst["status"]
    if status == "completed":
        status = "passed"
    mp = tiers.get("mp", {})
    bvse = tiers.get("bvse", {})
    formula = next((d.get("formula") for d in tiers.values() if d.get("formula")), "")
    return {
        "id": candidate_id,
        "formula": formula,
        "status": status,
        "reason": worst.get("reason", ""),
        "e_hull_ev_per_atom": mp.get("e_hull_ev_per_atom"),
        "band_gap_ev": mp.get("band_gap_ev"),
        "bvse_ea_ev": bvse.get("gate_ea_ev"),
        "bvse_e1d_ev": bvse.get("e1d_ev"),
        "bvse_e2d_ev": bvse.get("e2d_ev"),
        "bvse_e3d_ev": bvse.get("e3d_ev"),
    }


def rank_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Survivors first by ascending BVSE barrier, then dropped, then failed."""

    def key(rec: dict[str, Any]) -> tuple[int, float, str]:
        ea = rec.get("bvse_ea_ev")
        group = {"failed": 2, "dropped": 1}.get(rec["status"], 0)
        return (group, ea if ea is not None else float("inf"), rec["id"])

    return sorted(records, key=key)
