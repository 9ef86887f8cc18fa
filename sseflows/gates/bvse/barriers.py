"""BVSE gate science: Li⁺ percolation barriers, the gate's barrier, and Li paths.

Bond-valence site energies come from bvlain's energy model and parameters (see
:mod:`sseflows.gates.bvse.grid`); this module prepares a candidate's structure, runs the
grid and the percolation analysis, and answers the questions the gate and the NEB tier
ask. Energies in eV, lengths in Å, times in s.

**Partial occupancy** (most measured fast conductors are disordered): no ordering is
enumerated. All Li — also partially occupied Li and Li on mixed sites — is removed, since
BVSE computes the site energy of a Li⁺ probe in the field of the framework. Each framework
(site, species) pair contributes its bond-valence (Morse) and Coulomb terms multiplied by
its occupancy, so mixed sites act as their occupancy-weighted average and vacancies on
framework sites weaken the site's interactions in proportion. The ``treatment`` field of
:class:`BVSEResult` states what was done for the structure at hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure

from sseflows.core.errors import CandidateError
from sseflows.core.triples import int_triple
from sseflows.gates.bvse.grid import (
    PERCOLATION_EMAX_EV,
    BVSEParameterError,
    MobileIon,
    bvlain_percolation_energies,
    grid_shape,
    percolation_energies,
    site_energy_grid,
)
from sseflows.gates.bvse.path import (
    PATH_EPSILON_EV,
    grid_energy_at,
    grid_min_energy_path,
    li_repulsion,
    li_site_indices,
    smooth_path,
)
from sseflows.gates.bvse.prepare import describe_treatment, prepare_for_bvse

DEFAULT_RESOLUTION_ANGSTROM = 0.2
"""Default grid spacing, Å. Over the 254 OBELiX CIFs: median 2.1 s CPU per structure
(grid, barriers and Li path), none above 7 s (``benchmarks/bvse_throughput.py``)."""
HOP_TUBE_RADIUS_ANGSTROM = 1.0
"""Default radius of the tube around the straight hop segment that a hop's BVSE path
must stay in, Å: wide enough for curved hops (LiFePO4's path bows 0.9 Å off the line on
the BVSE grid), narrow enough to exclude the empty interstitials a vacancy hop does not
visit (Li2O's octahedral site lies 1.63 Å off its 2.31 Å hop; Li3N's in-plane hop
otherwise leaves the Li2N plane by 1.5 Å)."""
HOP_EPSILON_EV = 0.5
"""Step-cost offset of the hop path's valley search, eV: the path is nearly the shortest
one through the sub-saddle region instead of following the valley floor to distant
minima (:func:`sseflows.gates.bvse.path.grid_min_energy_path`)."""
MAX_GRID_POINTS = 4_000_000
"""Larger grids (cells beyond ~30 Å on a side at 0.2 Å) are refused as too costly."""
GRID_CAP_EV = 100.0
"""Stored grid energies are capped here (points inside framework ions), eV."""


@dataclass
class BVSEResult:
    """Li⁺ percolation barriers of one structure and the grid they come from.

    Attributes:
        e1d_ev: Lowest energy (eV above the grid minimum) at which Li⁺ percolates in 1D;
            None when it does not percolate in that dimension below 10 eV. Same for
            ``e2d_ev`` and ``e3d_ev``; always ``e1d_ev ≤ e2d_ev ≤ e3d_ev``.
        grid_energies_ev: Site-energy grid relative to its minimum, eV, capped at
            :data:`GRID_CAP_EV`; point ``(i, j, k)`` at fractional ``(i/n0, j/n1, k/n2)``.
        grid_shape: ``(n0, n1, n2)``.
        resolution_angstrom: Requested largest grid spacing, Å.
        treatment: One sentence on how partial occupancy was handled.
        wall_s: Wall time of the calculation, s.
    """

    e1d_ev: float | None
    e2d_ev: float | None
    e3d_ev: float | None
    grid_energies_ev: np.ndarray
    grid_shape: tuple[int, int, int]
    resolution_angstrom: float
    treatment: str
    wall_s: float


def percolation_barriers(
    structure: Structure,
    candidate_id: str = "structure",
    *,
    resolution: float = DEFAULT_RESOLUTION_ANGSTROM,
    mobile_ion: str = "Li1+",
    method: str = "periodic",
) -> BVSEResult:
    """E_1D, E_2D and E_3D of the mobile ion in ``structure`` from its BVSE grid.

    Args:
        structure: Any structure containing the mobile ion; partial occupancy allowed.
        candidate_id: Named in error messages.
        resolution: Largest grid spacing, Å (0.05–1).
        mobile_ion: The migrating ion, e.g. ``"Li1+"``.
        method: ``"periodic"`` (exact periodic connectivity, fast) or ``"bvlain"``
            (bvlain's own 2×2×2-supercell search, slow; for cross-checks).

    Raises:
        CandidateError: from :func:`prepare_for_bvse`, for a cell too large for the grid,
            or when bvlain has no parameters for one of the ions.
        ValueError: for a resolution outside 0.05–1 Å or an unknown method.
    """
    if not 0.05 <= resolution <= 1.0:
        raise ValueError(f"the grid resolution must be between 0.05 and 1 Å, got {resolution}")
    if method not in ("periodic", "bvlain"):
        raise ValueError(f"unknown percolation method {method!r}; use 'periodic' or 'bvlain'")
    start = time.perf_counter()
    ion = MobileIon.parse(mobile_ion)
    prepared = prepare_for_bvse(structure, candidate_id, element=ion.symbol)
    shape = grid_shape(prepared.lattice.abc, resolution)
    n_points = int(np.prod(shape))
    if n_points > MAX_GRID_POINTS:
        a, b, c = prepared.lattice.abc
        raise CandidateError(
            candidate_id,
            f"the {a:.1f} × {b:.1f} × {c:.1f} Å cell needs {n_points:,} grid points at "
            f"{resolution} Å, more than the limit of {MAX_GRID_POINTS:,}",
        )
    try:
        grid = site_energy_grid(prepared, shape, mobile_ion)
    except BVSEParameterError as exc:
        raise CandidateError(candidate_id, str(exc)) from exc
    except MemoryError as exc:
        raise CandidateError(
            candidate_id, f"ran out of memory on the {n_points:,}-point BVSE grid"
        ) from exc
    relative = np.minimum(grid - grid.min(), GRID_CAP_EV)
    if method == "periodic":
        e1d, e2d, e3d = percolation_energies(relative)
    else:
        e1d, e2d, e3d = bvlain_percolation_energies(relative)
    return BVSEResult(
        e1d_ev=e1d,
        e2d_ev=e2d,
        e3d_ev=e3d,
        grid_energies_ev=relative,
        grid_shape=int_triple(shape),
        resolution_angstrom=float(resolution),
        treatment=describe_treatment(prepared, ion.symbol),
        wall_s=time.perf_counter() - start,
    )


def gate_barrier(
    result: BVSEResult, dimension: int | str = "auto"
) -> tuple[float | None, int | None]:
    """The barrier the gate judges and its dimension, ``(barrier_ev, dim)``.

    ``dimension="auto"`` takes the lowest barrier among the dimensions that percolate,
    which is E_1D whenever Li percolates at all (E_1D ≤ E_2D ≤ E_3D), and returns
    ``(None, None)`` when it percolates in none. ``1``/``2``/``3`` (or ``"1D"``...) pick
    that dimension and return ``(None, dim)`` when it does not percolate there.

    Raises:
        ValueError: for any other ``dimension``.
    """
    barriers = {1: result.e1d_ev, 2: result.e2d_ev, 3: result.e3d_ev}
    dim = parse_dimension(dimension)
    if dim is None:
        found = [(e, d) for d, e in barriers.items() if e is not None]
        return min(found) if found else (None, None)
    return barriers[dim], dim


def parse_dimension(dimension: int | str) -> int | None:
    """``"auto"`` → None; ``1``, ``"2"``, ``"3D"`` → the integer dimension.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(dimension, str) and dimension.strip().lower() == "auto":
        return None
    text = str(dimension).strip().upper().removesuffix("D")
    if isinstance(dimension, bool) or text not in {"1", "2", "3"}:
        raise ValueError(f"dimension must be 'auto', 1, 2 or 3, got {dimension!r}")
    return int(text)


def bvse_li_path(
    structure: Structure,
    site_a: int,
    site_b: int,
    jimage: tuple[int, int, int] = (0, 0, 0),
    *,
    resolution: float = DEFAULT_RESOLUTION_ANGSTROM,
    result: BVSEResult | None = None,
    tube_radius: float | None = HOP_TUBE_RADIUS_ANGSTROM,
    smooth: bool = True,
    li_li: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """BVSE minimum-energy path of the Li hop from ``site_a`` to ``site_b + jimage``.

    A minimax ("lowest saddle") search followed by a valley-following Dijkstra on the
    periodic grid graph (see :mod:`sseflows.gates.bvse.path`), restricted to a tube of
    radius ``tube_radius`` around the straight hop segment so that the path is that of the
    hop and not a detour through an empty interstitial, with a valley search biased to
    short paths (:data:`HOP_EPSILON_EV`). When the tube is not connected below 10 eV, the
    radius is doubled once, then the search is unconstrained. ``tube_radius=None`` gives
    the unconstrained valley-floor path directly.

    Args:
        structure: Structure holding both sites.
        site_a: Index of the start site.
        site_b: Index of the end site.
        jimage: Lattice translation of ``site_b``.
        resolution: Grid spacing when ``result`` is None, Å.
        result: A precomputed :func:`percolation_barriers` result of ``structure``.
        tube_radius: Radius of the search tube around the hop segment, Å.
        li_li: Add the screened Coulomb repulsion of the other Li⁺ (all Li except the
            two hop sites, i.e. the moving ion and the vacancy) to the BVSE grid for this
            search (:func:`sseflows.gates.bvse.path.li_repulsion`); BVSE alone has no Li.
        smooth: Remove the grid staircase with :func:`smooth_path` (points then at most
            0.05 Å apart); otherwise return the grid nodes.

    Returns:
        ``(points, energies)``: Cartesian points (N, 3) in Å, unwrapped, the first exactly
        at ``site_a``, the last exactly at ``site_b`` shifted by ``jimage``, consecutive
        points at most one grid step apart; and the grid energy at each point (trilinear
        when smoothed), eV above the grid minimum (the scale of ``result.e1d_ev``), plus
        the other Li⁺'s repulsion when ``li_li``.

    Raises:
        ValueError: when a site holds no Li, or the sites are not connected below 10 eV.
        CandidateError: from :func:`percolation_barriers` when ``result`` is None.
    """
    li = set(li_site_indices(structure))
    for index in (site_a, site_b):
        if index not in li:
            raise ValueError(f"site {index} of {structure.composition.reduced_formula} holds no Li")
    if result is None:
        result = percolation_barriers(structure, resolution=resolution)
    start = structure[site_a].frac_coords
    end = structure[site_b].frac_coords + np.asarray(jimage, dtype=float)
    grid, lattice = result.grid_energies_ev, structure.lattice.matrix
    extra = _other_li_repulsion(structure, start, end) if li_li else None
    radii = [None] if tube_radius is None else [tube_radius, 2 * tube_radius, None]
    for radius in radii:
        try:
            points, energies = grid_min_energy_path(
                grid,
                lattice,
                start,
                end,
                e_max=PERCOLATION_EMAX_EV,
                tube_radius=radius,
                epsilon=HOP_EPSILON_EV if radius is not None else PATH_EPSILON_EV,
                extra_energy=extra,
            )
            break
        except ValueError:
            if radius is None:
                raise
    if not smooth:
        return points, energies
    points = smooth_path(points)
    energies = grid_energy_at(grid, structure.lattice.get_fractional_coords(points))
    return points, energies + (extra(points) if extra is not None else 0.0)


def _other_li_repulsion(structure: Structure, start: np.ndarray, end: np.ndarray):
    """:func:`li_repulsion` of every Li within 12 Å of the hop except the Li on the
    fractional positions ``start`` and ``end`` (the moving ion and the vacancy)."""
    li = li_site_indices(structure)
    centre = structure.lattice.get_cartesian_coords(0.5 * (start + end))
    reach = 12.0 + float(np.linalg.norm(structure.lattice.get_cartesian_coords(end - start)))
    sites = structure.get_sites_in_sphere(centre, reach)
    cart, weight = [], []
    for site in sites:
        if site.index not in li:
            continue
        if min(np.linalg.norm(site.frac_coords - x) for x in (start, end)) < 1e-4:
            continue
        cart.append(site.coords)
        weight.append(site.species.get_el_amt_dict().get("Li", 0.0))
    if not cart:
        return None
    return li_repulsion(np.array(cart), np.array(weight))
