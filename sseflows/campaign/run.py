"""Run a whole campaign of a ``workflows/*.yaml`` spec, stage by stage, resumable.

0. The ranking stage (``rank:``), when the spec has one: the pool is ranked with the model
   and only its survivors go on (``rank.stage: first``), or the survivors of the gates are
   ranked and only the ranking's survivors reach the expensive tiers (``after_gates``).
1. Screening (MP gate, filters, BVSE gate) for every candidate, in parallel.
2. The ``neb.top_k`` BVSE survivors with the lowest barrier (on the hull if the spec says
   so) go through the NEB tier; the ``md.top_k`` best go through the MD tier.
3. Completed NEB barriers and MD conductivities go into the label store.

Each stage stores its documents as it goes; a rerun recomputes nothing that is stored
with the same structure and settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from jobflow import JobStore

from sseflows.campaign.feedback import computed_labels
from sseflows.campaign.local import FlowRun, run_flows
from sseflows.campaign.makers import CampaignMakers
from sseflows.campaign.options import CampaignOptions, prepare_campaign
from sseflows.campaign.plan import plan_flows, tier_docs_by_key
from sseflows.campaign.rank_stage import RankStageReport, resolve_rank_model, run_rank_stage
from sseflows.campaign.registry import doc_uuids, open_campaigns_store, record_campaign
from sseflows.campaign.screen import ScreenReport, screen_candidates
from sseflows.core.documents import PROCEEDS
from sseflows.core.maker import TierMaker
from sseflows.data.label_store import open_label_store
from sseflows.data.readers import CandidateSet
from sseflows.flows.tiers import make_tier_flow
from sseflows.rank.selection import RANKERS, select_top_k
from sseflows.stores import build_job_store

NEB_RECORD_KEYS = ("id", "formula", "status", "reason", "engine", "barrier_ev",
                   "barrier_back_ev", "converged", "climbing_image", "iterations")  # fmt: skip
MD_RECORD_KEYS = ("id", "formula", "status", "reason", "engine", "ea_ev", "ea_err_ev",
                  "sigma_rt_s_per_cm", "sigma_rt_range_s_per_cm")  # fmt: skip


@dataclass
class CampaignReport:
    """What a campaign produced, stage by stage."""

    screen: ScreenReport
    selected: dict[str, list[str]] = field(default_factory=dict)
    tiers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    n_labels: int = 0
    rank: RankStageReport | None = None
    rank_stage: str = "first"
    job_uuids: set[str] = field(default_factory=set)
    """Job uuids of every tier document the campaign used (its record, for the report)."""

    @property
    def funnel(self) -> dict[str, int]:
        """Candidates left after each stage, in the order the campaign ran them."""
        if self.rank is None:
            return dict(self.screen.funnel)
        label = f"ranking ({self.rank.criteria}; model {self.rank.model_version})"
        if self.rank_stage == "first":
            total = len(self.rank.docs) + sum("input" in t for t in self.screen.tier_docs.values())
            screened = {k: v for k, v in self.screen.funnel.items() if k != "candidates"}
            return {"candidates": total, label: len(self.rank.kept), **screened}
        return {**self.screen.funnel, label: len(self.rank.kept)}


def tier_records(docs: dict[str, dict], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per candidate of an expensive tier (``keys``), completed ones first."""
    rows = [{k: doc.get(k if k != "id" else "candidate_id") for k in keys} for doc in docs.values()]
    return sorted(rows, key=lambda r: (r["status"] != "completed", r["id"]))


def run_tier(
    tier: str,
    maker: TierMaker,
    chosen: list[str],
    candidate_set: CandidateSet,
    store: JobStore,
    workers: int = 1,
    fresh: bool = False,
    on_done: Callable[[FlowRun], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run ``maker`` for the ``chosen`` candidates (reusing stored results); their docs."""
    plan = plan_flows(
        candidate_set, maker, store, build=lambda c: make_tier_flow(maker, c), tier=tier,
        only=chosen, fresh=fresh,
    )  # fmt: skip
    run_flows(plan.flows, store, workers=workers, on_done=on_done)
    return tier_docs_by_key(store, plan.keys, tier)


def run_stage(
    tier: str,
    maker: TierMaker,
    k: int,
    screen: ScreenReport,
    candidate_set: CandidateSet,
    store: JobStore,
    ranker: str = "lowest_bvse_barrier",
    require_e_hull_zero: bool = False,
    workers: int = 1,
    fresh: bool = False,
    on_done: Callable[[FlowRun], None] | None = None,
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """One expensive stage: the ``k`` screening survivors ``ranker`` puts first
    (:data:`sseflows.rank.selection.RANKERS`) through ``maker``; their ids and documents."""
    chosen = select_top_k(
        screen.tier_docs, k, RANKERS[ranker], require_e_hull_zero=require_e_hull_zero
    )
    return chosen, run_tier(tier, maker, chosen, candidate_set, store, workers, fresh, on_done)


def run_campaign(
    makers: CampaignMakers,
    candidate_set: CandidateSet,
    store: JobStore,
    workers: int = 1,
    fresh: bool = False,
    campaign: str = "",
    label_store: Any | None = None,
    on_done: Callable[[FlowRun], None] | None = None,
) -> CampaignReport:
    """Ranking, screening, selection, NEB and MD tiers, then feedback into ``label_store``.

    With a ranking stage (``makers.rank`` and ``makers.rank_model_path``), ``first`` ranks
    the pool and screens only its survivors; ``after_gates`` ranks the survivors of the
    gates and lets only the ranking's survivors reach the expensive tiers."""
    ranking = makers.rank if makers.rank_model_path else None
    rank_report = None
    if ranking is not None and ranking.stage == "first":
        rank_report = run_rank_stage(
            ranking, Path(str(makers.rank_model_path)), candidate_set.candidates, store, fresh
        )
        kept = set(rank_report.kept)
        candidate_set = replace(
            candidate_set, candidates=[c for c in candidate_set.candidates if c.id in kept]
        )
    screen = screen_candidates(
        candidate_set, store, maker=makers.screening, workers=workers, fresh=fresh,
        on_done=on_done,
    )  # fmt: skip
    report = CampaignReport(screen=screen, rank=rank_report)
    if ranking is not None and ranking.stage == "after_gates":
        passed = {
            cid
            for cid, tiers in screen.tier_docs.items()
            if tiers and all(d.get("status") in PROCEEDS for d in tiers.values())
        }
        survivors = [c for c in candidate_set.candidates if c.id in passed]
        report.rank = run_rank_stage(
            ranking, Path(str(makers.rank_model_path)), survivors, store, fresh
        )
        report.rank_stage = "after_gates"
        kept = set(report.rank.kept)
        screen = replace(screen, tier_docs={c: d for c, d in screen.tier_docs.items() if c in kept})
    default = "lowest_bvse_barrier" if makers.screening.bvse_gate is not None else "lowest_e_hull"
    for tier, maker, k, zero, keys, ranker in (
        ("neb", makers.neb, makers.neb_top_k, makers.require_e_hull_zero, NEB_RECORD_KEYS,
         makers.neb_ranker),
        ("md", makers.md, makers.md_top_k, False, MD_RECORD_KEYS, makers.md_ranker),
    ):  # fmt: skip
        if maker is None or k <= 0:
            continue
        chosen, docs = run_stage(
            tier, maker, k, screen, candidate_set, store, ranker or default, zero, workers,
            fresh, on_done,
        )  # fmt: skip
        report.selected[tier] = chosen
        report.tiers[tier] = tier_records(docs, keys)
        report.job_uuids |= doc_uuids(docs.values())
    report.job_uuids |= doc_uuids(d for t in report.screen.tier_docs.values() for d in t.values())
    if report.rank is not None:
        report.job_uuids |= doc_uuids(report.rank.docs.values())
    if label_store is not None:
        report.n_labels = label_store.add(computed_labels(store, campaign))
    return report


def run_campaign_spec(spec_path: Path, options: CampaignOptions) -> CampaignReport:
    """Run the campaign of the spec at ``spec_path`` once on the pool of ``options``
    (:class:`~sseflows.campaign.options.CampaignOptions`: inputs, store, overrides), feeding
    computed labels into that store's label store. A ranking model the spec trains is kept
    in ``options.models_dir`` (default ``~/.sseflows/models``).

    Raises:
        ConfigurationError: a bad spec, a missing input path, an unusable store.
    """
    prepared = prepare_campaign(spec_path, options)
    spec, settings, makers = prepared.spec, prepared.settings, prepared.makers
    candidate_set = prepared.candidate_set
    if spec.rank is not None:
        model = resolve_rank_model(
            spec.rank, options.models_dir, settings.db, candidate_set.candidates
        )
        makers = replace(makers, rank_model_path=str(model))
    store = build_job_store(settings.db)
    store.connect()
    with open_label_store(settings.db) as labels:
        report = run_campaign(
            makers, candidate_set, store, workers=settings.n_workers, fresh=options.fresh,
            campaign=spec.name, label_store=labels,
        )  # fmt: skip
    record_campaign(
        open_campaigns_store(settings.db), spec.name, report.job_uuids, report.funnel,
        report.selected, [c.id for c in candidate_set.candidates],
    )  # fmt: skip
    return report
