"""Sanity checks every candidate structure passes before any tier spends time on it.

The checks are cheap and structural: the cell is not empty, contains lithium, is not so
large that the gates would run for hours, and has no two atoms on top of each other.
Oxidation states are *not* checked here; the gates that need them do that
(:func:`sseflows.core.oxidation.ensure_oxidation_states`).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Element, Structure

from sseflows.core.errors import CandidateError

MAX_SITES_DEFAULT = 1000
"""Largest number of sites accepted in one cell (a campaign setting can lower it)."""

MIN_DISTANCE_ANGSTROM = 0.5
"""Two fully occupied sites closer than this, Å, are overlapping atoms."""

FULL_OCCUPANCY = 0.999
"""A site whose summed occupancy reaches this counts as fully occupied."""


def _overlapping_pair(structure: Structure) -> tuple[int, int, float] | None:
    """The first pair of fully occupied sites closer than :data:`MIN_DISTANCE_ANGSTROM`, as
    ``(i, j, distance_A)``, or None.

    Partially occupied *split* sites are a disorder model, not an overlap: refined CIFs of
    fast conductors often have them a few tenths of an Å apart, and their occupancies do
    not always add up to one (OBELiX's Li10GeP2S12 family has two Li 0.54 sites 0.42 Å
    apart). Only two full atoms that close are certainly an error.
    """
    centers, points, _images, distances = structure.get_neighbor_list(MIN_DISTANCE_ANGSTROM)
    if len(centers) == 0:
        return None
    occupancy = np.array([site.species.num_atoms for site in structure])
    for i, j, dist in zip(centers, points, distances, strict=True):
        if i == j:  # the same site in a neighbouring cell: a cell shorter than 0.5 Å
            return int(i), int(j), float(dist)
        if i < j and min(occupancy[i], occupancy[j]) >= FULL_OCCUPANCY:
            return int(i), int(j), float(dist)
    return None


def check_candidate_structure(
    candidate_id: str, structure: Structure, max_sites: int = MAX_SITES_DEFAULT
) -> None:
    """Raise :class:`CandidateError` when ``structure`` cannot be screened.

    Args:
        candidate_id: Id used in the error message.
        structure: The candidate's structure (ordered or partially occupied).
        max_sites: Largest accepted number of sites in the cell.

    Raises:
        CandidateError: the structure is empty, contains no lithium, has more than
            ``max_sites`` sites, or has two fully occupied sites closer than 0.5 Å.
    """
    if len(structure) == 0:
        raise CandidateError(candidate_id, "the structure is empty (no sites)")
    if Element("Li") not in structure.composition.element_composition:
        formula = structure.composition.reduced_formula
        raise CandidateError(candidate_id, f"{formula} contains no lithium")
    if len(structure) > max_sites:
        raise CandidateError(
            candidate_id, f"has {len(structure)} sites, above the limit of {max_sites}"
        )
    pair = _overlapping_pair(structure)
    if pair is not None:
        i, j, dist = pair
        raise CandidateError(
            candidate_id,
            f"sites {i} ({structure[i].species_string}) and {j} ({structure[j].species_string}) "
            f"overlap: they are {dist:.2f} Å apart, below {MIN_DISTANCE_ANGSTROM} Å",
        )
