"""Cross-validated scores of a ranking estimator, each next to a shuffled-label control.

Out-of-fold predictions are pooled over the folds of one split
(:func:`sseflows.rank.splits.split_indices`) and scored once with
:func:`sseflows.rank.metrics.score_predictions`, so the top-10 hit rate ranks the whole
table as a campaign ranks its pool. The control refits the same estimator on labels
permuted within the training folds (rows keep their features, lose their σ): a score
that the control reaches too says nothing about the features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sseflows.rank.estimators import Estimator
from sseflows.rank.metrics import score_predictions
from sseflows.rank.splits import DEFAULT_N_SPLITS, split_indices
from sseflows.rank.table import TrainingRow, TrainingTable

PREDICTION_KEYS = (
    "log10_sigma",
    "log10_sigma_sd",
    "log10_sigma_lo",
    "log10_sigma_hi",
    "p_superionic",
    "p_superionic_sd",
)


def out_of_fold(
    make_estimator: Callable[[], Estimator],
    features: np.ndarray,
    table: TrainingTable,
    folds: list[tuple[np.ndarray, np.ndarray]],
    on_fold: Callable[[], None] | None = None,
) -> dict[str, np.ndarray]:
    """Predictions of every row by the estimator fit on the folds that do not hold it
    (``on_fold`` is called after each fold)."""
    predicted = {key: np.full(len(table), np.nan) for key in PREDICTION_KEYS}
    for train, test in folds:
        estimator = make_estimator().fit(features[train], table.subset(train))
        result = estimator.predict(features[test])
        for key in PREDICTION_KEYS:
            predicted[key][test] = result[key]
        if on_fold is not None:
            on_fold()
    return predicted


def score_out_of_fold(table: TrainingTable, predicted: dict[str, np.ndarray]) -> dict[str, float]:
    """The metrics of :func:`score_predictions` for pooled out-of-fold predictions.

    An estimator without a regression (Kang's classifiers) is ranked by its probability.
    """
    log10_pred = predicted["log10_sigma"]
    rank_score = predicted["p_superionic"] if np.all(np.isnan(log10_pred)) else log10_pred
    return score_predictions(
        table.y("obelix"),
        table.censored(),
        table.superionic(),
        log10_pred,
        predicted["p_superionic"],
        predicted["log10_sigma_lo"],
        predicted["log10_sigma_hi"],
        has_structure=np.array([row.structure is not None for row in table.rows]),
        rank_score=rank_score,
    )


def shuffled_table(table: TrainingTable, seed: int) -> TrainingTable:
    """The same rows with their (σ, censored) pairs permuted: the control's labels."""
    order = np.random.default_rng(seed).permutation(len(table))
    rows = [
        TrainingRow(
            **{
                **row.__dict__,
                "log10_sigma": table.rows[j].log10_sigma,
                "censored": table.rows[j].censored,
            }
        )
        for row, j in zip(table.rows, order, strict=True)
    ]
    return TrainingTable(rows, table.threshold_s_per_cm)


def evaluate(
    make_estimator: Callable[[], Estimator],
    features: np.ndarray,
    table: TrainingTable,
    *,
    split: str = "grouped",
    n_splits: int = DEFAULT_N_SPLITS,
    seed: int = 0,
    control: bool = True,
    on_step: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Cross-validated metrics of one estimator and, with ``control``, of its shuffled twin.

    ``on_step(done, total)`` is called after each fitted fold (the control's included).

    Returns:
        ``{"split", "n_splits", "model": {metric: value}, "control": {metric: value}}``;
        the control's scores are measured against the true labels.
    """
    folds = split_indices(
        split,
        len(table),
        groups=table.groups(),
        features=features,
        n_splits=n_splits,
        seed=seed,
    )
    report: dict[str, Any] = {"split": split, "n_splits": n_splits, "n": len(table)}
    total, done = len(folds) * (2 if control else 1), [0]

    def step() -> None:
        done[0] += 1
        if on_step is not None:
            on_step(done[0], total)

    predicted = out_of_fold(make_estimator, features, table, folds, step)
    report["model"] = score_out_of_fold(table, predicted)
    if control:
        shuffled = out_of_fold(make_estimator, features, shuffled_table(table, seed), folds, step)
        report["control"] = score_out_of_fold(table, shuffled)
    return report
