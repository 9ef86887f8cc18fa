"""The feature cache computes each (settings, input) once; new ids and labels are hits."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition, Lattice, Structure

from sseflows.rank.descriptors.base import (
    FeatureInput,
    FeatureMatrix,
    Representation,
    representation_from_name,
)
from sseflows.rank.descriptors.cache import cache_key, featurise_cached


class Counting(Representation):
    """Li fraction and atom count; counts the rows it featurises; fails without Li."""

    needs_structure = False

    def __init__(self, offset: float = 0.0) -> None:
        self.name = "counting"
        self.offset = offset
        self.calls: list[str] = []

    def settings(self) -> dict[str, Any]:
        return {"offset": self.offset}

    def feature_names(self) -> list[str]:
        return ["li_fraction", "n_atoms"]

    def featurise(self, inputs: Sequence[FeatureInput]) -> FeatureMatrix:
        X = np.full((len(inputs), 2), np.nan)
        failures = {}
        for i, row in enumerate(inputs):
            self.calls.append(row.id)
            if row.composition["Li"] == 0:
                failures[row.id] = f"{row.id} has no Li"
                continue
            X[i] = [
                row.composition.get_atomic_fraction("Li") + self.offset,
                row.composition.num_atoms,
            ]
        return FeatureMatrix([r.id for r in inputs], X, self.feature_names(), failures)


def rows() -> list[FeatureInput]:
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )
    return [
        FeatureInput("a", Composition("Li3PS4")),
        FeatureInput.from_structure("b", li2o),
        FeatureInput("c", Composition("LaCoO3")),
    ]


def test_second_call_computes_nothing(tmp_path: Path) -> None:
    rep = Counting()
    first = featurise_cached(rep, rows(), tmp_path)
    assert rep.calls == ["a", "b", "c"]
    second = featurise_cached(rep, rows(), tmp_path)
    assert rep.calls == ["a", "b", "c"]  # nothing recomputed, failures included
    np.testing.assert_array_equal(first.X, second.X)
    assert second.failures == {"c": "c has no Li"}
    assert second.X[0].tolist() == [3 / 8, 8.0]


def test_new_rows_and_new_ids_compute_only_what_is_missing(tmp_path: Path) -> None:
    rep = Counting()
    featurise_cached(rep, rows()[:2], tmp_path)
    renamed = [FeatureInput("a-again", Composition("Li3PS4")), *rows()]
    out = featurise_cached(rep, renamed, tmp_path)
    assert rep.calls == ["a", "b", "c"]
    assert out.ids == ["a-again", "a", "b", "c"]
    assert out.X[0].tolist() == out.X[1].tolist()


def test_other_settings_are_other_keys(tmp_path: Path) -> None:
    row = rows()[0]
    assert cache_key(Counting(), row) == cache_key(Counting(), row)
    assert cache_key(Counting(), row) != cache_key(Counting(offset=1.0), row)
    shifted = Counting(offset=1.0)
    out = featurise_cached(shifted, [row], tmp_path)
    assert shifted.calls == ["a"]
    assert out.X[0, 0] == 3 / 8 + 1.0


def test_composite_is_cached_part_by_part(tmp_path: Path) -> None:
    inputs = rows()
    magpie = featurise_cached(representation_from_name("magpie"), inputs, tmp_path)
    both = representation_from_name("magpie+soap")
    direct = both.featurise(inputs)
    cached = featurise_cached(both, inputs, tmp_path)
    again = featurise_cached(both, inputs, tmp_path)
    assert cached.names == direct.names
    assert cached.failures == direct.failures
    np.testing.assert_allclose(cached.X, direct.X)
    np.testing.assert_array_equal(cached.X, again.X)
    np.testing.assert_array_equal(cached.X[1, :134], magpie.X[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["magpie", "soap"]
