"""The ranking stage as a jobflow Maker, so it runs on a FireWorks worker like every tier.

``RankMaker(model_path=...).make(candidates)`` returns one job that loads the saved model
(:func:`sseflows.rank.persistence.load_rank_model`), featurises the candidates (through the
descriptor cache folder of the settings) and outputs one :class:`RankDoc` per candidate,
ordered by ``order_by`` (``p_superionic`` or ``log10_sigma``, best first, failed last). A
candidate without a structure is ranked on its composition when the model's representation
allows it; one whose features fail gets a ``failed`` document with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobflow import Job, Maker, job
from pymatgen.core import Composition

from sseflows.core.candidate import Candidate
from sseflows.rank.descriptors.base import FeatureInput
from sseflows.rank.persistence import load_rank_model
from sseflows.rank.schemas import RankDoc

ORDERS = ("p_superionic", "log10_sigma")


def candidate_input(candidate: Candidate) -> FeatureInput:
    """A featurisation input for a candidate (composition from its structure or formula)."""
    if candidate.structure is not None:
        return FeatureInput.from_structure(candidate.id, candidate.structure)
    return FeatureInput(candidate.id, Composition(candidate.formula or candidate.id), None)


def order_records(records: list[dict[str, Any]], order_by: str) -> list[dict[str, Any]]:
    """Records sorted best first by ``order_by`` (missing values last), ranks set from 1."""
    if order_by not in ORDERS:
        raise ValueError(f"unknown order {order_by!r}; choose one of {', '.join(ORDERS)}")

    def key(record: dict[str, Any]) -> float:
        value = record.get(order_by)
        return -math.inf if value is None else float(value)

    ordered = sorted(records, key=key, reverse=True)
    for position, record in enumerate(ordered, start=1):
        record["rank"] = position if record.get("status") == "completed" else None
    return ordered


def rank_documents(records: list[dict[str, Any]], settings: dict[str, Any]) -> list[RankDoc]:
    """RankDocs from :meth:`RankModel.predict` records."""
    known = set(RankDoc.model_fields)
    return [
        RankDoc(**{k: v for k, v in record.items() if k in known}, settings=settings)
        for record in records
    ]


@job  # no output_schema: jobflow checks it with isinstance, which a list[...] cannot take
def rank_job(
    candidates: Sequence[Candidate | dict[str, Any]],
    model_path: str,
    order_by: str = "p_superionic",
    cache_folder: str | None = None,
) -> list[RankDoc]:
    """Rank ``candidates`` with the saved model; one RankDoc per candidate, best first."""
    model = load_rank_model(Path(model_path))
    inputs = [candidate_input(Candidate.coerce(c)) for c in candidates]
    records = model.predict(inputs, Path(cache_folder) if cache_folder else None)
    settings = {"model_path": model_path, "order_by": order_by, **model.provenance["estimator"]}
    return rank_documents(order_records(records, order_by), settings)


@dataclass
class RankMaker(Maker):
    """Maker of the ranking job.

    Attributes:
        name: Job name.
        model_path: The saved model (``sseflows rank train --out``).
        order_by: ``p_superionic`` (default) or ``log10_sigma``.
        cache_folder: Descriptor cache folder (None: no cache).
    """

    name: str = "rank"
    model_path: str = ""
    order_by: str = "p_superionic"
    cache_folder: str | None = None

    def make(self, candidates: Sequence[Candidate]) -> Job:
        """The ranking job for ``candidates`` (a cross-candidate stage, not per candidate)."""
        ranked = rank_job(
            list(candidates),
            self.model_path,
            self.order_by,
            self.cache_folder,
        )
        ranked.name = self.name
        return ranked
