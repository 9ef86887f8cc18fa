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
from sseflows.campaign.options import CampaignOptions, prepare_campaign
from sseflows.core.errors import ConfigurationError
from sseflows.data.readers import CandidateSet, ReadFailure

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
    rounds: int = 0
    """Rounds of the loop in all (0: one pass)."""


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
        rounds=0 if settings.loop_spec is None else settings.loop_spec.rounds,
    )


def submit_campaign(
    spec_path: Path, options: CampaignOptions, launchpad_path: Path | None = None
) -> CampaignSubmission:
    """Add the whole campaign of the spec at ``spec_path`` on the pool of ``options`` to the
    LaunchPad (:func:`~sseflows.campaign.fireworks.load_launchpad`), outputs, labels and
    rounds going to ``options.store_spec`` (None: the ``db`` setting); the overrides are those
    of ``campaign run`` (:class:`~sseflows.campaign.options.CampaignOptions`).

    One pass: a ranking model the spec trains is trained here, before submission, into
    ``options.models_dir``; workers read it from its path. A loop (``options.rounds`` or the
    spec's ``loop:``): each round's job trains its model on a worker, into ``models_dir``
    (:mod:`sseflows.campaign.loop_flow`).

    Raises:
        ConfigurationError: a bad spec, a missing input, an unusable store or LaunchPad.
    """
    from sseflows.campaign.rank_stage import resolve_rank_model
    from sseflows.stores import build_job_store

    launchpad = load_launchpad(launchpad_path)  # an unreachable LaunchPad fails first
    prepared = prepare_campaign(spec_path, options)
    spec, settings, makers = prepared.spec, prepared.settings, prepared.makers
    candidate_set = prepared.candidate_set
    if spec.loop is not None and not candidate_set.candidates:
        raise ConfigurationError(
            "The pool holds no readable candidate; the loop has nothing to rank."
        )
    if spec.rank is not None and spec.loop is None:
        model = resolve_rank_model(
            spec.rank, options.models_dir, settings.db, candidate_set.candidates
        )
        makers = replace(makers, rank_model_path=str(model.resolve()))
    models_dir = None if options.models_dir is None else options.models_dir.resolve()
    flow_settings = CampaignFlowSettings.from_makers(
        spec.name, makers, label_store=settings.db, fresh=options.fresh, loop=spec.loop,
        models_dir=models_dir,
    )  # fmt: skip
    store = build_job_store(settings.db)
    store.connect()
    return submit_campaign_flow(
        flow_settings, candidate_set, launchpad, store, settings.db, spec.model_dump()
    )
