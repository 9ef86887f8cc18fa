"""Expensive tiers for the survivors of the screening: NEB and MD flows per candidate.

Cross-candidate selection happens *between* stages (see :mod:`sseflows.campaign.run`),
not inside one jobflow graph: a gate that drops a candidate calls ``stop_children``, and
jobflow (like FireWorks' defuse) stops every job that depends on that gate, so a single
selection job depending on every candidate's gates would be stopped by the first drop.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import replace
from typing import Any

import numpy as np
from jobflow import Flow, Job, job

from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError
from sseflows.core.hops import enumerate_li_hops
from sseflows.core.images import MlBand
from sseflows.core.maker import NebSeeded, TierMaker
from sseflows.flows.approximant import approximant_tier_job, needs_approximant
from sseflows.gates.bvse.barriers import (
    HOP_TUBE_RADIUS_ANGSTROM,
    bvse_li_path,
    percolation_barriers,
)


def bvse_seed_path(
    structure: Any,
    hop_index: int,
    max_hop_length: float = 4.5,
    symprec: float = 0.1,
    tube_radius: float = HOP_TUBE_RADIUS_ANGSTROM,
) -> list | None:
    """BVSE Li path (Cartesian Å, unwrapped) of hop ``hop_index``, or None when unavailable.

    This is the hop the NEB tier computes (``enumerate_li_hops(...)[hop_index]`` with the
    same ``max_hop_length`` and ``symprec``), so the seeded images and the NEB endpoints
    belong to the same migration event. The path is searched in a tube of ``tube_radius``
    Å around the straight hop (see :func:`sseflows.gates.bvse.barriers.bvse_li_path`).
    """
    try:
        hop = enumerate_li_hops(structure, max_length=max_hop_length, symprec=symprec)[hop_index]
        points, _ = bvse_li_path(
            structure, hop.site_a, hop.site_b, hop.jimage, tube_radius=tube_radius
        )
    except (CandidateError, ValueError, IndexError):
        return None
    return np.asarray(points).tolist()


def bvse_seed_paths(
    structure: Any,
    max_hop_length: float = 4.5,
    symprec: float = 0.1,
    tube_radius: float = HOP_TUBE_RADIUS_ANGSTROM,
) -> list[list | None]:
    """BVSE Li path of every distinct hop (index as in ``enumerate_li_hops``, None where a
    hop has none), the seeds of a Maker computing every hop; the BVSE grid is computed
    once. Empty when the structure has no hop or no BVSE grid."""
    try:
        hops = enumerate_li_hops(structure, max_length=max_hop_length, symprec=symprec)
        grid = percolation_barriers(structure)
    except (CandidateError, ValueError):
        return []
    paths: list[list | None] = []
    for hop in hops:
        try:
            points, _ = bvse_li_path(
                structure, hop.site_a, hop.site_b, hop.jimage, result=grid,
                tube_radius=tube_radius,
            )  # fmt: skip
        except ValueError:
            paths.append(None)
            continue
        paths.append(np.asarray(points).tolist())
    return paths


def limiting_hop(ml_doc: Any) -> int | None:
    """The limiting hop of the lowest-dimensional percolating network in an ML NEB
    document (:class:`~sseflows.core.neb.NebDoc` or its dict), or None."""
    if ml_doc is None:
        return None
    if isinstance(ml_doc, dict):
        value = ml_doc.get("limiting_hop_index")
    else:
        value = getattr(ml_doc, "limiting_hop_index", None)
    return None if value is None else int(value)


def tier_seeds(maker: TierMaker, candidate: Candidate, ml_doc: Any = None) -> dict[str, Any]:
    """What earlier tiers hand to ``maker`` for ``candidate``.

    * ``limiting_hop_index``: to a Maker that takes it (the QE NEB) when ``ml_doc``, the
      candidate's ML NEB document with every hop, names a limiting hop; the Maker then
      computes that hop instead of its ``hop_index``.
    * ``li_paths_cart``: the BVSE path of every hop, to a Maker computing every hop
      (``hops="all"``, the ML engine);
    * ``li_path_cart``: otherwise the BVSE path of the one hop the Maker computes.

    No path for ``image_method`` other than ``"auto"``/``"bvse"``.
    """
    if not isinstance(maker, NebSeeded):
        return {}
    seeds: dict[str, Any] = {}
    hop_index = maker.hop_index
    chosen = limiting_hop(ml_doc)
    if "limiting_hop_index" in maker.seed_names and chosen is not None:
        seeds["limiting_hop_index"] = hop_index = chosen
    if maker.image_method not in ("auto", "bvse"):
        return seeds  # linear or IDPP images: no path to compute
    if "li_paths_cart" in maker.seed_names and getattr(maker, "hops", "one") == "all":
        seeds["li_paths_cart"] = bvse_seed_paths(
            candidate.structure, maker.max_hop_length, maker.symprec
        )
    elif "li_path_cart" in maker.seed_names:
        seeds["li_path_cart"] = bvse_seed_path(
            candidate.structure, hop_index, maker.max_hop_length, maker.symprec
        )
    return seeds


def ml_engine_available() -> bool:
    """True when the ML potential of the band seed (CHGNet) can be imported here."""
    return importlib.util.find_spec("chgnet") is not None


def wants_ml_band(maker: TierMaker) -> bool:
    """True when ``maker`` takes an ``ml_band`` seed and its ``image_method`` would use one
    (``"ml"``, or ``"auto"`` with the ML engine available)."""
    if "ml_band" not in maker.seed_names or not isinstance(maker, NebSeeded):
        return False
    return maker.image_method == "ml" or (maker.image_method == "auto" and ml_engine_available())


def default_ml_seed_maker() -> Any:
    """The ML NEB that seeds a DFT band: CHGNet, linear images (fewer CHGNet iterations than
    BVSE-seeded ones, ``benchmarks/neb_paths.py``), no endpoint replacement (the band must
    join the same vacancy endpoints as the DFT band)."""
    from sseflows.forcefields.neb import ChgnetNebMaker

    return ChgnetNebMaker(image_method="linear", replace_lower_endpoint=False)


def ml_band_seed(candidate: Candidate, maker: NebSeeded, ml_maker: Any = None) -> dict:
    """The ``ml_band`` seed of ``maker``'s hop: the band converged with an ML potential on the
    same hop, supercell rule and number of images, as an
    :class:`~sseflows.core.images.MlBand` dict. ``converged`` is False, with the reason,
    when the ML band did not converge, is no barrier, or could not be computed; ``wall_s``
    covers the whole ML step (potential loading, endpoint relaxations, band).
    """
    start = time.perf_counter()
    ml = ml_maker if ml_maker is not None else default_ml_seed_maker()
    hop = {k: getattr(maker, k) for k in ("hop_index", "max_hop_length", "symprec")}
    neb_maker = getattr(maker, "neb_maker", None)
    n_images = getattr(getattr(neb_maker, "path", None), "n_images", ml.n_images)
    size = {"min_length": getattr(maker, "min_length", ml.min_length)}
    max_atoms = getattr(maker, "max_atoms", None)
    if max_atoms is not None:
        size["max_atoms"] = max_atoms
    ml = replace(ml, **hop, **size, n_images=n_images, replace_lower_endpoint=False)
    engine = ml.force_field_name.lower()
    try:
        setup = ml.prepare(candidate)
        images, method = ml.seed_images(setup)
        band = ml.run_band(images)
        doc = ml.to_doc(candidate, setup, band, method)
    except Exception as exc:  # any failure of the ML step only costs the seed
        reason = f"the ML band could not be computed ({exc})"
        return MlBand(
            [], [], [], -1, False, reason, engine, wall_s=time.perf_counter() - start
        ).as_dict()
    return MlBand(
        positions_cart=[image.cart_coords.tolist() for image in band.images],
        lattice=setup.initial.lattice.matrix.tolist(),
        species=[site.specie.symbol for site in setup.initial],
        moving_index=setup.moving_index,
        converged=doc.status == "completed" and doc.converged,
        reason=None if doc.status == "completed" else doc.reason,
        engine=engine,
        iterations=doc.iterations,
        wall_s=time.perf_counter() - start,
        barrier_ev=doc.barrier_ev,
    ).as_dict()


ml_band_job = job(ml_band_seed, name="ml band seed")
""":func:`ml_band_seed` as a jobflow job (its output is the QE band's ``ml_band`` seed)."""


def make_tier_flow(
    maker: TierMaker, candidate: Candidate, seeds: dict[str, Any] | None = None
) -> Flow | Job:
    """``candidate`` through an expensive tier, with the seeds that tier takes (computed
    by :func:`tier_seeds` unless given). A Maker that wants an ML band
    (:func:`wants_ml_band`) gets it from an upstream :data:`ml_band_job`. A disordered
    candidate of a Maker taking the ``approximant`` seed goes first through the ordered
    approximant job (:mod:`sseflows.flows.approximant`), which makes this flow on the
    ordered cell (seeds recomputed there) when it runs."""
    if needs_approximant(maker, candidate):
        return approximant_tier_job(maker, candidate)
    seeds = tier_seeds(maker, candidate) if seeds is None else seeds
    if not wants_ml_band(maker) or "ml_band" in seeds:
        return maker.make(candidate, **seeds)
    hop = seeds.get("limiting_hop_index")  # the ML band of the hop the Maker will compute
    band = ml_band_job(candidate, maker.seeded_hop(hop) if isinstance(maker, NebSeeded) else maker)
    tier = maker.make(candidate, **seeds, ml_band=band.output)
    return Flow([band, tier], output=tier.output, name=f"ml-seeded {maker.name} {candidate.id}")
