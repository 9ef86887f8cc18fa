"""The learning loop as jobs that FireWorks workers alone drive (``campaign submit --rounds``).

A round of the loop is the local one (:mod:`sseflows.campaign.loop`) cut where it waits for
other jobs; each piece runs on a worker and grows the workflow as it learns what comes next:

1. :func:`campaign_round` (category ``rank``) reads the stored rounds; if a stop rule holds
   (:func:`~sseflows.campaign.loop.stop_reason`) it writes the reason onto the last round
   and ends the loop. Otherwise it retrains the model on every label so far, ranks the pool,
   picks the batch (:func:`~sseflows.campaign.loop.begin_round`, the code the local loop
   runs) and replaces itself by the picks' screening jobs and the selection job, handing
   on the round's document so far (``round_head``).
2. :func:`~sseflows.campaign.campaign_flow.select_candidates` picks each expensive tier's
   top k among the picks' screened survivors, as in a single pass, and replaces itself by
   their NEB and MD flows and :func:`close_round`.
3. :func:`close_round` (lenient: it runs after failed tiers too) reads the picks' screening
   and tier documents from the store by result key, writes their computed labels and the
   round's document (:func:`~sseflows.campaign.loop.finish_round`), and *adds* the next
   :func:`campaign_round` to the workflow (``Response(addition=...)``).

With ``rank.stage: after_gates`` the workflow starts with every candidate's screening job
and the first round ranks only the gates' survivors. The model files go to
``settings.models_dir``, which every worker must see; rounds are stored beside the label
store (``settings.label_store``), as the local loop stores them, so ``campaign rounds``,
``campaign status`` and ``sseflows report`` read both alike, and a worker killed in the
middle of a round is recovered like any other Firework (``sseflows worker --recover``):
the round job replans from what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jobflow import Flow, Job, JobStore, Response, job

from sseflows.campaign.campaign_flow import (
    STAGE_KEY,
    CampaignFlowSettings,
    _configure,
    _outputs,
    _select_job,
    _store,
    screen_docs,
    screening_jobs,
)
from sseflows.campaign.loop import (
    EXHAUSTED,
    ROUND_KEY,
    RoundSetup,
    begin_round,
    finish_round,
    gate_outcomes,
    next_round,
    open_rounds_store,
    passed_screening,
    picked_ids,
    record_stop,
    stop_reason,
    stored_rounds,
)
from sseflows.campaign.plan import result_key, tier_docs_by_key
from sseflows.core.candidate import Candidate
from sseflows.data.label_store import open_label_store
from sseflows.data.readers import CandidateSet


def _setup(settings: CampaignFlowSettings) -> RoundSetup:
    rank, loop = settings.rank_spec, settings.loop_spec
    assert rank is not None and loop is not None
    models = Path(settings.models_dir) if settings.models_dir else None
    return RoundSetup(
        settings.name, rank, loop, (("neb", settings.neb), ("md", settings.md)), models
    )


def round_job(
    settings: CampaignFlowSettings, candidates: Sequence[Candidate], upstream: Any = None
) -> Job:
    """The next :func:`campaign_round` job, configured (category ``rank``, lenient)."""
    step = campaign_round(settings, list(candidates), upstream)
    step.name = f"round {settings.name}"
    return _configure(step, "rank", lenient=True)


def loop_jobs(
    settings: CampaignFlowSettings, candidates: Sequence[Candidate], store: JobStore
) -> list[Job]:
    """The jobs a loop's workflow starts with: the first round job, after the whole pool's
    screening jobs with ``rank.stage: after_gates``."""
    rank = settings.rank_spec
    screens: list[Job] = []
    if rank is not None and rank.stage == "after_gates":
        screens, _ = screening_jobs(settings, CandidateSet(candidates=list(candidates)), store)
    return [*screens, round_job(settings, candidates, _outputs(screens))]


def _label_store_spec(settings: CampaignFlowSettings) -> str:
    if settings.label_store is None:
        raise ValueError(
            f"Campaign {settings.name!r}: the loop needs a label store to learn from; the "
            "campaign was submitted without one."
        )
    return settings.label_store


@job
def campaign_round(
    settings: CampaignFlowSettings, candidates: list[Candidate], upstream: Any = None
) -> Response:
    """Plan the next round on a worker (module docstring, step 1): replaced by the picks'
    screening jobs and the selection job, or the loop's end with its reason."""
    store = _store()
    spec = _label_store_spec(settings)
    setup = _setup(settings)
    rounds_store = open_rounds_store(spec)
    rounds_store.connect()
    try:
        rounds = stored_rounds(rounds_store, settings.name)
        index = next_round(rounds)
        reason = stop_reason(setup.loop, rounds, candidates)
        head = None
        if reason is None:
            passed = None
            if setup.rank.stage == "after_gates":
                keys = {c.id: result_key(c, settings.screening) for c in candidates}
                passed = passed_screening(screen_docs(store, keys))
            with open_label_store(spec) as label_store:
                head = begin_round(
                    setup, candidates, store, label_store, index, picked_ids(rounds), passed
                )
            reason = EXHAUSTED if head is None else None
        if reason is not None:
            record_stop(rounds_store, rounds, reason)
            return Response(
                output={STAGE_KEY: "round", "campaign": settings.name, "stop_reason": reason}
            )
    finally:
        rounds_store.close()
    assert head is not None
    chosen = {p["candidate_id"] for p in head["picks"]}
    picks = [c for c in candidates if c.id in chosen]
    screens, keys = screening_jobs(settings, CandidateSet(candidates=picks), store)
    select = _select_job(settings, picks, keys, _outputs(screens), round_head=head, pool=candidates)
    output = {STAGE_KEY: "round", "campaign": settings.name, "round": index,
              "picks": [p["candidate_id"] for p in head["picks"]]}  # fmt: skip
    return Response(output=output, replace=Flow([*screens, select]))


def close_round_job(
    settings: CampaignFlowSettings,
    candidates: Sequence[Candidate],
    head: dict[str, Any],
    screen_keys: dict[str, str],
    tier_keys: dict[str, dict[str, str]],
    after: Sequence[Flow | Job],
) -> Job:
    """The :func:`close_round` job of round ``head`` of the loop over ``candidates`` (the
    whole pool), after the tier flows ``after``."""
    step = close_round(settings, list(candidates), head, screen_keys, tier_keys, _outputs(after))
    step.name = f"close round {head['round']} {settings.name}"
    return _configure(step, "select", lenient=True)


@job
def close_round(
    settings: CampaignFlowSettings,
    candidates: list[Candidate],
    head: dict[str, Any],
    screen_keys: dict[str, str],
    tier_keys: dict[str, dict[str, str]],
    upstream: Any = None,
) -> Response:
    """Close a round on a worker (module docstring, step 3): labels and the round's
    document stored, the next round job added."""
    store = _store()
    spec = _label_store_spec(settings)
    setup = _setup(settings)
    chosen = [p["candidate_id"] for p in head["picks"]]
    gates = gate_outcomes(screen_docs(store, screen_keys), chosen)
    tier_docs = {tier: tier_docs_by_key(store, keys, tier) for tier, keys in tier_keys.items()}
    structures = {c.id: c.structure for c in candidates if c.id in set(chosen)}
    with open_label_store(spec) as label_store:
        doc = finish_round(head, gates, tier_docs, structures, label_store, setup.loop)
    rounds_store = open_rounds_store(spec)
    rounds_store.connect()
    try:
        rounds_store.update([doc], key=ROUND_KEY)
    finally:
        rounds_store.close()
    output = {STAGE_KEY: "round_closed", "campaign": settings.name, "round": doc["round"],
              "labels": doc["labels"], "hits": doc["hits"]}  # fmt: skip
    return Response(output=output, addition=Flow([round_job(settings, candidates)]))
