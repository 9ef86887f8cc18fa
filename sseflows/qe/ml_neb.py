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


def _optimizer(name: str):
    from ase.optimize import BFGS, FIRE

    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")
    return {"FIRE": FIRE, "BFGS": BFGS}[name]


def _to_atoms(structure: Structure) -> Atoms:
    atoms = AseAtomsAdaptor.get_atoms(structure.copy().remove_oxidation_states())
    atoms.calc = _calculator()
    return atoms


def _to_structure(atoms: Atoms) -> Structure:
    return AseAtomsAdaptor.get_structure(atoms)


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
        image_method: ``"bvse"`` (needs ``li_path_cart``; falls back to ``"linear"``
            without it, recorded in ``settings["image_method_used"]``), ``"linear"`` or
            ``"idpp"``.
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
                unwrapped from site A to site B (``sseflows.gates.bvse.bvse_li_path``).
        """
        return self.compute(candidate, li_path_cart)

    def compute(self, candidate: Candidate, li_path_cart: Any = None) -> NebDoc:
        """Run the whole protocol in this process and return the document (no jobflow)."""
        settings = asdict(self)
        try:
            hop, matrix, ends = self._geometry(candidate)
        except CandidateError as error:
            return NebDoc(
                candidate_id=candidate.id,
                formula=candidate.formula,
                engine="chgnet",
                status="failed",
                reason=str(error),
                settings=settings,
            )
        method = self.image_method
        if method == "bvse" and li_path_cart is None:
            method = "linear"
        settings["image_method_used"] = method
        start = time.perf_counter()
        initial, final = ends.initial, ends.final
        if self.relax_endpoints:
            initial, final = (self._relax(end) for end in (initial, final))
        path = None if li_path_cart is None else np.asarray(li_path_cart, dtype=float)
        seeds = interpolate_images(
            initial, final, self.n_images, ends.moving_index, method=method, li_path_cart=path
        )
        images, energies, iterations, converged, climbed = self._neb(seeds)
        wall = time.perf_counter() - start
        relative = [e - energies[0] for e in energies]
        forward, backward = barriers_from_energies(relative)
        reason = (
            ""
            if converged
            else (
                f"Candidate '{candidate.id}': the NEB did not reach "
                f"{self.fmax_ev_per_angstrom} eV/Å within {self.max_steps} steps."
            )
        )
        return NebDoc(
            candidate_id=candidate.id,
            formula=candidate.formula,
            engine="chgnet",
            status="completed",
            reason=reason,
            settings=settings,
            hop=hop.to_doc(),
            supercell_matrix=matrix.tolist(),
            supercell_lengths_angstrom=supercell_lengths(candidate.structure.lattice, matrix),
            n_images=self.n_images,
            energies_ev=relative,
            reaction_coordinate_angstrom=reaction_coordinate(images),
            barrier_ev=forward,
            barrier_back_ev=backward,
            converged=converged,
            climbing_image=climbed,
            iterations=iterations,
            wall_s=wall,
            images=[image.as_dict() for image in images],
        )

    def _geometry(self, candidate: Candidate) -> tuple[LiHop, np.ndarray, Any]:
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
        return hop, matrix, vacancy_endpoints(structure, hop, matrix, candidate.id)

    def _relax(self, structure: Structure) -> Structure:
        atoms = _to_atoms(structure)
        optimizer = _optimizer(self.optimizer)(atoms, logfile=None)
        optimizer.run(fmax=self.endpoint_fmax, steps=self.endpoint_max_steps)
        relaxed = _to_structure(atoms)
        return Structure(
            relaxed.lattice,
            [site.species for site in structure],
            relaxed.frac_coords,
            site_properties=structure.site_properties or None,
        )

    def _neb(self, seeds: list[Structure]) -> tuple[list[Structure], list[float], int, bool, bool]:
        """Plain NEB, then the climbing-image restart; returns the final images, their
        absolute energies (eV), the iterations of both stages, converged, climbed."""
        from ase.mep import NEB

        atoms = [_to_atoms(image) for image in seeds]
        band = NEB(atoms, k=self.spring_constant, climb=False, method=self.neb_method)
        optimizer_class = _optimizer(self.optimizer)
        plain = optimizer_class(band, logfile=None)
        converged = bool(plain.run(fmax=self.fmax_ev_per_angstrom, steps=self.max_steps))
        iterations = plain.nsteps
        climbed = False
        if self.climbing_image and converged and iterations < self.max_steps:
            band.climb = True
            climbing = optimizer_class(band, logfile=None)
            remaining = self.max_steps - iterations
            converged = bool(climbing.run(fmax=self.fmax_ev_per_angstrom, steps=remaining))
            iterations += climbing.nsteps
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
        return images, energies, iterations, converged, climbed
