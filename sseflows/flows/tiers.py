"""Expensive tiers for the survivors of the screening: NEB and MD flows per candidate.

Cross-candidate selection happens *between* stages (see :mod:`sseflows.campaign.run`),
not inside one jobflow graph: a gate that drops a candidate calls ``stop_children``, and
jobflow (like FireWorks' defuse) stops every job that depends on that gate, so a single
selection job depending on every candidate's gates would be stopped by the first drop.

The QE NEB stage computes the rate-limiting hop (issue 13 §2): with ``hop_choice=
"limiting"`` and the ML engine installed, :func:`make_tier_flow` runs an ML NEB over every
hop first (:func:`limiting_hop_flow`) and a small job then replaces itself by the QE flow
on that NEB's limiting hop, or on ``hop_index`` with the sentence saying why.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import time
from dataclasses import asdict, replace
from typing import Any

import numpy as np
from jobflow import CURRENT_JOB, Flow, Job, OnMissing, OutputReference, Response, job

from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError
from sseflows.core.hops import enumerate_li_hops
from sseflows.core.images import MlBand, MlSeedSettings, ml_seed_record
from sseflows.core.maker import NebSeeded, TierMaker
from sseflows.core.neb import NebDoc, neb_job
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
      candidate's ML NEB document with every hop, names a limiting hop, unless the Maker's
      ``hop_choice`` is ``"index"``; the Maker then computes that hop instead of its
      ``hop_index``.
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
    takes = getattr(maker, "hop_choice", "limiting") == "limiting"
    if "limiting_hop_index" in maker.seed_names and takes and chosen is not None:
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


def default_ml_seed_maker(settings: MlSeedSettings | None = None) -> Any:
    """The ML NEB that seeds a DFT band, with ``settings`` (default :class:`~sseflows.core.
    images.MlSeedSettings`: CHGNet, linear images, fewer CHGNet iterations than BVSE-seeded
    ones, ``benchmarks/neb_paths.py``; fmax 0.05 eV/Å, 300 steps, climbing image) and no
    endpoint replacement (the band must join the same vacancy endpoints as the DFT band)."""
    from sseflows.forcefields.neb import ChgnetNebMaker

    fields = (settings or MlSeedSettings()).maker_fields()
    return ChgnetNebMaker(**fields, replace_lower_endpoint=False)


def ml_seed_settings(maker: Any) -> MlSeedSettings | None:
    """The ML seed settings ``maker`` holds (``QeNebFlowMaker.ml_seed``), or None."""
    settings = getattr(maker, "ml_seed", None)
    return settings if isinstance(settings, MlSeedSettings) else None


def matching_ml_maker(maker: NebSeeded, ml_maker: Any = None) -> Any:
    """``ml_maker`` (default :func:`default_ml_seed_maker` with ``maker``'s own ML seed
    settings, ``maker.ml_seed``, where it has them) on ``maker``'s hops and supercell: the
    same ``hop_index``, ``max_hop_length`` (Å), ``symprec`` (Å), ``min_length`` (Å),
    ``max_atoms`` (where ``maker`` has one) and number of images, and no endpoint
    replacement. An explicit ``ml_maker`` is taken as it is otherwise."""
    ml = ml_maker if ml_maker is not None else default_ml_seed_maker(ml_seed_settings(maker))
    hop = {k: getattr(maker, k) for k in ("hop_index", "max_hop_length", "symprec")}
    neb_maker = getattr(maker, "neb_maker", None)
    n_images = getattr(getattr(neb_maker, "path", None), "n_images", ml.n_images)
    size = {"min_length": getattr(maker, "min_length", ml.min_length)}
    max_atoms = getattr(maker, "max_atoms", None)
    if max_atoms is not None:
        size["max_atoms"] = max_atoms
    return replace(ml, **hop, **size, n_images=n_images, replace_lower_endpoint=False)


def ml_band_seed(candidate: Candidate, maker: NebSeeded, ml_maker: Any = None) -> dict:
    """The ``ml_band`` seed of ``maker``'s hop: the band converged with an ML potential on the
    same hop, supercell rule and number of images (:func:`matching_ml_maker`), as an
    :class:`~sseflows.core.images.MlBand` dict. ``converged`` is False, with the reason,
    when the ML band did not converge, is no barrier, or could not be computed; ``wall_s``
    covers the whole ML step (potential loading, endpoint relaxations, band); ``settings``
    records the ML NEB's settings (:func:`~sseflows.core.images.ml_seed_record`). With
    ``image_method="bvse"`` the ML band starts on the hop's BVSE path
    (:func:`bvse_seed_path`, linear when there is none).
    """
    start = time.perf_counter()
    ml = matching_ml_maker(maker, ml_maker)
    engine = ml.force_field_name.lower()
    method: str | None = None
    try:
        path = None
        if ml.image_method == "bvse" and candidate.structure is not None:
            path = bvse_seed_path(candidate.structure, ml.hop_index, ml.max_hop_length, ml.symprec)
        setup = ml.prepare(candidate)
        images, method = ml.seed_images(setup, path)
        band = ml.run_band(images)
        doc = ml.to_doc(candidate, setup, band, method)
    except Exception as exc:  # any failure of the ML step only costs the seed
        reason = f"the ML band could not be computed ({exc})"
        return MlBand(
            [], [], [], -1, False, reason, engine, wall_s=time.perf_counter() - start,
            settings=ml_seed_record(ml, method),
        ).as_dict()  # fmt: skip
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
        settings=ml_seed_record(ml, method),
    ).as_dict()


ml_band_job = job(ml_band_seed, name="ml band seed")
""":func:`ml_band_seed` as a jobflow job (its output is the QE band's ``ml_band`` seed)."""


HOP_SEEDS = ("limiting_hop_index", "hop_fallback", "ml_band", "li_path_cart", "li_paths_cart")
"""Seeds that belong to one hop (or say which hop): a flow that has not chosen its hop yet
does not hand them on."""

ML_HOPS_FOR = "limiting_hop_for"
"""Metadata field of the ML NEB over every hop naming the result key of the stage whose
hop it chose (its own ``result_key`` is derived from that one, :func:`ml_hops_result_key`)."""


def wants_limiting_hop(maker: TierMaker, seeds: dict[str, Any]) -> bool:
    """True when ``maker``'s hop is to be chosen by an ML NEB over every hop first: it takes
    the ``limiting_hop_index`` seed, its ``hop_choice`` is ``"limiting"``, no seed has
    fixed the hop yet (:data:`HOP_SEEDS` other than the BVSE paths) and the ML engine is
    installed (:func:`ml_engine_available`)."""
    fixed = {"limiting_hop_index", "hop_fallback", "ml_band"} & set(seeds)
    return (
        isinstance(maker, NebSeeded)
        and "limiting_hop_index" in maker.seed_names
        and getattr(maker, "hop_choice", "index") == "limiting"
        and not fixed
        and ml_engine_available()
    )


def ml_hops_maker(maker: NebSeeded, ml_maker: Any = None) -> Any:
    """The ML NEB over every hop that chooses ``maker``'s hop: ``ml_maker`` (default
    :func:`default_ml_seed_maker` with ``maker.ml_seed``: CHGNet, linear images) on
    ``maker``'s hop enumeration, supercell and images (:func:`matching_ml_maker`) with
    ``hops="all"``."""
    return replace(matching_ml_maker(maker, ml_maker), hops="all")


def ml_hops_result_key(stage_key: str) -> str:
    """The result key of the ML NEB over every hop run for the stage keyed ``stage_key``
    (24 hex digits, like every result key, and never equal to ``stage_key``)."""
    return hashlib.sha256(f"{stage_key}|ml neb over every hop".encode()).hexdigest()[:24]


REUSED_FROM = "reused_from"
"""Metadata field of an ML NEB over every hop that did not run but took the completed
document stored under its result key: the uuid of the job that computed it."""


def stored_ml_hops_doc(store: Any, key: str) -> tuple[str, NebDoc] | None:
    """The newest completed NEB document stored under result key ``key`` in ``store`` (a
    connected JobStore, or None), with the uuid of the job that wrote it; None when there
    is none. The band images come back from the ``data`` store as plain JSON."""
    if store is None:
        return None
    criteria = {"metadata.result_key": key, "output.tier": "neb", "output.status": "completed"}
    rows = list(store.docs_store.query(criteria, properties=["uuid", "completed_at"]))
    if not rows:
        return None
    newest = max(rows, key=lambda row: str(row.get("completed_at", "")))
    value = OutputReference(newest["uuid"]).resolve(
        store, on_missing=OnMissing.NONE, deserialize=False
    )
    if not isinstance(value, dict):
        return None
    return newest["uuid"], NebDoc.model_validate(
        {k: v for k, v in value.items() if not k.startswith("@")}
    )


@neb_job
def ml_hops_neb(ml_maker: Any, candidate: Candidate, approximant: dict | None = None) -> NebDoc:
    """The ML NEB over every hop of ``candidate`` (``ml_maker``, ``hops="all"``): a normal
    NEB document of its engine (tier ``neb``, e.g. engine ``chgnet``), stored as a result
    in its own right. Any failure of the ML step is a ``failed`` document with the
    sentence, so the stage goes on with ``hop_index``.

    Store: the planner tags every job of a stage with the stage's result key, and a stage's
    result is its newest ``neb`` document of that key (``campaign.plan.tier_docs_by_key``,
    which also decides what is already computed). So that this document is never taken
    for the QE stage's (e.g. when the QE flow stopped before writing one, the stage must
    run again, not be reused), this job files itself, when it runs, under a result key of
    its own (:func:`ml_hops_result_key` of the stage's) and names the stage's key in
    ``metadata.limiting_hop_for`` (:data:`ML_HOPS_FOR`); the campaign name and candidate
    id stay, so the campaign's report and the label feedback see it like any ML NEB.
    A completed document already stored under that key (the stage ran before and its QE
    flow crashed or was killed) is taken as it is, not recomputed
    (:func:`stored_ml_hops_doc`; ``metadata.reused_from`` names the job that computed it).
    With ``image_method="bvse"`` each band starts on its hop's BVSE path
    (:func:`bvse_seed_paths`).
    """
    current = CURRENT_JOB.job
    stage_key = None if current is None else current.metadata.get("result_key")
    if current is not None and stage_key is not None:
        key = ml_hops_result_key(str(stage_key))
        current.metadata.update({"result_key": key, ML_HOPS_FOR: stage_key})
        stored = stored_ml_hops_doc(CURRENT_JOB.store, key)
        if stored is not None:  # computed before, e.g. by a run whose QE stage then crashed
            uuid, doc = stored
            current.metadata[REUSED_FROM] = uuid
            return doc
    try:
        paths = None
        if getattr(ml_maker, "image_method", None) == "bvse" and candidate.structure is not None:
            paths = bvse_seed_paths(candidate.structure, ml_maker.max_hop_length, ml_maker.symprec)
        doc = ml_maker.compute(candidate, None, paths)
    except Exception as exc:  # any failure of the ML step only costs the hop choice
        doc = NebDoc(
            candidate_id=candidate.id,
            formula=candidate.formula,
            engine=str(getattr(ml_maker, "force_field_name", "ml")).lower(),
            status="failed",
            reason=f"Candidate '{candidate.id}': the ML NEB over every hop could not be "
            f"computed ({exc}).",
            settings=asdict(ml_maker),
        )
    return doc.with_approximant(approximant)


def _field(doc: Any, name: str) -> Any:
    """Field ``name`` of a :class:`NebDoc` or of its dict."""
    return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)


def hop_fallback_sentence(ml_doc: Any, hop_index: int) -> str:
    """One sentence saying why the QE stage computes ``hop_index`` and not the limiting hop
    of ``ml_doc`` (the ML NEB over every hop, a :class:`NebDoc` or its dict, or None when
    that job left no document)."""
    if ml_doc is None:
        return (
            f"The ML NEB over every hop left no document, so hop {hop_index} (hop_index) was "
            "computed instead of its limiting hop."
        )
    engine = _field(ml_doc, "engine") or "ML"
    why = re.sub(r"^Candidate '[^']*': ", "", str(_field(ml_doc, "reason") or "")).rstrip(".")
    detail = f" ({why})" if why else ""
    return (
        f"The {engine} NEB over every hop named no limiting hop{detail}, so hop {hop_index} "
        "(hop_index) was computed instead."
    )


def _stored_document(value: Any) -> Any:
    """``value``, or the stored output it refers to as plain JSON (None when missing).

    A :class:`NebDoc` output reference cannot be resolved the usual way: jobflow decodes
    the whole document before any attribute access, the band images loaded back from the
    ``data`` store become ``Structure`` objects, and ``NebDoc.images`` (dicts) rejects
    them. So the job reading one takes it unresolved and reads the JSON here."""
    if not isinstance(value, OutputReference):
        return value
    store = CURRENT_JOB.store
    if store is None:
        return None
    return value.resolve(store, on_missing=OnMissing.NONE, deserialize=False)


@job
def limiting_hop_tier(
    maker: TierMaker, candidate: Candidate, ml_doc: Any, seeds: dict[str, Any] | None = None
) -> Response:
    """Replace this job by ``maker``'s tier on the limiting hop of ``ml_doc`` (the ML NEB over
    every hop, its document, dict or output reference; None when that job left none):
    ``make_tier_flow`` with :func:`tier_seeds` of ``ml_doc`` (the ``limiting_hop_index``
    seed, that hop's BVSE path and, through ``make_tier_flow``, its ML band), or, without
    a limiting hop, on ``hop_index`` with the ``hop_fallback`` seed, the sentence of
    :func:`hop_fallback_sentence`. ``seeds`` are the seeds that do not depend on the hop
    (the approximant record). The replacement inherits this job's metadata (result key,
    candidate id, campaign), as the approximant job's."""
    assert isinstance(maker, NebSeeded)
    ml_doc = _stored_document(ml_doc)
    chosen = {**(seeds or {}), **tier_seeds(maker, candidate, ml_doc)}
    if limiting_hop(ml_doc) is None:
        chosen["hop_fallback"] = hop_fallback_sentence(ml_doc, maker.hop_index)
    tier = make_tier_flow(maker, candidate, chosen)
    current = CURRENT_JOB.job
    if current is not None:
        tier.update_metadata(dict(current.metadata))
    return Response(replace=tier)


def limiting_hop_flow(
    maker: NebSeeded, candidate: Candidate, seeds: dict[str, Any], ml_maker: Any = None
) -> Flow:
    """``maker``'s stage on the limiting hop: (1) the ML NEB over every hop
    (:func:`ml_hops_neb` of :func:`ml_hops_maker`, with the same hops, supercell and images
    as ``maker``), then (2) :func:`limiting_hop_tier`, which replaces itself by ``maker``'s
    flow on that NEB's limiting hop. The flow's output is the stage's document."""
    kept = {k: v for k, v in seeds.items() if k not in HOP_SEEDS}
    ml = ml_hops_neb(ml_hops_maker(maker, ml_maker), candidate, kept.get("approximant"))
    ml.name = f"neb ml all hops {candidate.id}"
    ml.config.expose_store = True  # a document stored by an earlier run is reused
    choose = limiting_hop_tier(maker, candidate, ml.output, kept)
    choose.name = f"neb limiting hop {candidate.id}"
    choose.config.on_missing_references = OnMissing.NONE  # no ML document: hop_index
    choose.config.resolve_references = False  # it reads the document itself (the store's)
    choose.config.expose_store = True
    name = f"{maker.name} limiting hop {candidate.id}"
    return Flow([ml, choose], output=choose.output, name=name)


def make_tier_flow(
    maker: TierMaker, candidate: Candidate, seeds: dict[str, Any] | None = None
) -> Flow | Job:
    """``candidate`` through an expensive tier, with the seeds that tier takes (computed
    by :func:`tier_seeds` unless given). A Maker whose hop is the ML engine's limiting hop
    (:func:`wants_limiting_hop`: the QE NEB with ``hop_choice="limiting"``) runs after an
    ML NEB over every hop (:func:`limiting_hop_flow`). A Maker that wants an ML band
    (:func:`wants_ml_band`) gets it from an upstream :data:`ml_band_job`. A disordered
    candidate of a Maker taking the ``approximant`` seed goes first through the ordered
    approximant job (:mod:`sseflows.flows.approximant`), which makes this flow on the
    ordered cell (seeds recomputed there) when it runs."""
    if needs_approximant(maker, candidate):
        return approximant_tier_job(maker, candidate)
    if isinstance(maker, NebSeeded) and wants_limiting_hop(maker, seeds or {}):
        return limiting_hop_flow(maker, candidate, seeds or {})  # its hop's seeds come later
    seeds = tier_seeds(maker, candidate) if seeds is None else seeds
    if not wants_ml_band(maker) or "ml_band" in seeds:
        return maker.make(candidate, **seeds)
    hop = seeds.get("limiting_hop_index")  # the ML band of the hop the Maker will compute
    band = ml_band_job(candidate, maker.seeded_hop(hop) if isinstance(maker, NebSeeded) else maker)
    tier = maker.make(candidate, **seeds, ml_band=band.output)
    return Flow([band, tier], output=tier.output, name=f"ml-seeded {maker.name} {candidate.id}")
