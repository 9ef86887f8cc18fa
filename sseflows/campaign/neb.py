"""One barrier, the use case behind ``sseflows neb``: the NEB Maker of an engine with the
user's overrides, the BVSE seed of its hop, and the run against a store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jobflow import run_locally

from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.core.hops import enumerate_li_hops
from sseflows.core.images import METHODS
from sseflows.core.maker import NebSeeded
from sseflows.core.neb import NebDoc
from sseflows.core.overrides import apply_overrides
from sseflows.data.files import read_structure_file
from sseflows.flows.approximant import final_output
from sseflows.flows.tiers import make_tier_flow, tier_seeds
from sseflows.stores import build_job_store

ENGINES = ("qe", "chgnet")


def neb_option_problem(engine: str, image_method: str) -> str | None:
    """Why ``engine`` or ``image_method`` cannot be used, one sentence; None when both can."""
    if engine not in ENGINES:
        return f"unknown engine {engine!r}; use qe or chgnet."
    if image_method not in ("auto", *METHODS):
        return f"unknown image method {image_method!r}; use auto, {', '.join(METHODS)}."
    return None


def neb_maker(
    engine: str,
    min_length: float | None = None,
    n_images: int | None = None,
    hop_index: int | None = None,
    image_method: str | None = None,
    ecutwfc: float | None = None,
    kspacing: float | None = None,
    pseudo_dir: str | None = None,
    launcher: str | None = None,
    work_dir: str | None = None,
    ml_seed: Mapping[str, Any] | None = None,
) -> NebSeeded:
    """The NEB Maker of ``engine`` with the given overrides (None keeps the Maker's default).

    ``hop_index`` given: that one distinct hop (shortest first) is computed, CHGNet with
    ``hops="one"``, QE with ``hop_choice="index"``. None: the Makers' defaults, CHGNet
    computes every hop (``hops="all"``) and QE the limiting hop of an ML NEB over every hop
    (``hop_choice="limiting"``, :func:`sseflows.flows.tiers.make_tier_flow`).

    For QE, ``ecutwfc`` (Ry), ``kspacing`` (Å⁻¹), ``pseudo_dir`` and ``launcher`` reach every
    pw.x/neb.x step, and an explicit ``ecutwfc`` skips the cutoff/k-mesh convergence.
    ``ml_seed`` overrides fields of the QE Maker's ML seed settings
    (:class:`~sseflows.core.images.MlSeedSettings`: ``force_field_name``, ``image_method``,
    ``fmax_ev_per_angstrom`` in eV/Å, ``max_steps``, ``climbing_image``); None values keep
    the defaults.

    Raises:
        ConfigurationError: an unknown engine; ML seed settings for the chgnet engine (which
            has no ML seed) or unknown or invalid ones.
    """
    seed = {k: v for k, v in (ml_seed or {}).items() if v is not None}
    common: dict[str, Any] = {
        "min_length": min_length, "hop_index": hop_index, "image_method": image_method,
    }  # fmt: skip
    common = {k: v for k, v in common.items() if v is not None}
    if engine == "chgnet" and seed:
        raise ConfigurationError(
            f"ML seed settings ({', '.join(sorted(seed))}) apply to the qe engine only; the "
            "chgnet engine has no ML seed."
        )
    if engine == "chgnet":
        from sseflows.forcefields.neb import ChgnetNebMaker

        extra: dict[str, Any] = {} if n_images is None else {"n_images": n_images}
        if hop_index is not None:
            extra["hops"] = "one"
        return apply_overrides(ChgnetNebMaker(), common | extra)
    if engine != "qe":
        raise ConfigurationError(f"Unknown NEB engine {engine!r}; use {' or '.join(ENGINES)}.")
    from sseflows.qe.flows import QeNebFlowMaker

    if hop_index is not None:
        common["hop_choice"] = "index"
    if seed:
        common["ml_seed"] = seed
    base = apply_overrides(QeNebFlowMaker(), common | ({"work_dir": work_dir} if work_dir else {}))
    generator = {"ecutwfc": ecutwfc, "kspacing": kspacing, "pseudo_dir": pseudo_dir}
    step: dict[str, Any] = {"generator": {k: v for k, v in generator.items() if v is not None}}
    if launcher is not None:
        step["launcher"] = launcher
    steps = {"cell_relax_maker": step, "endpoint_relax_maker": step, "neb_maker": dict(step)}
    if n_images is not None:
        steps["neb_maker"]["path"] = {"n_images": n_images}
    if ecutwfc is None and base.convergence_maker is not None:
        steps["convergence_maker"] = step
    maker = apply_overrides(base, {k: v for k, v in steps.items() if getattr(base, k)})
    return maker if ecutwfc is None else replace(maker, convergence_maker=None)


@dataclass
class NebRun:
    """A finished ``sseflows neb``: the candidate, its document and whether the band was
    seeded by a BVSE path.

    Attributes:
        candidate: The structure's candidate.
        doc: The NEB document (with ``hops="all"`` every hop, ``hops``, and the percolation
            barriers; for QE the hop it computed, ``settings["hop_index"]``).
        seeded: The band (the reported one) started on a BVSE path.
    """

    candidate: Candidate
    doc: NebDoc
    seeded: bool

    @property
    def hop_index(self) -> int | None:
        """The distinct hop whose band the document reports: the limiting hop of every hop
        computed, else the hop computed (None when unknown)."""
        if self.doc.limiting_hop_index is not None:
            return self.doc.limiting_hop_index
        value = self.doc.settings.get("hop_index")
        return None if value is None or self.doc.hops else int(value)


def run_neb(structure_file: Path, maker: NebSeeded, store_spec: str | None = None) -> NebRun:
    """Read ``structure_file`` and compute the barrier of the Maker's hop, stored in
    ``store_spec`` (the ``db`` setting when None).

    Raises:
        CandidateError: the file cannot be read, or has no hop ``maker.hop_index``.

    A partially occupied structure is computed on its ordered approximant
    (:mod:`sseflows.flows.approximant`, recorded in ``NebDoc.approximant``); one that
    cannot be ordered gives a ``failed`` document.
    """
    candidate = read_structure_file(structure_file)
    if candidate.structure is None:
        raise CandidateError(candidate.id, "it has no structure")
    ordered = candidate.structure.is_ordered  # a disordered one runs on its approximant
    if ordered:  # (the tier checks the approximant's hops and seeds it itself)
        hops = enumerate_li_hops(
            candidate.structure, maker.max_hop_length, maker.symprec, candidate.id
        )
        if maker.hop_index >= len(hops):
            raise CandidateError(
                candidate.id, f"hop {maker.hop_index} was requested but {len(hops)} hops exist"
            )
    seeds = tier_seeds(maker, candidate) if ordered else None
    flow = make_tier_flow(maker, candidate, seeds)  # with the ML band seed when it takes one
    responses = run_locally(flow, store=build_job_store(store_spec), create_folders=False)
    doc = final_output(responses, flow.output)
    # the method the reported band started from: the ML engine records it apart from the
    # one asked for, QE in place of it once the band ran (not in a document failed before)
    settings = doc.settings
    used = settings.get(
        "image_method_used", settings.get("image_method") if doc.engine == "qe" else None
    )
    if used is None and seeds is not None:
        paths = [seeds.get("li_path_cart"), *(seeds.get("li_paths_cart") or [])]
        seeded = any(path is not None for path in paths)
    else:
        seeded = used == "bvse"
    return NebRun(candidate, doc, seeded)
