"""The estimators' common interface and cross-validated evaluation with a shuffled control."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.core import Composition

from sseflows.rank.estimators import ClusterEstimator, KangEstimator, estimator_from_name
from sseflows.rank.evaluate import PREDICTION_KEYS, evaluate, out_of_fold, shuffled_table
from sseflows.rank.splits import split_indices
from sseflows.rank.table import TrainingRow, TrainingTable

SMALL = {"n_members": 4, "n_estimators": 30, "min_child_samples": 2, "learning_rate": 0.1}


def table_of(y: np.ndarray, censored: np.ndarray | None = None) -> TrainingTable:
    censored = np.zeros(len(y), bool) if censored is None else censored
    rows = [
        TrainingRow(
            row_id=f"r{i}",
            formula=f"Li{i + 1}PS4",
            composition=Composition(f"Li{i + 1}PS4"),
            structure=None,
            log10_sigma=float(value),
            censored=bool(censored[i]),
            label_ids=[f"r{i}"],
            group=i // 3,
        )
        for i, value in enumerate(y)
    ]
    return TrainingTable(rows)


def blobs(centres: list[tuple[float, float]], values: list[float], n: int) -> tuple:
    """``n`` rows (sd 0.3) around each centre, each blob at its log10 σ."""
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(centre, 0.3, (n, 2)) for centre in centres])
    return x, table_of(np.repeat(values, n))


def test_kang_estimator_gives_probabilities_only() -> None:
    """60 conductors near (5, 5) at log10 σ = −2, 60 insulators near (−5, −5) at −8 (LightGBM's
    default 20 rows per leaf needs more than a handful of rows)."""
    x, table = blobs([(5, 5), (-5, -5)], [-2.0, -8.0], 60)
    estimator = estimator_from_name("kang", n_runs=3).fit(x, table)
    assert isinstance(estimator, KangEstimator)
    result = estimator.predict(np.array([[5.0, 5.0], [-5.0, -5.0]]))
    assert set(PREDICTION_KEYS) <= set(result)
    assert np.all(np.isnan(result["log10_sigma"]))
    assert result["p_superionic"] == pytest.approx([1.0, 0.0])
    assert result["superionic_all_runs"].tolist() == [True, False]
    assert estimator.settings() == {"model": "kang", "n_runs": 3, "seed": 0}


def test_cluster_estimator_scores_by_the_cluster_of_a_candidate() -> None:
    """Conductors at (0, 0), insulators beside them at (3, 0) and far away at (30, 30): the
    conductors' cluster is selected (σ > 1e-5) and so is its nearest neighbour, not the far one."""
    x, table = blobs([(0, 0), (3, 0), (30, 30)], [-2.0, -8.0, -9.0], 10)
    x[3, 1] = np.nan  # replaced by the column median, not an error
    estimator = estimator_from_name("clusters", depth=3).fit(x, table)
    assert isinstance(estimator, ClusterEstimator)
    probe = np.array([[0.1, -0.1], [3.1, 0.2], [29.0, 31.0], [0.0, np.nan]])  # NaN → median 0
    result = estimator.predict(probe)
    assert result["log10_sigma"] == pytest.approx([-2.0, -8.0, -9.0, -2.0])
    assert result["p_superionic"] == pytest.approx([1.0, 0.0, 0.0, 1.0])
    assert result["selected"].tolist() == [True, True, False, True]
    assert len(set(result["cluster"][:3].tolist())) == 3
    assert np.all(np.isnan(result["log10_sigma_sd"]))


def test_shuffled_table_permutes_values_and_keeps_everything_else() -> None:
    y = np.arange(10, dtype=float) - 12
    censored = np.zeros(10, bool)
    censored[0] = True
    table = table_of(y, censored)
    shuffled = shuffled_table(table, seed=1)
    assert [r.row_id for r in shuffled.rows] == [r.row_id for r in table.rows]
    assert [r.group for r in shuffled.rows] == [r.group for r in table.rows]
    assert sorted(shuffled.y("bound").tolist()) == sorted(y.tolist())
    assert shuffled.y("bound").tolist() != y.tolist()
    assert shuffled.censored().sum() == 1
    moved = int(np.flatnonzero(shuffled.censored())[0])
    assert shuffled.rows[moved].log10_sigma == pytest.approx(-12.0)  # (σ, censored) pairs move
    assert table.rows[0].log10_sigma == pytest.approx(-12.0)  # the original is untouched


def test_out_of_fold_predicts_every_row_once() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, size=(45, 3))
    table = table_of(2 * x[:, 0] - 5)
    folds = split_indices("grouped", 45, groups=table.groups(), n_splits=3)
    predicted = out_of_fold(lambda: estimator_from_name("ensemble", **SMALL), x, table, folds)
    assert set(predicted) == set(PREDICTION_KEYS)
    assert not np.any(np.isnan(predicted["log10_sigma"]))
    assert np.all((predicted["p_superionic"] >= 0) & (predicted["p_superionic"] <= 1))


def test_evaluate_beats_its_shuffled_control_on_a_learnable_signal() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, size=(90, 3))
    y = 2 * x[:, 0] - 4 + rng.normal(0, 0.3, 90)
    table = table_of(y)
    report = evaluate(
        lambda: estimator_from_name("ensemble", **SMALL), x, table, split="grouped", n_splits=3
    )
    assert (report["split"], report["n_splits"], report["n"]) == ("grouped", 3, 90)
    model, control = report["model"], report["control"]
    expected = {"mae", "mae_uncensored", "spearman", "auc_pr", "mcc", "top10_hit_rate"}
    assert expected | {"interval_coverage", "mae_cif", "n"} <= set(model)
    assert set(model) == set(control)
    assert model["mae"] < 0.5 * control["mae"]
    assert model["spearman"] > 0.8
    assert control["spearman"] < 0.5
    assert math.isnan(model["mae_cif"])  # no row has a structure
    steps: list[tuple[int, int]] = []
    no_control = evaluate(
        lambda: estimator_from_name("ensemble", **SMALL),
        x,
        table,
        split="kfold",
        n_splits=3,
        control=False,
        on_step=lambda done, total: steps.append((done, total)),
    )
    assert "control" not in no_control
    assert steps == [(1, 3), (2, 3), (3, 3)]  # one step per fitted fold
