"""Retrospective campaign: how many measurements would an acquisition need on a labelled set?

All labels are hidden except ``n_seed_labels`` random ones. Each round the estimator is
refit on the revealed rows, the hidden rows are scored by the acquisition
(:mod:`sseflows.rank.acquisition`), a batch of ``batch_size`` is picked with the diversity
rule and their labels are revealed, until ``budget`` measurements have been made.
``random`` picks uniformly from the hidden rows with the same seeds.

*Targets* are the top ``target_fraction`` (5 %) of rows by log10 σ (⌈0.05·n⌉ rows, ties
broken by row order). Per seed and strategy:

* ``measurements_to_3_targets`` — acquisition measurements (seed labels not counted) until
  three targets are revealed (targets among the seed labels count as found at 0);
  ``inf`` when the budget ran out first (reported as ``null`` in JSON).
* ``targets_found`` — targets revealed within the budget (seed labels included).
* ``families_found`` — distinct structure families (:attr:`TrainingRow.family`) among
  the targets found.

The summary is the median over seeds (IonForge's protocol on OBELiX: budget 50 = 10 rounds
× 5, top 5 %; random needed a median of 47 on 599 entries, RANKING.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sseflows.rank.acquisition import DEFAULT_KAPPA, STRATEGIES, acquisition_scores, select_batch
from sseflows.rank.estimators import Estimator
from sseflows.rank.novelty import FeatureNovelty
from sseflows.rank.table import TrainingTable

RANDOM = "random"
N_SEED_LABELS = 5
BATCH_SIZE = 5
BUDGET = 50
N_SEEDS = 20
TARGET_FRACTION = 0.05
TARGETS_TO_FIND = 3
DIVERSITY_RADIUS = 0.5
"""Diversity radius in units of the training rows' typical nearest-neighbour distance."""


def target_rows(log10_sigma: np.ndarray, fraction: float = TARGET_FRACTION) -> np.ndarray:
    """Boolean mask of the top ``fraction`` rows by log10 σ (⌈fraction·n⌉ rows)."""
    n_targets = max(1, math.ceil(fraction * len(log10_sigma)))
    order = np.argsort(-np.asarray(log10_sigma, float), kind="stable")[:n_targets]
    mask = np.zeros(len(log10_sigma), dtype=bool)
    mask[order] = True
    return mask


def run_one(
    strategy: str,
    features: np.ndarray,
    table: TrainingTable,
    targets: np.ndarray,
    seed_rows: Sequence[int],
    make_estimator: Callable[[], Estimator],
    *,
    batch_size: int = BATCH_SIZE,
    budget: int = BUDGET,
    kappa: float = DEFAULT_KAPPA,
    seed: int = 0,
) -> list[int]:
    """Row indices in the order they were measured by ``strategy`` (seed rows excluded)."""
    revealed = list(seed_rows)
    measured: list[int] = []
    rng = np.random.default_rng(seed)
    compositions = [row.composition for row in table.rows]
    while len(measured) < budget:
        hidden = np.setdiff1d(np.arange(len(table)), revealed)
        if len(hidden) == 0:
            break
        size = min(batch_size, budget - len(measured), len(hidden))
        if strategy == RANDOM:
            batch = [int(i) for i in rng.choice(hidden, size=size, replace=False)]
        else:
            estimator = make_estimator().fit(features[revealed], table.subset(revealed))
            scores = acquisition_scores(estimator.predict(features[hidden]), strategy, kappa)
            novelty = FeatureNovelty().fit(features[revealed])
            picks = select_batch(
                scores,
                size,
                compositions=[compositions[i] for i in hidden],
                embedded=novelty.embed(features[hidden]),
                radius=DIVERSITY_RADIUS * novelty.typical_distance,
            )
            batch = [int(hidden[i]) for i in picks]
        measured.extend(batch)
        revealed.extend(batch)
    return measured


def summarise_run(
    measured: Sequence[int],
    seed_rows: Sequence[int],
    targets: np.ndarray,
    families: Sequence[str],
) -> dict[str, float]:
    """The three figures of one run (see the module docstring)."""
    found_in_seeds = int(np.sum(targets[list(seed_rows)]))
    to_three = 0.0 if found_in_seeds >= TARGETS_TO_FIND else math.inf
    found = found_in_seeds
    for count, row in enumerate(measured, start=1):
        found += int(targets[row])
        if math.isinf(to_three) and found >= TARGETS_TO_FIND:
            to_three = float(count)
    hit_rows = [row for row in [*seed_rows, *measured] if targets[row]]
    return {
        "measurements_to_3_targets": to_three,
        "targets_found": float(found),
        "families_found": float(len({families[row] for row in hit_rows})),
    }


def replay(
    features: np.ndarray,
    table: TrainingTable,
    make_estimator: Callable[[], Estimator],
    *,
    strategies: Sequence[str] = STRATEGIES,
    n_seed_labels: int = N_SEED_LABELS,
    batch_size: int = BATCH_SIZE,
    budget: int = BUDGET,
    n_seeds: int = N_SEEDS,
    kappa: float = DEFAULT_KAPPA,
    target_fraction: float = TARGET_FRACTION,
    on_step: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Every strategy and ``random`` over ``n_seeds`` seeds; medians and per-seed figures.
    ``on_step(done, total)`` is called after each (seed, strategy) run.

    Returns:
        ``{"settings": {...}, "n_targets": int, "strategies": {name: {"measurements_to_3_
        targets": median, "targets_found": median, "families_found": median, "runs":
        [per-seed figures]}}}``.
    """
    targets = target_rows(table.y("obelix"), target_fraction)
    families = table.families()
    names = [*strategies, RANDOM]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for seed in range(n_seeds):
        seed_rows = [
            int(i)
            for i in np.random.default_rng(seed).choice(len(table), n_seed_labels, replace=False)
        ]
        for name in names:
            measured = run_one(
                name,
                features,
                table,
                targets,
                seed_rows,
                make_estimator,
                batch_size=batch_size,
                budget=budget,
                kappa=kappa,
                seed=seed,
            )
            runs[name].append(summarise_run(measured, seed_rows, targets, families))
            if on_step is not None:
                on_step(sum(len(r) for r in runs.values()), n_seeds * len(names))
    summary: dict[str, Any] = {}
    for name, per_seed in runs.items():
        summary[name] = {
            key: float(np.median([run[key] for run in per_seed]))
            for key in ("measurements_to_3_targets", "targets_found", "families_found")
        }
        summary[name]["runs"] = per_seed
    return {
        "settings": {
            "n_seed_labels": n_seed_labels,
            "batch_size": batch_size,
            "budget": budget,
            "n_seeds": n_seeds,
            "kappa": kappa,
            "target_fraction": target_fraction,
        },
        "n_rows": len(table),
        "n_targets": int(targets.sum()),
        "strategies": summary,
    }
