"""Acquisition scores and batch picks by hand; the replay's figures by hand and a tiny run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymatgen.core import Composition

from sseflows.rank.acquisition import acquisition_scores, select_batch
from sseflows.rank.ensemble import EnsembleSettings
from sseflows.rank.estimators import EnsembleEstimator
from sseflows.rank.replay import RANDOM, replay, run_one, summarise_run, target_rows
from sseflows.rank.table import TrainingRow, TrainingTable

PREDICTION = {
    "log10_sigma": np.array([-3.0, -2.0, -4.0]),
    "log10_sigma_sd": np.array([0.5, 0.1, 2.0]),
    "p_superionic": np.array([0.2, 0.9, 0.4]),
    "p_superionic_sd": np.array([0.05, 0.3, 0.1]),
}


def test_exploit_explore_ucb_by_hand() -> None:
    assert acquisition_scores(PREDICTION, "exploit") == pytest.approx([-3.0, -2.0, -4.0])
    assert acquisition_scores(PREDICTION, "explore") == pytest.approx([0.5, 0.1, 2.0])
    # mean + κ·sd, κ = 1: −2.5, −1.9, −2.0; κ = 2: −2.0, −1.8, 0.0
    assert acquisition_scores(PREDICTION, "ucb") == pytest.approx([-2.5, -1.9, -2.0])
    assert acquisition_scores(PREDICTION, "ucb", kappa=2.0) == pytest.approx([-2.0, -1.8, 0.0])
    with pytest.raises(ValueError, match="unknown acquisition"):
        acquisition_scores(PREDICTION, "greedy")


def test_classifier_only_predictions_score_by_probability_and_nan_scores_last() -> None:
    classifier = {**PREDICTION, "log10_sigma": np.full(3, np.nan)}
    assert acquisition_scores(classifier, "exploit") == pytest.approx([0.2, 0.9, 0.4])
    assert acquisition_scores(classifier, "ucb") == pytest.approx([0.25, 1.2, 0.5])
    partial = {**PREDICTION, "log10_sigma": np.array([-3.0, np.nan, -4.0])}
    scores = acquisition_scores(partial, "exploit")
    assert scores[1] == -math.inf
    assert select_batch(scores, 3) == [0, 2, 1]


def test_select_batch_skips_a_near_duplicate_composition() -> None:
    scores = np.array([5.0, 4.0, 3.0, 2.0])
    compositions = [Composition(f) for f in ("Li3PS4", "Li3.02PS4", "LiCl", "Li2O")]
    assert select_batch(scores, 3) == [0, 1, 2]  # no diversity rule
    assert select_batch(scores, 3, compositions=compositions) == [0, 2, 3]


def test_select_batch_fills_the_batch_with_skipped_candidates_in_score_order() -> None:
    scores = np.array([1.0, 3.0, 2.0, 0.5])
    compositions = [Composition(f) for f in ("Li3PS4", "Li6P2S8", "Li3.01PS4", "LiCl")]
    # 1 is picked, 2 and 0 are near-duplicates of it, 3 is new: picks [1, 3], fill with 2
    assert select_batch(scores, 3, compositions=compositions) == [1, 3, 2]
    assert select_batch(scores, 2, compositions=compositions) == [1, 3]
    assert select_batch(scores[:3], 3, compositions=compositions[:3]) == [1, 2, 0]


def test_select_batch_skips_points_within_the_radius() -> None:
    scores = np.array([3.0, 2.0, 1.0])
    embedded = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0]])
    assert select_batch(scores, 2, embedded=embedded, radius=1.0) == [0, 2]
    assert select_batch(scores, 2, embedded=embedded, radius=0.05) == [0, 1]


def test_target_rows_are_the_top_five_percent() -> None:
    y = np.arange(40, dtype=float)  # 40 rows → ⌈2.0⌉ = 2 targets: rows 39, 38
    assert np.flatnonzero(target_rows(y)).tolist() == [38, 39]
    assert target_rows(np.arange(41.0)).sum() == 3  # ⌈2.05⌉
    assert target_rows(np.arange(5.0)).sum() == 1  # at least one
    ties = np.array([1.0, 5.0, 5.0, 5.0, 0.0])
    assert np.flatnonzero(target_rows(ties, fraction=0.4)).tolist() == [1, 2]  # row order


FAMILIES = ["a", "garnet", "b", "c", "nasicon", "d", "e", "garnet", "f", "argyrodite"]
TARGETS = np.zeros(10, bool)
TARGETS[[1, 4, 7, 9]] = True


def test_summarise_run_by_hand() -> None:
    """Seed row 1 is a target (1 found at 0); measuring 3, 4, 5, 7 finds the 3rd at the 4th."""
    figures = summarise_run([3, 4, 5, 7, 9], [1, 2], TARGETS, FAMILIES)
    assert figures == {
        "measurements_to_3_targets": 4.0,
        "targets_found": 4.0,
        "families_found": 3.0,  # garnet (1, 7), nasicon, argyrodite
    }


def test_summarise_run_counts_seed_targets_at_zero_and_inf_when_not_reached() -> None:
    seeded = summarise_run([0, 2], [1, 4, 7], TARGETS, FAMILIES)
    assert seeded["measurements_to_3_targets"] == 0.0
    assert seeded["targets_found"] == 3.0
    assert seeded["families_found"] == 2.0  # garnet, nasicon
    short = summarise_run([0, 2, 3, 4], [5], TARGETS, FAMILIES)
    assert math.isinf(short["measurements_to_3_targets"])
    assert short["targets_found"] == 1.0
    assert short["families_found"] == 1.0


def synthetic_table(n: int = 60, seed: int = 0) -> tuple[np.ndarray, TrainingTable]:
    """n rows: features (n, 3), log10 σ = 2·x0 − 5 + noise, six families, own groups."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 3))
    y = 2 * x[:, 0] - 5 + rng.normal(0, 0.3, n)
    rows = [
        TrainingRow(
            row_id=f"r{i}",
            formula=f"Li{i + 1}PS4",
            composition=Composition(f"Li{i + 1}PS4"),
            structure=None,
            log10_sigma=float(y[i]),
            censored=False,
            label_ids=[f"r{i}"],
            group=i,
            family=f"family{i % 6}",
        )
        for i in range(n)
    ]
    return x, TrainingTable(rows)


def small_ensemble() -> EnsembleEstimator:
    return EnsembleEstimator(EnsembleSettings(n_members=4, n_estimators=30, min_child_samples=2))


def test_random_run_measures_the_budget_of_distinct_hidden_rows() -> None:
    x, table = synthetic_table()
    targets = target_rows(table.y())
    measured = run_one(RANDOM, x, table, targets, [0, 1, 2], small_ensemble, budget=12)
    assert len(measured) == 12 == len(set(measured))
    assert not set(measured) & {0, 1, 2}
    again = run_one(RANDOM, x, table, targets, [0, 1, 2], small_ensemble, budget=12)
    assert again == measured  # same seed, same picks


def test_exploit_run_measures_batches_of_hidden_rows() -> None:
    x, table = synthetic_table()
    targets = target_rows(table.y())
    measured = run_one("exploit", x, table, targets, [0, 1, 2, 3, 4], small_ensemble, budget=10)
    assert len(measured) == 10 == len(set(measured))
    assert not set(measured) & set(range(5))


def test_tiny_replay_has_the_documented_shape() -> None:
    x, table = synthetic_table()
    steps: list[tuple[int, int]] = []
    report = replay(x, table, small_ensemble, n_seeds=2, budget=10, batch_size=5,
                    on_step=lambda done, total: steps.append((done, total)))  # fmt: skip
    assert steps == [(i, 8) for i in range(1, 9)]  # 2 seeds × 4 strategies
    assert report["n_rows"] == 60
    assert report["n_targets"] == 3  # ⌈0.05·60⌉
    assert report["settings"]["budget"] == 10 and report["settings"]["n_seeds"] == 2
    strategies = report["strategies"]
    assert set(strategies) == {"exploit", "explore", "ucb", RANDOM}
    for figures in strategies.values():
        assert {"measurements_to_3_targets", "targets_found", "families_found"} <= set(figures)
        assert len(figures["runs"]) == 2
        assert 0 <= figures["targets_found"] <= 3
        assert 0 <= figures["families_found"] <= figures["targets_found"]
        to_three = figures["measurements_to_3_targets"]
        assert math.isinf(to_three) or 0 <= to_three <= 10
