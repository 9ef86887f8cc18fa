"""Jobs that record candidates which could not enter the flows at all."""

from __future__ import annotations

from jobflow import job

from sseflows.core.documents import TierDoc


@job(output_schema=TierDoc)
def record_input_failure(candidate_id: str, source: str, reason: str) -> TierDoc:
    """A ``failed`` document for a candidate that could not even be read.

    Args:
        candidate_id: Id the candidate would have had.
        source: File or row it came from.
        reason: One sentence naming the candidate and the problem.
    """
    return TierDoc(
        candidate_id=candidate_id,
        tier="input",
        status="failed",
        reason=reason,
        settings={"source": source},
    )
