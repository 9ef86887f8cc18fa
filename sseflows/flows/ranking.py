"""The ranking stage as a flow whose documents are stored like every tier's.

One job ranks the whole pool with the saved model (:func:`sseflows.rank.maker.rank_job`,
whose list output is wrapped in a mapping so that no stored job output is a bare list),
then one small job per candidate outputs that candidate's :class:`RankDoc`, tagged with its
id and result key, so ``query_tier_docs(tier="rank")`` and resume work as for any tier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobflow import Flow, Job, job

from sseflows.core.candidate import Candidate
from sseflows.rank.maker import RankMaker, rank_job
from sseflows.rank.schemas import RankDoc


@job
def rank_pool(
    candidates: Sequence[Candidate | dict[str, Any]],
    model_path: str,
    order_by: str = "p_superionic",
    cache_folder: str | None = None,
) -> dict[str, Any]:
    """``{"ranked": [RankDoc as JSON, ...]}``, best first (the ranking job's output)."""
    rank = rank_job.original  # type: ignore[attr-defined]  # jobflow keeps the function here
    docs = rank(candidates, model_path, order_by, cache_folder)
    return {"model_path": model_path, "ranked": [d.model_dump(mode="json") for d in docs]}


@job(output_schema=RankDoc)
def rank_entry(pool: Mapping[str, Any], candidate_id: str) -> RankDoc:
    """The :class:`RankDoc` of ``candidate_id`` from the pool's ranking."""
    for raw in pool["ranked"]:
        if raw["candidate_id"] == candidate_id:
            return RankDoc.model_validate(raw)
    return RankDoc(
        candidate_id=candidate_id,
        status="failed",
        reason=f"Candidate '{candidate_id}' is missing from the ranking model's output.",
    )


def rank_flow(candidates: Sequence[Candidate], maker: RankMaker, keys: Mapping[str, str]) -> Flow:
    """The ranking flow of ``candidates``; ``keys`` maps each id to its result key."""
    pool = rank_pool(list(candidates), maker.model_path, maker.order_by, maker.cache_folder)
    pool.name = maker.name
    jobs: list[Flow | Job] = [pool]
    for candidate in candidates:
        entry = rank_entry(pool.output, candidate.id)
        entry.name = f"{maker.name} {candidate.id}"
        entry.metadata.update({"result_key": keys[candidate.id], "candidate_id": candidate.id})
        jobs.append(entry)
    return Flow(jobs, name=maker.name)
