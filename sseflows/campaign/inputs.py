"""The user's inputs of a campaign: structure files and folders, and a candidate CSV, read
into a :class:`~sseflows.data.readers.CandidateSet`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pymatgen.core import Structure

from sseflows.core.errors import ConfigurationError
from sseflows.data.readers import CandidateSet, read_candidates
from sseflows.gates.mp.sources import build_mp_source
from sseflows.settings import Settings


def require_existing(paths: Iterable[Path]) -> None:
    """Raise ConfigurationError naming the first of ``paths`` that does not exist."""
    for path in paths:
        if not path.exists():
            raise ConfigurationError(f"Input path {path} does not exist.")


def read_inputs(paths: list[Path], candidates_csv: Path | None, settings: Settings) -> CandidateSet:
    """Read ``paths`` and the rows of ``candidates_csv``; a row that gives only an mp-id
    takes its structure from the MP source of ``settings`` (snapshot or live API).

    Raises:
        ConfigurationError: a path or the CSV does not exist, or the MP source is unusable.
    """
    require_existing(paths)
    if candidates_csv is not None and not candidates_csv.is_file():
        raise ConfigurationError(f"Candidate list {candidates_csv} does not exist.")
    source = build_mp_source(snapshot=settings.mp_snapshot, api_key=settings.mp_api_key)

    def lookup(mp_id: str) -> Structure | None:
        entry = source.by_id(mp_id)
        return entry.structure if entry is not None else None

    return read_candidates(paths, csv=candidates_csv, structure_lookup=lookup)
