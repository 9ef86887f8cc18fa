"""The CI-NEB protocol of Laskowski et al. (2023) as one jobflow Flow.

convergence (cutoff, k-spacing to 1 meV/atom) → vc-relax of the cell → supercell with
every lattice vector ≥ ``min_length`` and the chosen symmetry-distinct Li hop → both
single-vacancy endpoints rattled (symmetry breaking) and relaxed (``tot_charge = -1``) →
plain NEB → climbing-image restart → band check. A band with an image below the lower
endpoint gets that image, relaxed, as a new endpoint and runs once more; a band that is
still no barrier reports none (:meth:`~sseflows.core.neb.NebDoc.judged`).

Every step returns a small dict with ``status`` ("ok" / "failed") and ``reason``; a failed
step is passed on unchanged, so the last job always outputs a :class:`NebDoc` — with
``status="failed"`` and the one-sentence reason when something went wrong (no Li, no Li
neighbour, supercell too large, missing executable, pw.x that could not be recovered).
Run directories are ``<work_dir>/<candidate_id>/<step>``; rerunning the flow reuses every
finished step.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from jobflow import Flow, job
from pymatgen.core import Structure

from sseflows.core.candidate import Candidate
from sseflows.core.documents import HopDoc
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.core.hops import rattle_endpoints
from sseflows.core.images import (
    MlBand,
    MlSeedSettings,
    interpolate_images,
    seed_fallback_sentence,
    seed_images,
)
from sseflows.core.maker import NebSeeded
from sseflows.core.neb import (
    BAND_TOLERANCE_EV,
    NebDoc,
    falls_below,
    neb_job,
    replacement,
    vacancy_hop_setup,
)
from sseflows.qe.convergence import QeConvergenceMaker
from sseflows.qe.jobs import QeRunError
from sseflows.qe.makers import (
    QeNebMaker,
    QeRelaxMaker,
    band_structures,
    follow_displacement,
    neb_doc,
)
from sseflows.qe.parsers import NebResult, PwResult
from sseflows.qe.sets import PwInputGenerator

HOP_CHOICES = ("limiting", "index")
"""Values of :attr:`QeNebFlowMaker.hop_choice`."""

RECOVERABLE = (CandidateError, ConfigurationError, QeRunError)
"""Errors that become a failed document instead of stopping a campaign."""


def failed(candidate_id: str, exc: Exception) -> dict[str, Any]:
    """A failed step record whose reason names the candidate."""
    text = str(exc)
    reason = text if text.startswith("Candidate '") else f"Candidate '{candidate_id}': {text}"
    return {"status": "failed", "reason": reason}


def guarded(func):
    """Pass on an upstream failure; turn :data:`RECOVERABLE` errors into a failed record."""

    @functools.wraps(func)
    def wrapper(maker, candidate_id, *args, **kwargs):
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, dict) and arg.get("status") == "failed":
                return arg
        try:
            return func(maker, candidate_id, *args, **kwargs)
        except RECOVERABLE as exc:
            return failed(candidate_id, exc)

    return wrapper


@dataclass
class QeNebFlowMaker(NebSeeded):
    """The whole QE CI-NEB protocol for one candidate and one Li hop.

    Attributes:
        name: Flow name.
        convergence_maker: Cutoff / k-spacing convergence; None skips it (generators' values).
        cell_relax_maker: vc-relax of the unit cell; None skips it.
        endpoint_relax_maker: Fixed-cell relax of the two vacancy endpoints
            (force threshold 3e-4 eV/Å by default).
        neb_maker: Plain NEB then climbing-image restart.
        min_length: Smallest supercell lattice-vector length, Å.
        max_atoms: Largest supercell allowed, atoms.
        hop_index: Which symmetry-distinct hop (shortest first) to compute with
            ``hop_choice="index"``, and the fallback of ``"limiting"``.
        hop_choice: ``"limiting"``: the hop of the ``limiting_hop_index`` seed, which
            :func:`sseflows.flows.tiers.make_tier_flow` derives, when the ML engine is
            installed, from an ML NEB over every hop run first (same hops, supercell and
            images; :func:`sseflows.flows.tiers.limiting_hop_flow`); without a limiting hop
            the stage computes ``hop_index`` and ``NebDoc.hop_fallback`` says why.
            ``"index"``: hop ``hop_index``, no ML NEB over the hops.
        max_hop_length: Longest Li–Li hop considered, Å.
        symprec: Symmetry tolerance for distinct hops, Å.
        image_method: "auto" (the ML band when given, else the BVSE path when given, else
            linear), "ml", "linear", "idpp", "bvse". "ml" maps the ``ml_band`` seed, a band
            converged with an ML potential on the same vacancy supercell
            (:func:`sseflows.flows.tiers.ml_band_seed`), onto the DFT-relaxed endpoints
            (:func:`sseflows.core.images.map_band_onto_endpoints`); without a converged,
            fitting band the images are linear and ``NebDoc.seed_fallback`` says why.
        ml_seed: Settings of the ML NEB runs this flow starts from, the ML band of
            ``image_method`` "ml"/"auto" and the ML NEB over every hop of ``hop_choice=
            "limiting"`` (:class:`~sseflows.core.images.MlSeedSettings`: potential, the ML
            band's image method, fmax eV/Å, max steps, climbing image); recorded in
            ``NebDoc.ml_seed["settings"]`` and ``NebDoc.settings["ml_seed"]``.
        vacancy_charge: ``tot_charge`` of the vacancy cells (-1: Li⁺ vacancy, see sets.py).
        endpoint_rattle_angstrom: Random displacement of every endpoint atom before the
            endpoint relaxations, Å (same vector per atom in both endpoints; 0: none).
        rattle_seed: Seed of those displacements.
        band_tolerance_ev: Tolerance of the band checks, eV.
        replace_lower_endpoint: Replace an endpoint by a relaxed image that fell below it
            and run the NEB once more.
        work_dir: Root of run directories (resolved when the flow is made).
    """

    seed_names: ClassVar[tuple[str, ...]] = (*NebSeeded.seed_names, "ml_band", "hop_fallback")
    name: str = "qe ci-neb"
    hop_choice: Literal["limiting", "index"] = "limiting"
    convergence_maker: QeConvergenceMaker | None = field(default_factory=QeConvergenceMaker)
    cell_relax_maker: QeRelaxMaker | None = field(
        default_factory=lambda: QeRelaxMaker(
            name="qe vc-relax",
            generator=PwInputGenerator(calculation="vc-relax"),
            step="cell_relax",
        )
    )
    endpoint_relax_maker: QeRelaxMaker = field(default_factory=QeRelaxMaker)
    neb_maker: QeNebMaker = field(default_factory=QeNebMaker)
    ml_seed: MlSeedSettings = field(default_factory=MlSeedSettings)
    min_length: float = 10.0
    max_atoms: int | None = 400
    vacancy_charge: float = -1.0
    endpoint_rattle_angstrom: float = 0.02
    rattle_seed: int = 0
    band_tolerance_ev: float = BAND_TOLERANCE_EV
    replace_lower_endpoint: bool = True
    work_dir: str = "qe_runs"

    def make(
        self,
        candidate: Candidate,
        li_path_cart: np.ndarray | None = None,
        ml_band: Any = None,
        **seeds: Any,
    ) -> Flow:
        """The Flow; its output is the :class:`NebDoc`. ``li_path_cart`` (Å, unwrapped,
        from the BVSE gate) seeds the moving Li's images; ``ml_band`` (an
        :class:`~sseflows.core.images.MlBand` as a dict, or an upstream job's output
        reference to one) seeds the whole band. The ``limiting_hop_index`` seed (the ML
        engine's limiting hop) replaces ``hop_index`` unless ``hop_choice`` is ``"index"``;
        the ``hop_fallback`` seed, the sentence saying why there is none, goes into the
        document.

        Raises:
            ConfigurationError: ``hop_choice`` is not one of :data:`HOP_CHOICES`.
        """
        if self.hop_choice not in HOP_CHOICES:
            raise ConfigurationError(
                f"hop_choice must be one of {', '.join(HOP_CHOICES)}, got {self.hop_choice!r}."
            )
        structure, candidate_id = candidate.structure, candidate.id
        # the limiting hop of the ML engine's percolating network, when given and wanted
        limiting = seeds.get("limiting_hop_index") if self.hop_choice == "limiting" else None
        maker = self.seeded_hop(limiting)
        maker = replace(maker, work_dir=str(_resolve(self.work_dir)))
        conv = converge_step(maker, candidate_id, structure)
        cell = cell_relax_step(maker, candidate_id, structure, conv.output)
        ends = endpoints_step(maker, candidate_id, cell.output, structure)
        initial = endpoint_relax_step(maker, candidate_id, ends.output, conv.output, "initial")
        final = endpoint_relax_step(maker, candidate_id, ends.output, conv.output, "final")
        path = None if li_path_cart is None else np.asarray(li_path_cart).tolist()
        hop = {"limiting_hop_index": limiting, "hop_fallback": seeds.get("hop_fallback")}
        neb = neb_step(
            maker, candidate_id, ends.output, initial.output, final.output, conv.output, path,
            ml_band, approximant=seeds.get("approximant"), hop_choice=hop,
        )  # fmt: skip
        jobs = [conv, cell, ends, initial, final, neb]
        return Flow(jobs, output=neb.output, name=f"{self.name} {candidate_id}")


def _resolve(path: str) -> Path:
    return Path(path).expanduser().resolve()


@job
@guarded
def converge_step(maker: QeNebFlowMaker, candidate_id: str, structure: Structure) -> dict:
    """Converged ``ecutwfc`` (Ry) and ``kspacing`` (Å⁻¹), or None for both when skipped."""
    if maker.convergence_maker is None:
        return {"status": "ok", "ecutwfc": None, "kspacing": None}
    conv = replace(maker.convergence_maker, work_dir=maker.work_dir)
    return {"status": "ok", **conv.converge(structure, candidate_id)}


def _relaxed_structure(result: PwResult, step: str) -> Structure:
    """The final structure of a converged relaxation (QeRunError when pw.x wrote none)."""
    if result.structure is None:
        raise QeRunError(f"{step} converged but pw.x wrote no final structure")
    return result.structure


def _override(conv: dict) -> dict:
    return {k: conv.get(k) for k in ("ecutwfc", "kspacing")}


@job
@guarded
def cell_relax_step(
    maker: QeNebFlowMaker, candidate_id: str, structure: Structure, conv: dict
) -> dict:
    """The vc-relaxed unit cell (or the input structure when skipped)."""
    if maker.cell_relax_maker is None:
        return {"status": "ok", "structure": structure}
    relax = replace(maker.cell_relax_maker, work_dir=maker.work_dir)
    result = relax.run_relax(structure, candidate_id, 0.0, **_override(conv))
    cell = _relaxed_structure(result, "the cell relaxation")
    return {"status": "ok", "structure": cell, "energy_ev": result.energy_ev}


@job
@guarded
def endpoints_step(
    maker: QeNebFlowMaker, candidate_id: str, cell: dict, structure: Structure | None = None
) -> dict:
    """Supercell matrix, the chosen hop and its two unrelaxed vacancy endpoints in the
    (vc-relaxed) cell. ``hop_index`` numbers the hops of ``structure``, the candidate's
    input structure, as the BVSE gate and the ML NEB do (:func:`vacancy_hop_setup`'s
    ``numbered_on``); without it, the hops of the cell."""
    setup = vacancy_hop_setup(
        cell["structure"], candidate_id, maker.hop_index, maker.max_hop_length,
        maker.symprec, maker.min_length, maker.max_atoms, numbered_on=structure,
    )  # fmt: skip
    initial, final = rattle_endpoints(
        setup.initial, setup.final, maker.endpoint_rattle_angstrom, maker.rattle_seed
    )
    return {
        "status": "ok",
        "hop": setup.hop.to_doc().model_dump(),
        "supercell_matrix": setup.supercell_matrix.tolist(),
        "supercell_lengths_angstrom": setup.supercell_lengths,
        "initial": initial,
        "final": final,
        "moving_index": setup.moving_index,
    }


@job
@guarded
def endpoint_relax_step(
    maker: QeNebFlowMaker, candidate_id: str, ends: dict, conv: dict, which: str
) -> dict:
    """One relaxed vacancy endpoint, unwrapped to follow the unrelaxed one."""
    relax = replace(maker.endpoint_relax_maker, work_dir=maker.work_dir)
    start: Structure = ends[which]
    step = f"hop{maker.hop_index}/relax_{which}"
    result = relax.run_relax(start, candidate_id, maker.vacancy_charge, step, **_override(conv))
    return {
        "status": "ok",
        "structure": follow_displacement(start, _relaxed_structure(result, step)),
        "energy_ev": result.energy_ev,
    }


@neb_job
def neb_step(
    maker: QeNebFlowMaker,
    candidate_id: str,
    ends: dict,
    initial: dict,
    final: dict,
    conv: dict,
    li_path_cart: list | None,
    ml_band: dict | None = None,
    approximant: dict | None = None,
    hop_choice: dict | None = None,
) -> NebDoc:
    """Images (ML band, BVSE-seeded, linear or IDPP) → plain NEB → CI restart → NebDoc.

    ``hop_choice`` records how the hop was chosen: ``limiting_hop_index`` (the ML engine's
    limiting hop this band computes, or None) and ``hop_fallback`` (the sentence saying
    why ``hop_index`` was computed instead, or None); both go into the document, with
    ``settings["hop_choice"]`` and the ML seed settings, ``settings["ml_seed"]``."""
    out = _neb(maker, candidate_id, ends, initial, final, conv, li_path_cart, ml_band)
    if isinstance(out, NebDoc):
        return _with_hop_choice(out, maker, hop_choice).with_approximant(approximant)
    hop = ends.get("hop") if isinstance(ends, dict) else None
    doc = NebDoc(
        candidate_id=candidate_id,
        status="failed",
        reason=out["reason"],
        engine="qe",
        hop=HopDoc(**hop) if hop else None,
        settings={"min_length": maker.min_length, "hop_index": maker.hop_index},
    )
    return _with_hop_choice(doc, maker, hop_choice).with_approximant(approximant)


def _with_hop_choice(doc: NebDoc, maker: QeNebFlowMaker, hop_choice: dict | None) -> NebDoc:
    """``doc`` recording which hop was computed and why (see :func:`neb_step`)."""
    choice = hop_choice or {}
    return doc.model_copy(
        update={
            "limiting_hop_index": choice.get("limiting_hop_index"),
            "hop_fallback": choice.get("hop_fallback"),
            "settings": {
                **doc.settings,
                "hop_choice": maker.hop_choice,
                "ml_seed": asdict(maker.ml_seed),
            },
        }
    )


@guarded
def _neb(
    maker, candidate_id, ends, initial, final, conv, li_path_cart, ml_band=None
) -> NebDoc | dict:
    images, used = seed_images(
        initial["structure"], final["structure"], maker.neb_maker.path.n_images,
        ends["moving_index"], maker.image_method, li_path_cart, ml_band,
    )  # fmt: skip
    neb = _neb_maker(maker, conv)
    step = f"hop{maker.hop_index}/neb"
    stages = neb.run_neb(images, candidate_id, maker.vacancy_charge, step)
    replacements = []
    if maker.replace_lower_endpoint and falls_below(
        stages.final.energies_ev, maker.band_tolerance_ev
    ):
        images, record = _replace_endpoint(
            maker, candidate_id, band_structures(images, stages.final), stages.final, conv,
            used, ends["moving_index"],
        )  # fmt: skip
        replacements.append(record)
        stages = neb.run_neb(images, candidate_id, maker.vacancy_charge, f"{step}_replaced")
    settings = {
        **neb.settings(),
        "image_method": used,
        "min_length": maker.min_length,
        "hop_index": maker.hop_index,
        "vacancy_charge": maker.vacancy_charge,
        "convergence": {k: v for k, v in conv.items() if k != "status"},
    }
    doc = neb_doc(
        candidate_id, images, stages, hop=HopDoc(**ends["hop"]), settings=settings,
        supercell_matrix=ends["supercell_matrix"],
    )  # fmt: skip
    update = {
        "endpoint_rattle_angstrom": maker.endpoint_rattle_angstrom,
        "endpoint_replacements": replacements,
        "seed_fallback": seed_fallback_sentence(used, ml_band),
        "ml_seed": None if ml_band is None else MlBand.coerce(ml_band).summary(),
    }
    return doc.model_copy(update=update).judged(maker.band_tolerance_ev)


def _neb_maker(maker: QeNebFlowMaker, conv: dict) -> QeNebMaker:
    """The NEB Maker with the converged cutoff and k-spacing and the flow's work dir."""
    gen = replace(maker.neb_maker.generator)
    for key, value in _override(conv).items():
        if value is not None:
            setattr(gen, key, value)
    return replace(maker.neb_maker, generator=gen, work_dir=maker.work_dir)


def _replace_endpoint(
    maker: QeNebFlowMaker,
    candidate_id: str,
    band: list[Structure],
    result: NebResult,
    conv: dict,
    method: str,
    moving_index: int,
) -> tuple[list[Structure], dict]:
    """New images whose endpoint nearer the lowest image is that image, relaxed with the
    endpoint protocol; and the record of the replacement (energies eV)."""
    plan = replacement(result.energies_ev)
    k, which = plan.image, plan.endpoint
    relax = replace(maker.endpoint_relax_maker, work_dir=maker.work_dir)
    step = f"hop{maker.hop_index}/relax_replaced_{which}"
    relaxed = relax.run_relax(band[k], candidate_id, maker.vacancy_charge, step, **_override(conv))
    ends = {"initial": band[0], "final": band[-1]}
    ends[which] = follow_displacement(band[k], _relaxed_structure(relaxed, step))
    absolute = result.absolute_energies_ev
    old = (absolute[0] if which == "initial" else absolute[-1]) if absolute else None
    new = relaxed.energy_ev
    seed_method = "idpp" if method == "idpp" else "linear"  # a BVSE path joins the old ends
    images = interpolate_images(
        ends["initial"], ends["final"], len(band) - 2, moving_index, method=seed_method
    )
    return images, plan.record(None if old is None or new is None else new - old)
