"""The oxidation limit of a Li compound from the phase diagram of its chemical system.

Kang et al. keep candidates whose oxidation limit exceeds 3.7 V vs Li/Li⁺. The oxidation
limit is the voltage at which the compound starts to decompose as Li is extracted. In the
grand-canonical picture (open to Li at chemical potential μ_Li), the compound is stable
down to the μ_Li of the first Li-releasing reaction along the line from Li towards its
Li-free composition; below it, it decomposes into Li-poorer phases plus Li. With
μ_Li⁰ the energy per atom of Li metal and e the elementary charge,

    V_ox = −(μ_Li − μ_Li⁰) / e.

pymatgen's ``PhaseDiagram.get_element_profile(Li, composition)`` lists the reactions with
Li in order of decreasing μ_Li, each with the μ_Li at which it happens (``chempot``) and
the Li it takes up (``evolution``, negative when Li is released); the first step with
negative evolution gives μ_Li. For a binary Li_nX on the hull this is the Li_nX / X
facet, so V_ox = −ΔH_f(Li_nX) / n: the formation energy per Li, in eV.

The entries are those of the candidate's chemical system and all its subsystems, as
mp-api's ``get_entries_in_chemsys`` returns them (already corrected with MP2020).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Element
from pymatgen.entries.computed_entries import ComputedEntry

LI = Element("Li")
EVOLUTION_TOL = 1e-8
"""Smallest |Li evolution| per formula unit counted as a reaction (numerical zero below)."""


def chemsys_of(composition: Composition) -> str:
    """The chemical system of ``composition``, elements sorted and joined by '-'."""
    return "-".join(sorted(el.symbol for el in composition.elements))


@dataclass(frozen=True)
class OxidationLimit:
    """The oxidation limit of one composition.

    Attributes:
        voltage_v: V vs Li/Li⁺ at which Li extraction starts to decompose it.
        mu_li_ev: Li chemical potential there, relative to Li metal, eV (= −voltage_v).
        reaction: The decomposition reaction at that voltage, as pymatgen writes it.
    """

    voltage_v: float
    mu_li_ev: float
    reaction: str


def oxidation_limit(
    entries: Sequence[PDEntry | ComputedEntry], composition: Composition | str
) -> OxidationLimit:
    """The oxidation limit of ``composition`` from ``entries`` of its chemical system.

    Raises:
        ValueError: one sentence when the composition has no Li, when the entries lack an
            element of the composition (no phase diagram), or when no Li-releasing
            reaction exists.
    """
    composition = Composition(composition)
    if LI not in composition.elements:
        raise ValueError(f"{composition.reduced_formula} contains no Li")
    elements = set(composition.elements)
    usable = [e for e in entries if set(e.composition.elements) <= elements]
    covered = {el for e in usable for el in e.composition.elements if e.composition.is_element}
    missing = sorted(el.symbol for el in elements - covered)
    if missing:
        raise ValueError(
            f"the entries of {chemsys_of(composition)} have no elemental reference for "
            f"{', '.join(missing)}"
        )
    diagram = PhaseDiagram(usable)
    mu_li_0 = diagram.el_refs[LI].energy_per_atom
    for step in diagram.get_element_profile(LI, composition):
        if step["evolution"] < -EVOLUTION_TOL:
            mu = float(step["chempot"]) - mu_li_0
            return OxidationLimit(voltage_v=-mu, mu_li_ev=mu, reaction=str(step["reaction"]))
    raise ValueError(f"no Li-releasing reaction of {composition.reduced_formula} was found")
