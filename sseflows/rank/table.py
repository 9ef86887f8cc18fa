"""The labelled set as a training table: one row per distinct material, log10 σ_RT in S/cm.

Built from :class:`~sseflows.core.label.Label` documents (the label store, or an importer in
:mod:`sseflows.data.label_sources`):

* **Duplicates are merged** with the median log10 σ, as McHaffie et al. 2025 did for their
  571 → 548 entries [002 L267–278]. Two labels are the same material when their reduced
  compositions agree (atomic fractions within 1e-4) and, when both carry a structure,
  pymatgen's ``StructureMatcher`` matches them (elements compared, partial occupancies
  kept). A composition-only label joins the structure group of its composition when there
  is exactly one; with several polymorphs it stays a row of its own.
* **Upper bounds** (``<1E-10``) stay *censored*: the row keeps the bound and
  ``censored=True``. What value a censored row stands for is a convention, stated where it
  is used: :data:`CENSORED_CONVENTIONS` — ``"obelix"`` puts it at log10 σ = −15 (the
  OBELiX benchmark's rule, 1e-15 S/cm; use it to compare with published MAEs), ``"bound"``
  at the bound itself. A merged group is censored only when all its labels are; otherwise
  the censored labels enter its median at the convention's value.
* **Class**: superionic when σ ≥ ``threshold_s_per_cm`` (default 1e-4 S/cm, McHaffie 2025
  and Kang et al. [004 L62]); a censored row is below any threshold above its bound.
* **Kind**: every row keeps ``kind`` (``experimental`` or ``computed``) with ``method`` and
  the merged labels' ``fidelity``, so computed labels from the expensive tiers can be told
  apart (and weighted) when they enter the table. Experimental and computed labels of the
  same material are never merged into one median: they are different measurements.
* **Groups** for grouped cross-validation: connected components of "same DOI or same
  composition", the rule that makes OBELiX's train and test sets share no paper and no
  composition (RANKING.md, "OBELiX"). A compilation's citation (Laskowski's digitized
  sets, ``reference_is_compilation``) is not a paper of the measurement and links nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Composition, Structure

from sseflows.core.label import Label

CensoredConvention = Literal["obelix", "bound"]
CENSORED_CONVENTIONS: tuple[str, ...] = ("obelix", "bound")
OBELIX_CENSORED_LOG10 = -15.0
"""log10 σ (S/cm) the OBELiX benchmark assigns to ``<1E-10`` entries."""
DEFAULT_THRESHOLD_S_PER_CM = 1e-4
"""Superionic when σ_RT ≥ this, S/cm [002 L267–278; 004 L62]."""
FRACTION_DECIMALS = 4


def composition_key(composition: Composition) -> tuple[tuple[str, float], ...]:
    """Atomic fractions per element rounded to 1e-4: equal for Li10GeP2S12 and Li20Ge2P4S24."""
    fractions = composition.element_composition.fractional_composition
    return tuple(
        sorted(
            (el.symbol, round(float(amount), FRACTION_DECIMALS)) for el, amount in fractions.items()
        )
    )


@dataclass
class TrainingRow:
    """One distinct material of the labelled set.

    Attributes:
        row_id: The first merged label's id.
        formula: Reduced formula.
        composition: Composition (of the structure when there is one).
        structure: A structure of the material, or None for composition-only rows.
        log10_sigma: Median log10 σ_RT of the merged labels, S/cm; for a censored row, the
            log10 of its bound (see :meth:`TrainingTable.y` for the convention applied).
        censored: True when every merged label is an upper bound.
        kind: ``experimental`` or ``computed``.
        method: For computed rows, the tier's method (``neb-qe``, ``md-chgnet``, ...).
        label_ids: Every merged label id.
        references: DOIs or citations of the merged labels.
        fidelity: For computed rows, the fidelity of the first merged label.
        group: Connected-component index for grouped cross-validation (same DOI or same
            composition), set by :func:`build_training_table`.
        family: Structure family (OBELiX's ``Family`` column, e.g. ``garnet``), or the
            reduced formula when the source gives none.
    """

    row_id: str
    formula: str
    composition: Composition
    structure: Structure | None
    log10_sigma: float
    censored: bool
    kind: str = "experimental"
    method: str | None = None
    label_ids: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    fidelity: dict[str, Any] = field(default_factory=dict)
    group: int = -1
    family: str = ""


@dataclass
class TrainingTable:
    """Rows plus the class threshold; arrays come out in row order."""

    rows: list[TrainingRow]
    threshold_s_per_cm: float = DEFAULT_THRESHOLD_S_PER_CM

    def __len__(self) -> int:
        return len(self.rows)

    def y(self, convention: CensoredConvention = "obelix") -> np.ndarray:
        """log10 σ (S/cm) per row; censored rows at −15 (``obelix``) or at their bound."""
        if convention not in CENSORED_CONVENTIONS:
            raise ValueError(f"unknown censored convention {convention!r}")
        return np.array(
            [
                OBELIX_CENSORED_LOG10
                if (row.censored and convention == "obelix")
                else row.log10_sigma
                for row in self.rows
            ]
        )

    def censored(self) -> np.ndarray:
        """Boolean mask of censored rows."""
        return np.array([row.censored for row in self.rows], dtype=bool)

    def superionic(self) -> np.ndarray:
        """Boolean: σ ≥ threshold (censored rows count as below)."""
        log_threshold = math.log10(self.threshold_s_per_cm)
        return np.array(
            [(not row.censored) and row.log10_sigma >= log_threshold for row in self.rows],
            dtype=bool,
        )

    def computed(self) -> np.ndarray:
        """Boolean mask of computed rows (σ_RT from the MD tier, ``kind="computed"``)."""
        return np.array([row.kind == "computed" for row in self.rows], dtype=bool)

    def sample_weight(self, computed_weight: float = 1.0) -> np.ndarray:
        """Weight per row in a fit: 1 for a measured row, ``computed_weight`` for a computed
        one (the ensemble's default is 0.5, :class:`sseflows.rank.ensemble.EnsembleSettings`)."""
        return np.where(self.computed(), float(computed_weight), 1.0)

    def groups(self) -> np.ndarray:
        """Group index per row (see :func:`assign_groups`)."""
        return np.array([row.group for row in self.rows], dtype=int)

    def label_ids(self) -> list[str]:
        """Every label id in the table, sorted."""
        return sorted(label_id for row in self.rows for label_id in row.label_ids)

    def labels_hash(self) -> str:
        """sha256 over the sorted label ids and each row's value: changes with any label."""
        payload = [(row.label_ids, round(row.log10_sigma, 6), row.censored) for row in self.rows]
        return hashlib.sha256(json.dumps(sorted(payload)).encode()).hexdigest()

    def families(self) -> list[str]:
        """Structure family per row."""
        return [row.family for row in self.rows]

    def subset(self, indices: Sequence[int] | np.ndarray) -> TrainingTable:
        """A table of the rows at ``indices`` (same threshold)."""
        return TrainingTable([self.rows[i] for i in indices], self.threshold_s_per_cm)


def _label_value(label: Label, convention: CensoredConvention) -> float:
    if label.log10_sigma_rt is None:
        raise ValueError(f"label {label.label_id} has no conductivity")
    if label.sigma_upper_bound and convention == "obelix":
        return OBELIX_CENSORED_LOG10
    return float(label.log10_sigma_rt)


def _composition(label: Label) -> Composition:
    if label.structure is not None:
        return label.structure.composition
    return Composition(label.formula)


def _structure_groups(labels: list[Label], matcher: StructureMatcher) -> list[list[Label]]:
    """Labels of one composition and kind split into materials (see module docstring)."""
    with_structure = [label for label in labels if label.structure is not None]
    without = [label for label in labels if label.structure is None]
    groups: list[list[Label]] = []
    for label in with_structure:
        for group in groups:
            first = group[0].structure
            assert first is not None and label.structure is not None  # with_structure only
            if matcher.fit(first, label.structure):
                group.append(label)
                break
        else:
            groups.append([label])
    if without:
        if len(groups) == 1:
            groups[0].extend(without)
        else:
            groups.append(without)
    return groups


def _merged_row(labels: list[Label], convention: CensoredConvention) -> TrainingRow:
    first = labels[0]
    censored = all(label.sigma_upper_bound for label in labels)
    if censored:
        value = min(float(label.log10_sigma_rt) for label in labels)  # type: ignore[arg-type]
    else:
        value = float(np.median([_label_value(label, convention) for label in labels]))
    structure = next((label.structure for label in labels if label.structure is not None), None)
    composition = structure.composition if structure is not None else _composition(first)
    references = sorted(
        {
            label.reference
            for label in labels
            if label.reference and not label.provenance.get("reference_is_compilation")
        }
    )
    families = [str(label.provenance.get("family") or "") for label in labels]
    family = next((name for name in families if name), composition.reduced_formula)
    return TrainingRow(
        row_id=first.label_id,
        formula=composition.reduced_formula,
        composition=composition,
        structure=structure,
        log10_sigma=value,
        censored=censored,
        kind=first.kind,
        method=first.method,
        label_ids=[label.label_id for label in labels],
        references=references,
        fidelity=dict(first.fidelity),
        family=family,
    )


def assign_groups(rows: list[TrainingRow]) -> None:
    """Set ``row.group`` to connected components of "same reference or same composition".

    Rows without a reference are linked by composition only.
    """
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first_of: dict[Any, int] = {}
    for index, row in enumerate(rows):
        keys: list[Any] = [("composition", composition_key(row.composition))]
        keys += [("reference", ref) for ref in row.references]
        for key in keys:
            if key in first_of:
                union(index, first_of[key])
            else:
                first_of[key] = index
    roots: dict[int, int] = {}
    for index, row in enumerate(rows):
        row.group = roots.setdefault(find(index), len(roots))


def build_training_table(
    labels: Iterable[Label],
    *,
    threshold_s_per_cm: float = DEFAULT_THRESHOLD_S_PER_CM,
    convention: CensoredConvention = "obelix",
    matcher: StructureMatcher | None = None,
) -> TrainingTable:
    """The training table of ``labels`` (see the module docstring for every rule).

    Args:
        labels: Labels with a conductivity (labels without one are skipped).
        threshold_s_per_cm: Class threshold, S/cm.
        convention: Value of censored labels inside a median of a mixed group.
        matcher: Structure matcher (default: pymatgen's, comparing elements).

    Returns:
        Rows in the order in which their composition first appears in ``labels``.
    """
    matcher = matcher or StructureMatcher(comparator=ElementComparator())
    buckets: dict[tuple[Any, ...], list[Label]] = defaultdict(list)
    for label in labels:
        if label.log10_sigma_rt is None:
            continue
        buckets[(composition_key(_composition(label)), label.kind, label.method)].append(label)
    merged: list[list[Label]] = []
    for bucket in buckets.values():
        merged.extend(_structure_groups(bucket, matcher))
    rows = [_merged_row(group, convention) for group in merged]
    assign_groups(rows)
    return TrainingTable(rows, threshold_s_per_cm)
