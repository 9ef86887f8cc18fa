"""The Materials Project from the command line: fill the offline snapshot that compute
nodes read, and show the MP gate's verdict on one structure file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from maggma.core import Store
from maggma.stores import MemoryStore
from pymatgen.core import Structure

from sseflows.core.candidate import Candidate, make_candidate_id
from sseflows.core.errors import CandidateError
from sseflows.gates.mp.maker import gate_candidate
from sseflows.gates.mp.schemas import MPGateDoc
from sseflows.gates.mp.sources import (
    MP_ENTRIES_COLLECTION,
    build_mp_source,
    fill_snapshot,
    fill_snapshot_entries,
    write_snapshot_json,
)
from sseflows.stores import MP_SNAPSHOT_COLLECTION, build_store


def fill_mp_snapshot(
    api_key: str,
    mp_ids: list[str],
    chemsys: list[str],
    out: Path | None = None,
    store_spec: str | None = None,
    entries: bool = True,
) -> int:
    """Download the MP summary documents of ``mp_ids`` and chemical systems ``chemsys``
    (``Li-P-S``) into the JSON file ``out`` or, when it is None, the store ``store_spec``;
    returns the number of documents written. With ``entries``, the computed entries of
    every chemical system named or downloaded (and its subsystems) are stored too, for the
    oxidation-limit filter.

    Raises:
        ConfigurationError: the API refuses or cannot be reached, or the store is unusable.
    """
    target: Store = (
        MemoryStore(collection_name=MP_SNAPSHOT_COLLECTION)
        if out is not None
        else build_store(MP_SNAPSHOT_COLLECTION, store_spec)
    )
    count = fill_snapshot(target, api_key, mp_ids=mp_ids, chemsys=chemsys)
    systems = list(chemsys)
    if entries:
        systems += [doc["chemsys"] for doc in target.query() if doc.get("chemsys")]
    entries_target: Store = (
        MemoryStore(collection_name=MP_ENTRIES_COLLECTION)
        if out is not None
        else build_store(MP_ENTRIES_COLLECTION, store_spec)
    )
    if entries and systems:
        fill_snapshot_entries(entries_target, api_key, systems)
    if out is not None:
        stored = {d["chemsys"]: d["entries"] for d in entries_target.query()} if entries else {}
        write_snapshot_json(list(target.query()), out, stored or None)
    return count


@dataclass
class MPVerdict:
    """A structure file read as a candidate and the MP gate's document on it."""

    candidate: Candidate
    doc: MPGateDoc


def mp_verdict(
    candidate_file: Path, snapshot: str | None = None, mp_id: str | None = None
) -> MPVerdict:
    """The MP entry matching the structure in ``candidate_file`` (or ``mp_id`` when known)
    in ``snapshot`` (None: the ``mp_snapshot`` setting, then the live API with a key), judged
    with the gate's default thresholds.

    Raises:
        CandidateError: the file cannot be read as a structure.
        ConfigurationError: the MP source is unusable.
    """
    try:
        structure = Structure.from_file(candidate_file)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise CandidateError(candidate_file.name, f"cannot be read as a structure ({exc})") from exc
    candidate = Candidate.from_structure(
        structure, make_candidate_id(candidate_file.stem), source=str(candidate_file), mp_id=mp_id
    )
    return MPVerdict(candidate, gate_candidate(candidate, build_mp_source(snapshot)))
