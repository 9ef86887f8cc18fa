"""``sseflows campaign submit``: the whole campaign of a spec onto a FireWorks LaunchPad.

The campaign becomes one workflow (:mod:`sseflows.campaign.campaign_flow`), added through
:func:`sseflows.campaign.fireworks.submit_flows` (so the embedded LaunchPad's lock and save
are used); workers (``sseflows worker``, ``rlaunch``, ``qlaunch``) then drive it alone:
ranking, gates, the cross-candidate selection, NEB, MD and labels all run as Fireworks. A
manifest of the campaign (its candidates and their result keys) goes to the store's
``campaigns`` collection, for ``sseflows campaign status``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jobflow import JobStore

from sseflows.campaign.campaign_flow import (
    CampaignFlow,
    CampaignFlowSettings,
    build_campaign_flow,
)
from sseflows.campaign.fireworks import load_launchpad, submit_flows
from sseflows.campaign.inputs import require_existing
from sseflows.data.readers import CandidateSet, ReadFailure, read_candidates

CAMPAIGNS_COLLECTION = "campaigns"
"""Collection of the campaign manifests (one per campaign name)."""


@dataclass
class CampaignSubmission:
    """What ``campaign submit`` added: the campaign, its Fireworks by category and the
    inputs it could not read."""

    name: str
    fw_ids: list[int] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)
    failures: list[ReadFailure] = field(default_factory=list)
    candidates: int = 0


def write_manifest(
    store_spec: str | None, settings: CampaignFlowSettings, built: CampaignFlow, spec: Any
) -> None:
    """Record the campaign (settings, candidates, result keys) under its name."""
    from sseflows.stores import build_store

    manifest = {
        "name": settings.name,
        "submitted_at": datetime.now(timezone.utc).isoformat(),
        "spec": spec,
        "screen_keys": built.screen_keys,
        "rank_keys": built.rank_keys,
        "label_store": settings.label_store,
    }
    store = build_store(CAMPAIGNS_COLLECTION, store_spec)
    store.connect()
    try:
        store.update([manifest], key="name")
    finally:
        store.close()


def submit_campaign_flow(
    settings: CampaignFlowSettings,
    candidate_set: CandidateSet,
    launchpad: Any,
    store: JobStore,
    store_spec: str | None = None,
    spec: Any = None,
) -> CampaignSubmission:
    """Build the campaign's flow (stored results reused), record its manifest in
    ``store_spec`` and add it to ``launchpad`` with ``store`` embedded for the workers."""
    built = build_campaign_flow(settings, candidate_set, store)
    write_manifest(store_spec, settings, built, spec)
    ids = submit_flows([(settings.name, built.flow)], launchpad, store=store)
    fw_ids = ids[settings.name]
    categories = Counter(
        fw["spec"].get("_category", "none")
        for fw in launchpad.fireworks.find({"fw_id": {"$in": fw_ids}}, {"spec._category": 1})
    )
    return CampaignSubmission(
        name=settings.name,
        fw_ids=fw_ids,
        categories=dict(sorted(categories.items())),
        failures=list(candidate_set.failures),
        candidates=len(candidate_set.candidates),
    )


def submit_campaign(
    spec_path: Path,
    paths: list[Path],
    candidates_csv: Path | None = None,
    launchpad_path: Path | None = None,
    store_spec: str | None = None,
    mp_snapshot: str | None = None,
    neb_engine: str | None = None,
    min_length: float | None = None,
    neb_top_k: int | None = None,
    md_top_k: int | None = None,
    fresh: bool = False,
    models_dir: Path | None = None,
) -> CampaignSubmission:
    """Add the whole campaign of the spec at ``spec_path`` on the candidates of ``paths``
    and ``candidates_csv`` to the LaunchPad (:func:`~sseflows.campaign.fireworks.
    load_launchpad`), outputs and labels going to ``store_spec`` (None: the ``db``
    setting); the overrides are those of ``campaign run``. A ranking model the spec trains
    is trained here, before submission, into ``models_dir``; workers read it from its path.

    Raises:
        ConfigurationError: a bad spec, a missing input, an unusable store or LaunchPad.
    """
    from sseflows.campaign.rank_stage import resolve_rank_model
    from sseflows.campaign.run import CampaignMakers
    from sseflows.campaign.spec import load_campaign_spec
    from sseflows.settings import load_settings
    from sseflows.stores import build_job_store

    spec = load_campaign_spec(spec_path)
    settings = load_settings(db=store_spec, mp_snapshot=mp_snapshot)
    makers = CampaignMakers.from_spec(spec, settings.mp_snapshot, neb_engine, min_length)
    if neb_top_k is not None:
        makers = replace(makers, neb_top_k=neb_top_k)
    if md_top_k is not None:
        makers = replace(makers, md_top_k=md_top_k)
    require_existing(paths)
    launchpad = load_launchpad(launchpad_path)
    candidate_set = read_candidates(paths, csv=candidates_csv)
    if spec.rank is not None:
        model = resolve_rank_model(spec.rank, models_dir, settings.db, candidate_set.candidates)
        makers = replace(makers, rank_model_path=str(model.resolve()))
    flow_settings = CampaignFlowSettings.from_makers(
        spec.name, makers, label_store=settings.db, fresh=fresh
    )
    store = build_job_store(settings.db)
    store.connect()
    return submit_campaign_flow(
        flow_settings, candidate_set, launchpad, store, settings.db, spec.model_dump()
    )
