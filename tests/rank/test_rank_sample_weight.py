"""Fidelity weights: computed rows of the training table enter the ensemble's fit with
``computed_weight``; measured-only tables fit exactly as before."""

from __future__ import annotations

import numpy as np

from sseflows.core.label import Label
from sseflows.rank.ensemble import EnsembleModel, EnsembleSettings
from sseflows.rank.table import build_training_table
from tests.rank.conftest import SMALL_ENSEMBLE, toy_labels


def test_table_weights_computed_rows() -> None:
    md = Label(label_id="md:LiF", formula="LiF", sigma_rt_s_per_cm=1e-3, kind="computed",
               method="md-chgnet")  # fmt: skip
    table = build_training_table([*toy_labels(), md])
    weight = table.sample_weight(0.5)
    assert table.computed().sum() == 1 and weight[table.computed()].tolist() == [0.5]
    assert set(weight[~table.computed()]) == {1.0}
    assert EnsembleSettings().computed_weight == 0.5


def test_unit_weights_fit_as_no_weights_and_weights_matter() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x[:, 0] * 2 + rng.normal(scale=0.1, size=40)
    cls, groups = y > 0, np.arange(40) % 10
    settings = EnsembleSettings(**SMALL_ENSEMBLE)

    def fit(weight):
        model = EnsembleModel(settings).fit(x, y, cls, groups, sample_weight=weight)
        return model.predict(x).log10_sigma

    plain = fit(None)
    np.testing.assert_allclose(fit(np.ones(40)), plain)
    light = np.where(np.arange(40) < 20, 0.05, 1.0)
    assert not np.allclose(fit(light), plain)
