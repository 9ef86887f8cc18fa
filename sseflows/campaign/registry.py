"""What names a campaign in the store: one record per campaign in the ``campaigns`` collection.

Tier documents are shared between campaigns (a result key that is already stored is reused,
whichever campaign computed it), so a document cannot say which campaign it belongs to.
Instead ``campaign run`` upserts one record per campaign, keyed by the spec's ``name``::

    {"name": "laskowski2023", "updated_at": "...", "funnel": {stage: count, ...},
     "selected": {"neb": [ids], "md": [ids]}, "candidate_ids": [...],
     "job_uuids": [uuid of every tier document the campaign used, all runs together]}

``sseflows report NAME`` reads the documents of those uuids, and also those that name the
campaign themselves: jobs of the FireWorks campaign flow carry ``metadata.campaign``, and the
rounds of the learning loop (``campaign_rounds`` collection, :data:`ROUNDS_COLLECTION`, one
document per round with ``campaign`` = the name) list the job uuids of their NEB and MD
results and the version of the model that ranked the pool.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from maggma.core import Store

from sseflows.stores import build_store, store_write_lock

CAMPAIGNS_COLLECTION = "campaigns"
"""One record per campaign, keyed by ``name``."""

ROUNDS_COLLECTION = "campaign_rounds"
"""Rounds of the learning loop (``sseflows.campaign.loop`` writes them): documents with
``campaign`` (name), ``round`` (1, 2, …), ``model`` (``version``, ``n_labels``), ``picks``
(``candidate_id``, ``score``), ``results`` (``{tier: [{id, status, job_uuid, …}]}``) and
``hits`` (candidate ids)."""


def open_campaigns_store(spec: str | None = None) -> Store:
    """The ``campaigns`` collection under store ``spec`` (default: the ``db`` setting)."""
    return build_store(CAMPAIGNS_COLLECTION, spec)


def open_rounds_store(spec: str | None = None) -> Store:
    """The rounds collection under store ``spec`` (default: the ``db`` setting)."""
    return build_store(ROUNDS_COLLECTION, spec)


def doc_uuids(docs: Iterable[dict[str, Any]]) -> set[str]:
    """The job uuids of tier documents as :func:`~sseflows.campaign.results.query_tier_docs`
    returns them."""
    return {str(d["job_uuid"]) for d in docs if d.get("job_uuid")}


def record_campaign(
    campaigns: Store,
    name: str,
    uuids: Iterable[str],
    funnel: dict[str, int] | None = None,
    selected: dict[str, list[str]] | None = None,
    candidate_ids: Iterable[str] = (),
) -> dict[str, Any]:
    """Upsert the record of campaign ``name``: ``uuids`` join those of earlier runs; the
    funnel, selection and candidates are this run's. Returns the record."""
    campaigns.connect()
    old = campaigns.query_one({"name": name}) or {}
    record = {
        "name": name,
        "updated_at": datetime.now(timezone.utc).isoformat(),
        "funnel": dict(funnel or {}),
        "selected": {k: list(v) for k, v in (selected or {}).items()},
        "candidate_ids": sorted(set(candidate_ids)),
        "job_uuids": sorted(set(old.get("job_uuids", [])) | set(uuids)),
    }
    with store_write_lock(campaigns):
        campaigns.update([record], key="name")
    return record


def load_campaign(campaigns: Store, name: str) -> dict[str, Any] | None:
    """The record of campaign ``name``, or None."""
    campaigns.connect()
    doc = campaigns.query_one({"name": name})
    return None if doc is None else {k: v for k, v in doc.items() if k != "_id"}


def campaign_names(campaigns: Store) -> list[str]:
    """Names of every recorded campaign, sorted."""
    campaigns.connect()
    return sorted({str(d["name"]) for d in campaigns.query({}, properties=["name"])})
