"""The two kinds of error sseflows raises.

* :class:`CandidateError` — one candidate is bad (unparsable file, no Li, ...). A campaign
  records it as a ``failed`` document and goes on with the other candidates.
* :class:`ConfigurationError` — the run itself is misconfigured (missing pseudopotential,
  missing executable, bad YAML). It fails fast with one clear sentence.
"""

from __future__ import annotations


class SseflowsError(Exception):
    """Base class of every error raised on purpose by sseflows."""


class ConfigurationError(SseflowsError):
    """The run is misconfigured; nothing can be computed until the user fixes it."""


class CandidateError(SseflowsError):
    """One candidate cannot go through a tier; the message names it and the cause.

    Args:
        candidate_id: The candidate's id (or file name when no id exists yet).
        cause: One sentence, without trailing period, saying what is wrong.
    """

    def __init__(self, candidate_id: str, cause: str) -> None:
        self.candidate_id = candidate_id
        self.cause = cause.rstrip(".")
        super().__init__(f"Candidate '{candidate_id}': {self.cause}.")
