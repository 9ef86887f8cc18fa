"""Read structure files and folders into candidates (used by :mod:`sseflows.data.readers`)."""

from __future__ import annotations

import warnings
from pathlib import Path

from pymatgen.core import Structure
from pymatgen.io.cif import CifParser

from sseflows.core.candidate import Candidate, make_candidate_id, validate_candidate_id
from sseflows.core.errors import CandidateError
from sseflows.data.records import ReadFailure

STRUCTURE_SUFFIXES = (".cif", ".json", ".json.gz", ".vasp", ".poscar", ".xsf", ".cssr")
"""File endings read from a folder (plus files named POSCAR*/CONTCAR*)."""

MAX_WARNINGS_KEPT = 5


def is_structure_file(path: Path) -> bool:
    """True for files that a folder scan reads (see :data:`STRUCTURE_SUFFIXES`)."""
    name = path.name.lower()
    return name.endswith(STRUCTURE_SUFFIXES) or name.startswith(("poscar", "contcar"))


def _file_stem(path: Path) -> str:
    name = path.name
    for suffix in (".json.gz", ".cif.gz"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _parse_cif(path: Path, candidate_id: str) -> tuple[Structure, dict]:
    """First structure of a CIF file and notes for the provenance."""
    try:
        structures = CifParser(path).parse_structures(primitive=False, on_error="raise")
    except Exception as exc:  # pymatgen raises many types for bad CIFs; each becomes a reason
        raise CandidateError(
            candidate_id, f"{path.name} cannot be parsed as CIF ({_short(exc)})"
        ) from exc
    if not structures:
        raise CandidateError(candidate_id, f"{path.name} holds no structure")
    notes = {"cif_blocks": len(structures)} if len(structures) > 1 else {}
    return structures[0], notes


def _short(exc: Exception | str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters describing ``exc``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_structure_file(path: Path, candidate_id: str | None = None) -> Candidate:
    """Read one structure file into a :class:`Candidate` (no checks on the structure).

    CIF files go through pymatgen's ``CifParser`` (conventional cell, partial occupancies
    kept, first data block when there are several); any other format that
    ``Structure.from_file`` knows (pymatgen JSON, POSCAR/CONTCAR, ``.vasp``, ...) through it.

    Args:
        path: The file.
        candidate_id: Id to give the candidate; default: the file stem made safe with
            :func:`make_candidate_id`. An explicit id is validated, not sanitised.

    Raises:
        CandidateError: unsafe id, missing file, unknown format or unparsable content.
    """
    path = Path(path)
    cid = (
        validate_candidate_id(candidate_id) if candidate_id else make_candidate_id(_file_stem(path))
    )
    if not path.is_file():
        raise CandidateError(cid, f"file {path} does not exist")
    provenance: dict = {"reader": "file", "path": str(path)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if path.name.lower().endswith(".cif"):
            structure, notes = _parse_cif(path, cid)
            provenance.update(reader="cif", **notes)
        else:
            try:
                structure = Structure.from_file(path)
            except Exception as exc:  # unknown extension or unparsable content
                raise CandidateError(cid, f"{path.name} cannot be read ({_short(exc)})") from exc
    messages = list(dict.fromkeys(_short(str(w.message)) for w in caught))
    if messages:
        provenance["warnings"] = messages[:MAX_WARNINGS_KEPT]
    return Candidate.from_structure(structure, cid, source=str(path), provenance=provenance)


def _failure(exc: CandidateError, source: str) -> ReadFailure:
    return ReadFailure(make_candidate_id(exc.candidate_id), source, str(exc))


def read_path(path: str | Path) -> list[Candidate | ReadFailure]:
    """Candidates from one file, or from every structure file in a folder (sorted by name)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and is_structure_file(p))
        if not files:
            cid = make_candidate_id(path.name)
            reason = str(CandidateError(cid, f"folder {path} holds no structure files"))
            return [ReadFailure(cid, str(path), reason)]
        return [item for f in files for item in read_path(f)]
    try:
        return [read_structure_file(path)]
    except CandidateError as exc:
        return [_failure(exc, str(path))]
