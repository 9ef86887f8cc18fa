"""Simplified structures for structure-similarity descriptors (SOAP, graph embeddings).

Laskowski, McHaffie and See (Energy Environ. Sci. 2023, doi:10.1039/D2EE03499A, seed 000)
cluster Li structures with descriptors computed on *simplified* structures, in which the
chemistry is reduced to the role each ion plays in Li conduction [000 L273–282]. Every
non-Li species is classified by the sign of its oxidation state and, in the substituted
schemes, replaced by one representative element:

====== =========================== ============== ============= ================================
project name             Laskowski 2023 McHaffie 2025 what it is
======================== ============== ============= ================================
``original``             (unperturbed)  CAMN          the structure itself
``original-noli``        —              CAN           Li removed
``substituted``          CAMN           CAMNS         Al/S/Mg, Li kept
``substituted-noli``     CAN            CANS          Al/S/Mg, Li removed
``anions-li``            AM             —             S and Li only
``anions``               A              —             S only
``substituted-v40``      CAMN-40        —             ``substituted``, 40 Å³ per anion
``substituted-noli-v40`` CAN-40         —             ``substituted-noli``, idem
``anions-li-v40``        AM-40          —             ``anions-li``, idem
``anions-v40``           A-40           —             ``anions``, idem
======================== ============== ============= ================================

Laskowski's SOAP-CAN, the best of their 180 representations, is SOAP on
``substituted-noli``; McHaffie's best graph input, CAMNS, is ``substituted``.

``-v40`` schemes scale the lattice isotropically to :data:`VOLUME_PER_ANION_A3` = 40 Å³ per
anion [000 L281–282]. As in the authors' public code (FALL-ML/materials-discovery,
``structure_simplifications``), neutral atoms count with the anions (V = 40 Å³ × (n_A +
n_N), counted before any class is deleted); for the usual structures without neutral
atoms this is exactly 40 Å³ per anion.

Oxidation states (substituted schemes only) come from
:func:`sseflows.core.oxidation.ensure_oxidation_states`: states given in the CIF are kept,
as McHaffie did ("checking the oxidation state from the CIF file" [002 L390–394]), else
they are guessed; only their sign matters. The ``original`` schemes need none.

Partially occupied sites are kept, not rejected: every species on a site is mapped, the
fractions of species that map to the same element are added (capped at 1), deleted
classes leave vacancy, and a site left with nothing is removed. Example: a Li0.5Ge0.5 site
becomes Li0.5Al0.5 in ``substituted``, Al0.5 in ``substituted-noli``, Li0.5 in
``anions-li`` and Ge0.5 in ``original-noli``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pymatgen.core import Element, Species, Structure
from pymatgen.core.periodic_table import DummySpecies

from sseflows.core.errors import CandidateError
from sseflows.core.oxidation import ensure_oxidation_states

PROXY = {"C": "Al", "A": "S", "M": "Li", "N": "Mg"}
"""Element that stands for each class in a substituted structure."""

VOLUME_PER_ANION_A3 = 40.0
"""Target volume per anion (plus neutral atom) of the ``-v40`` schemes, Å³ [000 L281]."""

MOBILE_ELEMENT = "Li"

ALL_CLASSES = frozenset("CAMN")


@dataclass(frozen=True)
class Scheme:
    """One simplification.

    Attributes:
        name: Project name (a key of :data:`SCHEMES`).
        substituted: Whether non-Li species become Al/S/Mg by the sign of their state.
        kept: Classes kept (subset of ``C``, ``A``, ``M``, ``N``); the others are deleted.
        volume_per_anion_a3: Lattice scaled to this volume per anion (+ neutral), Å³, or
            None for no scaling.
    """

    name: str
    substituted: bool
    kept: frozenset[str]
    volume_per_anion_a3: float | None = None


def _scheme(name: str, substituted: bool, kept: str, v40: bool = False) -> Scheme:
    return Scheme(name, substituted, frozenset(kept), VOLUME_PER_ANION_A3 if v40 else None)


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        _scheme("original", False, "CAMN"),
        _scheme("original-noli", False, "CAN"),
        _scheme("substituted", True, "CAMN"),
        _scheme("substituted-noli", True, "CAN"),
        _scheme("anions-li", True, "AM"),
        _scheme("anions", True, "A"),
        _scheme("substituted-v40", True, "CAMN", v40=True),
        _scheme("substituted-noli-v40", True, "CAN", v40=True),
        _scheme("anions-li-v40", True, "AM", v40=True),
        _scheme("anions-v40", True, "A", v40=True),
    )
}
"""Every scheme under its project name (see the module docstring's table)."""

PAPER_SCHEMES: dict[str, dict[str, str]] = {
    "laskowski2023": {
        "unperturbed": "original",
        "CAMN": "substituted",
        "CAN": "substituted-noli",
        "AM": "anions-li",
        "A": "anions",
        "CAMN-40": "substituted-v40",
        "CAN-40": "substituted-noli-v40",
        "AM-40": "anions-li-v40",
        "A-40": "anions-v40",
    },
    "mchaffie2025": {
        "CAMN": "original",
        "CAN": "original-noli",
        "CAMNS": "substituted",
        "CANS": "substituted-noli",
    },
}
"""Paper -> the paper's scheme name -> project name (000 = laskowski2023, 002 = mchaffie2025)."""


def classify(symbol: str, oxidation_state: float) -> str:
    """Class of one species: ``M`` for Li, else ``C`` (> 0), ``A`` (< 0) or ``N`` (0)."""
    if symbol == MOBILE_ELEMENT:
        return "M"
    if oxidation_state > 0:
        return "C"
    if oxidation_state < 0:
        return "A"
    return "N"


def resolve_scheme(scheme: str, paper: str | None = None) -> Scheme:
    """The :class:`Scheme` for a project name, or for a paper's name when ``paper`` is given.

    Raises:
        ValueError: for an unknown paper or name, and for a paper's name given without its
            paper (``CAMN`` means different things in 000 and 002).
    """
    if paper is not None:
        if paper not in PAPER_SCHEMES:
            raise ValueError(f"unknown paper {paper!r}; choose one of {sorted(PAPER_SCHEMES)}")
        names = PAPER_SCHEMES[paper]
        if scheme not in names:
            raise ValueError(
                f"{paper} has no simplification named {scheme!r}; it has {sorted(names)}"
            )
        return SCHEMES[names[scheme]]
    if scheme in SCHEMES:
        return SCHEMES[scheme]
    papers = sorted(p for p, names in PAPER_SCHEMES.items() if scheme in names)
    if papers:
        meanings = ", ".join(f"{PAPER_SCHEMES[p][scheme]!r} in {p}" for p in papers)
        raise ValueError(
            f"{scheme!r} is a paper's name ({meanings}); pass paper=... or use a project name "
            f"from {sorted(SCHEMES)}"
        )
    raise ValueError(f"unknown simplification scheme {scheme!r}; choose one of {sorted(SCHEMES)}")


def _oxidation_state(species: Element | Species | DummySpecies) -> float:
    return float(getattr(species, "oxi_state", None) or 0.0)


def _classified_sites(structure: Structure) -> list[dict[str, float]]:
    """Per site: class -> summed occupancy of the species in that class."""
    sites = []
    for site in structure:
        classes: dict[str, float] = defaultdict(float)
        for species, occupancy in site.species.items():
            classes[classify(species.symbol, _oxidation_state(species))] += occupancy
        sites.append(dict(classes))
    return sites


def anion_count(structure: Structure) -> float:
    """Number of anions in the cell, counted with occupancy (needs oxidation states)."""
    return sum(classes.get("A", 0.0) for classes in _classified_sites(structure))


def _without_li(structure: Structure, candidate_id: str, name: str) -> Structure:
    """``structure`` with Li removed from every site (species kept as they are)."""
    species, coords = [], []
    for site in structure:
        rest = {sp: occ for sp, occ in site.species.items() if sp.symbol != MOBILE_ELEMENT}
        if rest:
            species.append(rest)
            coords.append(site.frac_coords)
    if not species:
        raise CandidateError(
            candidate_id, f"nothing is left of {structure.composition.reduced_formula} in {name}"
        )
    return Structure(structure.lattice, species, coords)


def simplify(
    structure: Structure,
    scheme: str,
    *,
    paper: str | None = None,
    candidate_id: str = "structure",
) -> Structure:
    """The simplified structure of ``structure`` under ``scheme`` (see module docstring).

    Args:
        structure: Ordered or partially occupied structure, with or without oxidation states.
        scheme: A project name (a key of :data:`SCHEMES`), or the paper's own name when
            ``paper`` is given.
        paper: ``"laskowski2023"`` or ``"mchaffie2025"`` to read ``scheme`` as that paper's
            name (:data:`PAPER_SCHEMES`).
        candidate_id: Used in error messages.

    Returns:
        A new structure. Substituted schemes hold plain elements (Al, S, Li, Mg) with
        fractional occupancies where the input had them; the ``original`` schemes keep the
        input's species. Fractional coordinates are unchanged; the lattice is unchanged
        except in the ``-v40`` schemes (volume in Å³).

    Raises:
        ValueError: for an unknown or ambiguous scheme name.
        CandidateError: when oxidation states cannot be assigned, when nothing is left after
            deleting classes, or when a ``-v40`` scheme finds no anion to scale by.
    """
    spec = resolve_scheme(scheme, paper)
    if not spec.substituted:
        if "M" in spec.kept:
            return structure.copy()
        return _without_li(structure, candidate_id, spec.name)

    decorated = ensure_oxidation_states(structure, candidate_id)
    classes = _classified_sites(decorated)
    species, coords = [], []
    for site, site_classes in zip(decorated, classes, strict=True):
        mapped: dict[Element, float] = defaultdict(float)
        for cls, occupancy in site_classes.items():
            if cls in spec.kept:
                mapped[Element(PROXY[cls])] += occupancy
        if mapped:
            species.append({el: min(occu, 1.0) for el, occu in mapped.items()})
            coords.append(site.frac_coords)
    if not species:
        raise CandidateError(
            candidate_id,
            f"nothing is left of {decorated.composition.reduced_formula} in {spec.name}",
        )
    out = Structure(decorated.lattice, species, coords)
    if spec.volume_per_anion_a3 is not None:
        n_scaling = sum(c.get("A", 0.0) + c.get("N", 0.0) for c in classes)
        if n_scaling <= 0:
            raise CandidateError(
                candidate_id, "the structure has no anions, so it cannot be scaled per anion"
            )
        out.scale_lattice(spec.volume_per_anion_a3 * n_scaling)
    return out
