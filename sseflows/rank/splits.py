"""Cross-validation splits of a training table: random, grouped, leave-one-cluster-out.

* ``kfold`` — shuffled k-fold: what most papers report, and an overestimate when the same
  material or paper sits on both sides (OBELiX: random-CV MAE 0.96 vs test 1.54, RANKING.md).
* ``grouped`` — k-fold over :meth:`TrainingTable.groups`, the connected components of
  "same DOI or same composition": no paper and no composition on both sides, the way the
  OBELiX train and test sets were cut. This is the split that selects models here.
* ``loco`` — leave-one-cluster-out (McHaffie 2025 [002 L421–453, L544]): k-means on the
  standardised feature matrix into ``n_splits`` clusters, each cluster a test fold, so a
  fold asks the model to extrapolate to a region of feature space it has not seen. Their
  clusters came from ElMD → UMAP → DBSCAN on compositions [002 L924–933]; k-means on the
  ranking features is our offline substitute, stated here because it is a different rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.cluster import KMeans
from sklearn.model_selection import GroupKFold, KFold
from sklearn.preprocessing import StandardScaler

SplitKind = Literal["kfold", "grouped", "loco"]
SPLIT_KINDS: tuple[str, ...] = ("kfold", "grouped", "loco")
DEFAULT_N_SPLITS = 5

Fold = tuple[np.ndarray, np.ndarray]
"""(train indices, test indices)."""


def split_indices(
    kind: str,
    n_rows: int,
    *,
    groups: np.ndarray | None = None,
    features: np.ndarray | None = None,
    n_splits: int = DEFAULT_N_SPLITS,
    seed: int = 0,
) -> list[Fold]:
    """Train/test index pairs of one cross-validation scheme.

    Args:
        kind: ``kfold``, ``grouped`` or ``loco``.
        n_rows: Number of rows.
        groups: Group index per row (``grouped``).
        features: Feature matrix (``loco``; NaNs are treated as the column mean).
        n_splits: Number of folds (clusters for ``loco``).
        seed: Seed of the shuffles and of k-means.

    Returns:
        ``n_splits`` folds; every row is in exactly one test fold.
    """
    if kind not in SPLIT_KINDS:
        raise ValueError(f"unknown split {kind!r}; choose one of {', '.join(SPLIT_KINDS)}")
    index = np.arange(n_rows)
    if kind == "kfold":
        return list(KFold(n_splits, shuffle=True, random_state=seed).split(index))
    if kind == "grouped":
        if groups is None:
            raise ValueError("a grouped split needs a group per row")
        shuffled = _shuffled_group_ids(np.asarray(groups), seed)
        return list(GroupKFold(n_splits).split(index, groups=shuffled))
    if features is None:
        raise ValueError("a leave-one-cluster-out split needs a feature matrix")
    clusters = loco_clusters(features, n_splits, seed)
    return [(index[clusters != c], index[clusters == c]) for c in range(n_splits)]


def loco_clusters(features: np.ndarray, n_clusters: int, seed: int = 0) -> np.ndarray:
    """k-means cluster per row on standardised ``features`` (NaN → column mean)."""
    x = np.asarray(features, dtype=float)
    means = np.nanmean(x, axis=0)
    x = np.where(np.isnan(x), np.nan_to_num(means), x)
    scaled = StandardScaler().fit_transform(x)
    return KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(scaled)


def _shuffled_group_ids(groups: np.ndarray, seed: int) -> np.ndarray:
    """Relabel groups in a random order so that GroupKFold's size balancing varies with seed."""
    unique = np.unique(groups)
    permuted = np.random.default_rng(seed).permutation(len(unique))
    mapping = dict(zip(unique.tolist(), permuted.tolist(), strict=True))
    return np.array([mapping[g] for g in groups.tolist()])
