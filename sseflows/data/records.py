"""Plain records returned by the candidate readers (re-exported by :mod:`sseflows.data.readers`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sseflows.core.candidate import Candidate


@dataclass
class ReadFailure:
    """A candidate that could not be read or failed the structure checks.

    Attributes:
        candidate_id: Safe id under which the failure is recorded (unique within the set).
        source: File, CSV row or document the candidate came from.
        reason: One sentence naming the candidate and the problem.
    """

    candidate_id: str
    source: str
    reason: str


@dataclass
class MergeRecord:
    """Duplicates merged into one candidate by :func:`sseflows.data.dedupe.deduplicate`.

    Attributes:
        kept_id: Id of the candidate that was kept.
        merged_ids: Ids of the duplicates folded into it.
        formula: Their common reduced formula.
    """

    kept_id: str
    merged_ids: list[str]
    formula: str


@dataclass
class CandidateSet:
    """Everything :func:`sseflows.data.readers.read_candidates` found.

    Attributes:
        candidates: Readable candidates that passed the structure checks, de-duplicated.
        failures: Candidates that could not be read or failed a check, in input order.
        merges: Duplicate structures that were merged.
    """

    candidates: list[Candidate] = field(default_factory=list)
    failures: list[ReadFailure] = field(default_factory=list)
    merges: list[MergeRecord] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """Ids of the readable candidates, in order."""
        return [c.id for c in self.candidates]
