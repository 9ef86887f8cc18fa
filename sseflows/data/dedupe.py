"""Merge candidates that are the same structure (pymatgen ``StructureMatcher``).

Candidates are compared only within the same composition (atomic fractions). The matcher
works on the primitive cells with volumes scaled (pymatgen's defaults), so a supercell
copy, a slightly relaxed or perturbed copy, and a copy with or without oxidation states
(elements are compared, not species) are duplicates, while a different polymorph is not.
Partially occupied structures are compared with their occupancies.

The first candidate of each group is kept; known properties it lacks (``mp_id``,
``e_hull_ev_per_atom``, ``band_gap_ev``) are filled from its duplicates, whose ids are
listed in its ``provenance["merged"]`` and in a :class:`MergeRecord`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pymatgen.analysis.structure_matcher import ElementComparator, StructureMatcher
from pymatgen.core import Composition, Structure

from sseflows.core.candidate import Candidate
from sseflows.data.records import MergeRecord

FILLED_FIELDS = ("mp_id", "e_hull_ev_per_atom", "band_gap_ev")


def _formula(candidate: Candidate) -> str:
    if candidate.formula:
        return candidate.formula
    return candidate.structure.composition.reduced_formula if candidate.structure else ""


def composition_key(composition: Composition) -> tuple[tuple[str, float], ...]:
    """Atomic fractions per element, rounded to 1e-4: equal for a cell and its supercells,
    also when partial occupancies make the formula non-integer (``Li20.2Ge2.06P3.94S24``
    does not reduce, but its fractions equal those of its doubled cell)."""
    fractions = composition.element_composition.fractional_composition
    return tuple(sorted((el.symbol, round(amount, 4)) for el, amount in fractions.items()))


def _merge(kept: Candidate, duplicates: list[Candidate]) -> Candidate:
    """``kept`` with missing properties filled from ``duplicates`` and the merge recorded."""
    update: dict[str, Any] = {}
    for name in FILLED_FIELDS:
        if getattr(kept, name) is None:
            for dup in duplicates:
                if getattr(dup, name) is not None:
                    update[name] = getattr(dup, name)
                    break
    provenance = dict(kept.provenance)
    provenance["merged"] = [*provenance.get("merged", []), *(d.id for d in duplicates)]
    provenance["merged_sources"] = [
        *provenance.get("merged_sources", []),
        *(d.source for d in duplicates),
    ]
    return kept.model_copy(update={**update, "provenance": provenance})


def deduplicate(
    candidates: list[Candidate], **matcher_kwargs: Any
) -> tuple[list[Candidate], list[MergeRecord]]:
    """Merge duplicate structures among ``candidates``.

    Args:
        candidates: Candidates in priority order (the first of a duplicate group is kept).
        matcher_kwargs: Passed to ``StructureMatcher`` (default comparator: elements).

    Returns:
        The kept candidates in input order, and one :class:`MergeRecord` per merged group.
    """
    matcher_kwargs.setdefault("comparator", ElementComparator())
    matcher = StructureMatcher(**matcher_kwargs)
    groups: dict[tuple, list[tuple[int, Structure]]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        if candidate.structure is not None:
            key = composition_key(candidate.structure.composition)
            groups[key].append((index, candidate.structure))

    duplicates_of: dict[int, list[int]] = {}
    merged: set[int] = set()
    for members in groups.values():
        representatives: list[tuple[int, Structure]] = []
        for index, structure in members:
            for rep, rep_structure in representatives:
                if matcher.fit(rep_structure, structure):
                    duplicates_of[rep].append(index)
                    merged.add(index)
                    break
            else:
                representatives.append((index, structure))
                duplicates_of[index] = []

    kept: list[Candidate] = []
    records: list[MergeRecord] = []
    for index, candidate in enumerate(candidates):
        if index in merged:
            continue
        dups = [candidates[i] for i in duplicates_of.get(index, [])]
        if dups:
            candidate = _merge(candidate, dups)
            records.append(MergeRecord(candidate.id, [d.id for d in dups], _formula(candidate)))
        kept.append(candidate)
    return kept, records
