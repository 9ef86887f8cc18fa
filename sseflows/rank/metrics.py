"""Scores of a ranking model against measured log10 σ (S/cm): pure functions over arrays.

The metrics are the ones the published rankers report (RANKING.md): MAE of log10 σ (OBELiX;
on all rows and on uncensored rows only, since a handful of censored entries weigh about a
quarter of the published MAE), Spearman ρ, AUC-PR and MCC of the superionic class at the
threshold (McHaffie 2025 [002 L536–539]), the top-10 hit rate (the share of the ten
best-ranked rows with σ ≥ 1e-3 S/cm: what a campaign that measures ten candidates finds) and
the coverage of the prediction interval.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, matthews_corrcoef

TOP_K = 10
HIT_THRESHOLD_S_PER_CM = 1e-3
"""A top-k hit is a row with σ ≥ this, S/cm."""


def mae(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute error (log10 units) over ``mask`` (all rows when None).

    NaN when there is no row or no prediction at all (a classifier has no log10 σ).
    """
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    if mask is not None:
        y_true, y_pred = y_true[mask], y_pred[mask]
    if not len(y_true) or np.all(np.isnan(y_pred)):
        return math.nan
    return float(np.mean(np.abs(y_true - y_pred)))


def spearman(y_true: np.ndarray, score: np.ndarray) -> float:
    """Spearman rank correlation of ``score`` with ``y_true`` (ties averaged)."""
    if len(y_true) < 3 or np.ptp(score) == 0:
        return math.nan
    return float(spearmanr(y_true, score).statistic)


def auc_pr(is_positive: np.ndarray, probability: np.ndarray) -> float:
    """Area under the precision–recall curve (average precision, scikit-learn's step rule)."""
    if not np.any(is_positive):
        return math.nan
    return float(average_precision_score(is_positive, probability))


def mcc(is_positive: np.ndarray, probability: np.ndarray, cut: float = 0.5) -> float:
    """Matthews correlation of the class ``probability ≥ cut`` with ``is_positive``."""
    return float(matthews_corrcoef(is_positive, np.asarray(probability) >= cut))


def top_k_hit_rate(
    log10_sigma_true: np.ndarray,
    score: np.ndarray,
    k: int = TOP_K,
    hit_threshold_s_per_cm: float = HIT_THRESHOLD_S_PER_CM,
) -> float:
    """Share of the ``k`` highest-``score`` rows whose true σ ≥ the hit threshold.

    Ties in ``score`` are broken by row order (stable sort), so the result is reproducible.
    """
    k = min(k, len(score))
    if k == 0:
        return math.nan
    order = np.argsort(-np.asarray(score, float), kind="stable")[:k]
    return float(np.mean(np.asarray(log10_sigma_true)[order] >= math.log10(hit_threshold_s_per_cm)))


def interval_coverage(y_true: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of rows with ``lower ≤ y_true ≤ upper`` (NaN without an interval)."""
    y_true = np.asarray(y_true, float)
    if np.all(np.isnan(lower)) or np.all(np.isnan(upper)):
        return math.nan
    return float(np.mean((y_true >= lower) & (y_true <= upper))) if len(y_true) else math.nan


def score_predictions(
    y_true: np.ndarray,
    censored: np.ndarray,
    is_positive: np.ndarray,
    log10_pred: np.ndarray,
    probability: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    has_structure: np.ndarray | None = None,
    rank_score: np.ndarray | None = None,
) -> dict[str, float]:
    """Every metric of the module for one set of predictions.

    Args:
        y_true: Measured log10 σ, S/cm (censored rows at the convention's value).
        censored: Mask of censored rows (left out of ``mae_uncensored``).
        is_positive: True class (σ ≥ the threshold).
        log10_pred: Predicted log10 σ; also the score for Spearman and the top-10 hit rate.
        probability: Predicted P(σ ≥ threshold), for AUC-PR and MCC (cut at 0.5).
        lower, upper: Prediction interval of log10 σ; its coverage is measured on the
            uncensored rows (a censored row's value is a convention, not a measurement).
        has_structure: Mask of rows with a structure (OBELiX's "CIF subset"); adds
            ``mae_cif`` when given.
        rank_score: What Spearman and the top-10 hit rate rank by, when not ``log10_pred``
            (a classifier's probability). NaN predictions give NaN metrics, not zeros.
    """
    censored = np.asarray(censored, bool)
    y_true, lower, upper = (np.asarray(a, float) for a in (y_true, lower, upper))
    log10_pred = np.asarray(log10_pred, float)
    score = log10_pred if rank_score is None else np.asarray(rank_score, float)
    scores = {
        "n": len(y_true),
        "mae": mae(y_true, log10_pred),
        "mae_uncensored": mae(y_true, log10_pred, ~censored),
        "spearman": spearman(y_true, score),
        "auc_pr": auc_pr(is_positive, probability),
        "mcc": mcc(is_positive, probability),
        "top10_hit_rate": top_k_hit_rate(y_true, score),
        "interval_coverage": interval_coverage(
            y_true[~censored], lower[~censored], upper[~censored]
        ),
    }
    if has_structure is not None:
        scores["mae_cif"] = mae(y_true, log10_pred, np.asarray(has_structure, bool))
    return scores
