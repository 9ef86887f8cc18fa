"""Ranking metrics against hand-computed values and against scikit-learn / SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, spearmanr
from sklearn.metrics import average_precision_score, matthews_corrcoef

from sseflows.rank.metrics import (
    auc_pr,
    interval_coverage,
    mae,
    mcc,
    score_predictions,
    spearman,
    top_k_hit_rate,
)


def test_mae_by_hand_and_with_a_mask() -> None:
    y, p = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    assert mae(y, p) == pytest.approx(1.0)  # (1 + 0 + 2) / 3
    assert mae(y, p, np.array([False, True, True])) == pytest.approx(1.0)  # (0 + 2) / 2
    assert mae(y, p, np.array([True, True, False])) == pytest.approx(0.5)
    assert math.isnan(mae(y, p, np.zeros(3, bool)))


def test_spearman_by_hand_and_against_scipy() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert spearman(y, np.array([10.0, 20.0, 25.0, 100.0])) == pytest.approx(1.0)
    assert spearman(y, -y) == pytest.approx(-1.0)
    # ranks (1, 2, 3, 4) vs (2, 1, 4, 3): d² = 4, ρ = 1 − 6·4/(4·15) = 0.6
    assert spearman(y, np.array([2.0, 1.0, 4.0, 3.0])) == pytest.approx(0.6)
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50), rng.normal(size=50)
    b[::5] = b[0]  # ties
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert math.isnan(spearman(y, np.ones(4)))  # constant score
    assert math.isnan(spearman(y[:2], y[:2]))


def test_auc_pr_by_hand_and_against_scikit_learn() -> None:
    """Ranked: pos (P=1, R=½), neg, pos (P=⅔, R=1), neg → AP = ½·1 + ½·⅔ = 5/6."""
    positive = np.array([True, False, True, False])
    probability = np.array([0.9, 0.8, 0.7, 0.1])
    assert auc_pr(positive, probability) == pytest.approx(5 / 6)
    rng = np.random.default_rng(4)
    truth = rng.random(80) < 0.3
    prob = np.clip(truth * 0.3 + rng.random(80) * 0.7, 0, 1)
    assert auc_pr(truth, prob) == pytest.approx(average_precision_score(truth, prob), abs=1e-12)
    assert math.isnan(auc_pr(np.zeros(4, bool), probability))


def test_mcc_by_hand_and_against_scikit_learn() -> None:
    positive = np.array([True, True, True, False, False])
    # predicted (cut 0.5): T, T, F, F, T → TP 2, FN 1, FP 1, TN 1: (2·1 − 1·1)/√(3·3·2·2) = 1/6
    probability = np.array([0.9, 0.5, 0.4, 0.2, 0.7])
    assert mcc(positive, probability) == pytest.approx(1 / 6)
    assert mcc(positive, np.array([0.9, 0.8, 0.6, 0.1, 0.2])) == pytest.approx(1.0)
    assert mcc(positive, probability, cut=0.8) == pytest.approx(
        matthews_corrcoef(positive, probability >= 0.8)
    )


def test_top_k_hit_rate_by_hand() -> None:
    log10_sigma = np.array([-2.0, -5.0, -2.5, -4.0, -1.0, -3.0])
    score = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])
    # top 3: rows 0, 1, 2 → σ ≥ 1e-3 for rows 0 and 2
    assert top_k_hit_rate(log10_sigma, score, k=3) == pytest.approx(2 / 3)
    # all six: rows 0, 2, 4 and 5 (exactly 1e-3 counts)
    assert top_k_hit_rate(log10_sigma, score, k=10) == pytest.approx(4 / 6)
    # ties broken by row order: rows 0 and 1 share the best score, k = 1 takes row 0
    assert top_k_hit_rate(log10_sigma, np.array([1.0, 1.0, 0, 0, 0, 0]), k=1) == 1.0
    assert top_k_hit_rate(log10_sigma, -score, k=2) == pytest.approx(1.0)  # rows 5, 4
    # at 1e-2 only row 0 (exactly −2) of the top 3 hits
    assert top_k_hit_rate(log10_sigma, score, k=3, hit_threshold_s_per_cm=1e-2) == pytest.approx(
        1 / 3
    )
    assert top_k_hit_rate(log10_sigma, score, k=3, hit_threshold_s_per_cm=0.1) == 0.0
    assert math.isnan(top_k_hit_rate(np.array([]), np.array([])))


def test_interval_coverage_by_hand_and_on_gaussian_noise() -> None:
    y = np.array([0.0, 1.0, 2.0, 3.0])
    lower, upper = np.array([-1.0, 1.0, 2.5, 0.0]), np.array([1.0, 2.0, 3.0, 3.0])
    assert interval_coverage(y, lower, upper) == pytest.approx(0.75)  # ends included
    rng = np.random.default_rng(0)
    truth = rng.normal(size=20000)
    z = norm.ppf(0.95)  # ±1.645 σ holds 90 % of a standard normal
    coverage = interval_coverage(truth, np.full(20000, -z), np.full(20000, z))
    assert coverage == pytest.approx(0.90, abs=0.01)
    assert interval_coverage(truth, np.full(20000, -1.0), np.full(20000, 1.0)) == pytest.approx(
        0.683, abs=0.01
    )


def test_score_predictions_leaves_censored_rows_out_of_coverage() -> None:
    y = np.array([-2.0, -5.0, -15.0, -3.0])
    censored = np.array([False, False, True, False])
    positive = np.array([True, False, False, True])
    pred = np.array([-2.5, -5.0, -9.0, -4.0])
    probability = np.array([0.8, 0.1, 0.2, 0.6])
    lower, upper = pred - 1.0, pred + 1.0  # the censored row (−15 vs −10…−8) lies outside
    has_structure = np.array([True, True, False, False])
    scores = score_predictions(
        y, censored, positive, pred, probability, lower, upper, has_structure
    )
    assert scores["n"] == 4
    assert scores["mae"] == pytest.approx((0.5 + 0 + 6 + 1) / 4)
    assert scores["mae_uncensored"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert scores["mae_cif"] == pytest.approx(0.25)
    assert scores["interval_coverage"] == pytest.approx(1.0)
    assert scores["auc_pr"] == pytest.approx(1.0)
    assert scores["mcc"] == pytest.approx(1.0)
    assert scores["spearman"] == pytest.approx(1.0)
    assert scores["top10_hit_rate"] == pytest.approx(2 / 4)  # k = 4 rows; −2 and −3 hit
    without = score_predictions(y, censored, positive, pred, probability, lower, upper)
    assert "mae_cif" not in without
    # the same censored row, uncensored, would count against the coverage
    both = score_predictions(y, np.zeros(4, bool), positive, pred, probability, lower, upper)
    assert both["interval_coverage"] == pytest.approx(0.75)
