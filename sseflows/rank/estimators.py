"""The ranking estimators behind one interface: fit on a training table, predict arrays.

Every estimator returns the same keys (NaN where it has no such output), so evaluation,
acquisition and the per-candidate records never ask which model they hold:
``log10_sigma`` / ``log10_sigma_sd`` / ``log10_sigma_lo`` / ``log10_sigma_hi`` (log10 S/cm,
interval at the ensemble's nominal coverage), ``p_superionic`` / ``p_superionic_sd``.

* ``ensemble`` — :class:`sseflows.rank.ensemble.EnsembleModel` (the default); it weights
  computed rows (MD σ_RT) by ``computed_weight`` (0.5); ``kang`` and ``clusters`` treat
  every row alike.
* ``kang`` — :class:`sseflows.rank.kang.KangModel`: classification only.
* ``clusters`` — :class:`sseflows.rank.clustering.ClusterModel` (Laskowski 2023): each
  candidate gets its ``cluster`` and whether the cluster is ``selected``; as a score, the
  mean log10 σ of the cluster's labelled rows (NaN for a cluster without labels) and the
  share of them at or above the threshold. Ward clustering needs finite features: NaNs
  are replaced by the training column medians.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sseflows.rank.clustering import SELECTION_DEPTH, ClusterModel
from sseflows.rank.ensemble import EnsembleModel, EnsembleSettings
from sseflows.rank.kang import N_RUNS, KangModel
from sseflows.rank.table import TrainingTable


class Estimator(Protocol):
    """What evaluation, replay and the saved model need of a ranking estimator."""

    name: str

    def fit(self, features: np.ndarray, table: TrainingTable) -> Estimator: ...

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]: ...

    def settings(self) -> dict[str, Any]: ...


@dataclass
class EnsembleEstimator:
    """The bagged LightGBM / random-forest ensemble (see :mod:`sseflows.rank.ensemble`)."""

    config: EnsembleSettings = field(default_factory=EnsembleSettings)
    model: EnsembleModel | None = None
    name: str = "ensemble"

    def fit(self, features: np.ndarray, table: TrainingTable) -> EnsembleEstimator:
        weight = table.sample_weight(self.config.computed_weight)
        self.model = EnsembleModel(self.config).fit(
            features, table.y("obelix"), table.superionic(), table.groups(), table.censored(),
            sample_weight=weight if table.computed().any() else None,
        )  # fmt: skip
        return self

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        if self.model is None:
            raise ValueError("the ensemble has not been fit")
        return dict(self.model.predict(features).__dict__)

    def settings(self) -> dict[str, Any]:
        return {"model": self.name, **self.config.as_dict()}


@dataclass
class KangEstimator:
    """Kang et al.'s GB + LightGBM vote (see :mod:`sseflows.rank.kang`)."""

    n_runs: int = N_RUNS
    seed: int = 0
    model: KangModel | None = None
    name: str = "kang"

    def fit(self, features: np.ndarray, table: TrainingTable) -> KangEstimator:
        self.model = KangModel(n_runs=self.n_runs, seed=self.seed).fit(features, table.superionic())
        return self

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        if self.model is None:
            raise ValueError("Kang's model has not been fit")
        votes = self.model.predict(features)
        missing = np.full(len(features), np.nan)
        return {
            "log10_sigma": missing,
            "log10_sigma_sd": missing,
            "log10_sigma_lo": missing,
            "log10_sigma_hi": missing,
            "p_superionic": votes["p_superionic"],
            "p_superionic_sd": votes["p_superionic_sd"],
            "superionic_all_runs": votes["superionic_all_runs"],
        }

    def settings(self) -> dict[str, Any]:
        return {"model": self.name, "n_runs": self.n_runs, "seed": self.seed}


@dataclass
class ClusterEstimator:
    """Laskowski 2023 clusters of the labelled rows plus an optional pool.

    Attributes:
        depth: Number of clusters (000 L401: 241 for their ~26,000 structures; capped at
            the number of rows).
        pool_features: Unlabelled pool rows clustered together with the labels (the
            semi-supervised part); None clusters the labelled rows alone.
    """

    depth: int = SELECTION_DEPTH
    pool_features: np.ndarray | None = None
    model: ClusterModel | None = None
    medians: np.ndarray | None = None
    cluster_mean: np.ndarray | None = None
    cluster_share: np.ndarray | None = None
    name: str = "clusters"

    def _finite(self, features: np.ndarray) -> np.ndarray:
        assert self.medians is not None
        x = np.asarray(features, dtype=float)
        return np.where(np.isnan(x), self.medians, x)

    def fit(self, features: np.ndarray, table: TrainingTable) -> ClusterEstimator:
        x = np.asarray(features, dtype=float)
        self.medians = np.nan_to_num(np.nanmedian(x, axis=0))
        pool = np.zeros((0, x.shape[1])) if self.pool_features is None else self.pool_features
        y = table.y("bound")
        self.model = ClusterModel(depth=min(self.depth, len(x) + len(pool))).fit(
            self._finite(x), y, self._finite(pool)
        )
        k = self.model.n_clusters
        labelled = self.model.labelled_cluster
        counts = np.bincount(labelled, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.cluster_mean = np.bincount(labelled, weights=y, minlength=k) / counts
            self.cluster_share = (
                np.bincount(labelled, weights=table.superionic().astype(float), minlength=k)
                / counts
            )
        return self

    def predict(self, features: np.ndarray) -> dict[str, np.ndarray]:
        if self.model is None or self.cluster_mean is None or self.cluster_share is None:
            raise ValueError("the cluster model has not been fit")
        assignment = self.model.assign(self._finite(features))
        cluster = np.asarray(assignment.cluster, dtype=int)
        missing = np.full(len(cluster), np.nan)
        return {
            "log10_sigma": self.cluster_mean[cluster],
            "log10_sigma_sd": missing,
            "log10_sigma_lo": missing,
            "log10_sigma_hi": missing,
            "p_superionic": self.cluster_share[cluster],
            "p_superionic_sd": missing,
            "cluster": cluster,
            "selected": np.asarray(assignment.selected, dtype=bool),
        }

    def settings(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "depth": self.depth,
            "n_pool": 0 if self.pool_features is None else len(self.pool_features),
        }


ESTIMATORS = ("ensemble", "kang", "clusters")


def estimator_from_name(name: str, **settings: Any) -> Estimator:
    """A fresh estimator by name, with ``settings`` overriding its defaults."""
    if name == "ensemble":
        return EnsembleEstimator(EnsembleSettings(**settings))
    if name == "kang":
        return KangEstimator(**settings)
    if name == "clusters":
        return ClusterEstimator(**settings)
    raise ValueError(f"unknown ranking model {name!r}; choose one of {', '.join(ESTIMATORS)}")
