"""Supervised ensemble (McHaffie 2025 shape): P(superionic) and log10 σ with honest spread.

McHaffie et al. rank with an ensemble of 100 AtomSets networks (10 hyper-parameter sets ×
10 seeds) and report, per candidate, the ensemble mean P_SI and its standard deviation
[002 L594–601, L661–664]. Offline and on two cores we keep the shape with trees:

* **Members**: ``n_members`` pairs (regressor of log10 σ, classifier of σ ≥ threshold), each
  fit on a *group bootstrap*: groups (same DOI or same composition, see
  :mod:`sseflows.rank.table`) are drawn with replacement and every row of a drawn group
  enters. A member therefore never sees part of a paper's series, the way a new candidate
  is unseen. Learner: LightGBM (default) or a random forest.
* **Uncertainty**: the spread (standard deviation) of the members' predictions.
* **Calibrated interval** (split-conformal on out-of-bag rows, normalised by the spread): a
  row's out-of-bag prediction uses only the members whose bootstrap missed its group, so
  the residuals behave like held-out residuals. With r = |y − μ_oob| / (s_oob + s₀) over the
  uncensored rows, q is the ⌈(n+1)·c⌉/n quantile of r and the interval is μ ± q·(s + s₀),
  c = ``coverage`` (0.9) and s₀ the median out-of-bag spread (so a zero spread never gives
  a zero-width interval). Censored rows are left out of the calibration: their value is a
  convention, not a measurement.
* **Fidelity**: a computed row (σ_RT of the MD tier, ``kind="computed"``) enters every
  member's fit with sample weight ``computed_weight`` (default 0.5: an MD σ_RT from a
  universal potential is worth half a measurement), a measured row with 1. With only
  measured rows no weights are passed, so such fits are unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

Learner = Literal["lgbm", "rf"]
LEARNERS: tuple[str, ...] = ("lgbm", "rf")
MIN_OOB_MEMBERS = 2
"""A row enters the conformal calibration when at least this many members missed it."""


@dataclass
class EnsembleSettings:
    """Hyper-parameters of :class:`EnsembleModel` (defaults: ``benchmarks/rank_obelix.py``).

    Attributes:
        n_members: Ensemble members (group-bootstrap resamples).
        learner: ``lgbm`` (LightGBM) or ``rf`` (scikit-learn random forest).
        n_estimators: Trees per member.
        learning_rate: LightGBM shrinkage.
        num_leaves: LightGBM leaves per tree.
        min_child_samples: Rows per leaf (both learners).
        objective: LightGBM regression loss: ``l2`` (mean) or ``l1`` (median, the loss of
            the MAE the benchmarks report) or ``huber``.
        coverage: Nominal coverage of the prediction interval (0.9 → 90 %).
        seed: Seed of the bootstraps and learners.
        computed_weight: Sample weight of a computed row (MD σ_RT) relative to a measured
            one (1); see the module docstring.
    """

    n_members: int = 20
    learner: str = "lgbm"
    n_estimators: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_child_samples: int = 5
    objective: str = "l2"
    coverage: float = 0.9
    seed: int = 0
    computed_weight: float = 0.5

    def as_dict(self) -> dict[str, Any]:
        """JSON-able settings (for provenance)."""
        return dict(self.__dict__)


@dataclass
class EnsemblePrediction:
    """Per-candidate arrays: log10 σ in S/cm, probabilities in [0, 1]."""

    log10_sigma: np.ndarray
    log10_sigma_sd: np.ndarray
    log10_sigma_lo: np.ndarray
    log10_sigma_hi: np.ndarray
    p_superionic: np.ndarray
    p_superionic_sd: np.ndarray


@dataclass
class EnsembleModel:
    """Bagged regressors and classifiers with a conformal interval; fit with :meth:`fit`."""

    settings: EnsembleSettings = field(default_factory=EnsembleSettings)
    regressors: list[Any] = field(default_factory=list)
    classifiers: list[Any] = field(default_factory=list)
    constant_probabilities: list[float | None] = field(default_factory=list)
    interval_scale: float = math.nan
    spread_floor: float = math.nan
    n_calibration: int = 0

    def fit(
        self,
        features: np.ndarray,
        log10_sigma: np.ndarray,
        superionic: np.ndarray,
        groups: np.ndarray,
        censored: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> EnsembleModel:
        """Fit every member and the interval.

        Args:
            features: (n, d) feature matrix (NaN allowed).
            log10_sigma: Target per row, log10 S/cm (censored rows at their convention value).
            superionic: Boolean class per row.
            groups: Group index per row (bootstrap unit).
            censored: Boolean mask of censored rows (left out of the calibration).
            sample_weight: Weight per row in every member's fit (None: all 1).
        """
        s = self.settings
        if s.learner not in LEARNERS:
            raise ValueError(f"unknown learner {s.learner!r}; choose one of {', '.join(LEARNERS)}")
        x = np.asarray(features, dtype=float)
        y = np.asarray(log10_sigma, dtype=float)
        cls = np.asarray(superionic, dtype=bool)
        groups = np.asarray(groups)
        censored = np.zeros(len(y), bool) if censored is None else np.asarray(censored, bool)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        rng = np.random.default_rng(s.seed)
        unique = np.unique(groups)
        oob_sum = np.zeros(len(y))
        oob_sq = np.zeros(len(y))
        oob_count = np.zeros(len(y), dtype=int)
        self.regressors, self.classifiers, self.constant_probabilities = [], [], []
        for member in range(s.n_members):
            drawn = rng.choice(unique, size=len(unique), replace=True)
            counts = dict(zip(*np.unique(drawn, return_counts=True), strict=True))
            rows = np.concatenate(
                [np.flatnonzero(groups == g).repeat(c) for g, c in counts.items()]
            )
            fit_weight = {} if weight is None else {"sample_weight": weight[rows]}
            regressor = _regressor(s, s.seed + member).fit(x[rows], y[rows], **fit_weight)
            self.regressors.append(regressor)
            if len(np.unique(cls[rows])) < 2:
                self.classifiers.append(None)
                self.constant_probabilities.append(float(cls[rows][0]))
            else:
                classifier = _classifier(s, s.seed + member)
                self.classifiers.append(classifier.fit(x[rows], cls[rows], **fit_weight))
                self.constant_probabilities.append(None)
            out = ~np.isin(groups, drawn)
            if out.any():
                predicted = regressor.predict(x[out])
                oob_sum[out] += predicted
                oob_sq[out] += predicted**2
                oob_count[out] += 1
        self._calibrate(y, censored, oob_sum, oob_sq, oob_count)
        return self

    def _calibrate(
        self,
        y: np.ndarray,
        censored: np.ndarray,
        oob_sum: np.ndarray,
        oob_sq: np.ndarray,
        oob_count: np.ndarray,
    ) -> None:
        usable = (oob_count >= MIN_OOB_MEMBERS) & ~censored
        n = int(usable.sum())
        self.n_calibration = n
        if n == 0:
            self.interval_scale, self.spread_floor = math.inf, 0.0
            return
        count = oob_count[usable]
        mean = oob_sum[usable] / count
        spread = np.sqrt(np.maximum(oob_sq[usable] / count - mean**2, 0.0) * count / (count - 1))
        self.spread_floor = float(max(np.median(spread), 1e-6))
        scores = np.abs(y[usable] - mean) / (spread + self.spread_floor)
        self.interval_scale = conformal_quantile(scores, self.settings.coverage)

    def predict(self, features: np.ndarray) -> EnsemblePrediction:
        """Mean, spread and interval of log10 σ, and P(superionic) with its spread."""
        if not self.regressors:
            raise ValueError("the ensemble has not been fit")
        x = np.asarray(features, dtype=float)
        regression = np.array([member.predict(x) for member in self.regressors])
        probabilities = np.array(
            [
                np.full(len(x), constant) if member is None else member.predict_proba(x)[:, 1]
                for member, constant in zip(
                    self.classifiers, self.constant_probabilities, strict=True
                )
            ]
        )
        mean = regression.mean(axis=0)
        spread = regression.std(axis=0, ddof=1) if len(regression) > 1 else np.zeros(len(x))
        half_width = self.interval_scale * (spread + self.spread_floor)
        return EnsemblePrediction(
            log10_sigma=mean,
            log10_sigma_sd=spread,
            log10_sigma_lo=mean - half_width,
            log10_sigma_hi=mean + half_width,
            p_superionic=probabilities.mean(axis=0),
            p_superionic_sd=probabilities.std(axis=0, ddof=1)
            if len(probabilities) > 1
            else np.zeros(len(x)),
        )


def conformal_quantile(scores: np.ndarray, coverage: float) -> float:
    """The ⌈(n+1)·coverage⌉-th smallest score (split-conformal rule); ∞ when n is too small.

    For n calibration scores and a new exchangeable score, the interval built with this
    quantile covers with probability ≥ ``coverage`` (Vovk et al.; Lei et al. 2018).
    """
    ordered = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil((len(ordered) + 1) * coverage)
    return math.inf if rank > len(ordered) else float(ordered[rank - 1])


def _regressor(settings: EnsembleSettings, seed: int) -> Any:
    if settings.learner == "rf":
        return RandomForestRegressor(max_features=0.33, **_forest_parameters(settings, seed))
    return LGBMRegressor(objective=settings.objective, **_boosting_parameters(settings, seed))


def _classifier(settings: EnsembleSettings, seed: int) -> Any:
    if settings.learner == "rf":
        return RandomForestClassifier(max_features="sqrt", **_forest_parameters(settings, seed))
    return LGBMClassifier(**_boosting_parameters(settings, seed))


def _forest_parameters(settings: EnsembleSettings, seed: int) -> dict[str, Any]:
    """Random-forest parameters shared by the regressor and the classifier."""
    return {
        "n_estimators": settings.n_estimators,
        "min_samples_leaf": settings.min_child_samples,
        "random_state": seed,
        "n_jobs": 1,
    }


def _boosting_parameters(settings: EnsembleSettings, seed: int) -> dict[str, Any]:
    """LightGBM parameters shared by the regressor and the classifier (row and column
    subsampling 0.8 / 0.5 add member diversity on top of the group bootstrap)."""
    return {
        "n_estimators": settings.n_estimators,
        "learning_rate": settings.learning_rate,
        "num_leaves": settings.num_leaves,
        "min_child_samples": settings.min_child_samples,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.5,
        "random_state": seed,
        "n_jobs": 1,
        "verbose": -1,
    }
