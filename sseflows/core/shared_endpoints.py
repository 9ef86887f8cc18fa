"""Relaxed vacancy endpoints shared between the hops of one structure.

The endpoints of hop A→B are the supercell without B (the Li at A) and the supercell
without A (the Li moved to B). Hops of one structure share these sets: every hop leaving
the same Li site A has the same final set, and the initial set of one hop is the final set
of a hop ending where it starts. The two structures of a shared set hold the same atoms at
the same positions in another order (the moving Li keeps its index), so an ML NEB over every
hop relaxes each set once and carries the relaxed positions over by that order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure

MATCH_TOLERANCE_ANGSTROM = 1e-3
"""Largest distance (Å, minimum image) at which two unrelaxed sites are the same site."""


def site_order(
    structure: Structure, reference: Structure, tol: float = MATCH_TOLERANCE_ANGSTROM
) -> np.ndarray | None:
    """``order`` with ``structure[i]`` at the position of ``reference[order[i]]`` (same
    element, within ``tol`` Å, modulo lattice translations), a one-to-one map; None when
    the two are not the same set of sites in the same lattice."""
    if len(structure) != len(reference) or not np.allclose(
        structure.lattice.matrix, reference.lattice.matrix, atol=1e-6
    ):
        return None
    if structure.composition != reference.composition:
        return None
    diff = structure.frac_coords[:, None, :] - reference.frac_coords[None, :, :]
    diff -= np.rint(diff)
    distance = np.linalg.norm(diff @ structure.lattice.matrix, axis=2)
    same = np.array([[a.specie == b.specie for b in reference] for a in structure])
    distance[~same] = np.inf
    order = np.argmin(distance, axis=1)
    if np.any(distance[np.arange(len(order)), order] > tol):
        return None
    if len(set(order.tolist())) != len(order):
        return None
    return order


def carried_over(relaxed: Structure, order: np.ndarray, target: Structure) -> Structure:
    """``relaxed`` (a relaxation of the reference of :func:`site_order`) in ``target``'s atom
    order, each atom translated by whole lattice vectors to lie nearest its ``target``
    position (so an unwrapped moving Li stays unwrapped); ``target``'s site properties."""
    frac = relaxed.frac_coords[order]
    frac = frac + np.rint(target.frac_coords - frac)
    return Structure(
        target.lattice,
        [site.species for site in target],
        frac,
        site_properties=target.site_properties or None,
    )


@dataclass
class SharedEndpoints:
    """Relaxed endpoints of one structure's hops, keyed by their unrelaxed site sets.

    Attributes:
        tolerance_angstrom: :func:`site_order`'s tolerance, Å.
        relaxations: Endpoints relaxed so far.
        reused: Endpoints taken from an earlier relaxation.
    """

    tolerance_angstrom: float = MATCH_TOLERANCE_ANGSTROM
    relaxations: int = 0
    reused: int = 0
    _known: list[tuple[Structure, Structure]] = field(default_factory=list, repr=False)

    def relaxed(self, unrelaxed: Structure, relax: Callable[[], Structure]) -> Structure:
        """The relaxed endpoint whose unrelaxed sites are ``unrelaxed``: an earlier
        relaxation of the same set carried over (:func:`carried_over`), else ``relax()``
        (which relaxes it, e.g. from a rattled copy) remembered for the next hops."""
        for reference, done in self._known:
            order = site_order(unrelaxed, reference, self.tolerance_angstrom)
            if order is not None:
                self.reused += 1
                return carried_over(done, order, unrelaxed)
        result = relax()
        self.relaxations += 1
        self._known.append((unrelaxed, result))
        return result

    def record(self) -> dict[str, int]:
        """``{"endpoint_relaxations": n, "endpoints_reused": m}`` for a document."""
        return {"endpoint_relaxations": self.relaxations, "endpoints_reused": self.reused}
