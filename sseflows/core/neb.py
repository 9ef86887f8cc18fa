"""NEB bands for every engine (Quantum ESPRESSO and ML potentials), written once: what a
band is built on (:class:`NebSetup`), what a finished one holds (:class:`BandResult`),
whether it is a barrier at all, and the document both engines return (:class:`NebDoc`).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from jobflow import job
from pydantic import Field
from pymatgen.core import Structure

from sseflows.core.approximant import ApproximantRecord
from sseflows.core.documents import HopBarrierDoc, HopDoc, TierDoc
from sseflows.core.errors import CandidateError
from sseflows.core.hops import LiHop, enumerate_li_hops, hop_in_cell, vacancy_endpoints
from sseflows.core.supercell import minimal_supercell_matrix, supercell_lengths

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

    def with_endpoint(self, endpoint: str, structure: Structure) -> NebSetup:
        """This setup with ``endpoint`` (``"initial"`` or ``"final"``) set to ``structure``."""
        if endpoint == "initial":
            return replace(self, initial=structure)
        if endpoint == "final":
            return replace(self, final=structure)
        raise ValueError(f"endpoint must be 'initial' or 'final', got {endpoint!r}")


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


def vacancy_hop_setup(
    structure: Structure | None,
    candidate_id: str,
    hop_index: int = 0,
    max_hop_length: float = 4.5,
    symprec: float = 0.1,
    min_length: float = 10.0,
    max_atoms: int | None = 250,
    numbered_on: Structure | None = None,
) -> NebSetup:
    """Hop ``hop_index`` (symmetry-distinct, shortest first) of ``structure``, the smallest
    supercell with every periodic image at least ``min_length`` (Å) apart and the two
    unrelaxed single-vacancy endpoints: the setup every NEB engine starts from.

    ``numbered_on``: the structure whose hop enumeration ``hop_index`` refers to when it is
    not ``structure`` itself — the candidate's input structure, when ``structure`` is its
    vc-relaxed cell (same sites, same order). The hop is then picked there and carried onto
    ``structure`` by its sites and translation (:func:`~sseflows.core.hops.hop_in_cell`),
    so that hop N is the same hop for every engine (the BVSE gate and the ML NEB number
    the hops of the input structure) even where the relaxation reorders two hops of
    nearly equal length.

    Raises:
        CandidateError: No structure, no Li, no hop ``hop_index``, or a supercell larger
            than ``max_atoms``.
    """
    if structure is None:
        raise CandidateError(candidate_id, "it has no structure to compute a barrier on")
    hops = enumerate_li_hops(numbered_on or structure, max_hop_length, symprec, candidate_id)
    if not 0 <= hop_index < len(hops):
        raise CandidateError(
            candidate_id,
            f"hop {hop_index} was requested but the structure has {len(hops)} distinct Li hops",
        )
    hop = hops[hop_index]
    if numbered_on is not None:
        hop = hop_in_cell(hop, structure, candidate_id)
    try:
        matrix = minimal_supercell_matrix(structure.lattice, min_length, max_atoms, len(structure))
    except ValueError as error:
        raise CandidateError(candidate_id, str(error)) from error
    ends = vacancy_endpoints(structure, hop, matrix, candidate_id)
    return NebSetup(
        hop=hop,
        supercell_matrix=np.asarray(matrix),
        supercell_lengths=supercell_lengths(structure.lattice, matrix),
        initial=ends.initial,
        final=ends.final,
        moving_index=ends.moving_index,
        wall_s=0.0,
        structure=structure,
    )


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


def lowest_inner_image(energies_ev: Sequence[float] | np.ndarray) -> int:
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


class NebDoc(TierDoc):
    """A Li migration barrier from a (CI-)NEB calculation.

    Arrays (image positions, path coordinates) live in the JobStore ``data`` store under
    ``images``; the document keeps the scalars. ``barrier_ev`` is reported only from a
    converged band that passes :func:`sseflows.core.neb.band_problem`; otherwise the
    status is ``failed``, the reason says why, and the band (``energies_ev``, ``images``)
    is kept for inspection.
    """

    tier: str = "neb"
    engine: str = Field(
        default="qe", description="Energy engine: 'qe', or the force field's name in lower case."
    )
    hop: HopDoc | None = Field(default=None, description="The hop this barrier belongs to.")
    hops: list[HopBarrierDoc] = Field(
        default_factory=list,
        description="Every distinct hop up to max_hop_length with its barrier and band, when "
        "the engine computed them all (the ML engine's default, hops='all'); empty otherwise.",
    )
    e1d_ev: float | None = Field(
        default=None,
        description="Lowest hop barrier at which the hops form a 1-periodic network, eV "
        "(sseflows.core.percolation; BVSE's E_1D definition); None: no such network.",
    )
    e2d_ev: float | None = Field(default=None, description="The same for 2D, eV.")
    e3d_ev: float | None = Field(default=None, description="The same for 3D, eV.")
    limiting_hops: dict[str, int | None] = Field(
        default_factory=dict,
        description="Limiting hop (index in hops) of the '1D', '2D' and '3D' networks.",
    )
    limiting_hop_index: int | None = Field(
        default=None,
        description="Limiting hop of the lowest-dimensional percolating network (the 1D one): "
        "its barrier is barrier_ev, its band fills the band fields, and the QE stage "
        "computes it (seed 'limiting_hop_index'). In a QE document: the ML engine's limiting "
        "hop that this band computed (settings['hop_index'] is the same index); None when "
        "the QE stage computed its hop_index.",
    )
    approximant: ApproximantRecord | None = Field(
        default=None,
        description="The ordered approximant the barrier was computed on when the candidate "
        "was disordered (supercell, occupancy rounding, energy spread among orderings); None "
        "when it was ordered.",
    )
    supercell_matrix: list[list[int]] | None = Field(
        default=None, description="Integer matrix turning the unit cell into the supercell."
    )
    supercell_lengths_angstrom: list[float] | None = Field(
        default=None, description="Lattice-vector lengths of the supercell, Å."
    )
    n_images: int | None = Field(default=None, description="Intermediate images.")
    energies_ev: list[float] = Field(
        default_factory=list, description="Image energies relative to the first image, eV."
    )
    reaction_coordinate_angstrom: list[float] = Field(
        default_factory=list, description="Cumulative path length at each image, Å."
    )
    barrier_ev: float | None = Field(
        default=None,
        description="The candidate's barrier, eV: with every hop computed, the percolating "
        "one (e1d_ev, the limiting hop's larger barrier); with one hop, its forward barrier.",
    )
    barrier_back_ev: float | None = Field(
        default=None, description="Backward barrier of the hop whose band is reported, eV."
    )
    converged: bool = Field(
        default=False,
        description="The final stage (the climbing-image restart when it ran, else the plain "
        "NEB) reached the force threshold.",
    )
    climbing_image: bool = Field(
        default=False,
        description="The climbing-image stage ran; it starts only after the plain stage converged.",
    )
    plain_converged: bool = Field(
        default=False, description="The plain (non-climbing) NEB reached the force threshold."
    )
    plain_iterations: int | None = Field(
        default=None, description="NEB iterations of the plain stage."
    )
    climb_iterations: int | None = Field(
        default=None, description="NEB iterations of the climbing-image stage (0 when skipped)."
    )
    iterations: int | None = Field(
        default=None,
        description="NEB iterations of all stages: plain_iterations + climb_iterations.",
    )
    wall_s: float | None = Field(default=None, description="Wall time of the NEB, s.")
    endpoint_rattle_angstrom: float = Field(
        default=0.0,
        description="Random displacement of every endpoint atom before the endpoint "
        "relaxations (symmetry breaking), Å; 0 when none was applied.",
    )
    endpoint_replacements: list[dict] = Field(
        default_factory=list,
        description="Endpoints replaced by a relaxed image that lay below them, in order: "
        "'endpoint' (initial/final), 'image' (its index), 'below_ev' (how far below the "
        "lower endpoint it lay, eV) and 'energy_change_ev' of the replaced endpoint (eV).",
    )
    seed_fallback: str | None = Field(
        default=None,
        description="One sentence when the band could not start from the seed asked for (no "
        "BVSE path, an ML band that did not converge or does not fit the endpoints) and started "
        "from linear images instead; None when it started as asked.",
    )
    hop_fallback: str | None = Field(
        default=None,
        description="One sentence when the hop asked for (the limiting hop of the ML engine's "
        "NEB over every hop) was not available (that NEB failed or its hops do not "
        "percolate) and the Maker's hop_index was computed instead; None when the hop was "
        "computed as asked.",
    )
    ml_seed: dict | None = Field(
        default=None,
        description="The ML band the images were mapped from (image method 'ml'): 'engine', "
        "'converged', 'reason', 'iterations', 'wall_s' (s), 'barrier_ev' (eV) and 'settings' "
        "(the ML NEB's force_field_name, image_method, image_method_used, "
        "fmax_ev_per_angstrom (eV/Å), max_steps, climbing_image).",
    )
    images: list[dict] | None = Field(
        default=None, description="Image structures (as dicts); stored in the data store."
    )

    def judged(self, tolerance_ev: float, unconverged: str = "the NEB did not converge") -> NebDoc:
        """This document if its band is a converged barrier, else withheld with the reason:
        the band check first (:func:`~sseflows.core.neb.band_problem`, naming an endpoint
        replacement already tried), then ``unconverged`` (a phrase) when it did not converge.
        """
        problem = band_problem(self.energies_ev, tolerance_ev) if self.energies_ev else None
        if problem is not None:
            again = ""
            if self.endpoint_replacements:
                last = self.endpoint_replacements[-1]
                again = (
                    f", also after the {last['endpoint']} endpoint was replaced by relaxed "
                    f"image {last['image']}"
                )
            return self.withhold_barrier(
                f"Candidate '{self.candidate_id}': {problem}{again}; no barrier is reported "
                "(the band is kept for inspection)."
            )
        if not self.converged:
            return self.withhold_barrier(
                f"Candidate '{self.candidate_id}': {unconverged}, so no barrier is reported."
            )
        return self

    def with_approximant(self, approximant: dict[str, Any] | None) -> NebDoc:
        """This document recording ``approximant`` (an ``ApproximantRecord`` dict, the
        ``approximant`` seed); unchanged when None."""
        if approximant is None:
            return self
        record = ApproximantRecord.model_validate(approximant)
        return self.model_copy(update={"approximant": record})

    def withhold_barrier(self, reason: str) -> NebDoc:
        """This document as ``failed`` with ``reason`` and no barrier; the band is kept."""
        return self.model_copy(
            update={
                "status": "failed",
                "reason": reason,
                "barrier_ev": None,
                "barrier_back_ev": None,
            }
        )


@dataclass(frozen=True)
class EndpointReplacement:
    """Which endpoint a band's lowest intermediate image replaces (see :func:`replacement`).

    Attributes:
        image: Index of the lowest intermediate image (endpoints included in the count).
        endpoint: ``"initial"`` or ``"final"``, the endpoint nearer that image.
        below_ev: How far the image lies below the lower endpoint, eV.
    """

    image: int
    endpoint: str
    below_ev: float

    def record(self, energy_change_ev: float | None) -> dict[str, Any]:
        """The ``NebDoc.endpoint_replacements`` entry, with the replaced endpoint's energy
        change (eV) once the image has been relaxed."""
        return {
            "endpoint": self.endpoint,
            "image": self.image,
            "below_ev": self.below_ev,
            "energy_change_ev": energy_change_ev,
        }


def replacement(energies_ev: Sequence[float]) -> EndpointReplacement:
    """The replacement a band with these image energies (eV) calls for: its lowest
    intermediate image and the endpoint nearer it (:func:`nearer_endpoint`)."""
    k = lowest_inner_image(energies_ev)
    below = min(energies_ev[0], energies_ev[-1]) - energies_ev[k]
    return EndpointReplacement(k, nearer_endpoint(k, len(energies_ev), energies_ev), below)


def neb_job(method: Callable[..., Any]) -> Callable[..., Any]:
    """The job decorator of every NEB tier job (as atomate2's ``vasp_job``): the output is a
    :class:`NebDoc` and the band's images go to the JobStore's ``data`` store."""
    return job(method, output_schema=NebDoc, data=["images"])
