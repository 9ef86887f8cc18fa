"""NEB bands for every engine (QE and ML potentials): what a band is built on
(:class:`NebSetup`), what a finished one holds (:class:`BandResult`), and whether it is a
barrier at all.

A band is a barrier only when its endpoints are minima of the path and a saddle lies between
them. Two signs say they are not (the Li2O case of issue 9: endpoints relaxed to a symmetric
stationary point with zero forces, images sliding 1.89 eV below them):

* an intermediate image lies below the *lower* endpoint by more than ``tolerance_ev``: a
  lower configuration exists between the endpoints, so the endpoints are not minima;
* no intermediate image rises to within ``tolerance_ev`` of the *higher* endpoint: the
  highest image is an endpoint and no saddle was found.

The tolerance (eV, 0.05 by default, a Maker field of each engine) absorbs numerical noise of
flat bands. Units: energies in eV, any common reference.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure

from sseflows.core.hops import LiHop

BAND_TOLERANCE_EV = 0.05
"""Default tolerance of :func:`band_problem`, eV (the Makers' ``band_tolerance_ev``)."""


@dataclass
class NebSetup:
    """What a band is built on: the hop, the supercell and the vacancy endpoints.

    Attributes:
        hop: The hop (unit-cell sites).
        supercell_matrix: Integer matrix turning the unit cell into the supercell.
        supercell_lengths: Supercell lattice-vector lengths, Å.
        initial: Initial endpoint (relaxed when the Maker says so).
        final: Final endpoint, same atom order, moving Li unwrapped.
        moving_index: Index of the moving Li.
        wall_s: Time spent preparing (endpoint relaxations included), s.
        structure: The unit cell the hop refers to (for its BVSE path).
    """

    hop: LiHop
    supercell_matrix: np.ndarray
    supercell_lengths: list[float]
    initial: Structure
    final: Structure
    moving_index: int
    wall_s: float
    structure: Structure | None = None


@dataclass
class BandResult:
    """A finished NEB band.

    Attributes:
        images: Final images, endpoints included.
        energies_ev: Absolute CHGNet energies of the images, eV.
        plain_iterations: Optimiser steps of the plain NEB.
        climb_iterations: Optimiser steps of the climbing-image restart.
        plain_converged: The plain stage reached the force threshold.
        converged: The last stage that ran reached the force threshold.
        climbed: The climbing-image stage ran (only ever after a converged plain stage).
        wall_s: Wall time of both stages, s.
    """

    images: list[Structure]
    energies_ev: list[float]
    plain_iterations: int
    climb_iterations: int
    plain_converged: bool
    converged: bool
    climbed: bool
    wall_s: float

    @property
    def iterations(self) -> int:
        """NEB iterations of both stages."""
        return self.plain_iterations + self.climb_iterations


def barriers_from_energies(energies: list[float] | np.ndarray) -> tuple[float, float]:
    """Forward and backward barriers (eV) of a path: ``max(E) - E[0]``, ``max(E) - E[-1]``."""
    values = np.asarray(energies, dtype=float)
    if values.size < 2:
        raise ValueError("A barrier needs the energies of at least two images.")
    top = float(values.max())
    return top - float(values[0]), top - float(values[-1])


def reaction_coordinate(images: list[Structure]) -> list[float]:
    """Cumulative Cartesian distance (Å) of the whole configuration along the path."""
    steps = [
        float(np.linalg.norm(b.cart_coords - a.cart_coords)) for a, b in itertools.pairwise(images)
    ]
    return [0.0, *np.cumsum(steps).tolist()]


def lowest_inner_image(energies_ev: Sequence[float]) -> int:
    """Index (in the whole band, endpoints included) of the lowest intermediate image."""
    values = np.asarray(energies_ev, dtype=float)
    if values.size < 3:
        raise ValueError("A band needs at least one intermediate image.")
    return int(np.argmin(values[1:-1])) + 1


def falls_below(energies_ev: Sequence[float], tolerance_ev: float) -> bool:
    """True when an intermediate image lies below the lower endpoint by more than
    ``tolerance_ev`` (eV): a better endpoint exists between the two."""
    values = np.asarray(energies_ev, dtype=float)
    if values.size < 3:
        return False
    return bool(values[lowest_inner_image(values)] < min(values[0], values[-1]) - tolerance_ev)


def band_problem(energies_ev: Sequence[float], tolerance_ev: float) -> str | None:
    """Why the band with these image energies is not a barrier, or None when it is one.

    Args:
        energies_ev: Energies of all images, endpoints included, eV.
        tolerance_ev: Energy tolerance of both checks, eV.

    Returns:
        One phrase naming the image and the energy difference (no trailing period), or None.
    """
    values = np.asarray(energies_ev, dtype=float)
    if values.size < 3:
        return "the band has no intermediate image"
    lower, higher = min(values[0], values[-1]), max(values[0], values[-1])
    k = lowest_inner_image(values)
    if values[k] < lower - tolerance_ev:
        return (
            f"image {k} lies {lower - values[k]:.3f} eV below the lower endpoint "
            f"(tolerance {tolerance_ev:g} eV), so the endpoints are not minima"
        )
    top = float(values[1:-1].max())
    if top < higher - tolerance_ev:
        end = "first" if values[0] >= values[-1] else "last"
        return (
            f"the highest image is the {end} endpoint: every intermediate image lies at least "
            f"{higher - top:.3f} eV below it (tolerance {tolerance_ev:g} eV), so no saddle "
            "was found"
        )
    return None


def nearer_endpoint(image_index: int, n_images_total: int, energies_ev: Sequence[float]) -> str:
    """Which endpoint a lower image should replace: the one nearer along the band, on a tie
    the higher in energy, on a second tie the first (``"initial"`` or ``"final"``)."""
    last = n_images_total - 1
    if image_index * 2 < last:
        return "initial"
    if image_index * 2 > last:
        return "final"
    return "final" if energies_ev[-1] > energies_ev[0] else "initial"
