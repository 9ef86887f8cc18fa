"""The closed loop of a campaign: retrain, re-rank, pick, compute, learn, round after round.

``sseflows campaign run SPEC POOL --rounds N`` (or a spec with ``loop:``,
:class:`~sseflows.campaign.spec.LoopSpec`) runs, for round r = 1, 2, ...:

1. **Retrain.** The ranking model is trained on every label so far — the spec's
   ``rank.train`` source (the label store, or a published set plus the store's computed
   labels) — as a new version: its file ``<model>-<hash>.skops`` hashes the labels and the
   settings, its provenance JSON lists the label ids (:func:`round_model`). Labels that did
   not change give the same version.
2. **Rank** the pool with it (:func:`sseflows.campaign.rank_stage.run_rank_stage`; with
   ``rank.stage: after_gates`` only the gates' survivors), keeping the stage's survivors.
3. **Pick** ``batch_size`` of them by the acquisition (``exploit``, ``explore``, ``ucb``;
   :mod:`sseflows.rank.acquisition`, with its diversity rule), skipping every candidate an
   earlier round picked or whose NEB/MD results are stored under its result key: those are
   reused, never recomputed.
4. **Gates** for the picks, then the **expensive tiers** on the gates' survivors
   (:func:`sseflows.campaign.run.run_stage`: each tier's ``top_k`` caps its share of a round).
5. **Feedback.** Converged results become computed labels (:mod:`sseflows.campaign.feedback`,
   with the candidate's structure attached) in the label store, for round r + 1.
6. **Store the round** in the ``campaign_rounds`` collection beside the label store (one
   document per round: model version, path and labels, picks with their scores, gate
   outcomes, tier results with result keys and job uuids, labels written, hits).

The loop stops after ``rounds`` stored rounds (a rerun continues from the last stored
one), when no unpicked candidate is left, or after ``stop_after_rounds_without_hit``
consecutive rounds without a hit (a computed σ_RT ≥ ``hit_threshold_s_per_cm``, or a NEB
barrier ≤ ``hit_barrier_max_ev`` when set).

**Fidelity — how labels of different kinds enter the σ model.** The model predicts
log10 σ_RT (S/cm) and P(σ_RT ≥ threshold). Measured σ_RT and the MD tier's σ_RT (an
Arrhenius extrapolation of Nernst–Einstein σ, :mod:`sseflows.md`) are both log10 σ targets;
an MD row stays a row of its own (``kind="computed"``, ``method="md-<engine>"``, never merged
with a measurement, :mod:`sseflows.rank.table`) and the ensemble fits it with sample weight
``computed_weight`` = 0.5 against 1 for a measurement
(:class:`sseflows.rank.ensemble.EnsembleSettings`; ``kang`` and ``clusters`` weigh all rows
alike). NEB and BVSE barriers are **not** σ and stay out of the σ model: turning E_a into
σ_RT needs the Arrhenius prefactor σ₀ (σT = σ₀·exp(−E_a/k_BT)), which spans orders of
magnitude between Li conductors, so the σ made from a barrier alone would carry an error as
large as the spread of the targets. Barriers act where they are physics: the BVSE gate, the
``lowest_bvse_barrier`` selection of the expensive tiers, and the hit rule
(``hit_barrier_max_ev``); NEB labels are kept in the label store (E_a with method and
provenance) for reports and for models that learn E_a.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from jobflow import JobStore
from maggma.core import Store
from pymatgen.core import Composition, Structure

from sseflows.campaign.feedback import label_from_doc
from sseflows.campaign.local import FlowRun
from sseflows.campaign.makers import CampaignMakers
from sseflows.campaign.options import CampaignOptions, prepare_campaign
from sseflows.campaign.plan import result_key, stored_docs_by_key
from sseflows.campaign.rank import descriptor_cache, representation
from sseflows.campaign.rank_stage import model_file, run_rank_stage
from sseflows.campaign.registry import open_rounds_store
from sseflows.campaign.results import summarize_candidate
from sseflows.campaign.run import (
    MD_RECORD_KEYS,
    NEB_RECORD_KEYS,
    run_stage,
    tier_records,
)
from sseflows.campaign.screen import ScreenReport, screen_candidates
from sseflows.campaign.spec import LoopSpec, RankSpec, load_campaign_spec
from sseflows.core.candidate import Candidate
from sseflows.core.documents import PROCEEDS
from sseflows.core.errors import ConfigurationError
from sseflows.core.label import Label
from sseflows.core.maker import TierMaker
from sseflows.data.label_store import LabelStore, open_label_store
from sseflows.data.readers import CandidateSet
from sseflows.rank.acquisition import acquisition_scores, select_batch
from sseflows.rank.maker import candidate_input
from sseflows.rank.model import train_rank_model
from sseflows.rank.persistence import provenance_path, save_rank_model
from sseflows.rank.sources import MIN_TRAINING_ROWS, training_labels
from sseflows.rank.table import build_training_table
from sseflows.settings import load_settings
from sseflows.stores import build_job_store

ROUND_KEY = "round_id"
PREDICTION_KEYS = ("log10_sigma", "log10_sigma_sd", "p_superionic", "p_superionic_sd")


@dataclass
class LoopReport:
    """What :func:`run_loop` did.

    Attributes:
        campaign: The campaign's name.
        rounds: Every stored round of the campaign (earlier runs' too), oldest first.
        ran: Indices of the rounds this call ran.
        stop_reason: Why the loop stopped, one sentence.
    """

    campaign: str
    rounds: list[dict[str, Any]] = field(default_factory=list)
    ran: list[int] = field(default_factory=list)
    stop_reason: str = ""


def stored_rounds(rounds_store: Store, campaign: str) -> list[dict[str, Any]]:
    """The stored rounds of ``campaign``, oldest first (``rounds_store`` connected)."""
    docs = rounds_store.query(criteria={"campaign": campaign})
    return sorted(({k: v for k, v in d.items() if k != "_id"} for d in docs),
                  key=lambda d: int(d["round"]))  # fmt: skip


def list_rounds(name: str, store_spec: str | None = None) -> list[dict[str, Any]]:
    """The stored rounds of campaign ``name`` (the use case behind ``campaign rounds`` and
    ``campaign status``), oldest first; empty when it has none."""
    store = open_rounds_store(load_settings(db=store_spec).db)
    store.connect()
    try:
        return stored_rounds(store, name)
    finally:
        store.close()


def round_rows(rounds: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One summary row per round: model, labels, picks with scores, results, hits."""
    rows = []
    for doc in rounds:
        model = doc.get("model", {})
        picks = ", ".join(
            f"{p['candidate_id']} ({p['score']:.2f})" if p.get("score") is not None
            else p["candidate_id"]
            for p in doc.get("picks", [])
        )  # fmt: skip
        results = {t: sum(r.get("status") == "completed" for r in rows_)
                   for t, rows_ in doc.get("results", {}).items()}  # fmt: skip
        rows.append(
            {
                "round": doc["round"],
                "model": model.get("version", ""),
                "labels": model.get("n_labels", 0),
                "computed": len(model.get("computed_label_ids", [])),
                "picks": picks or "-",
                "completed": ", ".join(f"{t} {n}" for t, n in results.items()) or "-",
                "new labels": len(doc.get("labels", [])),
                "hits": ", ".join(doc.get("hits", [])) or "-",
                "stop": doc.get("stop_reason", ""),
            }
        )
    return rows


def loop_labels(rank: RankSpec, label_store: LabelStore) -> list[Label]:
    """Every label the round's model learns from: the label store (``source: store``), or
    the published set of ``rank.train`` plus the store's computed labels."""
    assert rank.train is not None  # LoopSpec requires rank.train
    if rank.train.source == "store":
        labels = label_store.query()
        if not labels:
            raise ConfigurationError(
                "The label store holds no labels; run 'sseflows labels import' first."
            )
        return labels
    path = Path(rank.train.labels_path) if rank.train.labels_path else None
    return training_labels(rank.train.source, path) + label_store.query(kind="computed")


def round_model(
    rank: RankSpec,
    labels: Sequence[Label],
    models_dir: Path | None = None,
    pool: Sequence[Candidate] = (),
) -> tuple[Path, dict[str, Any]]:
    """The model file trained on ``labels`` with ``rank.train``'s settings and its
    provenance; reused when labels and settings are those of an existing file (the name
    hashes them with :func:`sseflows.campaign.rank_stage.model_file`).

    Raises:
        ConfigurationError: too few labels, unusable settings.
    """
    assert rank.train is not None
    settings = rank.train
    table = build_training_table(labels, threshold_s_per_cm=settings.threshold_s_per_cm)
    if len(table) < MIN_TRAINING_ROWS:
        raise ConfigurationError(
            f"The loop's labels give {len(table)} distinct materials; a ranking model needs "
            f"at least {MIN_TRAINING_ROWS}."
        )
    clustered = sorted(c.id for c in pool) if settings.model == "clusters" else []
    path = model_file(rank, table, clustered, models_dir)
    if not path.is_file():
        fitted = train_rank_model(
            table,
            representation(rank.representation, **rank.representation_settings),
            model=settings.model,
            model_settings=dict(settings.model_settings),
            pool=[candidate_input(c) for c in pool] if clustered else (),
            cache_folder=descriptor_cache(),
            label_source=f"loop:{settings.source}",
        )
        save_rank_model(fitted, path)
    return path, json.loads(provenance_path(path).read_text())


def computed_ids(
    tiers: Sequence[tuple[str, TierMaker | None]], candidates: Sequence[Candidate], store: JobStore
) -> set[str]:
    """Ids of ``candidates`` whose documents of a tier in ``tiers`` (``(tier, Maker)``, e.g.
    ``("neb", makers.neb)``) are stored under their result key."""
    done: set[str] = set()
    for tier, maker in tiers:
        if maker is None:
            continue
        keys = {c.id: result_key(c, maker) for c in candidates}
        stored = stored_docs_by_key(store, keys.values(), tier)
        done |= {cid for cid, key in keys.items() if key in stored}
    return done


def _composition(candidate: Candidate) -> Composition:
    if candidate.structure is not None:
        return candidate.structure.composition
    return Composition(candidate.formula or candidate.id)


def pick_batch(
    docs: dict[str, dict[str, Any]],
    eligible: Sequence[str],
    candidates: dict[str, Candidate],
    loop: LoopSpec,
) -> list[dict[str, Any]]:
    """The round's picks among ``eligible`` (RankDocs in ``docs``), best first, each with its
    acquisition score and the predictions it came from."""
    if not eligible:
        return []
    prediction = {
        key: np.array([np.nan if docs[c].get(key) is None else float(docs[c][key])
                       for c in eligible])
        for key in PREDICTION_KEYS
    }  # fmt: skip
    scores = acquisition_scores(prediction, loop.acquisition, loop.kappa)
    chosen = select_batch(
        scores, loop.batch_size, compositions=[_composition(candidates[c]) for c in eligible]
    )
    picks = []
    for index in chosen:
        cid = eligible[index]
        score = float(scores[index])
        picks.append(
            {"candidate_id": cid, "formula": docs[cid].get("formula", ""),
             "score": score if math.isfinite(score) else None}
            | {key: docs[cid].get(key) for key in PREDICTION_KEYS}
        )  # fmt: skip
    return picks


def passed_screening(tier_docs: dict[str, dict[str, dict[str, Any]]]) -> set[str]:
    """Ids whose screening documents (``{id: {tier: doc}}``) all let them proceed."""
    return {
        cid
        for cid, tiers in tier_docs.items()
        if tiers and all(d.get("status") in PROCEEDS for d in tiers.values())
    }


def gate_outcomes(
    tier_docs: dict[str, dict[str, dict[str, Any]]], chosen: Sequence[str]
) -> dict[str, dict[str, str]]:
    """``{id: {"status", "reason"}}`` of the screening of each of ``chosen`` that has
    documents (the worst tier wins, :func:`sseflows.campaign.results.summarize_candidate`)."""
    outcomes = {}
    for cid in chosen:
        if tier_docs.get(cid):
            record = summarize_candidate(cid, tier_docs[cid])
            outcomes[cid] = {"status": record["status"], "reason": record.get("reason", "")}
    return outcomes


def _is_hit(label: Label, loop: LoopSpec) -> bool:
    sigma = label.sigma_rt_s_per_cm
    if sigma is not None and sigma >= loop.hit_threshold_s_per_cm:
        return True
    barrier = label.ea_ev if label.method and label.method.startswith("neb") else None
    return (
        loop.hit_barrier_max_ev is not None
        and barrier is not None
        and (barrier <= loop.hit_barrier_max_ev)
    )


def rounds_without_hit(rounds: Sequence[dict[str, Any]]) -> int:
    """Consecutive rounds at the end of ``rounds`` without a hit."""
    count = 0
    for doc in reversed(rounds):
        if doc.get("hits"):
            break
        count += 1
    return count


def picked_ids(rounds: Sequence[dict[str, Any]]) -> set[str]:
    """Every candidate an earlier round picked."""
    return {p["candidate_id"] for doc in rounds for p in doc.get("picks", [])}


def next_round(rounds: Sequence[dict[str, Any]]) -> int:
    """The index of the round after the stored ``rounds`` (1 for the first)."""
    return max((int(d["round"]) for d in rounds), default=0) + 1


EXHAUSTED = "The pool is exhausted: no candidate the ranking keeps is left to pick."


def stop_reason(
    loop: LoopSpec, rounds: Sequence[dict[str, Any]], pool: Sequence[Candidate]
) -> str | None:
    """Why the loop stops before its next round, one sentence; None when it goes on."""
    if next_round(rounds) > loop.rounds:
        return f"{loop.rounds} round(s) are done."
    limit = loop.stop_after_rounds_without_hit
    if limit is not None and rounds and rounds_without_hit(rounds) >= limit:
        return f"No new hit in the last {limit} round(s)."
    picked = picked_ids(rounds)
    if all(c.id in picked for c in pool):
        return "The pool is exhausted: every candidate has been picked."
    return None


def record_stop(rounds_store: Store, rounds: Sequence[dict[str, Any]], reason: str) -> None:
    """Write why the loop stopped onto its last stored round (none stored: nothing)."""
    if rounds:
        last = dict(rounds[-1])
        last["stop_reason"] = reason
        rounds_store.update([last], key=ROUND_KEY)


@dataclass
class RoundSetup:
    """What one round's planning needs; the same for the local loop and the FireWorks one.

    Attributes:
        campaign: The campaign's name.
        rank: The ranking stage (with ``train``).
        loop: The loop's settings.
        tiers: ``(tier, Maker)`` of the expensive tiers, to skip computed candidates.
        models_dir: Where the round's model file goes (None: ``~/.sseflows/models``).
    """

    campaign: str
    rank: RankSpec
    loop: LoopSpec
    tiers: Sequence[tuple[str, TierMaker | None]]
    models_dir: Path | None = None


def begin_round(
    setup: RoundSetup,
    pool: Sequence[Candidate],
    store: JobStore,
    label_store: LabelStore,
    index: int,
    picked_before: set[str],
    passed: set[str] | None = None,
) -> dict[str, Any] | None:
    """Steps 1-3 of round ``index``: retrain on every label so far, rank the pool (only the
    ``passed`` ids of the gates with ``rank.stage: after_gates``) storing a RankDoc each,
    pick the batch. The round's document without its outcomes (``gates``, ``results``,
    ``labels``, ``hits``: :func:`finish_round`); None when no candidate is left to pick."""
    rank = setup.rank
    by_id = {c.id: c for c in pool}
    labels = loop_labels(rank, label_store)
    model_path, provenance = round_model(rank, labels, setup.models_dir, pool)
    ranked_pool = [c for c in pool if passed is None or c.id in passed]
    ranked = run_rank_stage(rank, model_path, ranked_pool, store)
    done = picked_before | computed_ids(setup.tiers, ranked_pool, store)
    eligible = [cid for cid in ranked.kept if cid not in done]
    picks = pick_batch(ranked.docs, eligible, by_id, setup.loop)
    if not picks:
        return None
    label_ids = list(provenance.get("label_ids", []))
    trained_on = set(label_ids)
    computed = sorted(
        label.label_id
        for label in labels
        if label.kind == "computed" and label.label_id in trained_on
    )
    return {
        ROUND_KEY: f"{setup.campaign}:{index}",
        "campaign": setup.campaign,
        "round": index,
        "created_at": datetime.now(timezone.utc).isoformat(),
        "model": {
            "version": provenance.get("model_version", ""),
            "path": str(model_path),
            "labels_hash": provenance.get("labels_hash", ""),
            "label_ids": label_ids,
            "n_labels": len(label_ids),
            "n_rows": provenance.get("n_rows"),
            "computed_label_ids": computed,
        },
        "acquisition": {
            "strategy": setup.loop.acquisition,
            "kappa": setup.loop.kappa,
            "batch_size": setup.loop.batch_size,
        },
        "n_ranked": len(ranked.docs),
        "n_eligible": len(eligible),
        "skipped_computed": sorted(c for c in ranked.kept if c in done),
        "picks": picks,
        "stop_reason": "",
    }


def finish_round(
    head: dict[str, Any],
    gates: dict[str, dict[str, str]],
    tier_docs: dict[str, dict[str, dict[str, Any]]],
    structures: dict[str, Structure | None],
    label_store: LabelStore,
    loop: LoopSpec,
) -> dict[str, Any]:
    """Steps 5-6: the picks' expensive-tier documents (``{tier: {id: doc}}``) become rows
    and computed labels (with the candidate's structure), written to ``label_store``; the
    round's whole document (``head`` from :func:`begin_round` with its outcomes)."""
    results: dict[str, list[dict[str, Any]]] = {}
    new_labels: list[Label] = []
    for tier, docs in tier_docs.items():
        records = tier_records(docs, NEB_RECORD_KEYS if tier == "neb" else MD_RECORD_KEYS)
        for record in records:
            doc = docs[record["id"]]
            record.update(result_key=doc.get("result_key"), job_uuid=doc.get("job_uuid"))
            label = label_from_doc(doc, head["campaign"])
            if label is not None:
                new_labels.append(
                    label.model_copy(update={"structure": structures.get(record["id"])})
                )
        results[tier] = records
    label_store.add(new_labels)
    hits = sorted({str(label.provenance["candidate_id"]) for label in new_labels
                   if _is_hit(label, loop)})  # fmt: skip
    return head | {
        "gates": gates,
        "results": results,
        "labels": sorted(label.label_id for label in new_labels),
        "hits": hits,
    }


@dataclass
class LoopContext:
    """What every round of one loop shares."""

    makers: CampaignMakers
    loop: LoopSpec
    candidate_set: CandidateSet
    store: JobStore
    label_store: LabelStore
    campaign: str
    models_dir: Path | None = None
    workers: int = 1
    on_done: Callable[[FlowRun], None] | None = None

    @property
    def setup(self) -> RoundSetup:
        """The round planning's settings."""
        assert self.makers.rank is not None
        return RoundSetup(
            self.campaign, self.makers.rank, self.loop,
            (("neb", self.makers.neb), ("md", self.makers.md)), self.models_dir,
        )  # fmt: skip


def run_round(ctx: LoopContext, index: int, picked_before: set[str]) -> dict[str, Any] | None:
    """Round ``index`` here: retrain, rank, pick (:func:`begin_round`), gates, tiers,
    labels (:func:`finish_round`); the round's document (None when no candidate is left
    to pick)."""
    rank = ctx.makers.rank
    assert rank is not None
    pool = ctx.candidate_set.candidates
    by_id = {c.id: c for c in pool}
    screen_pool: ScreenReport | None = None
    if rank.stage == "after_gates":  # gates on the pool once; later rounds reuse the docs
        screen_pool = screen_candidates(
            replace(ctx.candidate_set, failures=[]), ctx.store, maker=ctx.makers.screening,
            workers=ctx.workers, on_done=ctx.on_done,
        )  # fmt: skip
    passed = None if screen_pool is None else passed_screening(screen_pool.tier_docs)
    head = begin_round(ctx.setup, pool, ctx.store, ctx.label_store, index, picked_before, passed)
    if head is None:
        return None
    chosen = [p["candidate_id"] for p in head["picks"]]
    if screen_pool is None:
        picked_set = replace(
            ctx.candidate_set, candidates=[by_id[c] for c in chosen], failures=[], merges=[]
        )
        screen = screen_candidates(
            picked_set, ctx.store, maker=ctx.makers.screening, workers=ctx.workers,
            on_done=ctx.on_done,
        )  # fmt: skip
    else:
        screen = replace(
            screen_pool, tier_docs={c: d for c, d in screen_pool.tier_docs.items() if c in chosen}
        )
    makers = ctx.makers
    default = "lowest_bvse_barrier" if makers.screening.bvse_gate is not None else "lowest_e_hull"
    tier_docs: dict[str, dict[str, dict[str, Any]]] = {}
    for tier, maker, k, zero, ranker in (
        ("neb", makers.neb, makers.neb_top_k, makers.require_e_hull_zero, makers.neb_ranker),
        ("md", makers.md, makers.md_top_k, False, makers.md_ranker),
    ):
        if maker is None or k <= 0:
            continue
        _, tier_docs[tier] = run_stage(
            tier, maker, k, screen, ctx.candidate_set, ctx.store, ranker or default, zero,
            ctx.workers, False, ctx.on_done,
        )  # fmt: skip
    structures = {cid: by_id[cid].structure for cid in chosen}
    return finish_round(
        head, gate_outcomes(screen.tier_docs, chosen), tier_docs, structures,
        ctx.label_store, ctx.loop,
    )  # fmt: skip


def run_loop(
    makers: CampaignMakers,
    loop: LoopSpec,
    candidate_set: CandidateSet,
    store: JobStore,
    label_store: LabelStore,
    rounds_store: Store,
    campaign: str,
    models_dir: Path | None = None,
    workers: int = 1,
    on_done: Callable[[FlowRun], None] | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> LoopReport:
    """Run rounds until ``loop.rounds`` are stored or a stop rule holds (module docstring).

    ``store``, ``label_store`` and ``rounds_store`` must be connected; ``on_round`` is
    called with each round's document once it is stored.

    Raises:
        ConfigurationError: no ranking stage that trains, an empty pool, too few labels.
    """
    if makers.rank is None or makers.rank.train is None:
        raise ConfigurationError(
            "The loop needs a ranking stage that trains ('rank.train' in the spec)."
        )
    if not candidate_set.candidates:
        raise ConfigurationError(
            "The pool holds no readable candidate; the loop has nothing to rank."
        )
    ctx = LoopContext(makers, loop, candidate_set, store, label_store, campaign, models_dir,
                      workers, on_done)  # fmt: skip
    report = LoopReport(campaign=campaign, rounds=stored_rounds(rounds_store, campaign))
    while True:
        reason = stop_reason(loop, report.rounds, candidate_set.candidates)
        if reason is not None:
            report.stop_reason = reason
            break
        index = next_round(report.rounds)
        doc = run_round(ctx, index, picked_ids(report.rounds))
        if doc is None:
            report.stop_reason = EXHAUSTED
            break
        rounds_store.update([doc], key=ROUND_KEY)
        report.rounds.append(doc)
        report.ran.append(index)
        if on_round is not None:
            on_round(doc)
    if report.ran:
        record_stop(rounds_store, report.rounds, report.stop_reason)
        report.rounds[-1]["stop_reason"] = report.stop_reason
    return report


def wants_loop(spec_path: Path, rounds: int | None) -> bool:
    """True when ``campaign run`` runs the loop: ``--rounds`` given or the spec has ``loop:``."""
    return rounds is not None or load_campaign_spec(spec_path).loop is not None


def run_loop_spec(
    spec_path: Path,
    options: CampaignOptions,
    on_round: Callable[[dict[str, Any]], None] | None = None,
) -> LoopReport:
    """The loop of the spec at ``spec_path`` on the pool of ``options``; ``options.rounds``
    overrides ``loop.rounds`` (a spec without ``loop:`` gets :class:`LoopSpec`'s defaults),
    the other options override the spec as for ``campaign run``
    (:class:`~sseflows.campaign.options.CampaignOptions`).

    Raises:
        ConfigurationError: a bad spec or input path, no ``rank.train``, too few labels.
    """
    if options.rounds is None and load_campaign_spec(spec_path).loop is None:
        options = dataclasses.replace(options, rounds=LoopSpec().rounds)
    prepared = prepare_campaign(spec_path, options)
    assert prepared.loop is not None
    settings = prepared.settings
    store = build_job_store(settings.db)
    store.connect()
    rounds_store = open_rounds_store(settings.db)
    rounds_store.connect()
    try:
        with open_label_store(settings.db) as labels:
            return run_loop(
                prepared.makers, prepared.loop, prepared.candidate_set, store, labels,
                rounds_store, prepared.spec.name, options.models_dir, settings.n_workers,
                on_round=on_round,
            )  # fmt: skip
    finally:
        rounds_store.close()
        store.close()
