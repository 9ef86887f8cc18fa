"""ML-potential (CHGNet) NEB engine producing the same :class:`NebDoc` as the QE engine.

Engine choice: atomate2 0.1.5 has ``ForceFieldNebFromImagesMaker`` (forcefields/neb.py), but
it runs one optimiser stage with a fixed ``climb`` flag, reports no iteration count, deep-
copies the calculator per image and returns emmet's ``NebResult``. The published protocol
needs a plain NEB converged first and then a climbing-image restart, with the iterations of
both stages counted (the benchmark compares them), so this module drives ASE's NEB
(:class:`ase.mep.NEB`) with the CHGNet ASE calculator directly. The pretrained weights ship in
the chgnet wheel (works offline); the model is loaded once per process.

CHGNet has no notion of total charge: the Li-vacancy supercell is computed neutral-by-
construction (one Li atom fewer), the usual practice for ML pre-screening.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import Maker, job
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from sseflows.core.errors import CandidateError
from sseflows.core.hops import LiHop, enumerate_li_hops, vacancy_endpoints
from sseflows.core.images import interpolate_images
from sseflows.core.supercell import minimal_supercell_matrix, supercell_lengths
from sseflows.qe.schemas import NebDoc

if TYPE_CHECKING:
    from ase import Atoms
    from chgnet.model import CHGNet

    from sseflows.core.candidate import Candidate

OPTIMIZERS = ("FIRE", "BFGS")


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


@functools.lru_cache(maxsize=1)
def _chgnet_model() -> CHGNet:
    """The pretrained CHGNet model, loaded once per process (CPU)."""
    from chgnet.model import CHGNet

    return CHGNet.load(use_device="cpu", verbose=False)


def _calculator():
    from chgnet.model.dynamics import CHGNetCalculator

    with contextlib.redirect_stdout(io.StringIO()):  # silence "CHGNet will run on cpu"
        return CHGNetCalculator(model=_chgnet_model(), use_device="cpu", on_isolated_atoms="ignore")


def chgnet_energy_ev(structure: Structure) -> float:
    """CHGNet total energy of one structure, eV (single point)."""
    return float(_to_atoms(structure).get_potential_energy())


def _optimizer(name: str):
    from ase.optimize import BFGS, FIRE

    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")
    return {"FIRE": FIRE, "BFGS": BFGS}[name]


def _to_atoms(structure: Structure) -> Atoms:
    atoms = AseAtomsAdaptor.get_atoms(structure.copy().remove_oxidation_states())
    atoms.calc = _calculator()
    return atoms


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


@dataclass
class ChgnetNebMaker(Maker):
    """CI-NEB barrier of one Li hop with the CHGNet potential (ASE NEB).

    Protocol (as the QE engine): supercell with every periodic image ≥ ``min_length``, one
    Li vacancy, endpoints relaxed at fixed cell, images seeded by ``image_method``, plain
    NEB to ``fmax_ev_per_angstrom``, then a climbing-image restart to the same threshold.

    Attributes:
        name: Job name.
        n_images: Intermediate images.
        climbing_image: Restart with the climbing image after the plain NEB.
        fmax_ev_per_angstrom: NEB force threshold, eV/Å.
        max_steps: Optimiser steps allowed for both NEB stages together.
        optimizer: ASE optimiser, ``"FIRE"`` or ``"BFGS"``.
        spring_constant: NEB spring constant, eV/Å².
        neb_method: Tangent/force scheme of :class:`ase.mep.NEB` (Henkelman's improved
            tangent by default, as in pw.x/VASP).
        relax_endpoints: Relax both endpoints (fixed cell) before the NEB.
        endpoint_fmax: Endpoint force threshold, eV/Å.
        endpoint_max_steps: Optimiser steps allowed per endpoint relaxation.
        min_length: Minimum distance between periodic images of the vacancy, Å.
        max_atoms: Largest supercell accepted, atoms.
        max_hop_length: Longest Li–Li hop considered, Å.
        symprec: Symmetry tolerance for distinct hops, Å.
        image_method: ``"bvse"`` (the moving Li on the BVSE path of hop ``hop_index``,
            given as ``li_path_cart`` by the flow that composes the BVSE and NEB tiers,
            :func:`sseflows.flows.campaign.bvse_seed_path`; falls back to ``"linear"``
            without a path, recorded in ``settings["image_method_used"]``), ``"linear"``
            or ``"idpp"``.
        hop_index: Which distinct hop (shortest first) to compute.
    """

    name: str = "chgnet neb"
    n_images: int = 5
    climbing_image: bool = True
    fmax_ev_per_angstrom: float = 0.05
    max_steps: int = 300
    optimizer: str = "FIRE"
    spring_constant: float = 0.1
    neb_method: str = "improvedtangent"
    relax_endpoints: bool = True
    endpoint_fmax: float = 0.05
    endpoint_max_steps: int = 200
    min_length: float = 10.0
    max_atoms: int = 250
    max_hop_length: float = 4.5
    symprec: float = 0.1
    image_method: str = "bvse"
    hop_index: int = 0

    @job(data=["images"], output_schema=NebDoc)
    def make(self, candidate: Candidate, li_path_cart: np.ndarray | None = None) -> NebDoc:
        """Job computing the barrier of hop ``hop_index`` of ``candidate``.

        Args:
            candidate: The candidate (its ordered unit-cell structure).
            li_path_cart: BVSE Li path of that hop in the unit-cell frame, Cartesian Å,
                unwrapped from site A to site B + jimage of exactly that hop
                (:func:`sseflows.flows.campaign.bvse_seed_path`).
        """
        return self.compute(candidate, li_path_cart)

    def compute(self, candidate: Candidate, li_path_cart: Any = None) -> NebDoc:
        """Run the whole protocol in this process and return the document (no jobflow)."""
        try:
            setup = self.prepare(candidate)
        except CandidateError as error:
            return NebDoc(
                candidate_id=candidate.id,
                formula=candidate.formula,
                engine="chgnet",
                status="failed",
                reason=str(error),
                settings=asdict(self),
            )
        seeds, method = self.seed_images(setup, li_path_cart)
        band = self.run_band(seeds)
        return self.to_doc(candidate, setup, band, method)

    def prepare(self, candidate: Candidate) -> NebSetup:
        """Hop, supercell and (relaxed) vacancy endpoints of ``candidate``.

        Raises:
            CandidateError: No structure, no Li, no hop ``hop_index``, or a supercell larger
                than ``max_atoms``.
        """
        start = time.perf_counter()
        structure = candidate.structure
        if structure is None:
            raise CandidateError(candidate.id, "it has no structure to compute a barrier on")
        hops = enumerate_li_hops(structure, self.max_hop_length, self.symprec, candidate.id)
        if not 0 <= self.hop_index < len(hops):
            raise CandidateError(
                candidate.id,
                f"hop {self.hop_index} was requested but the structure has {len(hops)} "
                "distinct Li hops",
            )
        hop = hops[self.hop_index]
        try:
            matrix = minimal_supercell_matrix(
                structure.lattice, self.min_length, self.max_atoms, len(structure)
            )
        except ValueError as error:
            raise CandidateError(candidate.id, str(error)) from error
        ends = vacancy_endpoints(structure, hop, matrix, candidate.id)
        initial, final = ends.initial, ends.final
        if self.relax_endpoints:
            initial, final = self._relax(initial), self._relax(final)
        return NebSetup(
            hop=hop,
            supercell_matrix=matrix,
            supercell_lengths=supercell_lengths(structure.lattice, matrix),
            initial=initial,
            final=final,
            moving_index=ends.moving_index,
            wall_s=time.perf_counter() - start,
            structure=structure,
        )

    def seed_images(self, setup: NebSetup, li_path_cart: Any = None) -> tuple[list[Structure], str]:
        """Initial band by ``image_method`` and the method actually used (``"bvse"``
        without a path falls back to ``"linear"``)."""
        method = self.image_method
        path = None if li_path_cart is None else np.asarray(li_path_cart, dtype=float)
        if method == "bvse" and path is None:
            method = "linear"
        images = interpolate_images(
            setup.initial,
            setup.final,
            self.n_images,
            setup.moving_index,
            method=method,
            li_path_cart=path if method == "bvse" else None,
        )
        return images, method

    def run_band(self, seeds: list[Structure]) -> BandResult:
        """Plain NEB to ``fmax_ev_per_angstrom``, then the climbing-image restart (only
        after the plain stage converged, within the remaining ``max_steps``)."""
        from ase.mep import NEB

        start = time.perf_counter()
        atoms = [_to_atoms(image) for image in seeds]
        band = NEB(atoms, k=self.spring_constant, climb=False, method=self.neb_method)
        optimizer_class = _optimizer(self.optimizer)
        plain = optimizer_class(band, logfile=None)
        plain_converged = bool(plain.run(fmax=self.fmax_ev_per_angstrom, steps=self.max_steps))
        converged = plain_converged
        plain_steps, climb_steps = plain.nsteps, 0
        climbed = False
        if self.climbing_image and plain_converged and plain_steps < self.max_steps:
            band.climb = True
            climbing = optimizer_class(band, logfile=None)
            remaining = self.max_steps - plain_steps
            converged = bool(climbing.run(fmax=self.fmax_ev_per_angstrom, steps=remaining))
            climb_steps = climbing.nsteps
            climbed = True
        energies = [float(image.get_potential_energy()) for image in atoms]
        images = [
            Structure(
                seed.lattice,
                [site.species for site in seed],
                seed.lattice.get_fractional_coords(image.positions),
                site_properties=seed.site_properties or None,
            )
            for seed, image in zip(seeds, atoms, strict=True)
        ]
        return BandResult(
            images=images,
            energies_ev=energies,
            plain_iterations=plain_steps,
            climb_iterations=climb_steps,
            plain_converged=plain_converged,
            converged=converged,
            climbed=climbed,
            wall_s=time.perf_counter() - start,
        )

    def to_doc(
        self, candidate: Candidate, setup: NebSetup, band: BandResult, method: str
    ) -> NebDoc:
        """The :class:`NebDoc` of a finished band (energies relative to the first image)."""
        relative = [e - band.energies_ev[0] for e in band.energies_ev]
        forward, backward = barriers_from_energies(relative)
        reason = ""
        if not band.plain_converged:
            reason = (
                f"Candidate '{candidate.id}': the plain NEB did not reach "
                f"{self.fmax_ev_per_angstrom} eV/Å within {self.max_steps} steps."
            )
        elif not band.converged:
            reason = (
                f"Candidate '{candidate.id}': the climbing-image restart did not reach "
                f"{self.fmax_ev_per_angstrom} eV/Å within the {band.climb_iterations} steps "
                f"left of {self.max_steps}."
            )
        settings = {**asdict(self), "image_method_used": method}
        return NebDoc(
            candidate_id=candidate.id,
            formula=candidate.formula,
            engine="chgnet",
            status="completed",
            reason=reason,
            settings=settings,
            hop=setup.hop.to_doc(),
            supercell_matrix=setup.supercell_matrix.tolist(),
            supercell_lengths_angstrom=setup.supercell_lengths,
            n_images=self.n_images,
            energies_ev=relative,
            reaction_coordinate_angstrom=reaction_coordinate(band.images),
            barrier_ev=forward,
            barrier_back_ev=backward,
            converged=band.converged,
            climbing_image=band.climbed,
            plain_converged=band.plain_converged,
            plain_iterations=band.plain_iterations,
            climb_iterations=band.climb_iterations,
            iterations=band.iterations,
            wall_s=setup.wall_s + band.wall_s,
            images=[image.as_dict() for image in band.images],
        )

    def _relax(self, structure: Structure) -> Structure:
        """Fixed-cell relaxation to ``endpoint_fmax``; species and order kept, the moving
        Li stays unwrapped (ASE does not wrap positions)."""
        atoms = _to_atoms(structure)
        optimizer = _optimizer(self.optimizer)(atoms, logfile=None)
        optimizer.run(fmax=self.endpoint_fmax, steps=self.endpoint_max_steps)
        return Structure(
            structure.lattice,
            [site.species for site in structure],
            structure.lattice.get_fractional_coords(atoms.positions),
            site_properties=structure.site_properties or None,
        )
