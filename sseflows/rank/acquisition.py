"""What a campaign orders candidates by, and a batch pick that avoids near-duplicates.

Scores (higher is picked first), from an estimator's prediction arrays
(:mod:`sseflows.rank.estimators`):

* ``exploit`` — predicted log10 σ (S/cm); P(superionic) for a classifier-only model.
* ``explore`` — the ensemble spread of that quantity.
* ``ucb`` — upper confidence bound, mean + κ·sd.

:func:`select_batch` picks a batch from one set of scores, without refitting per pick
(rocketsled's users reported the refit-per-pick cost, RANKING.md): candidates are taken in
score order and one is skipped when it is a near-duplicate of a pick already in the batch:
its composition within the 5 % rule of :func:`sseflows.rank.novelty.compositions_within`,
or its embedded feature vector within ``radius`` of a pick's (Euclidean, in whatever
embedding the caller passes, e.g. :meth:`FeatureNovelty.embed`). When the diversity rule
leaves the batch short, the skipped candidates fill it in score order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pymatgen.core import Composition

from sseflows.rank.novelty import compositions_within

STRATEGIES: tuple[str, ...] = ("exploit", "explore", "ucb")
DEFAULT_KAPPA = 1.0
"""κ of the upper confidence bound, in units of the ensemble spread."""


def acquisition_scores(
    prediction: dict[str, np.ndarray], strategy: str, kappa: float = DEFAULT_KAPPA
) -> np.ndarray:
    """Per-candidate score of ``strategy``; NaN predictions score −∞ (picked last)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown acquisition {strategy!r}; choose one of {', '.join(STRATEGIES)}")
    mean, spread = prediction["log10_sigma"], prediction["log10_sigma_sd"]
    if np.all(np.isnan(mean)):
        mean, spread = prediction["p_superionic"], prediction["p_superionic_sd"]
    if strategy == "exploit":
        score = mean
    elif strategy == "explore":
        score = spread
    else:
        score = mean + kappa * spread
    return np.where(np.isnan(score), -np.inf, score)


def select_batch(
    scores: np.ndarray,
    batch_size: int,
    *,
    compositions: Sequence[Composition] | None = None,
    embedded: np.ndarray | None = None,
    radius: float = 0.0,
) -> list[int]:
    """Indices of the batch: best scores first, near-duplicates of earlier picks skipped."""
    order = [int(i) for i in np.argsort(-np.asarray(scores, float), kind="stable")]
    picked: list[int] = []
    skipped: list[int] = []
    for index in order:
        if len(picked) == batch_size:
            break
        if _near_a_pick(index, picked, compositions, embedded, radius):
            skipped.append(index)
        else:
            picked.append(index)
    return picked + skipped[: batch_size - len(picked)]


def _near_a_pick(
    index: int,
    picked: list[int],
    compositions: Sequence[Composition] | None,
    embedded: np.ndarray | None,
    radius: float,
) -> bool:
    for other in picked:
        if compositions is not None and compositions_within(
            compositions[index], compositions[other]
        ):
            return True
        if embedded is not None and np.linalg.norm(embedded[index] - embedded[other]) < radius:
            return True
    return False
