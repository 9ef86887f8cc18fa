"""Fixtures of the ranking-stage tests: a hand-built labelled set and a small trained model.

The toy set is 30 real Li conductors (and insulators) with made-up but plausible σ_RT; its
model is a 4-member ensemble of 30 trees, so it trains in well under a second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sseflows.core.label import Label
from sseflows.rank.descriptors.base import representation_from_name
from sseflows.rank.model import RankModel, train_rank_model
from sseflows.rank.persistence import save_rank_model
from sseflows.rank.table import TrainingTable, build_training_table

SMALL_ENSEMBLE = {"n_members": 4, "n_estimators": 30, "min_child_samples": 2}
"""Ensemble settings small enough for tests (the defaults are 20 members × 200 trees)."""

TOY_SIGMA_S_PER_CM = {
    "Li3PS4": 1e-4,
    "Li7P3S11": 1e-2,
    "Li10GeP2S12": 1.2e-2,
    "Li6PS5Cl": 3e-3,
    "Li6PS5Br": 2e-3,
    "Li6PS5I": 1e-6,
    "Li7La3Zr2O12": 3e-4,
    "Li6.4La3Zr1.4Ta0.6O12": 1e-3,
    "Li0.33La0.55TiO3": 1e-3,
    "Li1.3Al0.3Ti1.7(PO4)3": 7e-4,
    "Li3YCl6": 5e-4,
    "Li3YBr6": 1.7e-3,
    "Li3InCl6": 1.5e-3,
    "Li3ErCl6": 3e-4,
    "Li2O": 1e-12,
    "LiCl": 1e-9,
    "LiBr": 1e-8,
    "LiI": 1e-7,
    "Li3N": 1e-3,
    "Li4SiO4": 1e-10,
    "Li3PO4": 1e-9,
    "Li2S": 1e-10,
    "Li4GeS4": 2e-7,
    "Li3BO3": 1e-9,
    "LiBH4": 1e-8,
    "Li7BiO6": 1.6e-6,
    "Li7SbO6": 6.7e-8,
    "LiNbO3": 1e-11,
    "LiTaO3": 1e-12,
    "Li2ZrCl6": 8e-4,
}


def toy_labels() -> list[Label]:
    """One label per toy formula; twelve DOIs shared round-robin (so twelve groups)."""
    return [
        Label(
            label_id=f"toy:{i}",
            formula=formula,
            sigma_rt_s_per_cm=sigma,
            reference=f"10.1000/toy.{i % 12}",
            source="toy",
        )
        for i, (formula, sigma) in enumerate(TOY_SIGMA_S_PER_CM.items())
    ]


def is_one_sentence(message: str) -> bool:
    """A non-empty message that ends with a full stop and has no sentence break inside."""
    text = message.strip()
    return bool(text) and text.endswith(".") and re.search(r"[.!?]\s+[A-Z]", text[:-1]) is None


@pytest.fixture(scope="session")
def toy_table() -> TrainingTable:
    return build_training_table(toy_labels())


@pytest.fixture(scope="session")
def toy_model(toy_table: TrainingTable) -> RankModel:
    return train_rank_model(
        toy_table,
        representation_from_name("magpie"),
        model_settings=dict(SMALL_ENSEMBLE),
        label_source="toy",
    )


@pytest.fixture(scope="session")
def toy_model_path(toy_model: RankModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy model saved with skops (its provenance JSON beside it)."""
    return save_rank_model(toy_model, tmp_path_factory.mktemp("model") / "toy.skops")
