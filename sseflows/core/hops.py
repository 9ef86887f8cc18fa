"""Symmetry-distinct Li hops and the single-vacancy NEB endpoints of one hop.

Only ordered structures are handled: a hop is a pair of Li *sites*, which a partially
occupied site does not define. Disordered candidates must be ordered first (a supercell
enumeration outside this module) and otherwise raise :class:`CandidateError`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from sseflows.core.documents import HopDoc
from sseflows.core.errors import CandidateError
from sseflows.core.triples import int_triple

HopKey = tuple[int, int, tuple[int, int, int]]


@dataclass
class LiHop:
    """A Li hop from unit-cell site ``site_a`` to site ``site_b`` translated by ``jimage``.

    Attributes:
        site_a: Index of the starting Li site in the unit cell.
        site_b: Index of the destination Li site in the unit cell.
        jimage: Lattice translation of ``site_b`` (fractional, integer).
        length_angstrom: Straight-line hop length, Å.
        multiplicity: Symmetry-equivalent (undirected) hops of this kind per unit cell.
        members: Those hops, each as ``(site_a, site_b, jimage)`` written from its smaller
            end (:func:`normalise_hop`); empty when the hop was built by hand.
    """

    site_a: int
    site_b: int
    jimage: tuple[int, int, int]
    length_angstrom: float
    multiplicity: int
    members: tuple[HopKey, ...] = ()

    def to_doc(self) -> HopDoc:
        """The hop as the pydantic :class:`HopDoc` stored in ``NebDoc.hop``."""
        return HopDoc(
            site_a=self.site_a,
            site_b=self.site_b,
            jimage=self.jimage,
            length_angstrom=self.length_angstrom,
            multiplicity=self.multiplicity,
        )


def hop_in_cell(hop: LiHop, cell: Structure, candidate_id: str = "structure") -> LiHop:
    """``hop`` (numbered on another structure with the same sites in the same order, e.g.
    the candidate before a vc-relaxation) carried onto ``cell``: the same sites, translation
    and symmetry class, the length measured in ``cell`` (Å).

    Raises:
        CandidateError: ``cell`` does not hold Li at both of the hop's sites.
    """
    li = li_indices(cell)
    if hop.site_a not in li or hop.site_b not in li:
        raise CandidateError(
            candidate_id,
            f"the relaxed cell has no Li at the sites {hop.site_a} and {hop.site_b} of the hop "
            "numbered on the input structure (its sites were reordered or replaced)",
        )
    start = cell.lattice.get_cartesian_coords(cell.frac_coords[hop.site_a])
    end = cell.lattice.get_cartesian_coords(cell.frac_coords[hop.site_b] + np.array(hop.jimage))
    return replace(hop, length_angstrom=float(np.linalg.norm(end - start)))


def li_indices(structure: Structure) -> list[int]:
    """Indices of the sites occupied by Li (any oxidation state)."""
    return [i for i, site in enumerate(structure) if site.specie.symbol == "Li"]


def normalise_hop(key: HopKey) -> HopKey:
    """The same undirected hop written from its smaller end: ``(a, b, t) ~ (b, a, -t)``."""
    a, b, t = key
    reverse = (b, a, (-t[0], -t[1], -t[2]))
    return min(key, reverse)


_normalise = normalise_hop


def _locate(
    frac: np.ndarray, structure: Structure, candidates: list[int], tol: float
) -> tuple[int, np.ndarray] | None:
    """Site index among ``candidates`` at ``frac`` modulo lattice translations, and the
    translation (integer vector) from that site to ``frac``."""
    diffs = frac - structure.frac_coords[candidates]
    shifts = np.rint(diffs)
    residual = structure.lattice.get_cartesian_coords(diffs - shifts)
    distances = np.linalg.norm(residual, axis=1)
    best = int(np.argmin(distances))
    if distances[best] > tol:
        return None
    return candidates[best], shifts[best].astype(int)


def _hop_image(
    key: HopKey,
    rotation: np.ndarray,
    translation: np.ndarray,
    structure: Structure,
    li: list[int],
    tol: float,
) -> HopKey | None:
    """The hop ``key`` moved by the fractional operation ``(rotation, translation)``."""
    a, b, t = key
    start = rotation @ structure.frac_coords[a] + translation
    end = rotation @ (structure.frac_coords[b] + np.array(t)) + translation
    found_a = _locate(start, structure, li, tol)
    found_b = _locate(end, structure, li, tol)
    if found_a is None or found_b is None:
        return None
    (ia, ta), (ib, tb) = found_a, found_b
    return _normalise((ia, ib, int_triple(tb - ta)))


def enumerate_li_hops(
    structure: Structure,
    max_length: float = 4.5,
    symprec: float = 0.1,
    candidate_id: str = "structure",
) -> list[LiHop]:
    """Symmetry-distinct hops between neighbouring Li sites, shortest first.

    Every pair of Li sites (periodic images included, so a Li may hop to its own image)
    closer than ``max_length`` is a hop. Two hops are equivalent when a space-group
    operation of ``structure`` (pymatgen :class:`SpacegroupAnalyzer`, ``symprec`` in Å)
    maps one onto the other in either direction; ``multiplicity`` counts the undirected
    hops of each kind per unit cell.

    Args:
        structure: Ordered structure.
        max_length: Longest hop considered, Å.
        symprec: Symmetry tolerance, Å.
        candidate_id: Named in error messages.

    Raises:
        CandidateError: The structure is disordered, has no Li, or has no Li–Li pair closer
            than ``max_length``.
    """
    if not structure.is_ordered:
        raise CandidateError(
            candidate_id, "the structure has partially occupied sites; Li hops need an ordered one"
        )
    li = li_indices(structure)
    if not li:
        raise CandidateError(candidate_id, "the structure contains no Li")

    lengths: dict[HopKey, float] = {}
    for i in li:
        for neighbour in structure.get_neighbors(structure[i], max_length):
            j = int(neighbour.index)
            if j not in li:
                continue
            image = np.rint(neighbour.frac_coords - structure.frac_coords[j]).astype(int)
            key = _normalise((i, j, (int(image[0]), int(image[1]), int(image[2]))))
            lengths[key] = float(neighbour.nn_distance)
    if not lengths:
        raise CandidateError(
            candidate_id, f"no two Li sites are closer than {max_length:g} Å, so no Li hop exists"
        )

    operations = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations()
    orbits: list[list[HopKey]] = []
    seen: set[HopKey] = set()
    for key in sorted(lengths, key=lambda k: (round(lengths[k], 4), k)):
        if key in seen:
            continue
        orbit = {key}
        for op in operations:
            image = _hop_image(
                key, op.rotation_matrix, op.translation_vector, structure, li, 2 * symprec + 1e-3
            )
            if image is not None and image in lengths:
                orbit.add(image)
        seen |= orbit
        orbits.append(sorted(orbit))

    hops = [
        LiHop(
            site_a=orbit[0][0],
            site_b=orbit[0][1],
            jimage=orbit[0][2],
            length_angstrom=lengths[orbit[0]],
            multiplicity=len(orbit),
            members=tuple(orbit),
        )
        for orbit in orbits
    ]
    return sorted(hops, key=lambda h: (round(h.length_angstrom, 4), h.site_a, h.site_b))


@dataclass
class VacancyEndpoints:
    """NEB endpoints of one hop in a supercell with one Li vacancy.

    Attributes:
        initial: Li on A, vacancy on B.
        final: The moving Li on B, vacancy on A; same atom order as ``initial``. The moving
            Li is stored unwrapped (``final - initial`` is the hop vector).
        moving_index: Index of the moving Li in both structures.
        supercell_matrix: Integer matrix turning the unit cell into the supercell.
    """

    initial: Structure
    final: Structure
    moving_index: int
    supercell_matrix: np.ndarray


def vacancy_endpoints(
    structure: Structure,
    hop: LiHop,
    supercell_matrix: np.ndarray,
    candidate_id: str = "structure",
) -> VacancyEndpoints:
    """Initial and final structures of ``hop`` in the supercell ``supercell_matrix``.

    Both endpoints have one Li fewer than the supercell (the vacancy's charge is set by
    the energy engine, e.g. ``tot_charge = -1`` in pw.x).

    Raises:
        CandidateError: The hop's sites are not Li, or the supercell is so small that A and
            B are the same site in it.
    """
    li = li_indices(structure)
    if hop.site_a not in li or hop.site_b not in li:
        raise CandidateError(
            candidate_id, f"hop sites {hop.site_a} and {hop.site_b} are not both Li sites"
        )
    matrix = np.asarray(supercell_matrix, dtype=int)
    supercell = structure.copy()
    supercell.make_supercell(matrix)
    start_cart = structure.lattice.get_cartesian_coords(structure.frac_coords[hop.site_a])
    end_cart = structure.lattice.get_cartesian_coords(
        structure.frac_coords[hop.site_b] + np.array(hop.jimage)
    )
    super_li = li_indices(supercell)
    tol = 1e-3 * max(1.0, float(np.max(supercell.lattice.abc)))
    located = [
        _locate(supercell.lattice.get_fractional_coords(x), supercell, super_li, tol)
        for x in (start_cart, end_cart)
    ]
    if located[0] is None or located[1] is None:
        raise CandidateError(candidate_id, "the hop sites were not found in the supercell")
    index_a, index_b = located[0][0], located[1][0]
    if index_a == index_b:
        raise CandidateError(
            candidate_id,
            f"the supercell is too small: hop {hop.site_a}->{hop.site_b}{hop.jimage} joins a "
            "Li to its own periodic image in it",
        )

    initial = supercell.copy()
    initial.remove_sites([index_b])
    moving_index = index_a - (1 if index_b < index_a else 0)
    start_frac = initial.frac_coords[moving_index]
    hop_frac = supercell.lattice.get_fractional_coords(end_cart - start_cart)
    final = initial.copy()
    final.replace(
        moving_index,
        initial[moving_index].species,
        coords=start_frac + hop_frac,
        properties=initial[moving_index].properties,
    )
    return VacancyEndpoints(
        initial=initial, final=final, moving_index=moving_index, supercell_matrix=matrix
    )


def rattle_endpoints(
    initial: Structure, final: Structure, amplitude_angstrom: float, seed: int = 0
) -> tuple[Structure, Structure]:
    """Both endpoints with every atom moved by ``amplitude_angstrom`` (Å) in a random
    direction drawn with ``seed``, the same vector for the same atom in both.

    Breaks the symmetry of a vacancy cell before it is relaxed, so that a relaxation cannot
    stop at a stationary point whose forces vanish only by symmetry (a saddle or maximum of
    the energy); the same vectors keep the hop itself (``final - initial``) unchanged.
    """
    if amplitude_angstrom <= 0:
        return initial.copy(), final.copy()
    directions = np.random.default_rng(seed).normal(size=(len(initial), 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    shift = directions * amplitude_angstrom
    moved = []
    for endpoint in (initial, final):
        frac = endpoint.frac_coords + endpoint.lattice.get_fractional_coords(shift)
        moved.append(
            Structure(
                endpoint.lattice,
                [site.species for site in endpoint],
                frac,
                site_properties=endpoint.site_properties or None,
            )
        )
    return moved[0], moved[1]
