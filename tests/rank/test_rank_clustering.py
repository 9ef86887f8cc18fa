"""Laskowski 2023 clustering: W_σ, the frozen state, the random control and the selection,
on toy sets small enough to work out by hand."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster

from sseflows.rank.clustering import (
    ClusterModel,
    cut_depths,
    frozen_w_sigma,
    intracluster_variance,
    partial_variances,
    random_control_curves,
    scale_features,
    score_representation,
    select_pool,
    selected_clusters,
    w_sigma_curve,
    ward_linkage,
)

# Three groups on a line: A = {0, 1}, B = {10, 11, 12}, C = {30, 31}. Ward joins A and B
# before C (Ward distances √2.4·10.5 < √2.4·19.5 < √2·30), so depth 2 = {A ∪ B, C} and
# depth 3 = {A, B, C}; inside B, 12 joins {10, 11} last (√(4/3)·1.5 > 1), so depth 4 splits
# B into {10, 11} and {12}.
TOY_X = np.array([0.0, 1.0, 10.0, 11.0, 12.0, 30.0, 31.0])
TOY_MASK = np.array([True, True, True, False, True, True, False])
TOY_Y = np.array([-3.0, -5.0, -4.0, np.nan, -6.0, -8.0, np.nan])  # log10 S/cm
# By hand (labels −3, −5 | −4, −6 | −8):
#   depth 1: mean −5.2, PV 4.84, 0.04, 1.44, 0.64, 7.84 → W = 14.8
#   depth 2: A ∪ B mean −4.5 → PV 2.25, 0.25, 0.25, 2.25 (sum 5); −8 alone in C, frozen at
#            7.84 → W = 12.84 (5.0 without the frozen state)
#   depth 3: A mean −4 → 1, 1; B mean −5 → 1, 1; C still frozen 7.84 → W = 11.84
#   depth 4: −4 and −6 now alone, frozen at 1 each → W = 11.84 (4.0 without)
TOY_W = {1: 14.8, 2: 12.84, 3: 11.84, 4: 11.84}


def test_intracluster_variance_by_hand():
    y = np.array([-3.0, -5.0, -4.0, -6.0, -8.0])
    assert intracluster_variance(y, np.array([0, 0, 0, 0, 1])) == pytest.approx(5.0)
    assert intracluster_variance(y, np.array([0, 0, 1, 1, 2])) == pytest.approx(4.0)
    assert intracluster_variance(y, np.zeros(5, dtype=int)) == pytest.approx(14.8)
    pv, n_in = partial_variances(y, np.array([7, 7, 3, 3, 9]))
    assert pv == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.0])
    assert n_in.tolist() == [2, 2, 2, 2, 1]


def test_toy_tree_partitions():
    cuts = cut_depths(ward_linkage(TOY_X), [1, 2, 3, 4])
    groups = [{tuple(np.flatnonzero(row == c)) for c in set(row)} for row in cuts]
    assert groups[0] == {(0, 1, 2, 3, 4, 5, 6)}
    assert groups[1] == {(0, 1, 2, 3, 4), (5, 6)}
    assert groups[2] == {(0, 1), (2, 3, 4), (5, 6)}
    assert groups[3] == {(0, 1), (2, 3), (4,), (5, 6)}


def test_w_sigma_curve_with_frozen_state_by_hand():
    Z = ward_linkage(TOY_X)
    curve = w_sigma_curve(Z, TOY_Y, TOY_MASK, [2, 3, 4, 1])
    assert curve == pytest.approx([TOY_W[2], TOY_W[3], TOY_W[4], TOY_W[1]], abs=1e-9)
    # y given per labelled row only gives the same curve
    per_label = TOY_Y[TOY_MASK]
    assert w_sigma_curve(Z, per_label, TOY_MASK, [2, 3]) == pytest.approx([12.84, 11.84])


def test_frozen_state_keeps_w_constant_once_every_label_is_alone():
    Z = ward_linkage(TOY_X)
    curve = w_sigma_curve(Z, TOY_Y, TOY_MASK, range(4, 11))  # depths past n = 7 are clipped
    assert curve == pytest.approx([11.84] * 7, abs=1e-9)


def test_frozen_state_rule_on_explicit_cuts():
    # Four labels; depth 1 one cluster; depth 2 splits off label 3; depth 3 splits 0|1,2.
    y = np.array([0.0, 2.0, 4.0, 10.0])
    cuts = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 1, 2]])
    # depth 1: mean 4 → PV 16, 4, 0, 36 → 56
    # depth 2: {0, 2, 4} mean 2 → 4, 0, 4; label 3 alone → frozen 36 → 44
    # depth 3: label 0 alone → frozen 4; {2, 4} mean 3 → 1, 1; label 3 still 36 → 42
    assert frozen_w_sigma(cuts, y) == pytest.approx([56.0, 44.0, 42.0])
    # without the rule the lone labels count 0
    assert [intracluster_variance(y, row) for row in cuts] == pytest.approx([56.0, 8.0, 2.0])


def test_cut_depths_match_fcluster_maxclust_without_ties():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    Z = ward_linkage(X)
    depths = list(range(1, 41))
    cuts = cut_depths(Z, depths)
    for k, row in zip(depths, cuts, strict=True):
        assert len(set(row)) == k
        reference = fcluster(Z, t=k, criterion="maxclust")
        pairs = set(zip(row.tolist(), reference.tolist(), strict=True))
        assert len(pairs) == k  # the same partition up to renaming
    for coarse, fine in itertools.pairwise(cuts):  # nested: each fine cluster in one coarse
        assert all(len(set(coarse[fine == c])) == 1 for c in set(fine))


def test_random_control_on_two_pairs():
    # Two tight pairs, all four labelled, y = −3, −3, −6, −6. Ward: depth 2 = the pairs, so
    # W(2) = 0. A random assignment with the same cluster sizes pairs the labels in one of
    # three ways, equally likely: {−3,−3 | −6,−6} (W 0) or twice {−3,−6 | −3,−6} (W 9), so
    # the control's mean is 6 and its per-draw standard deviation √(2/9)·9 ≈ 4.24.
    X = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 0.0], [10.0, 1.0]])
    y = np.array([-3.0, -3.0, -6.0, -6.0])
    mask = np.ones(4, dtype=bool)
    score = score_representation(X, y, mask, depths=[2], n_random=4000, seed=1)
    assert score.mean == pytest.approx(0.0, abs=1e-9)
    assert score.control_mean == pytest.approx(6.0, abs=0.25)
    assert score.control_sd == pytest.approx(np.sqrt(2 / 9) * 9, abs=0.15)
    assert score.ratio == pytest.approx(0.0, abs=1e-9)
    draws = random_control_curves(ward_linkage(X), y, mask, [2], n_random=50, seed=1)
    assert set(np.round(draws[:, 0], 9)) <= {0.0, 9.0}
    again = random_control_curves(ward_linkage(X), y, mask, [2], n_random=50, seed=1)
    assert np.array_equal(draws, again)


def test_random_control_at_depth_one_equals_the_total_variance():
    # At depth 1 every assignment puts all labels in one cluster: each draw gives 14.8.
    Z = ward_linkage(TOY_X)
    draws = random_control_curves(Z, TOY_Y, TOY_MASK, [1, 2, 3], n_random=200, seed=0)
    assert draws[:, 0] == pytest.approx(np.full(200, 14.8), abs=1e-9)
    assert np.all(draws >= 0)


def test_score_representation_default_depths_and_scaling():
    score = score_representation(TOY_X, TOY_Y, TOY_MASK, n_random=20, seed=0)
    assert score.depths == tuple(range(2, 51))
    # 12.84, then 11.84 for the 48 depths 3–50 (clipped at 7 clusters)
    assert score.mean == pytest.approx((12.84 + 48 * 11.84) / 49, abs=1e-9)
    assert len(score.control_curve) == 49
    # 1-D standardisation does not change a Ward tree: same score with raw features
    raw = score_representation(TOY_X, TOY_Y, TOY_MASK, n_random=20, seed=0, scaling="none")
    assert raw.mean == pytest.approx(score.mean, abs=1e-9)


def test_scale_features():
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    Xs, center, scale = scale_features(X)
    assert center == pytest.approx([3.0, 5.0])
    assert scale == pytest.approx([np.sqrt(8 / 3), 1.0])
    assert Xs[:, 1] == pytest.approx([0.0, 0.0, 0.0])
    assert Xs.std(axis=0)[0] == pytest.approx(1.0)
    same, _, _ = scale_features(X, "none")
    assert np.array_equal(same, X)


# Selection toy: A = {0, 1} (centroid 0.5), B = {−12, −11} (−11.5), C = {12.5, 13.5} (13).
# One high label at x = 1 (log10 σ −3): from A's centroid B is nearest (12 < 12.5); from the
# label itself C is nearest (12 < 12.5). The label at −11 has log10 σ exactly −5: not high.
SEL_X = np.array([0.0, 1.0, -12.0, -11.0, 12.5, 13.5])
SEL_MASK = np.array([False, True, False, True, False, False])
SEL_Y = np.array([np.nan, -3.0, np.nan, -5.0, np.nan, np.nan])


def test_selection_centroid_and_label_rules():
    on_centroid = select_pool(SEL_X, SEL_Y, SEL_MASK, depth=3, scaling="none")
    # pool rows in order: 0 (A), −12 (B), 12.5 (C), 13.5 (C)
    assert on_centroid.tolist() == [True, True, False, False]
    on_label = select_pool(SEL_X, SEL_Y, SEL_MASK, depth=3, scaling="none", neighbour="label")
    assert on_label.tolist() == [True, False, True, True]
    # lowering the threshold makes the −5 label high: B holds it, A is its neighbour
    lower = select_pool(SEL_X, SEL_Y, SEL_MASK, depth=3, threshold_log10=-5.5, scaling="none")
    assert lower.tolist() == [True, True, False, False]


def test_selected_clusters_without_high_labels_selects_nothing():
    centroids = np.array([[0.0], [5.0], [9.0]])
    chosen = selected_clusters(centroids, np.array([0, 2]), np.array([-7.0, -6.0]))
    assert chosen.tolist() == [False, False, False]
    one = selected_clusters(centroids, np.array([2]), np.array([-4.0]))
    assert one.tolist() == [False, True, True]


def test_cluster_model_fit_assign_and_json_round_trip():
    X_lab, y_lab = SEL_X[SEL_MASK], SEL_Y[SEL_MASK]
    X_pool = SEL_X[~SEL_MASK]
    model = ClusterModel().fit(X_lab, y_lab, X_pool, depth=3, scaling="none")
    assert model.n_clusters == 3
    assert model.size.sum() == 6
    assert model.n_labels.sum() == 2 and model.n_high.sum() == 1
    assert model.pool_selected().tolist() == [True, True, False, False]
    a_cluster = int(model.labelled_cluster[0])  # the label at x = 1 is in A
    assert model.centroids[a_cluster] == pytest.approx([0.5])

    out = model.assign(np.array([0.3, -11.4, 13.2]))
    assert out.cluster[0] == a_cluster
    assert out.cluster[1] == model.labelled_cluster[1]  # B
    assert out.cluster[2] == model.pool_cluster[2]  # C
    assert out.selected.tolist() == [True, True, False]
    records = out.records()
    assert records[0] == {"cluster": a_cluster, "selected": True}

    restored = ClusterModel.from_dict(json.loads(json.dumps(model.to_dict())))
    again = restored.assign(np.array([0.3, -11.4, 13.2]))
    assert np.array_equal(again.cluster, out.cluster)
    assert np.array_equal(again.selected, out.selected)
    assert restored.depth == 3 and restored.scaling == "none"


def test_cluster_model_standardised_2d_and_errors():
    rng = np.random.default_rng(0)
    blobs = [rng.normal(loc, 0.1, size=(5, 2)) for loc in ([0, 0], [0, 100], [1, 0])]
    X = np.vstack(blobs)
    # Column 1 spans 100 units, column 0 one unit; standardised, both gaps are ~2 sd and the
    # noise 0.2 sd at most, so the three clusters are the three blobs.
    y = np.full(15, np.nan)
    y[0], y[10] = -3.0, -9.0
    mask = ~np.isnan(y)
    model = ClusterModel().fit(X[mask], y[mask], X[~mask], depth=3)
    clusters = model.assign(X).cluster
    assert [len(set(clusters[i : i + 5])) for i in (0, 5, 10)] == [1, 1, 1]
    assert len(set(clusters)) == 3
    with pytest.raises(ValueError, match="features"):
        model.assign(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not fitted"):
        ClusterModel().assign(X)
    with pytest.raises(ValueError, match="finite"):
        ClusterModel().fit(X[:2], np.array([np.nan, -3.0]), X[2:])
