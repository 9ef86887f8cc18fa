"""Novelty (the 5 % composition rule, feature distance), Kang's vote, cross-validation splits."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Composition

from sseflows.rank.kang import KangModel
from sseflows.rank.novelty import (
    FeatureNovelty,
    atomic_fractions,
    compositions_within,
    near_training_composition,
)
from sseflows.rank.splits import loco_clusters, split_indices

LLTO = Composition("Li0.5La0.5TiO3")  # 5 atoms: Li 0.1, La 0.1, Ti 0.2, O 0.6


def relative_difference(x1: float, x2: float) -> float:
    return abs(x1 - x2) / ((x1 + x2) / 2)


def test_five_percent_rule_by_hand() -> None:
    """Li0.52La0.5TiO3 has 5.02 atoms: Li 0.52/5.02 = 0.10359 vs 0.1 → 3.5 %; La, Ti, O each
    differ by 0.02/5.02 relative, 0.4 %: within. Li0.56: 0.56/5.06 = 0.11067 → 10.1 %: not."""
    assert atomic_fractions(LLTO) == pytest.approx({"Li": 0.1, "La": 0.1, "Ti": 0.2, "O": 0.6})
    assert relative_difference(0.1, 0.52 / 5.02) == pytest.approx(0.0352, abs=1e-4)
    assert relative_difference(0.6, 3 / 5.02) == pytest.approx(0.0040, abs=1e-4)
    assert compositions_within(LLTO, Composition("Li0.52La0.5TiO3"))
    assert relative_difference(0.1, 0.56 / 5.06) == pytest.approx(0.1013, abs=1e-4)
    assert not compositions_within(LLTO, Composition("Li0.56La0.5TiO3"))
    assert compositions_within(LLTO, Composition("Li0.56La0.5TiO3"), tolerance=0.11)
    assert compositions_within(LLTO, Composition("Li1La1Ti2O6"))  # same fractions


def test_an_element_in_only_one_composition_is_never_within() -> None:
    """F: 0 vs 0.02 is a relative difference of 2."""
    assert not compositions_within(LLTO, Composition("Li0.5La0.5TiO2.9F0.1"))
    assert not compositions_within(LLTO, Composition("Li0.5La0.5TiO2.9F0.1"), tolerance=1.9)
    assert compositions_within(LLTO, Composition("Li0.5La0.5TiO2.9F0.1"), tolerance=2.0)


def test_near_training_composition() -> None:
    training = [LLTO, Composition("Li6P2S8")]
    candidates = [
        Composition("Li0.52La0.5TiO3"),
        Composition("Li0.7La0.5TiO3"),
        Composition("Li3PS4"),
        Composition("Li3PS4Cl0.01"),
        Composition("Li7P3S11"),
    ]
    near = near_training_composition(candidates, training)
    assert near.tolist() == [True, False, True, False, False]
    assert near_training_composition(candidates, []).tolist() == [False] * 5


def test_feature_novelty_zero_on_training_rows_large_far_away() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(60, 4))
    model = FeatureNovelty().fit(train)
    assert model.novelty(train[:10]) == pytest.approx(np.zeros(10), abs=1e-6)
    assert model.typical_distance > 0
    far = model.novelty(np.array([[50.0, -50.0, 50.0, -50.0]]))[0]
    assert far > 10
    # a point between training rows is about as novel as a typical row (order 1)
    middle = model.novelty(train[:1] + 0.05)[0]
    assert 0 < middle < far / 10
    # NaN features are median-imputed, not propagated
    with_nan = train[:1].copy()
    with_nan[0, 1] = np.nan
    assert np.isfinite(model.novelty(with_nan)[0])


def test_feature_novelty_needs_a_fit() -> None:
    with pytest.raises(ValueError, match="not been fit"):
        FeatureNovelty().novelty(np.zeros((1, 3)))


def separable(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class = x0 > 0 with a gap: |x0| ∈ [1, 3]; three more columns of noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    x[:, 0] = rng.choice([-1, 1], size=n) * rng.uniform(1, 3, size=n)
    return x, x[:, 0] > 0


def test_kang_vote_on_a_separable_set() -> None:
    x, y = separable(160, seed=0)
    model = KangModel(n_runs=5).fit(x, y)
    assert len(model.gradient_boosting) == len(model.lightgbm) == 5
    summary = model.accuracy_summary()
    assert set(summary) == {"gb", "lgbm"}
    assert summary["gb"]["mean"] > 0.9 and summary["lgbm"]["mean"] > 0.9
    assert summary["gb"]["sd"] >= 0
    probe = np.array([[2.5, 0, 0, 0], [-2.5, 0, 0, 0], [2.0, 1, -1, 0.5], [-2.0, -1, 1, 0]])
    result = model.predict(probe)
    assert result["superionic_all_runs"].tolist() == [True, False, True, False]
    assert result["p_superionic"] == pytest.approx([1.0, 0.0, 1.0, 0.0])
    assert result["p_superionic_sd"] == pytest.approx([0.0] * 4)
    gb, lgbm = model.votes(probe)
    assert gb.tolist() == [5, 0, 5, 0] and lgbm.tolist() == [5, 0, 5, 0]


def test_kang_needs_both_classes_and_a_fit() -> None:
    x, _ = separable(20, seed=1)
    with pytest.raises(ValueError, match="superionic and non-superionic"):
        KangModel(n_runs=2).fit(x, np.ones(20, bool))
    with pytest.raises(ValueError, match="not been fit"):
        KangModel().predict(x)


def assert_partition(folds: list[tuple[np.ndarray, np.ndarray]], n: int) -> None:
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(n))  # every row tested exactly once
    for train, test in folds:
        assert not set(train) & set(test)
        assert len(train) + len(test) == n


def test_kfold_tests_every_row_once() -> None:
    folds = split_indices("kfold", 23, n_splits=5)
    assert len(folds) == 5
    assert_partition(folds, 23)
    assert sorted(len(test) for _, test in folds) == [4, 4, 5, 5, 5]


def test_grouped_folds_never_split_a_group() -> None:
    rng = np.random.default_rng(2)
    groups = rng.integers(0, 17, size=70)
    for seed in (0, 1):
        folds = split_indices("grouped", 70, groups=groups, n_splits=5, seed=seed)
        assert len(folds) == 5
        assert_partition(folds, 70)
        for train, test in folds:
            assert not set(groups[train]) & set(groups[test])
    with pytest.raises(ValueError, match="group"):
        split_indices("grouped", 70)


def test_loco_folds_are_the_k_means_clusters() -> None:
    rng = np.random.default_rng(3)
    blob_a = rng.normal(0, 1, size=(20, 3))
    blob_b = rng.normal(100, 1, size=(15, 3))
    features = np.vstack([blob_a, blob_b])
    features[4, 2] = np.nan  # imputed with the column mean, still in blob A's fold
    folds = split_indices("loco", 35, features=features, n_splits=2)
    assert_partition(folds, 35)
    tested = sorted(sorted(test.tolist()) for _, test in folds)
    assert tested == [list(range(20)), list(range(20, 35))]
    clusters = loco_clusters(features, 2)
    assert len(set(clusters[:20])) == 1 and len(set(clusters[20:])) == 1
    assert clusters[0] != clusters[20]
    with pytest.raises(ValueError, match="feature matrix"):
        split_indices("loco", 35)
    with pytest.raises(ValueError, match="unknown split"):
        split_indices("random", 35)
