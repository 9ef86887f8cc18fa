"""Simplified structures for structure-similarity descriptors (SOAP) of Li conductors.

Laskowski, McHaffie and See (Energy Environ. Sci. 2023, doi:10.1039/D2EE03499A) cluster
~26,000 Li-containing structures with SOAP descriptors computed not on the real structures
but on *simplified* ones, in which chemistry is reduced to the role each ion plays in Li
conduction. Every species on every site is classified by its oxidation state:

====== ============================== ===========
class  species                        becomes
====== ============================== ===========
C      cation (oxidation state > 0)   Al
A      anion (oxidation state < 0)    S
M      mobile ion: Li (always +1)     Li
N      neutral (oxidation state = 0)  Mg
====== ============================== ===========

A scheme names the classes that are kept; the others are deleted:

* ``CAMN`` — all four classes; ``CAN`` — the framework without Li; ``AM`` — anions and Li;
  ``A`` — the anion sublattice alone.
* ``<scheme>-40`` — the same, with the lattice scaled isotropically so that the volume per
  anion is 40 Å³ (anions counted with their occupancy). This removes the size difference
  between, e.g., oxide and sulfide frameworks of the same topology.
* ``CAMNS`` / ``CANS`` — **our interpretation.** The stored sources we could search hold
  only the paper's abstract, not the definition of the "S" variants. We define them as
  *sulfide-scaled*: CAMN / CAN with the lattice scaled isotropically so that the mean
  distance from a Li site to its nearest anion site equals the Li–S bond of Li2S,
  :data:`LI_S_BOND_ANGSTROM` (antifluorite, a = 5.708 Å, d = a√3/4 = 2.472 Å). Since all
  anions have become S, this puts each Li in the environment it would have in the sulfide
  analogue of the structure, which normalises the Li–anion bond rather than the anion
  packing density normalised by ``-40``. The scale factor is measured on the structure
  with Li (CAMN) and applied unchanged to CANS, so CANS is CAMNS without Li.

Partially occupied sites are kept, not rejected: every species on a site is mapped, the
fractions of species that map to the same element are added, deleted classes leave
vacancy, and a site left with nothing is removed. Example: a Li0.5Ge0.5 site becomes
Li0.5Al0.5 in CAMN, Al0.5 in CAN and Li0.5 in AM. Oxidation states come from
:func:`sseflows.core.oxidation.ensure_oxidation_states` (given states kept, else guessed).
Its guess works on the composition rounded to whole atoms and gives up on large disordered
cells (105 of the 241 Li-containing OBELiX structures, e.g. Li24.2Si0.2P3.8S20Br4). Since
the simplification needs only the *sign* of each element's state, it then falls back to
:func:`sign_balanced_states`: every combination of the elements' common oxidation states
is tried on the fractional composition itself, the charge-balanced ones (within 2 % of
the cation charge) are kept, and among them the one that puts the negative charge on the
most electronegative elements wins (smallest Σ n·q·χ).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from pymatgen.core import Element, Lattice, Structure

from sseflows.core.errors import CandidateError
from sseflows.core.oxidation import ensure_oxidation_states

SCHEMES = ("CAMN", "CAN", "AM", "A", "CAMN-40", "CAN-40", "AM-40", "A-40", "CAMNS", "CANS")
"""Names accepted by :func:`simplify`."""

PROXY = {"C": "Al", "A": "S", "M": "Li", "N": "Mg"}
"""Element that stands for each class in a simplified structure."""

VOLUME_PER_ANION_A3 = 40.0
"""Target volume per anion of the ``-40`` schemes, Å³."""

LI_S_BOND_ANGSTROM = 2.472
"""Li–S distance in antifluorite Li2S (a = 5.708 Å, d = a√3/4), Å; target of CAMNS/CANS."""

MOBILE_ELEMENT = "Li"


def classify(symbol: str, oxidation_state: float) -> str:
    """Class of one species: ``M`` for Li, else ``C`` (> 0), ``A`` (< 0) or ``N`` (0)."""
    if symbol == MOBILE_ELEMENT:
        return "M"
    if oxidation_state > 0:
        return "C"
    if oxidation_state < 0:
        return "A"
    return "N"


def decorate(structure: Structure, candidate_id: str) -> Structure:
    """``structure`` with oxidation states (:func:`ensure_oxidation_states`, which falls back
    to :func:`~sseflows.core.oxidation.sign_balanced_states` for fractional compositions).

    Raises:
        CandidateError: when no charge-balanced assignment exists.
    """
    return ensure_oxidation_states(structure, candidate_id)


def parse_scheme(scheme: str) -> tuple[frozenset[str], str | None]:
    """Split a scheme name into the kept classes and the scaling (``"40"``, ``"S"`` or None).

    Raises:
        ValueError: for a name not in :data:`SCHEMES`.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown simplification scheme {scheme!r}; choose one of {SCHEMES}")
    if scheme.endswith("-40"):
        return frozenset(scheme[:-3]), "40"
    if scheme in ("CAMNS", "CANS"):
        return frozenset(scheme[:-1]), "S"
    return frozenset(scheme), None


def _classified_sites(structure: Structure) -> list[dict[str, float]]:
    """Per site: class -> summed occupancy of the species in that class."""
    sites = []
    for site in structure:
        classes: dict[str, float] = defaultdict(float)
        for species, occupancy in site.species.items():
            oxi = getattr(species, "oxi_state", None) or 0.0
            classes[classify(species.symbol, oxi)] += occupancy
        sites.append(dict(classes))
    return sites


def anion_count(structure: Structure) -> float:
    """Number of anions in the cell, counted with occupancy (needs oxidation states)."""
    return sum(classes.get("A", 0.0) for classes in _classified_sites(structure))


def mean_li_anion_distance(structure: Structure, classes: list[dict[str, float]]) -> float:
    """Mean over Li-containing sites of the distance to the nearest anion-containing site, Å."""
    li_sites = [i for i, c in enumerate(classes) if c.get("M", 0.0) > 0]
    anion_sites = [i for i, c in enumerate(classes) if c.get("A", 0.0) > 0]
    if not li_sites or not anion_sites:
        return float("nan")
    frac = structure.frac_coords
    dist = structure.lattice.get_all_distances(frac[li_sites], frac[anion_sites])
    dist[dist < 1e-8] = np.inf  # a site holding both Li and an anion is not its own neighbour
    return float(np.mean(dist.min(axis=1)))


def _scaled_lattice(
    structure: Structure, classes: list[dict[str, float]], scaling: str, candidate_id: str
) -> Lattice:
    """The lattice of the simplified structure for scaling ``"40"`` or ``"S"``."""
    if scaling == "40":
        n_anions = sum(c.get("A", 0.0) for c in classes)
        if n_anions <= 0:
            raise CandidateError(
                candidate_id, "the structure has no anions, so it cannot be scaled per anion"
            )
        return structure.lattice.scale(VOLUME_PER_ANION_A3 * n_anions)
    distance = mean_li_anion_distance(structure, classes)
    if not np.isfinite(distance):
        raise CandidateError(
            candidate_id,
            "the structure needs both Li and anion sites to be scaled to the Li–S bond length",
        )
    factor = LI_S_BOND_ANGSTROM / distance
    return Lattice(structure.lattice.matrix * factor)


def simplify(structure: Structure, scheme: str, *, candidate_id: str = "structure") -> Structure:
    """The simplified structure of ``structure`` under ``scheme`` (see module docstring).

    Args:
        structure: Ordered or partially occupied structure, with or without oxidation states.
        scheme: One of :data:`SCHEMES`.
        candidate_id: Used in error messages.

    Returns:
        A new structure whose species are plain elements (Al, S, Li, Mg) with fractional
        occupancies where the input had them; fractional coordinates are unchanged.

    Raises:
        ValueError: for an unknown scheme.
        CandidateError: when oxidation states cannot be assigned, when nothing is left after
            deleting classes, or when the scaling has nothing to measure.
    """
    kept, scaling = parse_scheme(scheme)
    decorated = decorate(structure, candidate_id)
    classes = _classified_sites(decorated)
    lattice = decorated.lattice
    if scaling is not None:
        lattice = _scaled_lattice(decorated, classes, scaling, candidate_id)

    species, coords = [], []
    for site, site_classes in zip(decorated, classes, strict=True):
        mapped: dict[Element, float] = defaultdict(float)
        for cls, occupancy in site_classes.items():
            if cls in kept:
                mapped[Element(PROXY[cls])] += occupancy
        if mapped:
            species.append({el: min(occu, 1.0) for el, occu in mapped.items()})
            coords.append(site.frac_coords)
    if not species:
        raise CandidateError(
            candidate_id, f"nothing is left of {decorated.composition.reduced_formula} in {scheme}"
        )
    return Structure(lattice, species, coords)
