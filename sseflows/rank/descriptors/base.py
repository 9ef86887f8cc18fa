"""Inputs, feature matrices, the representation interface, its registry and composites.

A :class:`Representation` turns :class:`FeatureInput` rows (an id, a composition and, when
known, a structure) into a :class:`FeatureMatrix`: one row per input, in input order. A
row that cannot be featurised is a row of NaN in ``X`` and its id maps to a one-sentence
reason in ``failures``, so no candidate disappears silently. ``settings()`` is JSON-able
and complete: it is the provenance of a trained model and part of the cache key.

Representations are registered by name (:data:`REPRESENTATIONS`); ``"a+b"`` names a
:class:`CompositeRepresentation` that concatenates the parts' columns, e.g.
``representation_from_name("magpie+soap")``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pymatgen.core import Composition, Structure

COMPOSITE_SEPARATOR = "+"


@dataclass
class FeatureInput:
    """One row to featurise.

    Attributes:
        id: Candidate or row id, used in ``FeatureMatrix.ids`` and failure reasons.
        composition: Composition (of the structure when there is one).
        structure: The structure, or None for a composition-only row.
    """

    id: str
    composition: Composition
    structure: Structure | None = None

    @classmethod
    def from_structure(cls, id: str, structure: Structure) -> FeatureInput:
        """A row whose composition is that of ``structure``."""
        return cls(id, structure.composition, structure)


class RowLike(Protocol):
    """What :func:`inputs_from_rows` reads (``rank.table.TrainingRow`` has it)."""

    row_id: str
    composition: Composition
    structure: Structure | None


def inputs_from_rows(rows: Iterable[RowLike]) -> list[FeatureInput]:
    """One :class:`FeatureInput` per training-table row (id = ``row_id``)."""
    return [FeatureInput(row.row_id, row.composition, row.structure) for row in rows]


@dataclass
class FeatureMatrix:
    """Features of a list of inputs, in input order.

    Attributes:
        ids: Input ids, one per row of ``X``.
        X: Float array of shape (n, d); a failed row is all NaN.
        names: Column names, length d.
        failures: Failed id -> one sentence saying why.
    """

    ids: list[str]
    X: np.ndarray
    names: list[str]
    failures: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X, dtype=float).reshape(len(self.ids), len(self.names))

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the rows that were featurised."""
        return np.array([i not in self.failures for i in self.ids], dtype=bool)


class Representation(ABC):
    """A featuriser: ``name``, JSON-able ``settings()``, ``needs_structure``, ``featurise``."""

    name: str = ""
    needs_structure: bool = False

    @abstractmethod
    def settings(self) -> dict[str, Any]:
        """Every setting that changes the features (JSON-able)."""

    @abstractmethod
    def feature_names(self) -> list[str]:
        """Column names; fixed for given settings."""

    @abstractmethod
    def featurise(self, inputs: Sequence[FeatureInput]) -> FeatureMatrix:
        """Features of ``inputs``; a row that fails is NaN with a reason in ``failures``."""

    def parts(self) -> list[Representation]:
        """The representations concatenated here (itself for a simple one)."""
        return [self]

    def describe(self) -> dict[str, Any]:
        """``{"name": ..., "settings": ...}``: what a model's provenance records."""
        return {"name": self.name, "settings": self.settings()}


class CompositeRepresentation(Representation):
    """Concatenation of representations: columns of each part side by side.

    A row fails when any part fails for it; the reasons are joined.
    """

    def __init__(self, parts: Sequence[Representation]) -> None:
        if len(parts) < 2:
            raise ValueError("a composite representation needs at least two parts")
        self._parts = list(parts)
        self.name = COMPOSITE_SEPARATOR.join(p.name for p in self._parts)
        self.needs_structure = any(p.needs_structure for p in self._parts)

    def parts(self) -> list[Representation]:
        return list(self._parts)

    def settings(self) -> dict[str, Any]:
        return {"parts": [p.describe() for p in self._parts]}

    def feature_names(self) -> list[str]:
        return [f"{p.name}:{n}" for p in self._parts for n in p.feature_names()]

    def featurise(self, inputs: Sequence[FeatureInput]) -> FeatureMatrix:
        return concatenate([p.featurise(inputs) for p in self._parts], self._parts)


def concatenate(
    matrices: Sequence[FeatureMatrix], parts: Sequence[Representation]
) -> FeatureMatrix:
    """Column-wise join of the parts' matrices (same ids in the same order)."""
    ids = matrices[0].ids
    failures: dict[str, str] = {}
    for matrix, part in zip(matrices, parts, strict=True):
        if matrix.ids != ids:
            raise ValueError("feature matrices to concatenate must have the same ids")
        for row_id, reason in matrix.failures.items():
            failures[row_id] = (
                f"{failures[row_id]} {part.name}: {reason}"
                if row_id in failures
                else f"{part.name}: {reason}"
            )
    X = np.hstack([m.X for m in matrices])
    X[[i for i, row_id in enumerate(ids) if row_id in failures], :] = np.nan
    names = [f"{p.name}:{n}" for m, p in zip(matrices, parts, strict=True) for n in m.names]
    return FeatureMatrix(list(ids), X, names, failures)


RepresentationFactory = Callable[..., Representation]

REPRESENTATIONS: dict[str, RepresentationFactory] = {}
"""Registered representation name -> factory taking the settings as keywords."""


def register(name: str) -> Callable[[RepresentationFactory], RepresentationFactory]:
    """Class decorator: make ``name`` resolvable by :func:`representation_from_name`."""

    def decorate(factory: RepresentationFactory) -> RepresentationFactory:
        REPRESENTATIONS[name] = factory
        return factory

    return decorate


def representation_from_name(name: str, **settings: Any) -> Representation:
    """The representation called ``name`` with ``settings``.

    For a simple name, ``settings`` are the representation's keyword settings
    (``representation_from_name("soap", r_cut=3.0)``). For a composite ``"a+b"``, each
    keyword is a part's name and its value that part's settings
    (``representation_from_name("magpie+soap", soap={"r_cut": 3.0})``).

    Raises:
        ValueError: for an unknown name, or settings for a part not in the composite.
    """
    if COMPOSITE_SEPARATOR in name:
        part_names = [p.strip() for p in name.split(COMPOSITE_SEPARATOR)]
        unknown = sorted(set(settings) - set(part_names))
        if unknown:
            raise ValueError(f"settings {unknown} name no part of the representation {name!r}")
        return CompositeRepresentation(
            [representation_from_name(p, **dict(settings.get(p) or {})) for p in part_names]
        )
    if name not in REPRESENTATIONS:
        raise ValueError(
            f"unknown representation {name!r}; choose from {sorted(REPRESENTATIONS)} "
            f"or join them with {COMPOSITE_SEPARATOR!r}"
        )
    return REPRESENTATIONS[name](**settings)


def representation_from_description(description: dict[str, Any]) -> Representation:
    """Rebuild a representation from :meth:`Representation.describe`'s output."""
    name, settings = description["name"], dict(description.get("settings") or {})
    if COMPOSITE_SEPARATOR in name:
        return CompositeRepresentation(
            [representation_from_description(part) for part in settings["parts"]]
        )
    return representation_from_name(name, **settings)
