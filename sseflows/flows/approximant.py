"""Disordered candidates into the NEB and MD tiers: the ordered approximant step.

A tier that needs one species per site (its Maker lists the ``approximant`` seed) gets a
partially occupied candidate as its ordered approximant: :func:`approximant_tier` (a jobflow
job, so the Ewald search and the ML relaxations run on the worker, not in the planner)
orders the structure (:func:`sseflows.core.approximant.order_disordered` with the Maker's
``approximant`` settings), relaxes the best few orderings with the ML potential and keeps
the lowest (:func:`sseflows.forcefields.approximant.lowest_relaxed_approximant`,
``approximant_relax``), then replaces itself by the tier's flow on the ordered cell
(:func:`sseflows.flows.tiers.make_tier_flow`: the BVSE seed path is computed on that cell)
with the record as the ``approximant`` seed, which the tier copies into its document. The
replacement inherits the job's metadata (result key, candidate id), so the planner finds
the tier's document as for an ordered candidate.

A candidate that cannot be ordered within the limits gets the tier's ``failed`` document
with the one-sentence reason naming it and the limit; the other candidates run on.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from jobflow import CURRENT_JOB, Flow, Job, Response, job

from sseflows.core.approximant import ApproximantRecord, order_disordered
from sseflows.core.candidate import Candidate
from sseflows.core.documents import TierDoc
from sseflows.core.errors import CandidateError
from sseflows.core.maker import ApproximantFields, NebSeeded, TierMaker
from sseflows.core.neb import NebDoc


def needs_approximant(maker: TierMaker, candidate: Candidate) -> bool:
    """True when ``candidate`` is partially occupied and ``maker`` takes the approximant."""
    structure = candidate.structure
    return (
        structure is not None
        and not structure.is_ordered
        and "approximant" in maker.seed_names
        and isinstance(maker, ApproximantFields)
    )


def ordered_candidate(
    maker: ApproximantFields, candidate: Candidate
) -> tuple[Candidate, ApproximantRecord]:
    """``candidate`` with its structure replaced by the lowest-ML-energy ordered
    approximant (the Maker's settings), and the record of that approximant.

    Raises:
        CandidateError: no structure, or no approximant within the limits (the reason
            names the limit).
    """
    from sseflows.forcefields.approximant import lowest_relaxed_approximant

    if candidate.structure is None:
        raise CandidateError(candidate.id, "it has no structure")
    approximants = order_disordered(candidate.structure, candidate.id, maker.approximant)
    structure, record = lowest_relaxed_approximant(approximants, maker.approximant_relax)
    return candidate.model_copy(update={"structure": structure}), record


def tier_name(maker: TierMaker) -> str:
    """The ``tier`` of ``maker``'s documents (``neb`` or ``md``)."""
    return "neb" if isinstance(maker, NebSeeded) else "md"


def failed_tier_doc(maker: TierMaker, candidate: Candidate, reason: str) -> TierDoc:
    """The ``failed`` document ``maker``'s tier writes for a bad candidate, with ``reason``
    (the same documents the tiers write themselves: a NEB Maker's ``NebDoc``, the MD
    tier's :func:`~sseflows.md.makers.failure_doc`)."""
    if isinstance(maker, NebSeeded):
        engine = str(getattr(maker, "force_field_name", "qe")).lower()
        return NebDoc(
            candidate_id=candidate.id,
            formula=candidate.formula,
            engine=engine,
            status="failed",
            reason=reason,
            settings={"hop_index": maker.hop_index, "approximant": asdict(maker.approximant)},
        )
    from sseflows.md.makers import MDArrheniusMaker, failure_doc

    if isinstance(maker, MDArrheniusMaker):
        return failure_doc(candidate.id, reason, maker.engine, candidate.formula, maker.settings())
    return TierDoc(candidate_id=candidate.id, tier=tier_name(maker), status="failed", reason=reason)


@job
def approximant_tier(maker: TierMaker, candidate: Candidate) -> Response | TierDoc:
    """Order ``candidate`` (module docstring) and replace this job by ``maker``'s tier on
    the approximant; a ``failed`` tier document when it cannot be ordered."""
    from sseflows.flows.tiers import make_tier_flow, tier_seeds

    assert isinstance(maker, ApproximantFields)
    try:
        ordered, record = ordered_candidate(maker, candidate)
    except CandidateError as error:
        return failed_tier_doc(maker, candidate, str(error))
    seeds: dict[str, Any] = {**tier_seeds(maker, ordered), "approximant": record.model_dump()}
    tier: Flow | Job = make_tier_flow(maker, ordered, seeds)
    current = CURRENT_JOB.job
    if current is not None:
        tier.update_metadata(dict(current.metadata))
    return Response(replace=tier)


def approximant_tier_job(maker: TierMaker, candidate: Candidate) -> Job:
    """The :func:`approximant_tier` job of ``candidate``, named for the tier (its first
    word is the tier, as for every tier job)."""
    step = approximant_tier(maker, candidate)
    step.name = f"{tier_name(maker)} approximant {candidate.id}"
    return step


def final_output(responses: dict[str, dict[int, Any]], reference: Any) -> Any:
    """The output ``reference`` (a flow's or job's output reference) finally resolves to in
    ``run_locally``'s responses: the last run of each job (a job replaced by the
    approximant step has its tier's output at a higher index), following the references a
    replaced flow's output job holds. None when a job never ran."""
    from jobflow import OutputReference

    out = reference
    while isinstance(out, OutputReference):
        runs = responses.get(out.uuid, {})
        if not runs:
            return None
        value = runs[max(runs)].output
        for kind, key in out.attributes:
            value = value[key] if kind == "i" or isinstance(value, dict) else getattr(value, key)
        out = value
    return out
