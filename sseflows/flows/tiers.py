"""Expensive tiers for the survivors of the screening: NEB and MD flows per candidate.

Cross-candidate selection happens *between* stages (see :mod:`sseflows.campaign.run`),
not inside one jobflow graph: a gate that drops a candidate calls ``stop_children``, and
jobflow (like FireWorks' defuse) stops every job that depends on that gate, so a single
selection job depending on every candidate's gates would be stopped by the first drop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jobflow import Flow, Job

from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError
from sseflows.core.hops import enumerate_li_hops
from sseflows.core.maker import NebSeeded, TierMaker
from sseflows.flows.approximant import approximant_tier_job, needs_approximant
from sseflows.gates.bvse.barriers import HOP_TUBE_RADIUS_ANGSTROM, bvse_li_path


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


def tier_seeds(maker: TierMaker, candidate: Candidate) -> dict[str, Any]:
    """What earlier tiers hand to ``maker`` for ``candidate``: the BVSE Li path of the hop
    a hop-computing Maker (:class:`~sseflows.core.maker.NebSeeded`) computes."""
    if "li_path_cart" not in maker.seed_names or not isinstance(maker, NebSeeded):
        return {}
    if maker.image_method not in ("auto", "bvse"):
        return {}  # linear or IDPP images: no path to compute
    return {
        "li_path_cart": bvse_seed_path(
            candidate.structure, maker.hop_index, maker.max_hop_length, maker.symprec
        )
    }


def make_tier_flow(
    maker: TierMaker, candidate: Candidate, seeds: dict[str, Any] | None = None
) -> Flow | Job:
    """``candidate`` through an expensive tier, with the seeds that tier takes (computed
    by :func:`tier_seeds` unless given). A disordered candidate of a Maker taking the
    ``approximant`` seed goes first through the ordered approximant job
    (:mod:`sseflows.flows.approximant`), which makes this flow on the ordered cell (seeds
    recomputed there) when it runs."""
    if needs_approximant(maker, candidate):
        return approximant_tier_job(maker, candidate)
    seeds = tier_seeds(maker, candidate) if seeds is None else seeds
    return maker.make(candidate, **seeds)
