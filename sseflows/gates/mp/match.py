"""The Materials Project gate: match a candidate to an MP entry and judge E_hull and E_g.

Pure logic, no I/O of its own (the sources in :mod:`sseflows.gates.mp.sources` do that):

* :func:`match_candidate` finds the MP entry of a candidate: by ``mp_id`` first, else by
  pymatgen's :class:`StructureMatcher` among the entries with the same reduced formula; when
  several polymorphs match, the one with the lowest E_hull is taken.
* :func:`mp_gate_decision` applies the thresholds of the screening literature (Laskowski et
  al., EES 2023: E_hull ≤ 70 meV/atom and E_g ≥ 1 eV), both inclusive.

Disordered candidates (partial occupancy, the usual case for measured fast conductors) are
compared on their non-Li framework: Li is removed from both structures (the Li sublattice
of a disordered conductor has more sites than Li atoms) and a site matches when its
elements overlap (a ``Ge0.5P0.5`` site matches an ordered ``P`` or ``Ge`` site). Their MP
formula is looked up both as their exact reduced formula and with the cell's element
amounts rounded to integers (``Li20.2Ge2.06P3.94S24`` -> ``Li10Ge(PS6)2``).

Units: E_hull in eV/atom, band gap in eV.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

from pymatgen.analysis.structure_matcher import (
    AbstractComparator,
    ElementComparator,
    StructureMatcher,
)
from pymatgen.core import Composition, Structure

from sseflows.core.candidate import Candidate
from sseflows.core.documents import Status
from sseflows.core.errors import ConfigurationError
from sseflows.gates.mp.sources import ChainSource, MPEntry, MPSource

MISSING_POLICIES = ("keep", "drop")
"""What to do when neither E_hull nor E_g is known: keep (status unknown) or drop."""


def _known(value: float | None) -> float | None:
    """``value`` when it is a number, None when missing or NaN."""
    return None if value is None or math.isnan(value) else value


def mp_gate_decision(
    e_hull_ev_per_atom: float | None,
    band_gap_ev: float | None,
    *,
    e_hull_max_ev_per_atom: float = 0.07,
    band_gap_min_ev: float = 1.0,
    missing_policy: str = "keep",
) -> tuple[Status, str]:
    """Judge one candidate on E_hull (eV/atom) and band gap (eV).

    Thresholds are inclusive: the candidate passes when ``E_hull <= e_hull_max_ev_per_atom``
    and ``E_g >= band_gap_min_ev``. When only one value is known the candidate is judged on
    that one alone (dropped if it fails, passed if it passes; the reason says which value
    was missing). ``missing_policy`` applies only when neither is known: ``"keep"`` gives
    status ``unknown`` (the candidate goes on, flagged), ``"drop"`` gives ``dropped``.

    Returns:
        ``(status, reason)`` with status ``passed``, ``dropped`` or ``unknown``.
    """
    if missing_policy not in MISSING_POLICIES:
        raise ConfigurationError(
            f"MP gate missing_policy must be one of {list(MISSING_POLICIES)}, "
            f"got {missing_policy!r}."
        )
    e_hull, gap = _known(e_hull_ev_per_atom), _known(band_gap_ev)
    if e_hull is None and gap is None:
        if missing_policy == "keep":
            return "unknown", "Neither E_hull nor band gap is known; kept by the 'keep' policy."
        return "dropped", "Neither E_hull nor band gap is known; dropped by the 'drop' policy."
    failures, checks = [], []
    if e_hull is not None:
        text = f"E_hull {e_hull:.4g} eV/atom"
        if e_hull > e_hull_max_ev_per_atom:
            failures.append(f"{text} is above the {e_hull_max_ev_per_atom:.4g} eV/atom limit")
        checks.append(f"{text} <= {e_hull_max_ev_per_atom:.4g} eV/atom")
    if gap is not None:
        text = f"band gap {gap:.4g} eV"
        if gap < band_gap_min_ev:
            failures.append(f"{text} is below the {band_gap_min_ev:.4g} eV minimum")
        checks.append(f"{text} >= {band_gap_min_ev:.4g} eV")
    if e_hull is not None and gap is not None:
        missing = ""
    elif e_hull is not None:
        missing = "; band gap unknown, judged on E_hull only"
    else:
        missing = "; E_hull unknown, judged on band gap only"
    if failures:
        return "dropped", _sentence(" and ".join(failures) + missing)
    return "passed", _sentence(" and ".join(checks) + missing)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def _plain(structure: Structure) -> Structure:
    """A copy without oxidation states (MP structures carry none)."""
    copy = structure.copy()
    copy.remove_oxidation_states()
    return copy


class _OverlapComparator(AbstractComparator):
    """Sites are equal when the element set of one contains the other's (order/disorder).

    The hash is the set of elements, so an ordered MP structure can match a disordered
    candidate whose site fractions differ slightly from the ideal stoichiometry.
    """

    def are_equal(self, sp1: Any, sp2: Any) -> bool:
        set1 = {el.symbol for el in Composition(sp1).elements}
        set2 = {el.symbol for el in Composition(sp2).elements}
        return set1 <= set2 or set2 <= set1

    def get_hash(self, composition: Composition) -> frozenset[str]:
        return frozenset(el.symbol for el in composition.elements)


def structures_match(candidate: Structure, reference: Structure, **matcher_kwargs: Any) -> bool:
    """True when ``candidate`` is the same crystal as ``reference`` (StructureMatcher).

    Ordered pairs use pymatgen's defaults with an element comparator (oxidation states
    ignored, volumes scaled, primitive cells compared). When either structure is disordered
    the non-Li frameworks are compared with an element-overlap comparator (module docstring).
    ``matcher_kwargs`` (``ltol``, ``stol``, ``angle_tol``, ...) go to StructureMatcher.
    """
    candidate, reference = _plain(candidate), _plain(reference)
    if candidate.is_ordered and reference.is_ordered:
        options: dict[str, Any] = {"comparator": ElementComparator()}
    else:
        options = {"comparator": _OverlapComparator(), "ignored_species": ["Li"]}
    options.update(matcher_kwargs)
    return StructureMatcher(**options).fit(candidate, reference)


def candidate_formulas(candidate: Candidate) -> list[str]:
    """Reduced formulas under which the candidate's MP entries are looked up.

    The structure's reduced formula, the candidate's ``formula`` field, and for disordered
    structures the formula with the cell's element amounts rounded to integers.
    """
    formulas: list[str] = []
    structure = candidate.structure
    if structure is not None:
        composition = structure.composition.element_composition
        formulas.append(composition.reduced_formula)
        if not structure.is_ordered:
            rounded = {el: round(amount) for el, amount in composition.items()}
            if all(amount > 0 for amount in rounded.values()):
                formulas.append(Composition(rounded).reduced_formula)
    if candidate.formula:
        # a free-text formula that pymatgen cannot parse adds no lookup
        with contextlib.suppress(ValueError):
            formulas.append(Composition(candidate.formula).reduced_formula)
    return list(dict.fromkeys(formulas))


def _leaves(source: MPSource) -> list[MPSource]:
    """The sources of a (nested) chain in order, or the source itself."""
    if isinstance(source, ChainSource):
        return [leaf for inner in source.sources for leaf in _leaves(inner)]
    return [source]


def _match_in(candidate: Candidate, source: MPSource, matcher_kwargs: dict) -> MPEntry | None:
    if candidate.mp_id:
        entry = source.by_id(candidate.mp_id)
        if entry is not None:
            return entry
    if candidate.structure is None:
        return None
    matches: dict[str, MPEntry] = {}
    for formula in candidate_formulas(candidate):
        for entry in source.by_formula(formula):
            if entry.structure is not None and structures_match(
                candidate.structure, entry.structure, **matcher_kwargs
            ):
                matches.setdefault(entry.material_id, entry)
    if not matches:
        return None
    return min(
        matches.values(),
        key=lambda e: (e.energy_above_hull is None, e.energy_above_hull or 0.0, e.material_id),
    )


def match_candidate(
    candidate: Candidate, source: MPSource, **matcher_kwargs: Any
) -> MPEntry | None:
    """The MP entry of ``candidate`` in ``source``, or None.

    Each source of a chain is asked in order (snapshot before live), first by the
    candidate's ``mp_id``, then by structure among the entries with the candidate's reduced
    formula; of several matching polymorphs the lowest E_hull wins. A candidate without
    structure can only be matched by ``mp_id``.
    """
    for leaf in _leaves(source):
        entry = _match_in(candidate, leaf, matcher_kwargs)
        if entry is not None:
            return entry
    return None
