"""A whole campaign as one jobflow flow that workers alone drive (``campaign submit``).

The flow is plain jobflow, so ``run_locally``, FireWorks (``flow_to_workflow``) and
jobflow-remote run it alike; every cross-candidate step is a job that runs on a worker and
grows the flow with ``Response(replace=...)``:

1. With a ``rank:`` stage that runs ``first``: the ranking flow
   (:func:`sseflows.flows.ranking.rank_flow`), then :func:`rank_then_screen`, which reads the
   stored :class:`~sseflows.rank.schemas.RankDoc` of every candidate, keeps the ranking's
   survivors (:func:`sseflows.campaign.rank_stage.rank_survivors`) and replaces itself by
   their screening jobs and the selection job.
2. Screening: one job per candidate (:func:`run_screening`, category ``gates``) runs that
   candidate's gates (MP gate → filters → BVSE gate) as a jobflow flow of its own and
   writes its documents, with the candidate's result key, to the JobStore, exactly as
   ``campaign run`` does. A gate that drops the candidate stops the later gates *inside*
   that flow; the screening job itself completes, so nothing downstream is stopped.
3. :func:`select_candidates` (category ``select``) depends on every screening job (with
   ``OnMissing.NONE``, so a crashed candidate does not block it either), reads the
   screening documents of all candidates from the store by result key, picks the top k of
   each expensive tier with the spec's ranker (:func:`sseflows.rank.selection.select_top_k`)
   and replaces itself by their NEB and MD flows (categories ``qe`` / ``dft`` / ``gpu``)
   and the labels job. With ``rank.stage: after_gates``, :func:`rank_after_gates` first
   ranks the gates' survivors and hands the selection only the ranking's survivors.
4. :func:`write_campaign_labels` writes the computed labels
   (:func:`sseflows.campaign.feedback.computed_labels`) to the label store.

Why not let the selection job take the gates' outputs as references? A gate that drops a
candidate returns ``stop_children``: ``run_locally`` then skips every descendant of that
gate and FireWorks defuses its children (and their children wait for ever), whatever the
child's ``on_missing_references``; ``OnMissing.NONE`` only lets a job run after a parent
that *failed*. Running each candidate's gates inside one job keeps every stop local to its
candidate.

Every job carries the campaign's name in its metadata (on FireWorks: ``spec.campaign``) and
a FireWorks category in ``manager_config["_category"]`` (:data:`CATEGORIES`); result keys
are those of ``campaign run`` (:mod:`sseflows.campaign.plan`), so either runner reuses what
the other computed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from jobflow import CURRENT_JOB, Flow, Job, JobStore, OnMissing, Response, job
from monty.json import MontyEncoder, MSONable

from sseflows.campaign.feedback import computed_labels
from sseflows.campaign.local import run_flow_in_memory, write_raw_docs
from sseflows.campaign.plan import plan_flows, result_key, stored_docs_by_key
from sseflows.campaign.rank_stage import model_version, rank_docs, rank_survivors
from sseflows.campaign.results import latest_by_candidate
from sseflows.campaign.spec import LoopSpec, RankSpec
from sseflows.core.candidate import Candidate
from sseflows.core.documents import PROCEEDS
from sseflows.core.maker import TierMaker
from sseflows.data.label_store import open_label_store
from sseflows.data.readers import CandidateSet
from sseflows.flows.ranking import rank_flow
from sseflows.flows.screening import ScreeningFlowMaker
from sseflows.flows.tiers import make_tier_flow
from sseflows.rank.maker import RankMaker
from sseflows.rank.selection import RANKERS, select_top_k

CATEGORIES = {
    "rank": "the ranking model over the pool (one CPU node)",
    "gates": "one candidate's cheap gates (many small single-core jobs)",
    "select": "cross-candidate selection and labels (seconds, one core)",
    "qe": "QE CI-NEB (multi-node MPI)",
    "dft": "VASP AIMD (multi-node MPI)",
    "gpu": "ML-potential NEB and MD (GPU nodes)",
}
"""FireWorks categories (``spec._category``) of a campaign's Fireworks; the worker templates
in ``inputs/my_fworker_*.yaml`` select them."""

STAGE_KEY = "campaign_stage"
"""Key of a cross-candidate job's output naming its stage (``rank``, ``select``,
``labels``); :mod:`sseflows.campaign.status` finds these outputs by it."""


def tier_category(tier: str, maker: TierMaker) -> str:
    """The category of ``maker``'s Fireworks: ``qe`` for a DFT NEB, ``dft`` for VASP MD,
    ``gpu`` for the ML-potential NEB and MD."""
    if tier == "neb":
        return "gpu" if hasattr(maker, "force_field_name") else "qe"
    return "dft" if getattr(maker, "engine", "chgnet") == "vasp" else "gpu"


@dataclass
class CampaignFlowSettings(MSONable):
    """Everything the campaign's jobs need on a worker (serialised into the Fireworks).

    Attributes:
        name: The campaign's name (the spec's ``name``), recorded on every job.
        screening: The screening Maker (gates and filters).
        neb, md: The expensive tiers' Makers (None: tier not run) and how many candidates
            each receives (``*_top_k``), chosen by ``*_ranker``
            (:data:`sseflows.rank.selection.RANKERS`; None: lowest BVSE barrier with a BVSE
            gate, else lowest E_hull).
        rank: The spec's ``rank:`` stage as a dict (None: no ranking stage).
        rank_model_path: The ranking model file (workers must see it: a shared file system).
        label_store: Store spec of the label store the labels job writes (None: none);
            the loop keeps its rounds beside it.
        fresh: Recompute stored results.
        loop: The spec's ``loop:`` as a dict (None: one pass): the campaign then runs as
            rounds (:mod:`sseflows.campaign.loop_flow`).
        models_dir: Where the loop's round models go (None: ``~/.sseflows/models`` of the
            worker; workers must share it).
    """

    name: str
    screening: ScreeningFlowMaker
    neb: TierMaker | None = None
    neb_top_k: int = 0
    require_e_hull_zero: bool = False
    neb_ranker: str | None = None
    md: TierMaker | None = None
    md_top_k: int = 0
    md_ranker: str | None = None
    rank: dict[str, Any] | None = None
    rank_model_path: str | None = None
    rank_cache_folder: str | None = None
    label_store: str | None = None
    fresh: bool = False
    loop: dict[str, Any] | None = None
    models_dir: str | None = None

    @classmethod
    def from_makers(
        cls,
        name: str,
        makers: Any,
        label_store: str | None = None,
        fresh: bool = False,
        loop: LoopSpec | None = None,
        models_dir: str | Path | None = None,
    ) -> CampaignFlowSettings:
        """Settings from ``campaign run``'s :class:`~sseflows.campaign.makers.CampaignMakers`
        (the ranking stage only when it has a model path, or trains each round of
        ``loop``)."""
        from sseflows.campaign.rank import descriptor_cache

        ranked = makers.rank is not None and (makers.rank_model_path or loop is not None)
        cache = descriptor_cache() if ranked else None
        return cls(
            name=name, screening=makers.screening, neb=makers.neb, neb_top_k=makers.neb_top_k,
            require_e_hull_zero=makers.require_e_hull_zero, neb_ranker=makers.neb_ranker,
            md=makers.md, md_top_k=makers.md_top_k, md_ranker=makers.md_ranker,
            rank=makers.rank.model_dump() if ranked else None,
            rank_model_path=str(makers.rank_model_path) if ranked else None,
            rank_cache_folder=str(cache) if cache else None, label_store=label_store,
            fresh=fresh, loop=None if loop is None else loop.model_dump(),
            models_dir=None if models_dir is None else str(models_dir),
        )  # fmt: skip

    @property
    def rank_spec(self) -> RankSpec | None:
        """The ranking stage's :class:`RankSpec` (None without one)."""
        return None if self.rank is None else RankSpec.model_validate(self.rank)

    @property
    def loop_spec(self) -> LoopSpec | None:
        """The loop's :class:`LoopSpec` (None: one pass)."""
        return None if self.loop is None else LoopSpec.model_validate(self.loop)


def _configure(step: Job, category: str, lenient: bool = False) -> Job:
    """``step`` with its FireWorks category, the store exposed (it reads and writes the
    campaign's documents) and, when ``lenient``, run even after a failed parent; a lenient
    job reads what its parents stored from the store, so its references (``upstream``) are
    left unresolved."""
    step.config.manager_config = {"_category": category}
    step.config.pass_manager_config = False  # what it creates keeps its own category
    step.config.expose_store = True
    if lenient:  # its references only order it after its parents: never resolved
        step.config.on_missing_references = OnMissing.NONE
        step.config.resolve_references = False
    return step


def _store() -> JobStore:
    store = CURRENT_JOB.store
    if store is None:  # pragma: no cover - jobflow exposes it (expose_store=True)
        raise RuntimeError("the campaign job was run without its JobStore")
    return store


def screen_docs(store: JobStore, keys: dict[str, str]) -> dict[str, dict[str, dict]]:
    """``{candidate_id: {tier: newest screening document}}`` of the stored results of
    ``keys`` (``{candidate_id: result key}``); empty for a candidate without any."""
    stored = stored_docs_by_key(store, keys.values())
    return {cid: latest_by_candidate(stored.get(key, [])).get(cid, {}) for cid, key in keys.items()}


@job
def run_screening(flow_json: str, candidate_id: str) -> dict[str, Any]:
    """Run one candidate's screening flow (JSON, so that its inner references stay its own)
    here and write its documents to the campaign's store; the tiers' statuses."""
    store = _store()
    docs, data = run_flow_in_memory(json.loads(flow_json), candidate_id)
    write_raw_docs(store, (docs, data))
    outputs = [d.get("output") for d in docs]
    statuses = {o["tier"]: o["status"] for o in outputs if isinstance(o, dict) and "tier" in o}
    return {"candidate_id": candidate_id, "statuses": statuses}


def screening_jobs(
    settings: CampaignFlowSettings, candidate_set: CandidateSet, store: JobStore
) -> tuple[list[Job], dict[str, str]]:
    """One :func:`run_screening` job per candidate (and read failure) without stored
    screening results; the screening result key of every candidate."""
    plan = plan_flows(candidate_set, settings.screening, store, fresh=settings.fresh)
    jobs = []
    for cid, flow in plan.flows:
        step = run_screening(json.dumps(flow, cls=MontyEncoder), cid)
        step.name = f"gates {cid}"
        step.metadata.update({"candidate_id": cid, "result_key": plan.keys[cid]})
        jobs.append(_configure(step, "gates"))
    return jobs, plan.keys


def rank_jobs(
    settings: CampaignFlowSettings, candidates: Sequence[Candidate], store: JobStore
) -> tuple[list[Flow], dict[str, str]]:
    """The ranking flow of the candidates without a stored RankDoc (category ``rank``) and
    the rank result key of every candidate (as :func:`~sseflows.campaign.rank_stage.
    run_rank_stage` computes them)."""
    rank = settings.rank_spec
    assert rank is not None and settings.rank_model_path is not None
    version = model_version(Path(settings.rank_model_path))
    key_maker = RankMaker(name=f"rank {version}", order_by=rank.order_by)
    keys = {c.id: result_key(c, key_maker) for c in candidates}
    stored = {} if settings.fresh else stored_docs_by_key(store, keys.values(), "rank")
    todo = [c for c in candidates if keys[c.id] not in stored]
    if not todo:
        return [], keys
    maker = RankMaker(
        model_path=settings.rank_model_path,
        order_by=rank.order_by,
        cache_folder=settings.rank_cache_folder,
    )
    flow = rank_flow(todo, maker, keys)
    flow.update_config({"manager_config": {"_category": "rank"}})
    return [flow], keys


def _outputs(jobs: Iterable[Flow | Job]) -> list[Any]:
    """Output references of every job in ``jobs`` (to order a job after them)."""
    refs = []
    for item in jobs:
        steps = [item] if isinstance(item, Job) else [j for j, _ in item.iterflow()]
        refs += [step.output for step in steps]
    return refs


def _select_job(
    settings: CampaignFlowSettings,
    candidates: Sequence[Candidate],
    screen_keys: dict[str, str],
    upstream: list[Any],
    rank_keys: dict[str, str] | None = None,
    round_head: dict[str, Any] | None = None,
    pool: Sequence[Candidate] = (),
) -> Job:
    step = select_candidates(
        settings, list(candidates), screen_keys, rank_keys, upstream, round_head, list(pool)
    )
    step.name = f"select {settings.name}"
    return _configure(step, "select", lenient=True)


@job
def rank_then_screen(
    settings: CampaignFlowSettings,
    candidates: list[Candidate],
    rank_keys: dict[str, str],
    upstream: Any = None,
) -> Response:
    """The ranking stage's survivors (``rank.stage: first``): replaced by their screening
    jobs and the selection job."""
    store = _store()
    rank = settings.rank_spec
    assert rank is not None
    kept, dropped = rank_survivors(rank, rank_docs(store, rank_keys))
    survivors = [c for c in candidates if c.id in set(kept)]
    screens, keys = screening_jobs(settings, CandidateSet(candidates=survivors), store)
    select = _select_job(settings, survivors, keys, _outputs(screens))
    output = {STAGE_KEY: "rank", "campaign": settings.name, "kept": kept, "dropped": dropped}
    return Response(output=output, replace=Flow([*screens, select]))


@job
def rank_after_gates(
    settings: CampaignFlowSettings,
    candidates: list[Candidate],
    screen_keys: dict[str, str],
    upstream: Any = None,
) -> Response:
    """``rank.stage: after_gates``: rank the gates' survivors, then select among the
    ranking's survivors."""
    store = _store()
    docs = screen_docs(store, screen_keys)
    passed = [
        c
        for c in candidates
        if docs.get(c.id) and all(d.get("status") in PROCEEDS for d in docs[c.id].values())
    ]
    ranking, rank_keys = rank_jobs(settings, passed, store)
    select = _select_job(settings, passed, screen_keys, _outputs(ranking), rank_keys)
    output = {STAGE_KEY: "rank", "campaign": settings.name, "ranked": sorted(rank_keys)}
    return Response(output=output, replace=Flow([*ranking, select]))


@job
def select_candidates(
    settings: CampaignFlowSettings,
    candidates: list[Candidate],
    screen_keys: dict[str, str],
    rank_keys: dict[str, str] | None = None,
    upstream: Any = None,
    round_head: dict[str, Any] | None = None,
    pool: list[Candidate] | None = None,
) -> Response:
    """The cross-candidate selection, on a worker: the top k of each expensive tier among
    the screened candidates (the ranking's survivors only, when ``rank_keys`` is given),
    replaced by their NEB and MD flows and the labels job; in a round of the loop
    (``round_head``, :func:`sseflows.campaign.loop.begin_round`; ``pool``, the loop's whole
    pool) by them and the job that closes the round
    (:func:`sseflows.campaign.loop_flow.close_round`)."""
    store = _store()
    tier_docs = screen_docs(store, screen_keys)
    output: dict[str, Any] = {STAGE_KEY: "select", "campaign": settings.name}
    if rank_keys is not None and settings.rank_spec is not None:
        kept, dropped = rank_survivors(settings.rank_spec, rank_docs(store, rank_keys))
        tier_docs = {cid: docs for cid, docs in tier_docs.items() if cid in set(kept)}
        output |= {"rank_kept": kept, "rank_dropped": dropped}
    default = "lowest_bvse_barrier" if settings.screening.bvse_gate else "lowest_e_hull"
    candidate_set = CandidateSet(candidates=list(candidates))
    new: list[Flow | Job] = []
    selected: dict[str, list[str]] = {}
    keys: dict[str, dict[str, str]] = {}
    for tier, maker, k, zero, ranker in (
        ("neb", settings.neb, settings.neb_top_k, settings.require_e_hull_zero,
         settings.neb_ranker),
        ("md", settings.md, settings.md_top_k, False, settings.md_ranker),
    ):  # fmt: skip
        if maker is None or k <= 0:
            continue
        chosen = select_top_k(tier_docs, k, RANKERS[ranker or default], require_e_hull_zero=zero)
        plan = plan_flows(
            candidate_set, maker, store, build=partial(make_tier_flow, maker), tier=tier,
            only=chosen, fresh=settings.fresh,
        )  # fmt: skip
        selected[tier] = chosen
        keys[tier] = {cid: plan.keys[cid] for cid in chosen}
        for _cid, flow in plan.flows:
            flow.update_config({"manager_config": {"_category": tier_category(tier, maker)}})
            new.append(flow)
    output |= {"selected": selected, "keys": keys, "screened": sorted(tier_docs)}
    if round_head is not None:
        from sseflows.campaign.loop_flow import close_round_job

        closing = close_round_job(settings, pool or candidates, round_head, screen_keys, keys, new)
        new.append(closing)
        return Response(output=output | {"round": round_head["round"]}, replace=Flow(new))
    if settings.label_store is not None:
        labels = write_campaign_labels(settings.name, settings.label_store, _outputs(new))
        labels.name = f"labels {settings.name}"
        new.append(_configure(labels, "select", lenient=True))
    if not new:
        return Response(output=output)
    return Response(output=output, replace=Flow(new))


@job
def write_campaign_labels(campaign: str, label_store: str, upstream: Any = None) -> dict:
    """Write the computed labels of the store's completed NEB and MD documents
    (:func:`~sseflows.campaign.feedback.computed_labels`) to ``label_store``."""
    store = _store()
    with open_label_store(label_store) as labels:
        written = labels.add(computed_labels(store, campaign))
    return {STAGE_KEY: "labels", "campaign": campaign, "labels_written": written}


@dataclass
class CampaignFlow:
    """A campaign's flow and what :mod:`sseflows.campaign.status` needs to follow it.

    Attributes:
        flow: The flow to run or submit.
        screen_keys: Screening result key of every readable candidate and read failure.
        rank_keys: Rank result key of every candidate (``rank.stage: first``), else empty.
    """

    flow: Flow
    screen_keys: dict[str, str] = field(default_factory=dict)
    rank_keys: dict[str, str] = field(default_factory=dict)


def build_campaign_flow(
    settings: CampaignFlowSettings, candidate_set: CandidateSet, store: JobStore
) -> CampaignFlow:
    """The whole campaign of ``candidate_set`` as one flow (module docstring); candidates
    with stored results (``store``, connected) are not recomputed."""
    candidates = list(candidate_set.candidates)
    failures = CandidateSet(failures=list(candidate_set.failures))
    records, screen_keys = screening_jobs(settings, failures, store)  # read failures
    jobs: list[Flow | Job] = list(records)
    screen_keys |= {c.id: result_key(c, settings.screening) for c in candidates}
    rank = settings.rank_spec
    rank_keys: dict[str, str] = {}
    if settings.loop is not None:
        from sseflows.campaign.loop_flow import loop_jobs

        jobs += loop_jobs(settings, candidates, store)
    elif rank is not None and rank.stage == "first":
        ranking, rank_keys = rank_jobs(settings, candidates, store)
        gate = rank_then_screen(settings, candidates, rank_keys, _outputs(ranking))
        gate.name = f"rank survivors {settings.name}"
        jobs += [*ranking, _configure(gate, "rank", lenient=True)]
    else:
        screens, _ = screening_jobs(settings, CandidateSet(candidates=candidates), store)
        keys = {c.id: screen_keys[c.id] for c in candidates}
        if rank is not None:  # after_gates
            last = rank_after_gates(settings, candidates, keys, _outputs(screens))
            last.name = f"rank survivors {settings.name}"
            last = _configure(last, "rank", lenient=True)
        else:
            last = _select_job(settings, candidates, keys, _outputs(screens))
        jobs += [*screens, last]
    flow = Flow(jobs, name=f"campaign {settings.name}")
    flow.update_metadata({"campaign": settings.name})
    return CampaignFlow(flow, screen_keys, rank_keys)


def flow_categories(job_or_flow: Job | Flow) -> set[str]:
    """The FireWorks categories of the jobs of ``job_or_flow``."""
    if isinstance(job_or_flow, Job):
        return {str(job_or_flow.config.manager_config.get("_category"))}
    return {str(j.config.manager_config.get("_category")) for j, _ in job_or_flow.iterflow()}
