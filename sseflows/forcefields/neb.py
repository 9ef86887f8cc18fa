"""ML-potential NEB engine producing the same :class:`NebDoc` as the QE engine.

Engine choice: atomate2 0.1.5 has ``ForceFieldNebFromImagesMaker`` (forcefields/neb.py), but
it runs one optimiser stage with a fixed ``climb`` flag, reports no iteration count, deep-
copies the calculator per image and returns emmet's ``NebResult``. The published protocol
needs a plain NEB converged first and then a climbing-image restart, with the iterations of
both stages counted (the benchmark compares them), so this module drives ASE's NEB
(:class:`ase.mep.NEB`) with an ASE calculator directly. As in atomate2's force-field Makers,
the potential is a field (``force_field_name``) and so is the ``device``: CHGNet's pretrained
weights ship in the chgnet wheel (works offline; its model is loaded once per process and
device); any other name goes to atomate2's ``ase_calculator``, which downloads weights at
run time where the network allows it.

ML potentials have no notion of total charge: the Li-vacancy supercell is computed
neutral-by-construction (one Li atom fewer), the usual practice for ML pre-screening.
"""

from __future__ import annotations

import contextlib
import functools
import io
import time
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor

from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.core.hops import enumerate_li_hops, rattle_endpoints
from sseflows.core.images import seed_images
from sseflows.core.maker import NebSeeded
from sseflows.core.neb import (
    BAND_TOLERANCE_EV,
    BandResult,
    NebDoc,
    NebSetup,
    barriers_from_energies,
    falls_below,
    neb_job,
    reaction_coordinate,
    replacement,
    vacancy_hop_setup,
)
from sseflows.core.percolation import migration_graph_edges, network_doc
from sseflows.core.shared_endpoints import SharedEndpoints

if TYPE_CHECKING:
    from ase import Atoms
    from ase.calculators.calculator import Calculator
    from chgnet.model import CHGNet

    from sseflows.core.candidate import Candidate

OPTIMIZERS = ("FIRE", "BFGS")


@functools.lru_cache(maxsize=4)
def _chgnet_model(device: str) -> CHGNet:
    """The pretrained CHGNet model, loaded once per process and device."""
    from chgnet.model import CHGNet

    return CHGNet.load(use_device=device, verbose=False)


def force_field_calculator(force_field_name: str = "CHGNet", device: str = "cpu") -> Calculator:
    """A fresh ASE calculator of the named potential on ``device`` (one per Atoms object).

    Raises:
        ConfigurationError: the potential cannot be loaded (unknown name, weights that
            cannot be downloaded here, a device that does not exist).
    """
    if force_field_name.lower() == "chgnet":
        from chgnet.model.dynamics import CHGNetCalculator

        with contextlib.redirect_stdout(io.StringIO()):  # silence "CHGNet will run on cpu"
            return CHGNetCalculator(
                model=_chgnet_model(device), use_device=device, on_isolated_atoms="ignore"
            )
    from atomate2.forcefields.utils import ase_calculator

    try:
        calculator = ase_calculator(force_field_name, device=device)
    except Exception as exc:  # any loader failure is the same configuration problem
        raise ConfigurationError(
            f"Force field '{force_field_name}' could not be loaded on '{device}' ({exc}); "
            "CHGNet ships its weights and works offline."
        ) from exc
    if calculator is None:
        raise ConfigurationError(f"Force field '{force_field_name}' is not known to atomate2.")
    return calculator


def potential_energy_ev(
    structure: Structure, force_field_name: str = "CHGNet", device: str = "cpu"
) -> float:
    """Total energy of one structure with the named potential, eV (single point)."""
    return float(_to_atoms(structure, force_field_name, device).get_potential_energy())


def _optimizer(name: str):
    from ase.optimize import BFGS, FIRE

    if name not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}.")
    return {"FIRE": FIRE, "BFGS": BFGS}[name]


def _to_atoms(structure: Structure, force_field_name: str, device: str) -> Atoms:
    atoms = AseAtomsAdaptor.get_atoms(structure.copy().remove_oxidation_states())
    atoms.calc = force_field_calculator(force_field_name, device)
    return atoms


@dataclass
class ForceFieldNebMaker(NebSeeded):
    """CI-NEB barrier of one Li hop with an ML potential (ASE NEB).

    Protocol (as the QE engine): supercell with every periodic image ≥ ``min_length``, one
    Li vacancy, endpoints rattled (symmetry breaking) and relaxed at fixed cell, images
    seeded by ``image_method``, plain NEB to ``fmax_ev_per_angstrom``, then a climbing-image
    restart to the same threshold. A band whose intermediate image falls below the lower
    endpoint gets that image, relaxed, as a new endpoint and is run once more; a band that is
    still no barrier (:func:`sseflows.core.neb.band_problem`) or did not converge
    reports no barrier (status ``failed``, the band kept).

    Attributes:
        name: Job name.
        force_field_name: The potential (``"CHGNet"``, works offline; other names as
            atomate2's ``ase_calculator`` knows them). The document's ``engine`` is its
            name in lower case.
        device: Where the potential runs (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
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
        endpoint_rattle_angstrom: Random displacement of every atom of both endpoints before
            they are relaxed, Å (the same vector per atom in both; 0 switches it off).
        rattle_seed: Seed of those displacements.
        band_tolerance_ev: Tolerance of the band checks, eV.
        replace_lower_endpoint: Replace an endpoint by a relaxed image that fell below it
            and run the band once more.
        image_method: ``"bvse"`` (the moving Li on the BVSE path of hop ``hop_index``,
            given as ``li_path_cart`` by the flow that composes the BVSE and NEB tiers,
            :func:`sseflows.flows.tiers.bvse_seed_path`; falls back to ``"linear"``
            without a path, recorded in ``settings["image_method_used"]``), ``"linear"``
            or ``"idpp"``.
        hop_index: Which distinct hop (shortest first) to compute when ``hops="one"``.
        hops: ``"all"`` computes every distinct hop up to ``max_hop_length`` (each band
            seeded by its BVSE path from the ``li_paths_cart`` seed) and reports the
            percolation barriers (:func:`sseflows.core.percolation.network_doc`);
            ``"one"`` computes hop ``hop_index`` only.
    """

    seed_names: ClassVar[tuple[str, ...]] = (*NebSeeded.seed_names, "li_paths_cart")
    name: str = "force field neb"
    force_field_name: str = "CHGNet"
    device: str = "cpu"
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
    endpoint_rattle_angstrom: float = 0.02
    rattle_seed: int = 0
    band_tolerance_ev: float = BAND_TOLERANCE_EV
    replace_lower_endpoint: bool = True
    min_length: float = 10.0
    max_atoms: int = 250
    image_method: str = "bvse"
    hops: str = "all"

    @neb_job
    def make(
        self,
        candidate: Candidate,
        li_path_cart: np.ndarray | None = None,
        approximant: dict[str, Any] | None = None,
        li_paths_cart: list | None = None,
        **seeds: Any,
    ) -> NebDoc:
        """Job computing the barrier of hop ``hop_index`` of ``candidate``.

        Args:
            candidate: The candidate (its ordered unit-cell structure).
            li_path_cart: BVSE Li path of that hop in the unit-cell frame, Cartesian Å,
                unwrapped from site A to site B + jimage of exactly that hop
                (:func:`sseflows.flows.tiers.bvse_seed_path`).
            approximant: Record (dict) of the ordered approximant ``candidate.structure``
                is when the candidate was disordered; copied into the document.
            li_paths_cart: With ``hops="all"``, the BVSE path of every distinct hop (None
                where there is none), :func:`sseflows.flows.tiers.bvse_seed_paths`.
        """
        maker = self.seeded_hop(seeds.get("limiting_hop_index"))  # used with hops="one"
        doc = maker.compute(candidate, li_path_cart, li_paths_cart)
        return doc.with_approximant(approximant)

    def compute(
        self, candidate: Candidate, li_path_cart: Any = None, li_paths_cart: Any = None
    ) -> NebDoc:
        """Run the whole protocol in this process and return the document (no jobflow):
        every distinct hop and their percolation barriers (``hops="all"``), or hop
        ``hop_index`` (``hops="one"``)."""
        if self.hops == "one":
            return self.compute_hop(candidate, li_path_cart)
        if self.hops != "all":
            raise ConfigurationError(f"hops must be 'all' or 'one', got {self.hops!r}.")
        try:
            if candidate.structure is None:
                raise CandidateError(candidate.id, "it has no structure to compute a barrier on")
            hops = enumerate_li_hops(
                candidate.structure, self.max_hop_length, self.symprec, candidate.id
            )
        except CandidateError as error:
            return self._failed(candidate, str(error))
        paths = list(li_paths_cart or [])
        shared = SharedEndpoints()  # a vacancy site set is relaxed once for every hop
        docs = [
            replace(self, hop_index=i, hops="one").compute_hop(
                candidate, paths[i] if i < len(paths) else None, shared
            )
            for i in range(len(hops))
        ]
        edges = migration_graph_edges(candidate.structure, hops, self.max_hop_length)
        doc = network_doc(hops, docs, edges, self.max_hop_length)
        settings = {**doc.settings, **asdict(self), **shared.record()}
        return doc.model_copy(update={"settings": settings})

    def _failed(self, candidate: Candidate, reason: str) -> NebDoc:
        return NebDoc(
            candidate_id=candidate.id,
            formula=candidate.formula,
            engine=self.force_field_name.lower(),
            status="failed",
            reason=reason,
            settings=asdict(self),
        )

    def compute_hop(
        self,
        candidate: Candidate,
        li_path_cart: Any = None,
        shared: SharedEndpoints | None = None,
    ) -> NebDoc:
        """Hop ``hop_index`` of ``candidate``: the whole protocol, in this process
        (``shared``: relaxed endpoints of the candidate's other hops, reused)."""
        try:
            setup = self.prepare(candidate, shared)
        except CandidateError as error:
            return NebDoc(
                candidate_id=candidate.id,
                formula=candidate.formula,
                engine=self.force_field_name.lower(),
                status="failed",
                reason=str(error),
                settings=asdict(self),
            )
        seeds, method = self.seed_images(setup, li_path_cart)
        band = self.run_band(seeds)
        replacements: list[dict] = []
        if self.replace_lower_endpoint and falls_below(band.energies_ev, self.band_tolerance_ev):
            setup, replacement = self.replace_endpoint(setup, band)
            replacements.append(replacement)
            seeds, method = self.seed_images(setup)  # the BVSE path joins the old endpoints
            band = self.run_band(seeds)
        return self.to_doc(candidate, setup, band, method, replacements)

    def replace_endpoint(self, setup: NebSetup, band: BandResult) -> tuple[NebSetup, dict]:
        """``setup`` with the endpoint nearer the lowest image replaced by that image,
        relaxed; and the record of the replacement."""
        energies = band.energies_ev
        plan = replacement(energies)
        relaxed = self._relax(band.images[plan.image])
        old = energies[0] if plan.endpoint == "initial" else energies[-1]
        new = potential_energy_ev(relaxed, self.force_field_name, self.device)
        return setup.with_endpoint(plan.endpoint, relaxed), plan.record(new - old)

    def prepare(self, candidate: Candidate, shared: SharedEndpoints | None = None) -> NebSetup:
        """Hop, supercell and (relaxed) vacancy endpoints of ``candidate``. With ``shared``,
        an endpoint whose sites another hop's endpoint already had is not relaxed again
        (:class:`~sseflows.core.shared_endpoints.SharedEndpoints`).

        Raises:
            CandidateError: No structure, no Li, no hop ``hop_index``, or a supercell larger
                than ``max_atoms``.
        """
        start = time.perf_counter()
        setup = vacancy_hop_setup(
            candidate.structure, candidate.id, self.hop_index, self.max_hop_length,
            self.symprec, self.min_length, self.max_atoms,
        )  # fmt: skip
        initial, final = setup.initial, setup.final
        if self.relax_endpoints:
            rattled = rattle_endpoints(
                initial, final, self.endpoint_rattle_angstrom, self.rattle_seed
            )
            shared = shared if shared is not None else SharedEndpoints()
            initial, final = (
                shared.relaxed(unrelaxed, functools.partial(self._relax, start))
                for unrelaxed, start in zip((initial, final), rattled, strict=True)
            )
        return replace(setup, initial=initial, final=final, wall_s=time.perf_counter() - start)

    def seed_images(self, setup: NebSetup, li_path_cart: Any = None) -> tuple[list[Structure], str]:
        """Initial band by ``image_method`` and the method actually used
        (:func:`sseflows.core.images.seed_images`, the fallback rule of every engine)."""
        return seed_images(
            setup.initial, setup.final, self.n_images, setup.moving_index,
            self.image_method, li_path_cart,
        )  # fmt: skip

    def run_band(self, seeds: list[Structure]) -> BandResult:
        """Plain NEB to ``fmax_ev_per_angstrom``, then the climbing-image restart (only
        after the plain stage converged, within the remaining ``max_steps``)."""
        from ase.mep import NEB

        start = time.perf_counter()
        atoms = [_to_atoms(image, self.force_field_name, self.device) for image in seeds]
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
        self,
        candidate: Candidate,
        setup: NebSetup,
        band: BandResult,
        method: str,
        replacements: list[dict] | None = None,
    ) -> NebDoc:
        """The :class:`NebDoc` of a finished band (energies relative to the first image);
        no barrier unless the band converged and passes the band checks."""
        relative = [e - band.energies_ev[0] for e in band.energies_ev]
        forward, backward = barriers_from_energies(relative)
        replacements = replacements or []
        settings = {**asdict(self), "image_method_used": method}
        doc = NebDoc(
            candidate_id=candidate.id,
            formula=candidate.formula,
            engine=self.force_field_name.lower(),
            status="completed",
            reason=f"Candidate '{candidate.id}': CI-NEB barrier {forward:.3f} eV.",
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
            endpoint_rattle_angstrom=self.endpoint_rattle_angstrom if self.relax_endpoints else 0,
            endpoint_replacements=replacements,
            images=[image.as_dict() for image in band.images],
        )
        if not band.plain_converged:
            unconverged = (
                f"the plain NEB did not reach {self.fmax_ev_per_angstrom} eV/Å within "
                f"{self.max_steps} steps"
            )
        else:
            unconverged = (
                f"the climbing-image restart did not reach {self.fmax_ev_per_angstrom} eV/Å "
                f"within the {band.climb_iterations} steps left of {self.max_steps}"
            )
        return doc.judged(self.band_tolerance_ev, unconverged)

    def _relax(self, structure: Structure) -> Structure:
        """Fixed-cell relaxation to ``endpoint_fmax``; species and order kept, the moving
        Li stays unwrapped (ASE does not wrap positions)."""
        atoms = _to_atoms(structure, self.force_field_name, self.device)
        optimizer = _optimizer(self.optimizer)(atoms, logfile=None)
        optimizer.run(fmax=self.endpoint_fmax, steps=self.endpoint_max_steps)
        return Structure(
            structure.lattice,
            [site.species for site in structure],
            structure.lattice.get_fractional_coords(atoms.positions),
            site_properties=structure.site_properties or None,
        )


@dataclass
class ChgnetNebMaker(ForceFieldNebMaker):
    """:class:`ForceFieldNebMaker` with CHGNet (the default, offline potential)."""

    name: str = "chgnet neb"
    force_field_name: str = "CHGNet"
