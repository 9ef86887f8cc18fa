"""The :class:`Candidate` that every tier receives, and safe candidate ids."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pymatgen.core import Structure

from sseflows.core.errors import CandidateError

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")


def validate_candidate_id(candidate_id: str) -> str:
    """Return ``candidate_id`` unchanged if it is safe, else raise :class:`CandidateError`.

    Safe ids contain only letters, digits, ``.``, ``_`` and ``-``, are at most 128
    characters long and are never a path (no ``/``, no ``..``, not ``.``).
    """
    if (
        not candidate_id
        or len(candidate_id) > 128
        or not _SAFE_ID.match(candidate_id)
        or ".." in candidate_id
        or candidate_id in {"."}
    ):
        raise CandidateError(
            candidate_id,
            "the id must use only letters, digits, '.', '_' and '-' and must not be a path",
        )
    return candidate_id


def make_candidate_id(raw: str) -> str:
    """Turn any label (file stem, formula, mp-id) into a safe candidate id.

    Characters outside ``[A-Za-z0-9._-]`` become ``_``; runs of dots collapse to one.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", raw.strip())
    cleaned = re.sub(r"\.{2,}", ".", cleaned).strip(".") or "candidate"
    return cleaned[:128]


class Candidate(BaseModel):
    """One Li-containing structure entering a campaign.

    Attributes:
        id: Safe id (letters, digits, ``.``, ``_``, ``-``), unique within a campaign.
        structure: The structure; ``None`` only for failed reads.
        source: Where it came from (file path, ``mp-1234``, CSV row).
        formula: Reduced formula.
        mp_id: Materials Project id when known.
        e_hull_ev_per_atom: Known energy above hull, eV/atom.
        band_gap_ev: Known band gap, eV.
        provenance: Free-form record of how the candidate was built (reader, merges).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    structure: Structure | None = None
    source: str = ""
    formula: str = ""
    mp_id: str | None = None
    e_hull_ev_per_atom: float | None = None
    band_gap_ev: float | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id_is_safe(cls, value: str) -> str:
        return validate_candidate_id(value)

    @classmethod
    def coerce(cls, value: Candidate | dict[str, Any]) -> Candidate:
        """A :class:`Candidate`, also from its serialised dict (jobflow/FireWorks inputs)."""
        if isinstance(value, cls):
            return value
        data = {k: v for k, v in dict(value).items() if not k.startswith("@")}
        if isinstance(data.get("structure"), dict):
            data["structure"] = Structure.from_dict(data["structure"])
        return cls(**data)

    @classmethod
    def from_structure(cls, structure: Structure, candidate_id: str, **kwargs: Any) -> Candidate:
        """Build a candidate from a structure, filling the formula."""
        return cls(
            id=candidate_id,
            structure=structure,
            formula=structure.composition.reduced_formula,
            **kwargs,
        )
