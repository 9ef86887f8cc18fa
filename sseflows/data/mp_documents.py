"""Candidates from Materials Project summary documents saved as JSON.

The file holds a list of summary documents (``{"data": [...]}`` as the web API returns
it is accepted too), as written by ``monty.serialization.dumpfn([doc.model_dump() ...])``
or by hand. Fields used: ``material_id``, ``structure`` (a pymatgen ``Structure`` dict),
``energy_above_hull`` (eV/atom), ``band_gap`` (eV), and, kept in the provenance when
present, ``formula_pretty``, ``theoretical``, ``is_stable``, ``deprecated``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from monty.serialization import loadfn
from pymatgen.core import Structure

from sseflows.core.candidate import Candidate, make_candidate_id
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.data.records import ReadFailure

PROVENANCE_FIELDS = ("formula_pretty", "theoretical", "is_stable", "deprecated")


def _float_or_none(value: Any, field: str, candidate_id: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise CandidateError(candidate_id, f"{field} {value!r} is not a number")
    return number


def document_to_candidate(doc: dict[str, Any], source: str) -> Candidate:
    """One MP summary document as a :class:`Candidate` (raises CandidateError naming it)."""
    material_id = str(doc.get("material_id") or "").strip()
    if not material_id:
        raise CandidateError("mp-document", f"a document in {source} has no material_id")
    candidate_id = make_candidate_id(material_id)
    structure = doc.get("structure")
    if isinstance(structure, dict):
        try:
            structure = Structure.from_dict(structure)
        except Exception as exc:  # malformed dicts raise KeyError/TypeError/ValueError
            raise CandidateError(
                candidate_id, f"the structure of {material_id} cannot be read ({exc})"
            ) from exc
    if not isinstance(structure, Structure):
        raise CandidateError(candidate_id, f"the document of {material_id} has no structure")
    provenance = {"reader": "mp_documents", "file": source}
    provenance.update({k: doc[k] for k in PROVENANCE_FIELDS if k in doc})
    return Candidate.from_structure(
        structure,
        candidate_id,
        source=material_id,
        mp_id=material_id,
        e_hull_ev_per_atom=_float_or_none(
            doc.get("energy_above_hull"), "energy_above_hull", candidate_id
        ),
        band_gap_ev=_float_or_none(doc.get("band_gap"), "band_gap", candidate_id),
        provenance=provenance,
    )


def load_mp_documents(path: str | Path) -> list[dict[str, Any]]:
    """The list of summary documents in ``path`` (JSON or JSON.gz).

    Raises:
        ConfigurationError: the file is missing, not JSON, or not a list of documents.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"MP documents file {path} does not exist.")
    try:
        data = loadfn(path, cls=None)
    except ValueError as exc:
        raise ConfigurationError(f"MP documents file {path} is not valid JSON ({exc}).") from exc
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise ConfigurationError(f"MP documents file {path} must hold a list of documents.")
    return data


def read_mp_documents(path: str | Path) -> list[Candidate | ReadFailure]:
    """One :class:`Candidate` or :class:`ReadFailure` per document in ``path``."""
    source = str(path)
    items: list[Candidate | ReadFailure] = []
    for doc in load_mp_documents(path):
        try:
            items.append(document_to_candidate(doc, source))
        except CandidateError as exc:
            items.append(ReadFailure(make_candidate_id(exc.candidate_id), source, str(exc)))
    return items
