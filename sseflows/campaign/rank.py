"""Use cases of the ranking stage: train, predict, evaluate and replay (``sseflows rank``).

Labels come from the label store (``store``, the default: what ``sseflows labels import``
wrote, plus the computed labels of earlier campaigns) or straight from a published set
(``obelix`` folder, ``laskowski`` CSV). Descriptors go through the cache folder of the
``descriptor_cache`` setting, so re-ranking after new labels recomputes none of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sseflows.core.errors import ConfigurationError
from sseflows.data.readers import read_candidates
from sseflows.rank.descriptors.base import (
    FeatureInput,
    Representation,
    representation_from_name,
)
from sseflows.rank.estimators import estimator_from_name
from sseflows.rank.evaluate import evaluate
from sseflows.rank.maker import candidate_input, order_records
from sseflows.rank.model import featurise, table_inputs, train_rank_model
from sseflows.rank.persistence import load_rank_model, save_rank_model
from sseflows.rank.replay import replay
from sseflows.rank.sources import training_table
from sseflows.rank.table import DEFAULT_THRESHOLD_S_PER_CM, TrainingTable
from sseflows.settings import load_settings

DEFAULT_REPRESENTATION = "magpie"
"""The default representation (chosen by ``benchmarks/rank_obelix.py``; see the README)."""
DEFAULT_MODEL = "ensemble"
REPLAY_MODEL_SETTINGS: dict[str, Any] = {
    "learner": "rf",
    "n_members": 8,
    "n_estimators": 25,
    "min_child_samples": 1,
}
"""The replay's ensemble, refit every round on at most ``budget`` + 5 rows: random-forest
members (LightGBM cannot split 5–55 rows usefully). On OBELiX train, 20 seeds, exploit needed
a median of 29 measurements to find 3 targets with these members and 34.5 with the default
LightGBM ensemble (README)."""


StepCallback = Callable[[str, int | None, int | None], None]
"""Progress of a long use case: ``(what it is doing, steps done, steps in all)``, the counts
None while a phase has no steps (``sseflows.report.progress.StepProgress`` shows it)."""


def _say(progress: StepCallback | None, what: str, done: int | None = None,
         total: int | None = None) -> None:  # fmt: skip
    if progress is not None:
        progress(what, done, total)


def model_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``["n_runs=20", "learner=rf"]`` → ``{"n_runs": 20, "learner": "rf"}`` (JSON values,
    else strings); a pair without ``=`` is a ConfigurationError."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"The model option {pair!r} is not KEY=VALUE.")
        try:
            options[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            options[key.strip()] = text
    return options


def descriptor_cache() -> Path | None:
    """The descriptor cache folder of the settings (None when disabled)."""
    folder = load_settings().descriptor_cache
    return Path(folder).expanduser() if folder else None


def representation(name: str = DEFAULT_REPRESENTATION, **settings: Any) -> Representation:
    """A representation by name, unknown names as a ConfigurationError."""
    try:
        return representation_from_name(name, **settings)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{exc}.".replace("..", ".")) from exc


def featurised_table(
    table: TrainingTable, rep: Representation
) -> tuple[np.ndarray, TrainingTable, int]:
    """Features of the rows that featurise, their table, and how many rows were left out."""
    matrix = featurise(rep, table_inputs(table), descriptor_cache())
    usable = [int(i) for i in matrix.ok.nonzero()[0]]
    return matrix.X[usable], table.subset(usable), len(table) - len(usable)


@dataclass
class TrainSummary:
    """A trained model: where it was saved and what it was trained on."""

    path: Path
    model_version: str
    n_rows: int
    excluded: dict[str, str] = field(default_factory=dict)
    labels_hash: str = ""


def train(
    out: Path,
    *,
    source: str = "store",
    labels_path: Path | None = None,
    store_spec: str | None = None,
    model: str = DEFAULT_MODEL,
    representation_name: str = DEFAULT_REPRESENTATION,
    threshold_s_per_cm: float = DEFAULT_THRESHOLD_S_PER_CM,
    pool_paths: Sequence[Path] = (),
    model_settings: dict[str, Any] | None = None,
    representation_settings: dict[str, Any] | None = None,
    pool_inputs: Sequence[FeatureInput] = (),
    progress: StepCallback | None = None,
) -> TrainSummary:
    """Train a ranking model on a label source and save it to ``out`` (skops + JSON).

    ``pool_paths`` or ``pool_inputs`` are the unlabelled pool the ``clusters`` model
    clusters with the labels; ``representation_settings`` the representation's settings."""
    _say(progress, "reading the labels")
    table = training_table(source, labels_path, store_spec, threshold_s_per_cm)
    pool = list(pool_inputs)
    if pool_paths:
        pool += [candidate_input(c) for c in read_candidates(pool_paths).candidates]
    _say(
        progress, f"featurising and fitting {len(table)} materials ({model}, {representation_name})"
    )
    fitted = train_rank_model(
        table,
        representation(representation_name, **(representation_settings or {})),
        model=model,
        model_settings=model_settings,
        pool=pool,
        cache_folder=descriptor_cache(),
        label_source=source if labels_path is None else f"{source}:{labels_path}",
    )
    save_rank_model(fitted, out)
    return TrainSummary(
        Path(out),
        fitted.version,
        fitted.provenance["n_rows"],
        dict(fitted.provenance["excluded_rows"]),
        fitted.provenance["labels_hash"],
    )


def predict(
    model_path: Path,
    paths: Sequence[Path] = (),
    candidates_csv: Path | None = None,
    order_by: str = "p_superionic",
    progress: StepCallback | None = None,
) -> list[dict[str, Any]]:
    """One record per candidate (ranked best first, failures last, with their reasons)."""
    _say(progress, "loading the model and reading the candidates")
    model = load_rank_model(model_path)
    candidate_set = read_candidates(
        list(paths), csv=candidates_csv, deduplicate=False, composition_only=True
    )
    inputs = [candidate_input(c) for c in candidate_set.candidates]
    _say(progress, f"featurising and ranking {len(inputs)} candidates")
    records = model.predict(inputs, descriptor_cache()) if inputs else []
    if order_by == "log10_sigma" and all(r.get("log10_sigma") is None for r in records):
        order_by = "p_superionic"
    ranked = order_records(records, order_by)
    ranked += [
        {
            "candidate_id": failure.candidate_id,
            "status": "failed",
            "reason": failure.reason,
            "rank": None,
        }
        for failure in candidate_set.failures
    ]
    return ranked


def evaluate_model(
    *,
    source: str = "store",
    labels_path: Path | None = None,
    store_spec: str | None = None,
    model: str = DEFAULT_MODEL,
    representation_name: str = DEFAULT_REPRESENTATION,
    split: str = "grouped",
    n_splits: int = 5,
    seed: int = 0,
    threshold_s_per_cm: float = DEFAULT_THRESHOLD_S_PER_CM,
    model_settings: dict[str, Any] | None = None,
    progress: StepCallback | None = None,
) -> dict[str, Any]:
    """Cross-validated metrics next to a shuffled-label control (:mod:`sseflows.rank.evaluate`)."""
    _say(progress, "reading the labels")
    table = training_table(source, labels_path, store_spec, threshold_s_per_cm)
    rep = representation(representation_name)
    _say(progress, f"featurising {len(table)} materials ({representation_name})")
    features, table, excluded = featurised_table(table, rep)
    settings = dict(model_settings or {})
    try:
        estimator_from_name(model, **settings)  # unknown model or option: fail before the CV
        report = evaluate(
            lambda: estimator_from_name(model, **settings),
            features,
            table,
            split=split,
            n_splits=n_splits,
            seed=seed,
            on_step=lambda done, total: _say(
                progress, "cross-validating (folds, control included)", done, total
            ),
        )
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"The evaluation could not run: {exc}.") from exc
    report.update(
        representation=rep.describe(),
        estimator=model,
        excluded_rows=excluded,
    )
    return report


def replay_campaign(
    *,
    source: str = "store",
    labels_path: Path | None = None,
    store_spec: str | None = None,
    representation_name: str = DEFAULT_REPRESENTATION,
    strategies: Sequence[str] = ("exploit", "explore", "ucb"),
    n_seed_labels: int = 5,
    batch_size: int = 5,
    budget: int = 50,
    n_seeds: int = 20,
    kappa: float = 1.0,
    model_settings: dict[str, Any] | None = None,
    progress: StepCallback | None = None,
) -> dict[str, Any]:
    """A retrospective campaign on the labelled set (:mod:`sseflows.rank.replay`)."""
    rep = representation(representation_name)
    _say(progress, "reading and featurising the labels")
    features, table, _ = featurised_table(training_table(source, labels_path, store_spec), rep)
    settings = {**REPLAY_MODEL_SETTINGS, **(model_settings or {})}
    try:
        report = replay(
            features,
            table,
            lambda: estimator_from_name("ensemble", **settings),
            strategies=strategies,
            n_seed_labels=n_seed_labels,
            batch_size=batch_size,
            budget=budget,
            n_seeds=n_seeds,
            kappa=kappa,
            on_step=lambda done, total: _say(
                progress, "replaying (seeds × strategies)", done, total
            ),
        )
    except ValueError as exc:
        raise ConfigurationError(f"The replay could not run: {exc}.") from exc
    report.update(representation=rep.describe(), model_settings=settings)
    return report
