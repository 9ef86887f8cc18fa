"""Semi-supervised clustering of Laskowski, McHaffie, See 2023 (seeds 000; thesis reprint 001).

The method, as the paper defines it, and how this module implements it. ``000 L288`` is line
288 of ``seeds/000_*.txt`` (the EES paper), ``001 L994`` line 994 of ``seeds/001_*.txt``
(McHaffie's thesis: ch. 2 and App. A reprint the paper and its supplement).

1. **Ward agglomerative clustering** of every structure, pool and labelled alike, in Euclidean
   feature space; the labels play no part in it (000 L284–300, 001 L387). One
   ``scipy.cluster.hierarchy.linkage(method="ward")`` gives the whole tree; the partition into
   ``k`` clusters (the "clustering depth" ``k``) is the tree with its last ``k − 1`` merges
   undone (:func:`cut_depths`). That is what ``fcluster(Z, k, "maxclust")`` returns when no two
   merge heights tie, but it always gives exactly ``k`` nested clusters, which the frozen-state
   rule needs (it compares depth ``k`` with depth ``k − 1``); with tied heights (duplicate
   structures) ``fcluster`` may return fewer. Depths 2–300 are swept (000 L304–305).
2. **Feature scaling** is not stated in the paper. Its second-order descriptor mixes SOAP with
   the sine Coulomb matrix at a ratio α = 2–4·10⁻⁶ (001 L1052–1054), which only makes sense on
   raw (unscaled) features, so the paper most likely clustered raw descriptors. Here
   ``scaling="standard"`` (the default, :data:`DEFAULT_SCALING`) centres every column on its
   mean and divides by its population standard deviation over pool + labelled rows (a constant
   column is centred and left unscaled); ``scaling="none"`` reproduces the raw-feature reading.
3. **Intracluster conductivity variance** (000 L325–339, 001 L392–396, L988–992)::

       W_σ = Σ_k Σ_{i ∈ C_k} (log σ_i − mean_k log σ)²

   over the *labelled* members of each cluster. It is a sum, not an average: neither over
   clusters nor over labels does the paper divide (the "composite" variance of 000 L348). Its
   unit is (log10 S/cm)²; the base of the logarithm is not stated (the label sets are tabulated
   as log10 σ, and another base only multiplies W_σ by a constant), so log10 is used.
4. **Frozen state** (001 L994–1002): every label's partial variance ``PV_x = (log σ_x −
   mean_k)²`` is saved at each depth; at the next depth, a label that is the only label in its
   cluster keeps the PV saved at the previous depth instead of 0. Since clusters only split with
   depth, this is the PV it had at the last depth where its cluster held two or more labels (a
   label alone already at depth 1, i.e. a set with one label, has PV 0). W_σ(k) is the sum of
   the (possibly frozen) PVs (:func:`frozen_w_sigma`). The curve is always computed from depth
   1 upwards so that "the previous depth" exists for every depth asked for.
5. **Scoring a representation**: the mean of W_σ over depths 2–50 (000 L344–347), lower is
   better, against a control in which "clustering outcomes are randomly assigned", averaged
   over 100 draws (000 L269–272, L351). How the random assignment is drawn is not stated.
   Here (:func:`random_control_curves`) each draw gives the labels to distinct structures
   picked uniformly at random and reads their clusters off the same tree: the cluster sizes
   are those of the real clustering at every depth, the assignment of labels to clusters is
   random, and the partitions stay nested, so the frozen-state rule applies unchanged.
6. **Selection** (000 L396–404): at the 241st depth (after which W_σ "does not appreciably
   decrease", 000 L386–388), "all clusters that contain or are directly adjacent (i.e. the
   nearest cluster in the Euclidean feature space) to high σ labels", high meaning
   σ > 1e-5 S/cm (000 L393, L415; strict). The distance between clusters is not defined. Here
   ``neighbour="centroid"`` (default) adds, for each cluster that holds a high label, the other
   cluster whose centroid (mean feature vector of all its members, in the clustering space) is
   nearest to its centroid; ``neighbour="label"`` adds, for each high label, the other cluster
   whose centroid is nearest to that label's feature vector.
7. **New candidates** are not part of the paper's method (it clusters every candidate with the
   labels). :meth:`ClusterModel.assign` puts a new candidate in the cluster with the nearest
   centroid (Euclidean, clustering space) and calls it selected when that cluster is; a pool
   member's Ward cluster (:attr:`ClusterModel.pool_cluster`) can differ from its nearest
   centroid near cluster borders.

Labels must be finite log10 σ (S/cm); how censored values (``<1E-10``) enter is the training
table's decision, not this module's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.cluster.hierarchy import linkage as scipy_linkage

Scaling = Literal["standard", "none"]
Neighbour = Literal["centroid", "label"]

SWEEP_DEPTHS = range(2, 301)
"""Clustering depths of the paper's sweep, 2–300 clusters (000 L304–305)."""
SCORE_DEPTHS = range(2, 51)
"""Depths whose mean W_σ scores a representation, 2–50 clusters (000 L344–347)."""
N_RANDOM = 100
"""Random-assignment control draws averaged (000 L271–272, L351)."""
SELECTION_DEPTH = 241
"""Depth at which the paper selects clusters (000 L386–388, L401)."""
HIGH_SIGMA_LOG10 = -5.0
"""A label is "high" when log10 σ (S/cm) is strictly above this (000 L393, L415)."""
DEFAULT_SCALING: Scaling = "standard"
DEFAULT_NEIGHBOUR: Neighbour = "centroid"
SEED = 0


# --------------------------------------------------------------------------------------------
# features and the tree


def scale_features(
    X: np.ndarray, scaling: Scaling = DEFAULT_SCALING
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X_scaled, center, scale)`` with ``X_scaled = (X − center) / scale``.

    ``"standard"``: column means and population standard deviations (a zero deviation becomes
    1, so a constant column turns into zeros); ``"none"``: center 0, scale 1.
    """
    X = _as_matrix(X)
    if scaling == "none":
        return X.copy(), np.zeros(X.shape[1]), np.ones(X.shape[1])
    if scaling != "standard":
        raise ValueError(f"unknown scaling {scaling!r}; use 'standard' or 'none'")
    center = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    return (X - center) / scale, center, scale


def ward_linkage(X: np.ndarray) -> np.ndarray:
    """Ward linkage matrix (scipy, Euclidean) of the rows of ``X`` (at least two rows).

    scipy builds the condensed distance matrix, n(n − 1)/2 float64: about 2.7 GB for the
    paper's ~26,000 structures, 0.26 GB for 8,000.
    """
    X = _as_matrix(X)
    if len(X) < 2:
        raise ValueError("Ward clustering needs at least two feature vectors")
    return np.asarray(scipy_linkage(X, method="ward", metric="euclidean"))


def cut_depths(Z: np.ndarray, depths: Iterable[int]) -> np.ndarray:
    """Cluster index of every leaf at each depth: shape ``(len(depths), n)``, int64.

    The partition at depth ``k`` is the tree ``Z`` with its last ``k − 1`` merges undone, so
    it has exactly ``min(k, n)`` clusters, numbered ``0 … k − 1`` in the order they split off
    (cluster 0 always holds the root's first child's lineage), and depth ``k + 1`` refines
    depth ``k``. Depths above ``n`` give ``n`` singletons.
    """
    depth_list = _check_depths(depths)
    Z = np.asarray(Z, dtype=float)
    n = len(Z) + 1
    size = np.ones(2 * n - 1, dtype=np.int64)
    size[n:] = Z[:, 3].astype(np.int64)
    # Contiguous leaf order: every node's leaves occupy [start[node], start[node] + size[node]).
    start = np.zeros(2 * n - 1, dtype=np.int64)
    for row in range(n - 2, -1, -1):
        node, a, b = n + row, int(Z[row, 0]), int(Z[row, 1])
        start[a] = start[node]
        start[b] = start[node] + size[a]
    order = np.empty(n, dtype=np.int64)
    order[start[:n]] = np.arange(n)

    wanted = {min(k, n) for k in depth_list}
    found: dict[int, np.ndarray] = {}
    labels = np.zeros(n, dtype=np.int64)
    for k in range(1, max(wanted) + 1):
        if k > 1:  # undo merge n − k: its second child becomes cluster k − 1
            b = int(Z[n - k, 1])
            labels[order[start[b] : start[b] + size[b]]] = k - 1
        if k in wanted:
            found[k] = labels.copy()
    return np.array([found[min(k, n)] for k in depth_list], dtype=np.int64).reshape(
        len(depth_list), n
    )


# --------------------------------------------------------------------------------------------
# W_σ


def intracluster_variance(y: np.ndarray, clusters: np.ndarray) -> float:
    """W_σ without the frozen state: Σ_k Σ_{i∈C_k} (y_i − mean_k y)², (log10 S/cm)².

    ``y``: log10 σ of the labels; ``clusters``: the cluster of each label (000 L325–339).
    A cluster with a single label contributes 0.
    """
    return float(partial_variances(y, clusters)[0].sum())


def partial_variances(y: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(PV, n_labels)`` per label: ``PV_x = (y_x − mean of y in x's cluster)²`` (001 L996)
    and the number of labels in that cluster (1: the label is alone)."""
    y = np.asarray(y, dtype=float)
    clusters = np.asarray(clusters, dtype=np.int64)
    if y.shape != clusters.shape or y.ndim != 1:
        raise ValueError("y and clusters must be 1-D arrays of the same length")
    if len(y) == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(clusters, return_inverse=True)
    counts = np.bincount(inverse)
    means = np.bincount(inverse, weights=y) / counts
    return (y - means[inverse]) ** 2, counts[inverse]


def frozen_w_sigma(cuts: np.ndarray, y: np.ndarray) -> np.ndarray:
    """W_σ at consecutive depths with the frozen-state rule (001 L994–1002).

    ``cuts``: shape ``(K, n_labels)``, row ``j`` the cluster of every label at depth ``j + 1``
    (nested partitions, depth 1 first); ``y``: log10 σ of the labels. A label alone in its
    cluster at depth ``j`` takes its partial variance from depth ``j − 1``; at depth 1 it keeps
    0. Returns ``K`` values, (log10 S/cm)².
    """
    cuts = np.asarray(cuts, dtype=np.int64)
    y = np.asarray(y, dtype=float)
    if cuts.ndim != 2 or cuts.shape[1] != len(y):
        raise ValueError("cuts must have shape (depths, number of labels)")
    out = np.zeros(len(cuts))
    saved: np.ndarray | None = None
    for j, row in enumerate(cuts):
        pv, n_in = partial_variances(y, row)
        if saved is not None:
            alone = n_in == 1
            pv[alone] = saved[alone]
        out[j] = pv.sum()
        saved = pv
    return out


def w_sigma_curve(
    linkage: np.ndarray,
    y: np.ndarray,
    labelled_mask: np.ndarray,
    depths: Iterable[int] = SWEEP_DEPTHS,
) -> np.ndarray:
    """W_σ (frozen state) of the tree ``linkage`` at each of ``depths``, (log10 S/cm)².

    ``labelled_mask``: which leaves carry a label (length ``n``, the rows clustered);
    ``y``: log10 σ, either one value per leaf (values where the mask is False are ignored,
    NaN allowed) or one per labelled leaf in leaf order.
    """
    depth_list = _check_depths(depths)
    mask, y_lab = _labels(y, labelled_mask, len(linkage) + 1)
    cuts = cut_depths(linkage, range(1, max(depth_list) + 1))
    curve = frozen_w_sigma(cuts[:, mask], y_lab)
    return curve[[min(k, len(curve)) - 1 for k in depth_list]]


def random_control_curves(
    linkage: np.ndarray,
    y: np.ndarray,
    labelled_mask: np.ndarray,
    depths: Iterable[int] = SCORE_DEPTHS,
    n_random: int = N_RANDOM,
    seed: int = SEED,
) -> np.ndarray:
    """W_σ curves of the random-assignment control, shape ``(n_random, len(depths))``.

    Each draw gives the labels to ``n_labels`` distinct leaves picked uniformly at random and
    reads their clusters off the same tree: the clusters keep their sizes at every depth, the
    labels fall into them at random, and the frozen-state rule applies as for the real
    clustering. (The paper only says "clustering outcomes are randomly assigned", 000 L271.)
    """
    depth_list = _check_depths(depths)
    if n_random < 1:
        raise ValueError("n_random must be at least 1")
    n = len(linkage) + 1
    _, y_lab = _labels(y, labelled_mask, n)
    cuts = cut_depths(linkage, range(1, max(depth_list) + 1))
    index = [min(k, len(cuts)) - 1 for k in depth_list]
    rng = np.random.default_rng(seed)
    out = np.empty((n_random, len(depth_list)))
    for r in range(n_random):
        leaves = rng.choice(n, size=len(y_lab), replace=False)
        out[r] = frozen_w_sigma(cuts[:, leaves], y_lab)[index]
    return out


@dataclass(frozen=True)
class RepresentationScore:
    """A representation's W_σ against the random-assignment control, (log10 S/cm)².

    ``mean``: mean W_σ over ``depths`` (lower is better); ``control_mean``: the same mean
    averaged over the control draws; ``control_sd``: standard deviation (ddof 1; 0 for one
    draw) of the per-draw means; ``curve`` and ``control_curve``: W_σ per depth (the control's
    averaged over draws).
    """

    depths: tuple[int, ...]
    curve: np.ndarray
    mean: float
    control_curve: np.ndarray
    control_mean: float
    control_sd: float

    @property
    def ratio(self) -> float:
        """``mean / control_mean``: below 1 when the clustering groups similar σ together."""
        return self.mean / self.control_mean if self.control_mean else float("nan")


def score_representation(
    X: np.ndarray,
    y: np.ndarray,
    labelled_mask: np.ndarray,
    depths: Iterable[int] = SCORE_DEPTHS,
    n_random: int = N_RANDOM,
    seed: int = SEED,
    scaling: Scaling = DEFAULT_SCALING,
) -> RepresentationScore:
    """Score the representation ``X`` (pool and labelled rows together) as the paper does.

    Ward-clusters the (scaled) rows once, then the mean frozen-state W_σ over ``depths``
    (default 2–50, 000 L344–347) next to the random-assignment control (:data:`N_RANDOM`
    draws). ``y``: log10 σ (S/cm) per row or per labelled row; ``labelled_mask``: rows with a
    label.
    """
    depth_list = _check_depths(depths)
    Xs, _, _ = scale_features(X, scaling)
    Z = ward_linkage(Xs)
    curve = w_sigma_curve(Z, y, labelled_mask, depth_list)
    control = random_control_curves(Z, y, labelled_mask, depth_list, n_random, seed)
    per_draw = control.mean(axis=1)
    return RepresentationScore(
        depths=tuple(depth_list),
        curve=curve,
        mean=float(curve.mean()),
        control_curve=control.mean(axis=0),
        control_mean=float(per_draw.mean()),
        control_sd=float(per_draw.std(ddof=1)) if n_random > 1 else 0.0,
    )


def depth_sweep(
    X: np.ndarray,
    y: np.ndarray,
    labelled_mask: np.ndarray,
    depths: Iterable[int] = SWEEP_DEPTHS,
    scaling: Scaling = DEFAULT_SCALING,
) -> np.ndarray:
    """Frozen-state W_σ of ``X`` (pool and labelled rows) at each depth, default 2–300."""
    Xs, _, _ = scale_features(X, scaling)
    return w_sigma_curve(ward_linkage(Xs), y, labelled_mask, depths)


# --------------------------------------------------------------------------------------------
# selection


def cluster_centroids(X: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    """Mean feature vector of every cluster's members, shape ``(n_clusters, n_features)``."""
    X = _as_matrix(X)
    clusters = np.asarray(clusters, dtype=np.int64)
    counts = np.bincount(clusters, minlength=n_clusters).astype(float)
    if np.any(counts == 0):
        raise ValueError("every cluster needs at least one member")
    sums = np.zeros((n_clusters, X.shape[1]))
    np.add.at(sums, clusters, X)
    return sums / counts[:, None]


def selected_clusters(
    centroids: np.ndarray,
    label_clusters: np.ndarray,
    y_labelled: np.ndarray,
    X_labelled: np.ndarray | None = None,
    threshold_log10: float = HIGH_SIGMA_LOG10,
    neighbour: Neighbour = DEFAULT_NEIGHBOUR,
) -> np.ndarray:
    """Which clusters the paper selects (000 L401–404), a bool per cluster.

    A cluster is selected when it holds a label with log10 σ > ``threshold_log10`` (S/cm), or
    when it is the nearest other cluster (Euclidean) to one: to such a cluster's centroid
    (``neighbour="centroid"``) or to such a label's feature vector (``"label"``, needs
    ``X_labelled`` in the clustering space).
    """
    centroids = _as_matrix(centroids)
    label_clusters = np.asarray(label_clusters, dtype=np.int64)
    high = np.asarray(y_labelled, dtype=float) > threshold_log10
    chosen = np.zeros(len(centroids), dtype=bool)
    chosen[label_clusters[high]] = True
    if len(centroids) < 2:
        return chosen
    if neighbour == "centroid":
        origins = np.flatnonzero(chosen)
        points, own = centroids[origins], origins
    elif neighbour == "label":
        if X_labelled is None:
            raise ValueError("neighbour='label' needs X_labelled")
        points, own = _as_matrix(X_labelled)[high], label_clusters[high]
    else:
        raise ValueError(f"unknown neighbour rule {neighbour!r}; use 'centroid' or 'label'")
    for point, cluster in zip(points, own, strict=True):
        distance = np.linalg.norm(centroids - point, axis=1)
        distance[cluster] = np.inf
        chosen[int(np.argmin(distance))] = True
    return chosen


def select_pool(
    X: np.ndarray,
    y: np.ndarray,
    labelled_mask: np.ndarray,
    depth: int = SELECTION_DEPTH,
    threshold_log10: float = HIGH_SIGMA_LOG10,
    scaling: Scaling = DEFAULT_SCALING,
    neighbour: Neighbour = DEFAULT_NEIGHBOUR,
) -> np.ndarray:
    """The pool members (rows where ``labelled_mask`` is False) in selected clusters.

    Clusters all rows of ``X`` at ``depth`` and applies :func:`selected_clusters`; returns a
    bool per pool row, in row order.
    """
    mask = np.asarray(labelled_mask, dtype=bool)
    model = ClusterModel().fit(
        _as_matrix(X)[mask],
        _labels(y, mask, len(mask))[1],
        _as_matrix(X)[~mask],
        depth=depth,
        threshold_log10=threshold_log10,
        scaling=scaling,
        neighbour=neighbour,
    )
    return model.selected[model.pool_cluster]


# --------------------------------------------------------------------------------------------
# the model


@dataclass(frozen=True)
class ClusterAssignment:
    """Per candidate: the cluster (index into the model's clusters) and whether it is selected."""

    cluster: np.ndarray
    selected: np.ndarray

    def records(self) -> list[dict[str, Any]]:
        """``[{"cluster": int, "selected": bool}, ...]`` in candidate order."""
        return [
            {"cluster": int(c), "selected": bool(s)}
            for c, s in zip(self.cluster, self.selected, strict=True)
        ]


def _empty_float(*shape: int) -> np.ndarray:
    return np.zeros(shape)


def _empty_int() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def _empty_bool() -> np.ndarray:
    return np.zeros(0, dtype=bool)


@dataclass
class ClusterModel:
    """Laskowski 2023 clustering at one depth, with the selected clusters.

    Settings: ``depth`` (clusters, default 241, 000 L401), ``threshold_log10`` (log10 S/cm,
    default −5, strict), ``scaling``, ``neighbour`` (see the module docstring). Fitted state
    (numpy arrays and plain numbers, :meth:`to_dict` for JSON): ``center`` and ``scale`` of the
    features, ``centroids`` (clustering space), ``selected`` per cluster, ``labelled_cluster``
    and ``pool_cluster`` (the Ward cluster of every fitted row), ``n_labels`` and ``n_high``
    per cluster, ``size`` per cluster.
    """

    depth: int = SELECTION_DEPTH
    threshold_log10: float = HIGH_SIGMA_LOG10
    scaling: Scaling = DEFAULT_SCALING
    neighbour: Neighbour = DEFAULT_NEIGHBOUR
    center: np.ndarray = field(default_factory=lambda: _empty_float(0))
    scale: np.ndarray = field(default_factory=lambda: _empty_float(0))
    centroids: np.ndarray = field(default_factory=lambda: _empty_float(0, 0))
    selected: np.ndarray = field(default_factory=_empty_bool)
    labelled_cluster: np.ndarray = field(default_factory=_empty_int)
    pool_cluster: np.ndarray = field(default_factory=_empty_int)
    size: np.ndarray = field(default_factory=_empty_int)
    n_labels: np.ndarray = field(default_factory=_empty_int)
    n_high: np.ndarray = field(default_factory=_empty_int)

    @property
    def n_clusters(self) -> int:
        """Clusters fitted (``min(depth, rows)``); 0 before :meth:`fit`."""
        return len(self.centroids)

    def fit(
        self,
        X_labelled: np.ndarray,
        y_labelled: np.ndarray,
        X_pool: np.ndarray,
        depth: int | None = None,
        threshold_log10: float | None = None,
        scaling: Scaling | None = None,
        neighbour: Neighbour | None = None,
    ) -> ClusterModel:
        """Ward-cluster labelled and pool rows together, cut at ``depth``, select clusters.

        ``y_labelled``: log10 σ (S/cm) of the labelled rows. Arguments left None keep the
        model's settings. Returns the model.
        """
        self.depth = self.depth if depth is None else int(depth)
        if threshold_log10 is not None:
            self.threshold_log10 = float(threshold_log10)
        self.scaling = self.scaling if scaling is None else scaling
        self.neighbour = self.neighbour if neighbour is None else neighbour
        if self.depth < 1:
            raise ValueError("depth must be at least 1")
        X_lab, X_pool = _as_matrix(X_labelled), _as_matrix(X_pool)
        y_lab = np.asarray(y_labelled, dtype=float)
        if len(y_lab) != len(X_lab) or not np.all(np.isfinite(y_lab)):
            raise ValueError("y_labelled needs one finite log10 σ per labelled row")
        if X_lab.shape[1] != X_pool.shape[1] and len(X_pool):
            raise ValueError("labelled and pool rows need the same number of features")
        X_all = np.vstack([X_lab, X_pool.reshape(-1, X_lab.shape[1])])
        Xs, self.center, self.scale = scale_features(X_all, self.scaling)
        clusters = cut_depths(ward_linkage(Xs), [self.depth])[0]
        k = int(clusters.max()) + 1
        n_lab = len(X_lab)
        self.labelled_cluster = clusters[:n_lab]
        self.pool_cluster = clusters[n_lab:]
        self.centroids = cluster_centroids(Xs, clusters, k)
        self.size = np.bincount(clusters, minlength=k)
        self.n_labels = np.bincount(self.labelled_cluster, minlength=k)
        high = y_lab > self.threshold_log10
        self.n_high = np.bincount(self.labelled_cluster[high], minlength=k)
        self.selected = selected_clusters(
            self.centroids,
            self.labelled_cluster,
            y_lab,
            Xs[:n_lab],
            self.threshold_log10,
            self.neighbour,
        )
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Rows of ``X`` in the clustering space (the fitted scaling)."""
        self._check_fitted()
        X = _as_matrix(X)
        if X.shape[1] != len(self.center):
            raise ValueError(
                f"the model was fitted on {len(self.center)} features, not {X.shape[1]}"
            )
        return (X - self.center) / self.scale

    def assign(self, X_new: np.ndarray) -> ClusterAssignment:
        """Nearest-centroid cluster (Euclidean, clustering space) and selection of new rows."""
        Xs = self.transform(X_new)
        d2 = (
            (Xs**2).sum(axis=1)[:, None]
            - 2.0 * Xs @ self.centroids.T
            + (self.centroids**2).sum(axis=1)[None, :]
        )
        cluster = np.argmin(d2, axis=1).astype(np.int64)
        return ClusterAssignment(cluster=cluster, selected=self.selected[cluster])

    def pool_selected(self) -> np.ndarray:
        """Bool per fitted pool row: its Ward cluster is selected (the paper's selection)."""
        self._check_fitted()
        return self.selected[self.pool_cluster]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (lists and plain numbers); :meth:`from_dict` restores it."""
        out: dict[str, Any] = {
            "depth": self.depth,
            "threshold_log10": self.threshold_log10,
            "scaling": self.scaling,
            "neighbour": self.neighbour,
        }
        for name in _ARRAY_FIELDS:
            out[name] = getattr(self, name).tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterModel:
        """The model :meth:`to_dict` described."""
        model = cls(
            depth=int(data["depth"]),
            threshold_log10=float(data["threshold_log10"]),
            scaling=data["scaling"],
            neighbour=data["neighbour"],
        )
        for name, dtype in _ARRAY_FIELDS.items():
            setattr(model, name, np.asarray(data[name], dtype=dtype))
        if model.centroids.size == 0:
            model.centroids = model.centroids.reshape(0, len(model.center))
        return model

    def _check_fitted(self) -> None:
        if self.n_clusters == 0:
            raise ValueError("the clustering model is not fitted")


_ARRAY_FIELDS: dict[str, type] = {
    "center": float,
    "scale": float,
    "centroids": float,
    "selected": bool,
    "labelled_cluster": np.int64,
    "pool_cluster": np.int64,
    "size": np.int64,
    "n_labels": np.int64,
    "n_high": np.int64,
}


# --------------------------------------------------------------------------------------------
# helpers


def _as_matrix(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError("features must be a 2-D array (rows × features)")
    return X


def _check_depths(depths: Iterable[int]) -> list[int]:
    depth_list = [int(k) for k in depths]
    if not depth_list or min(depth_list) < 1:
        raise ValueError("depths must be a non-empty list of cluster counts ≥ 1")
    return depth_list


def _labels(
    y: Sequence[float] | np.ndarray, labelled_mask: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(mask, y of the labelled rows)`` from a per-row or per-label ``y``."""
    mask = np.asarray(labelled_mask, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"labelled_mask must have one entry per clustered row ({n})")
    y = np.asarray(y, dtype=float)
    if y.shape == (n,):
        y_lab = y[mask]
    elif y.shape == (int(mask.sum()),):
        y_lab = y
    else:
        raise ValueError("y needs one value per row or one per labelled row")
    if not np.all(np.isfinite(y_lab)):
        raise ValueError("labelled rows need finite log10 σ")
    return mask, y_lab
