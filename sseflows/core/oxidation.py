"""Oxidation states for candidates: keep the given ones, else guess, else reject clearly.

Bond-valence methods and the structure simplifications need every species to carry an
oxidation state. Most CIFs from the ICSD carry them; structures built by hand or from MP
often do not. Disordered (partially occupied) structures are supported: guesses are made
on the composition, so fractional occupancies are fine.
"""

from __future__ import annotations

import itertools
import math

from pymatgen.analysis.bond_valence import BVAnalyzer
from pymatgen.core import Composition, Element, Species, Structure

from sseflows.core.errors import CandidateError

RELATIVE_CHARGE_TOLERANCE = 0.02
"""Largest |net charge| accepted as neutral, as a fraction of the total cation charge.

Partially occupied sites from refinements rarely balance exactly (Li10GeP2S12 from the
ICSD is off by 0.3 %); 2 % accepts rounding but rejects a truly charged cell."""


def has_oxidation_states(structure: Structure) -> bool:
    """True when every species carries an oxidation state and not all of them are zero.

    Some files (pymatgen's own Li3V2(PO4)3) decorate every species with 0, which means
    "unknown"; those are treated as undecorated.
    """
    states = [
        sp.oxi_state if isinstance(sp, Species) else None
        for site in structure
        for sp in site.species
    ]
    return all(s is not None for s in states) and any(s != 0 for s in states)


def net_charge(structure: Structure) -> float:
    """Net charge of the cell in e (sum of occupancy × oxidation state)."""
    return float(
        sum(
            occu * (getattr(sp, "oxi_state", 0) or 0)
            for site in structure
            for sp, occu in site.species.items()
        )
    )


def _cation_charge(states: dict[str, float], composition: Composition) -> float:
    return sum(max(states[el.symbol], 0.0) * amt for el, amt in composition.items())


def is_neutral(states: dict[str, float], composition: Composition) -> bool:
    """True when ``composition`` with per-element ``states`` is neutral within tolerance."""
    charge = sum(states[el.symbol] * amt for el, amt in composition.items())
    scale = _cation_charge(states, composition) or 1.0
    return abs(charge) <= RELATIVE_CHARGE_TOLERANCE * scale


def guess_element_oxidation_states(composition: Composition) -> dict[str, float] | None:
    """Oxidation state per element that makes ``composition`` neutral, Li fixed at +1.

    Uses pymatgen's ``Composition.oxi_state_guesses`` on the composition rounded to whole
    atoms (exact for ordered cells, close for partially occupied ones) and accepts the
    first guess that leaves the real composition neutral within
    :data:`RELATIVE_CHARGE_TOLERANCE`. Returns None when there is none.
    """
    plain = Composition({el.symbol: amt for el, amt in composition.element_composition.items()})
    reduced = plain.reduced_composition
    trials = []
    for scale in (1, 2, 4, 5, 10):
        rounded = {el.symbol: round(amt * scale) for el, amt in reduced.items()}
        if all(v > 0 for v in rounded.values()):
            trials.append(Composition(rounded))
    for trial in trials:
        if trial.num_atoms > 120:
            break
        try:
            guesses = trial.oxi_state_guesses(oxi_states_override={"Li": [1]}, max_sites=-50)
        except ValueError:
            continue
        for guess in guesses[:10]:
            states = {el: float(v) for el, v in guess.items()}
            if is_neutral(states, reduced):
                return states
    return None


MAX_STATE_COMBINATIONS = 50_000
"""Largest number of oxidation-state combinations :func:`sign_balanced_states` tries."""


def sign_balanced_states(composition: Composition) -> dict[str, float] | None:
    """Oxidation state per element that balances ``composition`` (fractional amounts fine).

    Li is +1; every other element takes one of pymatgen's ``common_oxidation_states`` (0
    when it has none). Among combinations whose net charge is within
    :data:`RELATIVE_CHARGE_TOLERANCE` of the cation charge, the
    one with the smallest Σ n·q·χ (negative charge on electronegative elements) is
    returned; None when no combination balances or there are too many to try.
    """
    amounts = {el.symbol: amt for el, amt in composition.element_composition.items()}
    symbols = sorted(amounts)
    choices = [
        (1,) if el == "Li" else (Element(el).common_oxidation_states or (0,)) for el in symbols
    ]
    if math.prod(len(c) for c in choices) > MAX_STATE_COMBINATIONS:
        return None
    chi = [Element(el).X if not math.isnan(Element(el).X) else 0.0 for el in symbols]
    n = [amounts[el] for el in symbols]
    best, best_score = None, math.inf
    for states in itertools.product(*choices):
        charge = sum(a * q for a, q in zip(n, states, strict=True))
        cations = sum(a * q for a, q in zip(n, states, strict=True) if q > 0)
        if abs(charge) > RELATIVE_CHARGE_TOLERANCE * max(cations, 1.0):
            continue
        score = sum(a * q * x for a, q, x in zip(n, states, chi, strict=True))
        if score < best_score:
            best, best_score = states, score
    if best is None:
        return None
    return {el: float(q) for el, q in zip(symbols, best, strict=True)}


def ensure_oxidation_states(structure: Structure, candidate_id: str) -> Structure:
    """A copy of ``structure`` with oxidation states on every species.

    Given states are kept; otherwise bond-valence analysis (ordered structures) or a
    composition-based guess (any structure) supplies them.

    Raises:
        CandidateError: when no charge-balanced assignment exists, when Li is not +1, or when
            the given states leave the cell charged beyond :data:`RELATIVE_CHARGE_TOLERANCE`.
    """
    decorated = structure.copy()
    if not has_oxidation_states(decorated):
        decorated.remove_oxidation_states()
        assigned = False
        if decorated.is_ordered and len(decorated) <= 400:
            try:
                decorated = BVAnalyzer().get_oxi_state_decorated_structure(decorated)
                assigned = True
            except ValueError:
                assigned = False
        if not assigned:
            states = guess_element_oxidation_states(decorated.composition)
            if states is None:
                states = sign_balanced_states(decorated.composition)
            if states is None:
                raise CandidateError(
                    candidate_id,
                    f"oxidation states of {decorated.composition.reduced_formula} cannot be "
                    "assigned (no charge-balanced guess)",
                )
            decorated.add_oxidation_state_by_element(states)
    li_states = {sp.oxi_state for site in decorated for sp in site.species if sp.symbol == "Li"}
    if li_states and li_states != {1} and li_states != {1.0}:
        raise CandidateError(
            candidate_id, f"Li carries oxidation state(s) {sorted(li_states, key=str)}, not +1"
        )
    cation_charge = sum(
        occu * max(getattr(sp, "oxi_state", 0) or 0, 0)
        for site in decorated
        for sp, occu in site.species.items()
    )
    if abs(net_charge(decorated)) > RELATIVE_CHARGE_TOLERANCE * max(cation_charge, 1.0):
        raise CandidateError(
            candidate_id,
            f"the structure is charged ({net_charge(decorated):+.2f} e per cell with the given "
            "oxidation states)",
        )
    return decorated
