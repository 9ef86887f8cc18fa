"""How far a candidate is from what the model was trained on (McHaffie 2025 [002 L661–685]).

* :class:`FeatureNovelty` — "the distance between the unlabelled compound and the nearest
  training sample ... normalised by the training data variance using PCA" [002 L664–669]:
  features are median-imputed and standardised, projected on the principal components
  that hold ``variance_kept`` of the training variance, whitened (unit variance per
  component), and the Euclidean distance to the nearest training row is divided by the
  median nearest-neighbour distance among the training rows themselves. 1 is as far as a
  typical training row lies from its neighbour; the paper leaves the number of components
  and this normalisation open, and these are our choices.
* :func:`near_training_composition` — the novelty filter of the paper's funnel: a candidate
  is dropped when "all constituent elements [are] within 5 percent of any training sample
  composition" [002 L678–683], read as: for every element of either composition,
  |x₁ − x₂| / ((x₁ + x₂)/2) ≤ 0.05 on atomic fractions. An element present in only one of
  the two gives 2, so only compositions of the same element set can be near.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Composition
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

COMPOSITION_TOLERANCE = 0.05
"""Relative tolerance of the 5 % composition rule [002 L681]."""
VARIANCE_KEPT = 0.95
"""Share of the training variance kept by the PCA of :class:`FeatureNovelty`."""


@dataclass
class FeatureNovelty:
    """Nearest-training-row distance in whitened PCA space; fit with :meth:`fit`."""

    variance_kept: float = VARIANCE_KEPT
    medians: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pca: PCA | None = None
    embedded: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    typical_distance: float = 1.0

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Features → whitened principal components (median-imputed, standardised)."""
        x = np.asarray(features, dtype=float)
        x = np.where(np.isnan(x), self.medians, x)
        standardised = (x - self.medians) / self.scale
        assert self.pca is not None
        return self.pca.transform(standardised)

    def fit(self, features: np.ndarray) -> FeatureNovelty:
        """Learn the scaling, the PCA and the training rows' own neighbour distances."""
        x = np.asarray(features, dtype=float)
        self.medians = np.nan_to_num(np.nanmedian(x, axis=0))
        x = np.where(np.isnan(x), self.medians, x)
        spread = x.std(axis=0)
        self.scale = np.where(spread > 0, spread, 1.0)
        n_components = min(len(x) - 1, x.shape[1]) if len(x) > 1 else 1
        self.pca = PCA(n_components=n_components, whiten=True, random_state=0)
        self.pca.fit((x - self.medians) / self.scale)
        kept = int(
            np.searchsorted(np.cumsum(self.pca.explained_variance_ratio_), self.variance_kept) + 1
        )
        kept = min(max(kept, 1), n_components)
        self.pca = PCA(n_components=kept, whiten=True, random_state=0)
        self.pca.fit((x - self.medians) / self.scale)
        self.embedded = self.embed(x)
        if len(x) > 1:
            distances, _ = NearestNeighbors(n_neighbors=2).fit(self.embedded).kneighbors()
            typical = float(np.median(distances[:, 0]))
            self.typical_distance = typical if typical > 0 else 1.0
        return self

    def novelty(self, features: np.ndarray) -> np.ndarray:
        """Distance to the nearest training row over the typical such distance (≥ 0)."""
        if self.pca is None:
            raise ValueError("the novelty model has not been fit")
        neighbours = NearestNeighbors(n_neighbors=1).fit(self.embedded)
        distances, _ = neighbours.kneighbors(self.embed(features))
        return distances[:, 0] / self.typical_distance


def atomic_fractions(composition: Composition) -> dict[str, float]:
    """Element → atomic fraction (species merged into elements)."""
    fractions = composition.element_composition.fractional_composition
    return {element.symbol: float(amount) for element, amount in fractions.items()}


def compositions_within(
    first: Composition, second: Composition, tolerance: float = COMPOSITION_TOLERANCE
) -> bool:
    """True when every element's atomic fraction agrees within ``tolerance`` relative."""
    a, b = atomic_fractions(first), atomic_fractions(second)
    for element in a.keys() | b.keys():
        x1, x2 = a.get(element, 0.0), b.get(element, 0.0)
        if abs(x1 - x2) > tolerance * (x1 + x2) / 2:
            return False
    return True


def near_training_composition(
    candidates: Sequence[Composition],
    training: Sequence[Composition],
    tolerance: float = COMPOSITION_TOLERANCE,
) -> np.ndarray:
    """Per candidate: is it within the 5 % rule of any training composition?"""
    by_elements: dict[frozenset[str], list[Composition]] = {}
    for composition in training:
        key = frozenset(atomic_fractions(composition))
        by_elements.setdefault(key, []).append(composition)
    return np.array(
        [
            any(
                compositions_within(candidate, other, tolerance)
                for other in by_elements.get(frozenset(atomic_fractions(candidate)), [])
            )
            for candidate in candidates
        ],
        dtype=bool,
    )
