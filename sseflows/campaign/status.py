"""``sseflows campaign status NAME``: where a submitted campaign stands.

From the store (maggma queries on the campaign's result keys, recorded in its manifest by
:mod:`sseflows.campaign.submit`): the funnel so far (candidates, ranked and kept by the
ranking stage, passed each gate, selected per expensive tier, NEB and MD done, labels
written). From the LaunchPad: the campaign's Fireworks by state (``spec.campaign``), the
ones running now. And every failed candidate with its reason: failed tier documents and
Fireworks that fizzled (the last line of their error). For a campaign run as the learning
loop, its stored rounds (model, labels, picks, results, hits), as ``campaign rounds`` lists
them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sseflows.campaign.campaign_flow import STAGE_KEY, rank_docs, screen_docs
from sseflows.campaign.plan import stored_docs_by_key
from sseflows.campaign.rank_stage import rank_survivors
from sseflows.campaign.results import latest_by_candidate
from sseflows.campaign.spec import RankSpec
from sseflows.campaign.submit import CAMPAIGNS_COLLECTION
from sseflows.core.documents import PROCEEDS
from sseflows.core.errors import ConfigurationError

GATE_LABELS = {"mp": "passed MP gate", "filters": "passed filters", "bvse": "passed BVSE gate"}


@dataclass
class CampaignStatus:
    """A campaign's state.

    Attributes:
        name: The campaign.
        funnel: Stage → candidates still in, in campaign order (stages not reached yet are
            absent).
        fireworks: FireWorks state → number of the campaign's Fireworks.
        running: Names of the Fireworks running now.
        failures: ``(candidate or Firework, stage, reason)`` of every failure.
        selected: Tier → chosen candidate ids (once the selection ran).
        rounds: One summary row per stored round of the learning loop
            (:func:`sseflows.campaign.loop.round_rows`; empty for a one-pass campaign).
    """

    name: str
    funnel: dict[str, int] = field(default_factory=dict)
    fireworks: dict[str, int] = field(default_factory=dict)
    running: list[str] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    selected: dict[str, list[str]] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)


def read_manifest(name: str, store_spec: str | None) -> dict[str, Any]:
    """The manifest ``campaign submit`` wrote for ``name``.

    Raises:
        ConfigurationError: no campaign of that name was submitted to this store.
    """
    from sseflows.stores import build_store, redact, resolve_spec

    store = build_store(CAMPAIGNS_COLLECTION, store_spec)
    store.connect()
    try:
        manifest = store.query_one({"name": name})
    finally:
        store.close()
    if manifest is None:
        where = redact(resolve_spec(store_spec))
        raise ConfigurationError(
            f"No campaign named {name!r} was submitted with the store {where}; "
            "check the name and --store."
        )
    return manifest


def _stage_outputs(store: Any, name: str) -> dict[str, dict[str, Any]]:
    """Newest output of each cross-candidate stage (rank, select, labels) of ``name``."""
    found: dict[str, dict[str, Any]] = {}
    criteria = {f"output.{STAGE_KEY}": {"$exists": True}, "output.campaign": name}
    docs = store.docs_store.query(criteria, properties=["output", "completed_at"])
    for doc in sorted(docs, key=lambda d: str(d.get("completed_at", "")), reverse=True):
        found.setdefault(doc["output"][STAGE_KEY], doc["output"])
    return found


def funnel_and_failures(
    manifest: dict[str, Any], store: Any
) -> tuple[dict[str, int], list[tuple[str, str, str]], dict[str, list[str]]]:
    """The funnel, the failed candidates and the selection of a campaign, from ``store``."""
    screen_keys: dict[str, str] = manifest.get("screen_keys") or {}
    rank_keys: dict[str, str] = manifest.get("rank_keys") or {}
    spec = manifest.get("spec") or {}
    stages = _stage_outputs(store, manifest["name"])
    funnel: dict[str, int] = {"candidates": len(screen_keys)}
    failures: list[tuple[str, str, str]] = []
    screened = screen_docs(store, screen_keys)
    for cid, tiers in screened.items():
        if "input" in tiers:
            failures.append((cid, "input", tiers["input"].get("reason", "")))
    readable = [c for c, tiers in screened.items() if "input" not in tiers]
    funnel["readable"] = len(screen_keys) - sum("input" in t for t in screened.values())
    alive = [c for c in screen_keys if c not in {f[0] for f in failures}]
    if rank_keys:
        docs = rank_docs(store, rank_keys)
        ranked = [c for c, d in docs.items() if d.get("status") == "completed"]
        funnel["ranked"] = len(ranked)
        if "rank" in stages and spec.get("rank"):
            kept, _dropped = rank_survivors(RankSpec.model_validate(spec["rank"]), docs)
            funnel["kept by the ranking"] = len(kept)
            alive = [c for c in alive if c in set(kept)]
        for cid, doc in docs.items():
            if doc.get("status") == "failed" and cid in readable:
                failures.append((cid, "rank", doc.get("reason", "")))
    for tier, label in GATE_LABELS.items():
        if not any(tier in screened.get(c, {}) for c in alive):
            continue
        alive = [c for c in alive if screened.get(c, {}).get(tier, {}).get("status") in PROCEEDS]
        funnel[label] = len(alive)
    for cid, tiers in screened.items():
        for tier, doc in tiers.items():
            if tier != "input" and doc.get("status") == "failed":
                failures.append((cid, tier, doc.get("reason", "")))
    selection = stages.get("select")
    selected: dict[str, list[str]] = {}
    if selection is not None:
        if "rank_kept" in selection:
            funnel["kept by the ranking"] = len(selection["rank_kept"])
        selected = selection.get("selected", {})
        for tier, chosen in selected.items():
            funnel[f"selected for {tier.upper()}"] = len(chosen)
        for tier, keys in selection.get("keys", {}).items():
            stored = stored_docs_by_key(store, keys.values(), tier)
            done = 0
            for cid, key in keys.items():
                found = latest_by_candidate(stored.get(key, [])).get(cid, {}).get(tier)
                if found is None:
                    continue
                if found.get("status") == "completed":
                    done += 1
                elif found.get("status") == "failed":
                    failures.append((cid, tier, found.get("reason", "")))
            funnel[f"{tier.upper()} done"] = done
    if "labels" in stages:
        funnel["labels written"] = int(stages["labels"].get("labels_written", 0))
    return funnel, failures, selected


def _last_error(launch: dict[str, Any]) -> str:
    stored = (launch.get("action") or {}).get("stored_data") or {}
    trace = (stored.get("_exception") or {}).get("_stacktrace") or ""
    lines = [line for line in str(trace).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no error recorded"


def fireworks_state(launchpad: Any, name: str) -> tuple[dict[str, int], list[str], list]:
    """``({state: count}, running names, [(name, "firework", error)])`` of the campaign's
    Fireworks on ``launchpad``."""
    fws = list(
        launchpad.fireworks.find(
            {"spec.campaign": name}, {"state": 1, "name": 1, "launches": 1, "fw_id": 1}
        )
    )
    states = Counter(fw["state"] for fw in fws)
    running = sorted(fw["name"] for fw in fws if fw["state"] == "RUNNING")
    failed = []
    for fw in fws:
        if fw["state"] != "FIZZLED":
            continue
        launch_ids = fw.get("launches") or []
        launch = (
            launchpad.launches.find_one(
                {"launch_id": {"$in": launch_ids}}, sort=[("launch_id", -1)]
            )
            if launch_ids
            else None
        )
        failed.append((f"{fw['name']} (fw {fw['fw_id']})", "firework", _last_error(launch or {})))
    return dict(sorted(states.items())), running, failed


def campaign_status(
    name: str, launchpad_path: Any = None, store_spec: str | None = None, launchpad: Any = None
) -> CampaignStatus:
    """The state of campaign ``name`` (module docstring), from the store ``store_spec``
    (None: the ``db`` setting) and the LaunchPad (``launchpad``, else loaded as
    ``sseflows worker`` does).

    Raises:
        ConfigurationError: an unknown campaign, an unusable store or LaunchPad.
    """
    from sseflows.campaign.fireworks import load_launchpad
    from sseflows.campaign.loop import list_rounds, round_rows
    from sseflows.stores import build_job_store

    manifest = read_manifest(name, store_spec)
    store = build_job_store(store_spec)
    store.connect()
    funnel, failures, selected = funnel_and_failures(manifest, store)
    lpad = launchpad if launchpad is not None else load_launchpad(launchpad_path)
    states, running, fizzled = fireworks_state(lpad, name)
    return CampaignStatus(
        name=name,
        funnel=funnel,
        fireworks=states,
        running=running,
        failures=failures + fizzled,
        selected=selected,
        rounds=round_rows(list_rounds(name, store_spec)),
    )
