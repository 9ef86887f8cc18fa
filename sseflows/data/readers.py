"""Read campaign candidates from structure files, folders, CSV lists and MP documents.

:func:`read_candidates` is the one entry point the screening flow uses. It never raises for
a bad candidate: an unparsable file, a structure without Li, a huge cell, overlapping atoms
or an unsafe id become a :class:`ReadFailure` with a one-sentence reason naming the
candidate, and the other candidates are read as usual. Only a misconfigured run (a CSV
that does not exist or lacks both a ``path`` and an ``mp_id`` column, an unreadable MP
documents file) raises :class:`~sseflows.core.errors.ConfigurationError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sseflows.core.candidate import Candidate
from sseflows.core.checks import MAX_SITES_DEFAULT, check_candidate_structure
from sseflows.core.errors import CandidateError
from sseflows.data.candidates_csv import StructureLookup, read_candidates_csv
from sseflows.data.dedupe import deduplicate as merge_duplicates
from sseflows.data.files import is_structure_file, read_path, read_structure_file
from sseflows.data.mp_documents import read_mp_documents
from sseflows.data.records import CandidateSet, MergeRecord, ReadFailure

__all__ = [
    "CandidateSet",
    "MergeRecord",
    "ReadFailure",
    "StructureLookup",
    "is_structure_file",
    "read_candidates",
    "read_path",
    "read_structure_file",
]


def _unique_id(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``, ... whichever is not yet taken."""
    candidate_id, n = wanted, 1
    while candidate_id in taken:
        n += 1
        candidate_id = f"{wanted[:120]}_{n}"
    taken.add(candidate_id)
    return candidate_id


def _finalise(
    items: Iterable[Candidate | ReadFailure], max_sites: int, composition_only: bool = False
) -> tuple[list[Candidate], list[ReadFailure]]:
    """Give every item a unique id, then run the structure checks on the candidates.

    With ``composition_only``, a structure-less candidate of a CSV ``composition`` row is
    kept (for the ranking stage); otherwise it fails for having no structure.
    """
    taken: set[str] = set()
    candidates: list[Candidate] = []
    failures: list[ReadFailure] = []
    for item in items:
        if isinstance(item, ReadFailure):
            new_id = _unique_id(item.candidate_id, taken)
            if new_id != item.candidate_id:
                reason = item.reason.replace(
                    f"Candidate '{item.candidate_id}'", f"Candidate '{new_id}'", 1
                )
                item = ReadFailure(new_id, item.source, reason)
            failures.append(item)
            continue
        new_id = _unique_id(item.id, taken)
        if new_id != item.id:
            provenance = {**item.provenance, "renamed_from": item.id}
            item = item.model_copy(update={"id": new_id, "provenance": provenance})
        if item.structure is None and composition_only and item.provenance.get("composition"):
            candidates.append(item)
            continue
        try:
            if item.structure is None:
                raise CandidateError(item.id, "it has no structure")
            check_candidate_structure(item.id, item.structure, max_sites=max_sites)
        except CandidateError as exc:
            failures.append(ReadFailure(item.id, item.source, str(exc)))
            continue
        candidates.append(item)
    return candidates, failures


def read_candidates(
    paths: Sequence[str | Path] = (),
    csv: str | Path | None = None,
    mp_documents: str | Path | None = None,
    *,
    deduplicate: bool = True,
    max_sites: int = MAX_SITES_DEFAULT,
    structure_lookup: StructureLookup | None = None,
    composition_only: bool = False,
) -> CandidateSet:
    """Read, check and de-duplicate the candidates of a campaign.

    Args:
        paths: Structure files (CIF, pymatgen JSON, POSCAR, ``.vasp``) and folders of them.
        csv: CSV listing ``path`` and/or ``mp_id`` per row, optional ``id``,
            ``e_hull_ev_per_atom`` (eV/atom) and ``band_gap_ev`` (eV); see
            :mod:`sseflows.data.candidates_csv`.
        mp_documents: JSON file with a list of Materials Project summary documents.
        deduplicate: Merge identical structures (StructureMatcher within each composition).
        max_sites: Largest accepted cell, in sites.
        structure_lookup: Structure source for CSV rows that give only an mp-id.
        composition_only: Keep CSV rows that give only a composition (no structure; only
            the ranking stage can judge them). Off by default: the tiers need structures.

    Returns:
        Candidates in input order (paths, then CSV rows, then MP documents), failures, merges.

    Raises:
        ConfigurationError: the CSV or MP documents file is missing or malformed as a whole.
    """
    items: list[Candidate | ReadFailure] = []
    for path in paths:
        items.extend(read_path(path))
    if csv is not None:
        items.extend(read_candidates_csv(csv, structure_lookup=structure_lookup))
    if mp_documents is not None:
        items.extend(read_mp_documents(mp_documents))
    candidates, failures = _finalise(items, max_sites, composition_only)
    merges: list[MergeRecord] = []
    if deduplicate:
        candidates, merges = merge_duplicates(candidates)
    return CandidateSet(candidates=candidates, failures=failures, merges=merges)
