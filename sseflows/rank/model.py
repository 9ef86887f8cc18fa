"""A trained ranking model: representation, estimator, novelty, and where it came from.

:func:`train_rank_model` featurises a :class:`~sseflows.rank.table.TrainingTable` (rows
whose features fail are left out and listed in the provenance), fits the estimator and the
novelty model, and records the provenance: the label ids and their hash, the
representation's name and settings, the estimator's settings, the class threshold and the
censored convention, and the versions of the packages that shape the numbers.
:meth:`RankModel.predict` turns candidates into one record each (the fields of
:class:`sseflows.rank.schemas.RankDoc`); a candidate that cannot be featurised gets
``status="failed"`` and one sentence, the others finish.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition

from sseflows.core.errors import ConfigurationError
from sseflows.rank.descriptors.base import (
    FeatureInput,
    FeatureMatrix,
    Representation,
    representation_from_description,
)
from sseflows.rank.descriptors.cache import featurise_cached
from sseflows.rank.estimators import Estimator, estimator_from_name
from sseflows.rank.novelty import FeatureNovelty, near_training_composition
from sseflows.rank.table import TrainingTable

VERSIONED_PACKAGES = (
    "sseflows",
    "numpy",
    "scikit-learn",
    "lightgbm",
    "pymatgen",
    "matminer",
    "dscribe",
    "chgnet",
)
"""Packages whose versions a model records (they change features or fits)."""


def package_versions() -> dict[str, str]:
    """Installed version of each of :data:`VERSIONED_PACKAGES` (``"absent"`` if missing)."""
    found = {}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


def featurise(
    representation: Representation, inputs: Sequence[FeatureInput], cache_folder: Path | None
) -> FeatureMatrix:
    """Features of ``inputs``, through the cache folder when one is given."""
    if cache_folder is None:
        return representation.featurise(inputs)
    return featurise_cached(representation, inputs, cache_folder)


def table_inputs(table: TrainingTable) -> list[FeatureInput]:
    """One featurisation input per training row (its id, composition, structure)."""
    return [FeatureInput(row.row_id, row.composition, row.structure) for row in table.rows]


@dataclass
class RankModel:
    """Everything needed to rank new candidates the way the model was trained.

    Attributes:
        representation: :meth:`Representation.describe` of the training features.
        feature_names: Column names of the training features (checked at prediction).
        estimator: The fitted estimator (:mod:`sseflows.rank.estimators`).
        novelty: Nearest-training-row distance model.
        training_formulas: Formulas of the training rows (the 5 % composition rule).
        provenance: Labels, settings and versions (see the module docstring).
    """

    representation: dict[str, Any]
    feature_names: list[str]
    estimator: Estimator
    novelty: FeatureNovelty
    training_formulas: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Short id of the model: the first 12 hex digits of its labels hash and settings."""
        return str(self.provenance.get("model_version", ""))

    def check_representation(self, representation: Representation) -> None:
        """Raise a one-sentence ConfigurationError unless ``representation`` is the model's."""
        if representation.describe() != self.representation:
            raise ConfigurationError(
                f"The ranking model was built with representation {self.representation} and "
                f"cannot rank features made with {representation.describe()}; retrain it or "
                "use its own representation settings."
            )

    def predict(
        self, inputs: Sequence[FeatureInput], cache_folder: Path | None = None
    ) -> list[dict[str, Any]]:
        """One record per input, in input order (see :class:`~sseflows.rank.schemas.RankDoc`)."""
        representation = representation_from_description(self.representation)
        if representation.feature_names() != self.feature_names:
            raise ConfigurationError(
                f"The ranking model's {len(self.feature_names)} feature columns differ from "
                f"the {len(representation.feature_names())} that representation "
                f"{self.representation['name']!r} gives with the installed packages; retrain "
                "the model in this environment."
            )
        matrix = featurise(representation, inputs, cache_folder)
        ok = matrix.ok
        predicted: dict[str, np.ndarray] = {}
        novelty = np.full(len(inputs), np.nan)
        if ok.any():
            predicted = self.estimator.predict(matrix.X[ok])
            novelty[ok] = self.novelty.novelty(matrix.X[ok])
        near = near_training_composition(
            [row.composition for row in inputs],
            [Composition(formula) for formula in self.training_formulas],
        )
        records = []
        position = np.cumsum(ok) - 1
        for index, row in enumerate(inputs):
            record: dict[str, Any] = {
                "candidate_id": row.id,
                "formula": row.composition.reduced_formula,
                "near_training": bool(near[index]),
                "model_version": self.version,
            }
            if not ok[index]:
                reason = matrix.failures.get(row.id, "its features could not be computed")
                cause = reason.rstrip(".")  # one sentence, as CandidateError words it
                record.update(status="failed", reason=f"Candidate '{row.id}': {cause}.")
            else:
                record["status"] = "completed"
                record["novelty"] = _number(novelty[index])
                for key, values in predicted.items():
                    record[key] = _value(values[position[index]])
            records.append(record)
        return records


def train_rank_model(
    table: TrainingTable,
    representation: Representation,
    *,
    model: str = "ensemble",
    model_settings: dict[str, Any] | None = None,
    pool: Sequence[FeatureInput] = (),
    cache_folder: Path | None = None,
    label_source: str = "",
) -> RankModel:
    """Featurise, fit and record provenance (see the module docstring).

    Args:
        table: The training table.
        representation: Features to use.
        model: ``ensemble``, ``kang`` or ``clusters``.
        model_settings: Overrides of the estimator's defaults.
        pool: Unlabelled candidates clustered with the labels (``clusters`` only).
        cache_folder: Descriptor cache folder (None: no cache).
        label_source: Where the labels came from (recorded).

    Raises:
        ConfigurationError: when no training row can be featurised, or the estimator cannot
            be built or fitted with these settings (unknown model or setting, too few rows):
            one sentence, the same for every caller (``rank train``, the ranking stage,
            each round of the loop).
    """
    settings = dict(model_settings or {})
    matrix = featurise(representation, table_inputs(table), cache_folder)
    usable = np.flatnonzero(matrix.ok)
    if len(usable) < 2:
        raise ConfigurationError(
            f"Only {len(usable)} of {len(table)} training rows could be featurised with "
            f"{representation.name!r}; the ranking model needs a structure-aware "
            "representation only where the labels carry structures."
        )
    training = table.subset(usable)
    if model == "clusters" and pool:
        pool_matrix = featurise(representation, list(pool), cache_folder)
        settings["pool_features"] = pool_matrix.X[pool_matrix.ok]
    try:
        estimator = estimator_from_name(model, **settings).fit(matrix.X[usable], training)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"The ranking model could not be trained: {exc}.") from exc
    novelty = FeatureNovelty().fit(matrix.X[usable])
    description = representation.describe()
    provenance: dict[str, Any] = {
        "label_source": label_source,
        "label_ids": training.label_ids(),
        "labels_hash": training.labels_hash(),
        "n_rows": len(training),
        "excluded_rows": {
            table.rows[i].row_id: matrix.failures[table.rows[i].row_id]
            for i in np.flatnonzero(~matrix.ok)
        },
        "threshold_s_per_cm": table.threshold_s_per_cm,
        "censored_convention": "obelix",
        "representation": description,
        "estimator": estimator.settings(),
        "versions": package_versions(),
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    provenance["model_version"] = _model_version(provenance)
    return RankModel(
        representation=description,
        feature_names=list(matrix.names),
        estimator=estimator,
        novelty=novelty,
        training_formulas=[row.composition.formula for row in training.rows],
        provenance=provenance,
    )


def _model_version(provenance: dict[str, Any]) -> str:
    payload = {k: provenance[k] for k in ("labels_hash", "representation", "estimator")}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[
        :12
    ]


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(float(value)) else float(value)


def _value(value: Any) -> Any:
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return _number(float(value))
