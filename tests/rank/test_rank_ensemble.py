"""The supervised ensemble: conformal quantile by hand, calibration on known Gaussian noise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sseflows.rank.ensemble import EnsembleModel, EnsembleSettings, conformal_quantile
from sseflows.rank.estimators import EnsembleEstimator, estimator_from_name
from sseflows.rank.metrics import interval_coverage, mae

NOISE_SD = 0.5


def test_conformal_quantile_by_hand() -> None:
    scores = np.array([9, 1, 8, 2, 7, 3, 6, 4, 5], dtype=float)  # 1..9 shuffled
    assert conformal_quantile(scores, 0.9) == 9.0  # ⌈10·0.9⌉ = 9th smallest
    assert conformal_quantile(scores, 0.5) == 5.0  # ⌈10·0.5⌉ = 5th
    assert conformal_quantile(scores, 0.8) == 8.0  # ⌈10·0.8⌉ = 8th
    assert conformal_quantile(scores[:4], 0.9) == math.inf  # ⌈5·0.9⌉ = 5 > 4 scores
    assert conformal_quantile(np.array([]), 0.5) == math.inf


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x0 uniform on [−3, 3] plus two noise columns; y = 2·x0 + N(0, 0.5²)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, size=(n, 3))
    return x, 2 * x[:, 0] + rng.normal(0, NOISE_SD, size=n)


@pytest.fixture(scope="module")
def fitted() -> EnsembleModel:
    x, y = synthetic(400, seed=1)
    groups = np.repeat(np.arange(80), 5)  # 80 groups of 5 rows
    settings = EnsembleSettings(n_members=8, n_estimators=60, learning_rate=0.1, seed=0)
    return EnsembleModel(settings).fit(x, y, y >= 0, groups)


def test_interval_covers_about_ninety_percent_of_fresh_rows(fitted: EnsembleModel) -> None:
    x, y = synthetic(400, seed=2)
    prediction = fitted.predict(x)
    assert fitted.n_calibration > 50
    assert math.isfinite(fitted.interval_scale)
    coverage = interval_coverage(y, prediction.log10_sigma_lo, prediction.log10_sigma_hi)
    assert 0.80 <= coverage <= 0.98
    width = np.median(prediction.log10_sigma_hi - prediction.log10_sigma_lo)
    assert 2 * 1.0 * NOISE_SD < width < 2 * 5.0 * NOISE_SD  # about ±1.6 σ_noise plus bias


def test_mean_prediction_tracks_the_noise_free_signal(fitted: EnsembleModel) -> None:
    x, _ = synthetic(400, seed=2)
    truth = 2 * x[:, 0]
    prediction = fitted.predict(x)
    assert truth.std() == pytest.approx(3.46, abs=0.3)  # 2·6/√12
    assert mae(truth, prediction.log10_sigma) < 0.6  # about 0.4; the signal spreads 3.5
    assert np.all(prediction.log10_sigma_sd >= 0)
    assert np.all(prediction.log10_sigma_lo <= prediction.log10_sigma)
    assert np.all(prediction.log10_sigma <= prediction.log10_sigma_hi)


def test_probability_of_the_class_far_from_the_threshold(fitted: EnsembleModel) -> None:
    x = np.array([[2.5, 0.0, 0.0], [-2.5, 0.0, 0.0], [2.8, 1.0, -1.0], [-2.8, -1.0, 1.0]])
    prediction = fitted.predict(x)
    assert prediction.p_superionic[0] > 0.9 and prediction.p_superionic[2] > 0.9
    assert prediction.p_superionic[1] < 0.1 and prediction.p_superionic[3] < 0.1
    assert np.all((prediction.p_superionic_sd >= 0) & (prediction.p_superionic_sd < 0.2))


def test_censored_rows_stay_out_of_the_calibration() -> None:
    x, y = synthetic(100, seed=5)
    groups = np.arange(100)
    settings = EnsembleSettings(n_members=6, n_estimators=20)
    everything = EnsembleModel(settings).fit(x, y, y >= 0, groups)
    censored = np.zeros(100, bool)
    censored[:40] = True
    fewer = EnsembleModel(settings).fit(x, y, y >= 0, groups, censored)
    assert 0 < fewer.n_calibration < everything.n_calibration
    assert fewer.n_calibration <= 60


def test_one_class_bootstrap_gives_a_constant_member() -> None:
    """Every row below the threshold: each member's classifier is the constant 0."""
    x, y = synthetic(40, seed=6)
    model = EnsembleModel(EnsembleSettings(n_members=3, n_estimators=10)).fit(
        x, y, np.zeros(40, bool), np.arange(40)
    )
    assert model.constant_probabilities == [0.0, 0.0, 0.0]
    assert np.all(model.predict(x[:5]).p_superionic == 0.0)


def test_random_forest_learner_and_errors() -> None:
    x, y = synthetic(120, seed=7)
    model = EnsembleModel(EnsembleSettings(n_members=4, n_estimators=20, learner="rf"))
    prediction = model.fit(x, y, y >= 0, np.repeat(np.arange(40), 3)).predict(x[:3])
    assert prediction.log10_sigma.shape == (3,)
    assert mae(2 * x[:3, 0], prediction.log10_sigma) < 1.5
    with pytest.raises(ValueError, match="unknown learner"):
        EnsembleModel(EnsembleSettings(learner="svm")).fit(x, y, y >= 0, np.arange(120))
    with pytest.raises(ValueError, match="not been fit"):
        EnsembleModel().predict(x)


def test_estimator_by_name() -> None:
    estimator = estimator_from_name("ensemble", n_members=3, n_estimators=7)
    assert isinstance(estimator, EnsembleEstimator)
    assert estimator.settings()["n_members"] == 3
    assert estimator.settings()["model"] == "ensemble"
    with pytest.raises(ValueError, match="unknown ranking model"):
        estimator_from_name("svm")
