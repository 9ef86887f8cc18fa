"""The ranking stage as a jobflow Maker, so it runs on a FireWorks worker like every tier.

``RankMaker(model_path=...).make(candidates)`` returns one job that loads the saved model
(:func:`sseflows.rank.persistence.load_rank_model`) — or, given a :class:`TrainingSpec`,
first trains it from the label store or a published set and saves it there —, featurises
the candidates (through the descriptor cache folder) and outputs one :class:`RankDoc` per candidate,
ordered by ``order_by`` (``p_superionic`` or ``log10_sigma``, best first, failed last). A
candidate without a structure is ranked on its composition when the model's representation
allows it; one whose features fail gets a ``failed`` document with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jobflow import Job, Maker, job
from pymatgen.core import Composition

from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.rank.descriptors.base import FeatureInput, representation_from_name
from sseflows.rank.model import RankModel, train_rank_model
from sseflows.rank.persistence import load_rank_model, save_rank_model
from sseflows.rank.schemas import RankDoc
from sseflows.rank.sources import training_table
from sseflows.rank.table import DEFAULT_THRESHOLD_S_PER_CM

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


@dataclass
class TrainingSpec:
    """How a ranking job trains its model when it is not given one.

    Attributes:
        labels_source: ``store`` or a published set (:data:`~sseflows.rank.sources.
            LABEL_SOURCES`).
        labels_path: The published set's file or folder.
        store_spec: Label store spec for ``store`` (None: the ``db`` setting).
        representation: Representation name (``magpie``, ``soap``, ``a+b``, ...).
        model: ``ensemble``, ``kang`` or ``clusters``.
        model_settings: Overrides of the estimator's defaults.
        threshold_s_per_cm: Superionic class threshold, S/cm.
    """

    labels_source: str = "store"
    labels_path: str | None = None
    store_spec: str | None = None
    representation: str = "magpie"
    model: str = "ensemble"
    model_settings: dict[str, Any] = field(default_factory=dict)
    threshold_s_per_cm: float = DEFAULT_THRESHOLD_S_PER_CM


def trained_model(spec: TrainingSpec, cache_folder: Path | None) -> RankModel:
    """A model trained as ``spec`` says (ConfigurationError for a bad source or name)."""
    table = training_table(
        spec.labels_source,
        Path(spec.labels_path) if spec.labels_path else None,
        spec.store_spec,
        spec.threshold_s_per_cm,
    )
    try:
        representation = representation_from_name(spec.representation)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"The ranking model could not be trained: {exc}.") from exc
    return train_rank_model(  # a failed fit is already one ConfigurationError sentence
        table,
        representation,
        model=spec.model,
        model_settings=spec.model_settings,
        cache_folder=cache_folder,
        label_source=spec.labels_source,
    )


@job  # no output_schema: jobflow checks it with isinstance, which a list[...] cannot take
def rank_job(
    candidates: Sequence[Candidate | dict[str, Any]],
    model_path: str,
    order_by: str = "p_superionic",
    cache_folder: str | None = None,
    training: dict[str, Any] | None = None,
) -> list[RankDoc]:
    """Rank ``candidates``, best first, one RankDoc each, with the model at ``model_path``;
    with ``training`` (a :class:`TrainingSpec` as a dict) the job first trains the model and
    saves it there (skops + provenance JSON)."""
    cache = Path(cache_folder) if cache_folder else None
    if training is not None:
        model = trained_model(TrainingSpec(**training), cache)
        save_rank_model(model, Path(model_path))
    else:
        model = load_rank_model(Path(model_path))
    inputs = [candidate_input(Candidate.coerce(c)) for c in candidates]
    records = model.predict(inputs, cache)
    settings = {"model_path": model_path, "order_by": order_by, **model.provenance["estimator"]}
    settings["model_version"] = model.version
    return rank_documents(order_records(records, order_by), settings)


@dataclass
class RankMaker(Maker):
    """Maker of the ranking job: loads the model at ``model_path``, or trains it first.

    Attributes:
        name: Job name.
        model_path: The saved model (``sseflows rank train --out``), or where to save the
            one trained by ``training``.
        order_by: ``p_superionic`` (default) or ``log10_sigma``.
        cache_folder: Descriptor cache folder (None: no cache).
        training: When set, the job trains the model from these labels and settings.
    """

    name: str = "rank"
    model_path: str = ""
    order_by: str = "p_superionic"
    cache_folder: str | None = None
    training: TrainingSpec | None = None

    def make(self, candidates: Sequence[Candidate]) -> Job:
        """The ranking job for ``candidates`` (a cross-candidate stage, not per candidate)."""
        ranked = rank_job(
            list(candidates),
            self.model_path,
            self.order_by,
            self.cache_folder,
            None if self.training is None else asdict(self.training),
        )
        ranked.name = self.name
        return ranked
