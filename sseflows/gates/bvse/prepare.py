"""Preparing a structure for BVSE: oxidation states and the treatment of partial occupancy.

Oxidation states that come with the file are kept; otherwise
:func:`sseflows.core.oxidation.ensure_oxidation_states` guesses them, and when that fails
(or gives an ion without softBV parameters) :func:`common_oxidation_states` picks frequent
states per element ranked by pymatgen's ICSD counts, judging only the framework charge
because BVSE removes Li anyway.
"""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import pymatgen.core
from monty.serialization import loadfn
from pymatgen.core import Composition, DummySpecies, Element, Structure

from sseflows.core.errors import CandidateError
from sseflows.core.oxidation import ensure_oxidation_states, has_oxidation_states
from sseflows.gates.bvse.grid import BVSEParameterError, MobileIon, framework_ions

LI_COUNT_RATIO_MAX = 2.0
"""Guessed framework charges may imply at most this factor more (or less) Li⁺ than the
file holds (see :func:`common_oxidation_states`)."""


def _has(site_species, element: str) -> bool:
    return any(sp.symbol == element for sp in site_species)


def prepare_for_bvse(structure: Structure, candidate_id: str, element: str = "Li") -> Structure:
    """A copy of ``structure`` with oxidation states, ready for the BVSE grid.

    Sites keep their order (site indices stay valid); partial occupancy is kept and handled
    by occupancy weighting (module docstring). Oxidation states: those given with the
    structure are kept; otherwise :func:`ensure_oxidation_states` guesses them, and when
    it finds none, or one bvlain has no parameters for (BVAnalyzer's O⁻ in some
    phosphates), :func:`common_oxidation_states` assigns each element its most common
    state. BVSE needs the framework's formal charges, not an exactly neutral cell: Li is
    removed anyway, so unlocated or over-counted Li in a file (garnets, NASICONs,
    argyrodites) does not matter, within :data:`LI_COUNT_RATIO_MAX`.

    Raises:
        CandidateError: no Li, dummy species or vacancies written as species, oxidation
            states that cannot be assigned, or Li not +1.
    """
    if not isinstance(structure, Structure) or len(structure) == 0:
        raise CandidateError(candidate_id, "has no structure to compute BVSE barriers for")
    if not any(_has(site.species, element) for site in structure):
        raise CandidateError(
            candidate_id,
            f"{structure.composition.reduced_formula} contains no {element}, so there is no "
            f"{element}+ to migrate",
        )
    dummies = {str(sp) for site in structure for sp in site.species if isinstance(sp, DummySpecies)}
    if dummies:
        raise CandidateError(
            candidate_id, f"the structure holds placeholder species {sorted(dummies)}"
        )
    mobile = MobileIon(element, 1)
    if has_oxidation_states(structure):
        decorated = structure.copy()
    else:
        try:
            decorated = ensure_oxidation_states(structure, candidate_id)
            framework_ions(decorated, mobile)
            return decorated
        except (CandidateError, BVSEParameterError) as exc:
            first_error = exc
        states = common_oxidation_states(structure.composition, element)
        if states is None:
            if isinstance(first_error, CandidateError):
                raise first_error
            raise CandidateError(candidate_id, str(first_error)) from first_error
        decorated = structure.copy()
        decorated.remove_oxidation_states()
        decorated.add_oxidation_state_by_element(states)
    li_states = {sp.oxi_state for site in decorated for sp in site.species if sp.symbol == element}
    if li_states != {1}:
        raise CandidateError(
            candidate_id, f"{element} carries oxidation state(s) {sorted(li_states, key=str)}"
        )
    return decorated


@functools.lru_cache(maxsize=1)
def _icsd_occurrence() -> dict[str, float]:
    """How often each oxidation state occurs in the ICSD (pymatgen's ``icsd_bv.yaml``)."""
    path = Path(pymatgen.core.__file__).parent / "icsd_bv.yaml"
    return {k: float(v) for k, v in loadfn(path)["occurrence"].items()}


def _state_options(element: Element, limit: int = 4) -> list[tuple[int, float]]:
    """Non-zero oxidation states of ``element`` with their ICSD frequency (0–1).

    The ``limit`` most frequent states seen in at least 2 % of the element's ICSD
    occurrences; pymatgen's common states with equal weights when the ICSD has none.
    """
    counts = {}
    for q in set(element.common_oxidation_states) | set(element.icsd_oxidation_states):
        key = f"{element.symbol}{abs(q) if abs(q) != 1 else ''}{'+' if q > 0 else '-'}"
        if q != 0:
            counts[q] = _icsd_occurrence().get(key, 0.0)
    total = sum(counts.values())
    if total <= 0:
        states = [q for q in element.common_oxidation_states if q != 0] or [0]
        return [(q, 1.0 / len(states)) for q in states[:limit]]
    ranked = sorted(((c / total, q) for q, c in counts.items() if c / total >= 0.02), reverse=True)
    return [(q, p) for p, q in ranked[:limit]]


def common_oxidation_states(
    composition: Composition, element: str = "Li", max_ratio: float = LI_COUNT_RATIO_MAX
) -> dict[str, float] | None:
    """One frequent oxidation state per element, judged by the framework's charge.

    BVSE removes the mobile ion, so what must be right are the framework's formal charges,
    not the Li count in the file (CIFs often miss or over-count Li). A combination of
    :func:`_state_options` is allowed when the negative framework charge it leaves, i.e.
    the number of Li⁺ it implies, is within a factor ``max_ratio`` of the Li in
    ``composition``, and no negative state sits on an element less electronegative than a
    cation. The best minimises ``|ln(implied Li / Li)| − ½ Σ ln(ICSD frequency)``. Li is
    always +1. Returns None when no combination is allowed.
    """
    amounts = {Element(el): float(amt) for el, amt in composition.get_el_amt_dict().items()}
    elements = list(amounts)
    n_mobile = sum(amt for el, amt in amounts.items() if el.symbol == element)
    options = [[(1, 1.0)] if el.symbol == element else _state_options(el) for el in elements]
    best: tuple[float, dict[str, float]] | None = None
    for combo in itertools.product(*options):
        pairs = [(el, q) for el, (q, _) in zip(elements, combo, strict=True)]
        anions = [el.X for el, q in pairs if q < 0]
        cations = [el.X for el, q in pairs if q > 0]
        if not anions or not cations or min(anions) < max(cations):
            continue
        implied = -sum(q * amounts[el] for el, q in pairs if el.symbol != element)
        if n_mobile <= 0 or implied <= 0:
            continue
        mismatch = abs(math.log(implied / n_mobile))
        if mismatch > math.log(max_ratio):
            continue
        score = mismatch - 0.5 * sum(math.log(p) for _, p in combo)
        if best is None or score < best[0]:
            best = (score, {el.symbol: q for el, q in pairs})
    return None if best is None else best[1]


def describe_treatment(structure: Structure, element: str = "Li") -> str:
    """One sentence on how partial occupancy enters the grid of ``structure``."""
    partial_li = sum(
        1
        for site in structure
        if _has(site.species, element)
        and (len(site.species) > 1 or site.species.num_atoms < 1 - 1e-6)
    )
    weighted = 0
    for site in structure:
        framework = {sp: o for sp, o in site.species.items() if sp.symbol != element}
        if framework and (len(framework) > 1 or sum(framework.values()) < 1 - 1e-6):
            weighted += 1
    if not partial_li and not weighted:
        return (
            f"Ordered structure: {element} removed as the mobile ion and every framework ion "
            "counted with full weight."
        )
    return (
        f"Partial occupancy kept: every {element} site ({partial_li} partially occupied or "
        f"mixed) removed as the mobile ion, and {weighted} mixed or partially occupied "
        "framework sites enter with occupancy-weighted bond-valence and Coulomb terms."
    )
