"""Ordered approximants of partially occupied structures, for the structure descriptors.

77 % of the OBELiX CIFs have partially occupied sites, among them most fast conductors.
DScribe (SOAP, sine matrix) and CHGNet need one element per site, so every structure
descriptor first replaces a disordered structure by a deterministic *ordered approximant*
(the alternative, McHaffie's occupancy-weighted site embeddings [002 L289–304], needs
access to a network's per-element embeddings, which SOAP does not have):

1. Sites are grouped by their occupancy signature (species and occupancies rounded to
   :data:`OCCUPANCY_DECIMALS`); in a CIF this is usually one Wyckoff orbit.
2. In a group of n sites, species X gets round(n·x_X) sites (largest remainders, so the
   counts never exceed n); the remaining sites become vacancies.
3. Which sites get which species: a permutation of the group's sites drawn from
   ``numpy.random.default_rng(seed)``, walked in order; a site closer than
   ``min_distance_a`` to an atom already placed is skipped (split sites, e.g. Li 0.5 Å
   apart at 1/4 occupancy, never both hold an atom). Fully occupied sites are placed
   first and never skipped.

An ordered structure is returned unchanged (as a copy). The same structure, seed and
settings always give the same approximant.

Limits, stated: the cell is not enlarged, so a group's atom count is rounded to an integer
(error ≤ 0.5 atom per group; a lone site below half occupancy becomes a vacancy), and
the composition can drift from the nominal one by that much, or more where the distance
rule skipped sites; short-range order and occupancy correlations between groups are not
modelled (McHaffie's weighting ignores them too [002 L300–304]); the choice among
equivalent sites is arbitrary but fixed. A structure whose approximant is empty raises
:class:`~sseflows.core.errors.CandidateError` naming the candidate.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure

from sseflows.core.errors import CandidateError

DEFAULT_SEED = 0
DEFAULT_MIN_DISTANCE_A = 0.9
"""Smallest distance between an atom placed on a partial site and any placed atom, Å.

Below the shortest bonds to Li/framework atoms in Li conductors (Li–O ≈ 1.9 Å, P–O ≈
1.5 Å, B–O ≈ 1.37 Å) but above typical split-site separations; an O–H (0.97 Å) on a
*partially occupied* H site survives, a shorter one does not."""
OCCUPANCY_DECIMALS = 3


@dataclass(frozen=True)
class OrderedApproximant:
    """The rule above with its two settings.

    Attributes:
        seed: Seed of the site permutation.
        min_distance_a: See :data:`DEFAULT_MIN_DISTANCE_A`, Å.
    """

    seed: int = DEFAULT_SEED
    min_distance_a: float = DEFAULT_MIN_DISTANCE_A

    def settings(self) -> dict[str, float | int | str]:
        """JSON-able settings (part of every structure representation's settings)."""
        return {
            "rule": "ordered-approximant",
            "seed": self.seed,
            "min_distance_a": self.min_distance_a,
        }

    def __call__(self, structure: Structure, candidate_id: str = "structure") -> Structure:
        return ordered_approximant(
            structure,
            seed=self.seed,
            min_distance_a=self.min_distance_a,
            candidate_id=candidate_id,
        )


def _counts(n_sites: int, occupancies: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of n·x per species, total ≤ n_sites."""
    targets = {sp: n_sites * x for sp, x in occupancies.items()}
    total = min(n_sites, round(sum(targets.values())))
    counts = {sp: int(np.floor(t)) for sp, t in targets.items()}
    remainders = sorted(targets, key=lambda sp: (-(targets[sp] - counts[sp]), sp))
    for sp in remainders[: max(total - sum(counts.values()), 0)]:
        counts[sp] += 1
    return counts


def ordered_approximant(
    structure: Structure,
    *,
    seed: int = DEFAULT_SEED,
    min_distance_a: float = DEFAULT_MIN_DISTANCE_A,
    candidate_id: str = "structure",
) -> Structure:
    """The ordered approximant of ``structure`` (see the module docstring).

    Returns:
        A structure with one species per site (species as in the input, oxidation states
        kept) on the input's lattice; a copy of ``structure`` when it is ordered.

    Raises:
        CandidateError: when no site is left.
    """
    if structure.is_ordered:
        return structure.copy()
    groups: dict[tuple[tuple[str, float], ...], list[int]] = defaultdict(list)
    for index, site in enumerate(structure):
        signature = tuple(
            sorted(
                (str(sp), round(float(occ), OCCUPANCY_DECIMALS)) for sp, occ in site.species.items()
            )
        )
        groups[signature].append(index)

    species_of = {str(sp): sp for site in structure for sp in site.species}
    placed: list[int] = []
    chosen: dict[int, str] = {}
    partial: list[tuple[tuple[tuple[str, float], ...], list[int]]] = []
    for signature, members in groups.items():
        if len(signature) == 1 and signature[0][1] >= 1.0:
            for index in members:
                chosen[index] = signature[0][0]
                placed.append(index)
        else:
            partial.append((signature, members))

    rng = np.random.default_rng(seed)
    frac = structure.frac_coords
    lattice = structure.lattice
    for signature, members in partial:
        wanted = _counts(len(members), dict(signature))
        order = [members[i] for i in rng.permutation(len(members))]
        queue = [sp for sp, _ in sorted(signature, key=lambda s: -s[1]) for _ in range(wanted[sp])]
        for index in order:
            if not queue:
                break
            if placed:
                nearest = lattice.get_all_distances(frac[index], frac[placed]).min()
                if nearest < min_distance_a:
                    continue
            chosen[index] = queue.pop(0)
            placed.append(index)

    if not chosen:
        raise CandidateError(
            candidate_id,
            f"the ordered approximant of {structure.composition.reduced_formula} has no atoms left",
        )
    indices = sorted(chosen)
    return Structure(
        lattice,
        [species_of[chosen[i]] for i in indices],
        frac[indices],
        site_properties=None,
    )
