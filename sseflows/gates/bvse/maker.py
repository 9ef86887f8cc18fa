"""The BVSE gate as a jobflow Maker (its document, :class:`BVSEDoc`, is in ``schemas``).

One straight pipeline per candidate: prepare the structure, compute the grid, the
percolation barriers and (optionally) the Li path between the nearest Li pair in a child
process under a wall-time limit, judge the gate barrier against ``ea_max_ev``, and return
``Response(output=doc, stop_children=not doc.proceeds)``. The grid goes to the JobStore's
``data`` store (``@job(data=["bvse_grid"])``); the docs store keeps the numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from jobflow import Response, job
from pymatgen.core import Structure

from sseflows.core.candidate import Candidate
from sseflows.core.documents import Status
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.core.maker import TierMaker
from sseflows.gates.bvse.barriers import (
    DEFAULT_RESOLUTION_ANGSTROM,
    BVSEResult,
    bvse_li_path,
    gate_barrier,
    parse_dimension,
    percolation_barriers,
)
from sseflows.gates.bvse.grid import PERCOLATION_EMAX_EV
from sseflows.gates.bvse.path import nearest_li_pair
from sseflows.gates.bvse.schemas import BVSEDoc, PathSites
from sseflows.gates.timelimit import run_with_time_limit
from sseflows.settings import load_settings


@dataclass
class BVSEEvaluation:
    """What the child process computes for one structure."""

    result: BVSEResult
    path_sites: PathSites | None = None
    path_points: np.ndarray | None = None
    path_energies: np.ndarray | None = None
    path_note: str = ""
    wall_s: float = 0.0


def evaluate_structure(
    structure: Structure,
    candidate_id: str,
    *,
    resolution: float = DEFAULT_RESOLUTION_ANGSTROM,
    compute_path: bool = True,
) -> BVSEEvaluation:
    """Barriers and, if asked, the Li path between the nearest Li pair (no time limit).

    A path that cannot be found leaves the path empty with a note; it never fails the gate.
    """
    start = time.perf_counter()
    result = percolation_barriers(structure, candidate_id, resolution=resolution)
    evaluation = BVSEEvaluation(result=result)
    if compute_path:
        try:
            site_a, site_b, image, _ = nearest_li_pair(structure)
            points, energies = bvse_li_path(structure, site_a, site_b, image, result=result)
        except ValueError as exc:
            evaluation.path_note = f"no Li path: {exc}"
        else:
            evaluation.path_sites = (site_a, site_b, image)
            evaluation.path_points, evaluation.path_energies = points, energies
    evaluation.wall_s = time.perf_counter() - start
    return evaluation


def judge(
    barrier: float | None, dimension: int | None, requested: int | str, ea_max_ev: float
) -> tuple[Status, str]:
    """(status, reason) of the gate for ``barrier`` (eV) in ``dimension``."""
    if barrier is None:
        where = "any dimension" if dimension is None else f"{dimension}D"
        return "dropped", f"Li+ does not percolate in {where} below {PERCOLATION_EMAX_EV:g} eV."
    how = " (lowest percolating dimension)" if str(requested).lower() == "auto" else ""
    if barrier < ea_max_ev:
        return "passed", f"BVSE E_{dimension}D = {barrier:.3f} eV < {ea_max_ev:g} eV{how}."
    return "dropped", f"BVSE E_{dimension}D = {barrier:.3f} eV >= {ea_max_ev:g} eV{how}."


@dataclass
class BVSEGateMaker(TierMaker):
    """Bond-valence site-energy gate: Li⁺ percolation barrier of one candidate.

    Args:
        name: Job name.
        ea_max_ev: Pass when the gate barrier is below this, eV (Laskowski 2023: 0.6).
        dimension: ``"auto"`` (lowest barrier that percolates, i.e. E_1D when Li
            percolates at all) or 1, 2, 3 for E_1D, E_2D, E_3D.
        resolution_angstrom: Largest grid spacing, Å.
        timeout_s: Wall-time limit per structure, s; None reads the ``bvse_timeout_s``
            setting when the job runs; 0 or less runs in-process without a limit.
        compute_path: Also compute the Li path between the nearest Li pair (NEB seed).
    """

    name: str = "bvse gate"
    ea_max_ev: float = 0.6
    dimension: int | str = "auto"
    resolution_angstrom: float = DEFAULT_RESOLUTION_ANGSTROM
    timeout_s: float | None = None
    compute_path: bool = True

    def __post_init__(self) -> None:
        try:
            parse_dimension(self.dimension)
        except ValueError as exc:
            raise ConfigurationError(f"BVSEGateMaker: {exc}.") from exc
        if not 0.05 <= self.resolution_angstrom <= 1.0:
            raise ConfigurationError(
                f"BVSEGateMaker: resolution_angstrom must be 0.05–1 Å, got "
                f"{self.resolution_angstrom}."
            )

    @job(output_schema=BVSEDoc, data=["bvse_grid"])
    def make(self, candidate: Candidate, upstream: Any = None, **seeds: Any) -> Response:
        """Job: the candidate's :class:`BVSEDoc`; later tiers stop unless it passed.

        ``upstream`` is any output of an earlier job, passed only to order the jobs.
        """
        return Response(output=(doc := self.gate(candidate)), stop_children=not doc.proceeds)

    def gate(self, candidate: Candidate | dict[str, Any]) -> BVSEDoc:
        """The gate's document for ``candidate`` (the job's work, without jobflow)."""
        timeout = self.timeout_s if self.timeout_s is not None else load_settings().bvse_timeout_s
        settings: dict[str, Any] = {
            "ea_max_ev": self.ea_max_ev,
            "dimension": self.dimension,
            "resolution_angstrom": self.resolution_angstrom,
            "timeout_s": timeout,
            "compute_path": self.compute_path,
        }
        common: dict[str, Any] = {
            "settings": settings,
            "ea_max_ev": self.ea_max_ev,
            "resolution_angstrom": self.resolution_angstrom,
        }
        candidate = Candidate.coerce(candidate)
        formula = candidate.formula or (
            candidate.structure.composition.reduced_formula if candidate.structure else ""
        )
        kwargs: dict[str, Any] = {
            "resolution": self.resolution_angstrom,
            "compute_path": self.compute_path,
        }
        try:
            if candidate.structure is None:
                raise CandidateError(candidate.id, "has no structure to compute BVSE barriers for")
            if timeout and timeout > 0:
                ev = run_with_time_limit(
                    evaluate_structure,
                    candidate.structure,
                    candidate.id,
                    timeout_s=timeout,
                    candidate_id=candidate.id,
                    what="BVSE",
                    **kwargs,
                )
            else:
                ev = evaluate_structure(candidate.structure, candidate.id, **kwargs)
        except CandidateError as exc:
            return BVSEDoc(
                candidate_id=candidate.id,
                formula=formula,
                status="failed",
                reason=str(exc),
                **common,
            )
        res = ev.result
        barrier, dim = gate_barrier(res, self.dimension)
        status, reason = judge(barrier, dim, self.dimension, self.ea_max_ev)
        if ev.path_note:
            reason = f"{reason[:-1]}; {ev.path_note}."
        return BVSEDoc(
            candidate_id=candidate.id,
            formula=formula,
            status=status,
            reason=reason,
            e1d_ev=res.e1d_ev,
            e2d_ev=res.e2d_ev,
            e3d_ev=res.e3d_ev,
            gate_ea_ev=barrier,
            gate_dimension=dim,
            grid_shape=res.grid_shape,
            treatment=res.treatment,
            wall_s=round(ev.wall_s, 3),
            path_sites=ev.path_sites,
            path_points_angstrom=None
            if ev.path_points is None
            else np.round(ev.path_points, 4).tolist(),
            path_energies_ev=None
            if ev.path_energies is None
            else np.round(ev.path_energies, 4).tolist(),
            path_barrier_ev=None
            if ev.path_energies is None
            else round(float(ev.path_energies.max() - ev.path_energies[0]), 4),
            bvse_grid=np.round(res.grid_energies_ev, 3),
            **common,
        )
