"""Minimum-energy Li paths on a periodic BVSE grid, and the Li pair to connect.

The path between two sites is found in two steps on the grid graph (26 neighbours per
point, periodic images unwrapped inside a box around the two sites):

1. **Saddle.** The lowest energy ``E*`` at which the two sites are connected through grid
   points with ``E ≤ E*`` (bisection with connected-component labelling). This is the
   hop's BVSE barrier; no path can cross lower.
2. **Valley.** Among points with ``E ≤ E* + slack`` (slack: grid tolerance), Dijkstra
   (``scipy.sparse.csgraph``) minimises ``Σ step_length × (E_step − E_floor + ε)``: the
   path follows the valley floor instead of grazing the walls of the allowed region, and
   ``ε`` keeps it from wandering.

Points are consecutive grid nodes (one grid step apart), bracketed by the exact site
positions. Use :func:`resample_path` to turn them into evenly spaced NEB images.

**Hop paths.** BVSE is a single-ion landscape without the vacancy, so the globally
lowest valley between two neighbouring sites may detour through an empty interstitial
(Li2O: a 4.2 Å valley for a 2.3 Å hop). ``tube_radius`` restricts both steps to grid
points within that distance of the straight hop segment, which gives the BVSE minimum-
energy path *of that hop*; :func:`smooth_path` then removes the grid staircase.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from pymatgen.core import Structure
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sseflows.core.triples import int_triple

PATH_MARGIN_ANGSTROM = 3.0
"""Initial margin of the search box around the two sites, Å (doubled up to twice; a tube
search uses one box just holding the tube)."""
PATH_SLACK_EV = 0.02
"""Energy allowance above the saddle for the valley search, eV (grid tolerance)."""
PATH_EPSILON_EV = 0.05
"""Energy added to every step's cost so the path stays short, eV."""
SMOOTH_SPACING_ANGSTROM = 0.05
"""Point spacing of smoothed paths, Å."""
SMOOTH_LENGTH_ANGSTROM = 0.3
"""Length over which :func:`smooth_path` averages the grid staircase, Å."""
MIN_HOP_ANGSTROM = 1.5
"""Li–Li distances below this are split positions of one site, not a hop, Å."""


def grid_energy_at(grid: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Periodic trilinear interpolation of ``grid`` at fractional coordinates (N, 3)."""
    coords = (np.atleast_2d(frac) * np.array(grid.shape)).T
    return ndimage.map_coordinates(grid, coords, order=1, mode="grid-wrap")


def _saddle(energy: np.ndarray, a: tuple, b: tuple, high: float, tol: float) -> float | None:
    """Lowest threshold connecting box points ``a`` and ``b``; None if not below ``high``."""
    structure = np.ones((3, 3, 3), dtype=bool)

    def connected(threshold: float) -> bool:
        labels, _ = ndimage.label(energy <= threshold, structure=structure)
        return labels[a] != 0 and labels[a] == labels[b]

    low = max(energy[a], energy[b])
    if connected(low):
        return float(low)
    if not connected(high):
        return None
    while high - low > tol:
        probe = 0.5 * (low + high)
        if connected(probe):
            high = probe
        else:
            low = probe
    return float(high)


def _valley_path(
    energy: np.ndarray,
    allowed: np.ndarray,
    steps: np.ndarray,
    a: tuple,
    b: tuple,
    epsilon: float = PATH_EPSILON_EV,
) -> list[tuple[int, int, int]]:
    """Dijkstra through ``allowed`` box points from ``a`` to ``b`` (see module docstring)."""
    shape = energy.shape
    flat = np.arange(energy.size).reshape(shape)
    floor = float(energy[allowed].min())
    rows, cols, weights = [], [], []
    for d in np.ndindex(3, 3, 3):
        step = np.array(d) - 1
        if not step.tolist() > [0, 0, 0]:
            continue
        src = tuple(slice(max(0, -s), n - max(0, s)) for s, n in zip(step, shape, strict=True))
        dst = tuple(slice(max(0, s), n - max(0, -s)) for s, n in zip(step, shape, strict=True))
        both = allowed[src] & allowed[dst]
        mean = 0.5 * (energy[src] + energy[dst])[both]
        rows.append(flat[src][both])
        cols.append(flat[dst][both])
        weights.append(np.linalg.norm(step @ steps) * (mean - floor + epsilon))
    graph = csr_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
        shape=(energy.size, energy.size),
    )
    source, target = int(flat[a]), int(flat[b])
    _, pred = dijkstra(graph, directed=False, indices=source, return_predecessors=True)
    nodes = [target]
    while nodes[-1] != source:
        nodes.append(int(pred[nodes[-1]]))
        if nodes[-1] < 0:
            raise ValueError("the valley search lost the saddle connection")
    return [int_triple(np.unravel_index(node, shape)) for node in reversed(nodes)]


def _box_cart(lo: np.ndarray, shape: np.ndarray, lattice: np.ndarray, box: tuple) -> np.ndarray:
    """Cartesian positions (Å) of the box points starting at grid node ``lo``."""
    axes = [(lo[i] + np.arange(box[i])) / shape[i] for i in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1) @ lattice


def _box_extra(function, lo, shape, lattice, box) -> np.ndarray:
    cart = _box_cart(lo, shape, lattice, box)
    return np.asarray(function(cart.reshape(-1, 3)), dtype=float).reshape(box)


def li_repulsion(
    li_cart: np.ndarray,
    li_weight: np.ndarray,
    *,
    r_cut: float = 7.0,
    screening_length: float = 0.74 * 2 * 1.28,
    prefactor: float = 7.2,
) -> Callable[[np.ndarray], np.ndarray]:
    """Screened Coulomb repulsion of the moving Li⁺ by the other Li⁺ ions, eV.

    BVSE removes every Li, so its landscape lacks the Li⁺ a vacancy hop moves among; a
    hop path on it may cut through interstitials ringed by Li. This adds, for Cartesian
    points ``x``, ``Σ_j w_j · prefactor · erfc(r_j / screening_length) / r_j`` over the Li
    at ``li_cart`` (weights ``li_weight``, occupancies) within ``r_cut``. The defaults are
    BVSE's own Coulomb term between two Li⁺ (bvlain: ``14.4 q₁q₂/√(n₁n₂) = 7.2`` eV·Å with
    n = 2, screening length ``f (r_c + r_c) = 0.74 × 2 × 1.28 Å``).
    """
    from scipy.spatial import cKDTree
    from scipy.special import erfc

    tree = cKDTree(np.asarray(li_cart, dtype=float))
    weight = np.asarray(li_weight, dtype=float)

    def energy(points: np.ndarray) -> np.ndarray:
        pairs = cKDTree(points).sparse_distance_matrix(tree, r_cut, output_type="ndarray")
        r = np.maximum(pairs["v"], 0.3)
        terms = weight[pairs["j"]] * prefactor * erfc(r / screening_length) / r
        return np.bincount(pairs["i"], weights=terms, minlength=len(points))

    return energy


def _mask_tube(
    energy: np.ndarray,
    lo: np.ndarray,
    shape: np.ndarray,
    lattice: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    radius: float,
    keep: tuple[tuple, tuple],
) -> np.ndarray:
    """``energy`` with box points farther than ``radius`` (Å) from the segment start–end
    set to infinity (the two end nodes ``keep`` always stay)."""
    cart = _box_cart(lo, shape, lattice, energy.shape)
    p0, p1 = start @ lattice, end @ lattice
    seg = p1 - p0
    t = np.clip(((cart - p0) @ seg) / max(float(seg @ seg), 1e-12), 0.0, 1.0)
    distance = np.linalg.norm(cart - p0 - t[..., None] * seg, axis=-1)
    masked = np.where(distance <= radius, energy, np.inf)
    for node in keep:
        masked[node] = energy[node]
    return masked


def grid_min_energy_path(
    grid: np.ndarray,
    lattice_matrix: np.ndarray,
    frac_start: np.ndarray,
    frac_end: np.ndarray,
    *,
    e_max: float = 10.0,
    tol: float = 0.005,
    tube_radius: float | None = None,
    epsilon: float = PATH_EPSILON_EV,
    extra_energy: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-energy path on the periodic ``grid`` between two fractional positions.

    Args:
        grid: Periodic site-energy grid, eV; point ``(i, j, k)`` at ``(i/n0, j/n1, k/n2)``.
        lattice_matrix: Lattice vectors as rows, Å.
        frac_start: Start, fractional coordinates.
        frac_end: End, fractional and unwrapped (may lie outside the home cell).
        e_max: Highest saddle searched, eV on the grid's scale.
        tol: Bisection tolerance of the saddle, eV.
        tube_radius: When given, only grid points within this distance (Å) of the straight
            segment between the two positions are used (the path of *this* hop).
        epsilon: Energy added to every step's cost in the valley search, eV: small values
            follow the valley floor, large ones shorten the path (within the sub-saddle
            region either way).
        extra_energy: Energy (eV) added to the grid for this search only, as a function of
            Cartesian points (M, 3) in Å (e.g. :func:`li_repulsion`).

    Returns:
        Cartesian points (N, 3) in Å, unwrapped, from ``frac_start`` to ``frac_end``, and
        the grid energy at each point (eV).

    Raises:
        ValueError: when the two positions are not connected below ``e_max`` (inside the
            tube when ``tube_radius`` is given).
    """
    shape = np.array(grid.shape)
    lattice = np.asarray(lattice_matrix, dtype=float)
    start, end = np.asarray(frac_start, float), np.asarray(frac_end, float)
    steps = lattice / shape[:, None]
    node_a = np.rint(start * shape).astype(int)
    node_b = np.rint(end * shape).astype(int)
    plane_spacing = 1.0 / np.linalg.norm(np.linalg.inv(lattice).T, axis=1)  # Å per cell
    margins = [PATH_MARGIN_ANGSTROM * 2**attempt for attempt in range(3)]
    if tube_radius is not None:  # the tube fits in one box
        margins = [tube_radius + float(np.linalg.norm(steps, axis=1).sum())]
    for margin in margins:
        pad = np.ceil(margin / plane_spacing * shape).astype(int)
        lo = np.minimum(node_a, node_b) - pad
        hi = np.maximum(node_a, node_b) + pad
        ranges = [np.arange(lo[i], hi[i] + 1) for i in range(3)]
        energy = grid[np.ix_(*(r % n for r, n in zip(ranges, shape, strict=True)))]
        a, b = tuple(node_a - lo), tuple(node_b - lo)
        if extra_energy is not None:
            energy = energy + _box_extra(extra_energy, lo, shape, lattice, energy.shape)
        if tube_radius is not None:
            energy = _mask_tube(energy, lo, shape, lattice, start, end, tube_radius, (a, b))
        saddle = _saddle(energy, a, b, min(e_max, float(energy.max())), tol)
        if saddle is not None:
            break
    else:
        where = "" if tube_radius is None else f" within {tube_radius:g} Å of the hop segment"
        raise ValueError(f"the two sites are not connected below {e_max:g} eV on the grid{where}")
    allowed = energy <= saddle + PATH_SLACK_EV
    nodes = np.array(_valley_path(energy, allowed, steps, a, b, epsilon)) + lo
    points = [start @ lattice, *(nodes / shape) @ lattice, end @ lattice]
    energies = [
        float(grid_energy_at(grid, start)[0]),
        *(float(grid[tuple(n % shape)]) for n in nodes),
        float(grid_energy_at(grid, end)[0]),
    ]
    points_arr, energies_arr = np.array(points), np.array(energies)
    keep = np.ones(len(points_arr), dtype=bool)
    keep[1:] = np.linalg.norm(np.diff(points_arr, axis=0), axis=1) > 1e-8
    return points_arr[keep], energies_arr[keep]


def smooth_path(
    points: np.ndarray,
    length: float = SMOOTH_LENGTH_ANGSTROM,
    spacing: float = SMOOTH_SPACING_ANGSTROM,
) -> np.ndarray:
    """A grid path (N, 3), Å, without its staircase: resampled every ``spacing`` Å, then
    averaged over about ``length`` Å (repeated three-point averaging of the deviation from
    the chord, the ends fixed exactly). Returned points are ``spacing`` apart or closer."""
    points = np.asarray(points, dtype=float)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    n = max(3, math.ceil(arc[-1] / spacing) + 1)
    dense = resample_path(points, n)
    chord = np.linspace(0.0, 1.0, n)[:, None] * (dense[-1] - dense[0]) + dense[0]
    deviation = dense - chord
    for _ in range(math.ceil((length / spacing) ** 2 / 2)):
        deviation[1:-1] = 0.5 * deviation[1:-1] + 0.25 * (deviation[:-2] + deviation[2:])
    smoothed = chord + deviation
    arc = np.linalg.norm(np.diff(smoothed, axis=0), axis=1).sum()
    return resample_path(smoothed, max(n, math.ceil(arc / spacing) + 1))


def resample_path(points: np.ndarray, n_points: int) -> np.ndarray:
    """``n_points`` positions evenly spaced by arc length along a polyline (N, 3), Å."""
    points = np.asarray(points, dtype=float)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    targets = np.linspace(0.0, arc[-1], n_points)
    return np.column_stack([np.interp(targets, arc, points[:, i]) for i in range(3)])


def li_site_indices(structure: Structure, element: str = "Li") -> list[int]:
    """Indices of sites holding ``element`` (also partially or on mixed sites)."""
    return [i for i, site in enumerate(structure) if element in {sp.symbol for sp in site.species}]


def nearest_li_pair(
    structure: Structure, *, min_distance: float = MIN_HOP_ANGSTROM, element: str = "Li"
) -> tuple[int, int, tuple[int, int, int], float]:
    """The closest pair of Li sites at least ``min_distance`` apart (a neighbouring hop).

    Returns ``(site_a, site_b, jimage, distance_angstrom)``: site ``site_b`` shifted by the
    lattice vector ``jimage`` is the neighbour of ``site_a``. Ties go to the lowest indices.

    Raises:
        ValueError: when the structure has no Li, or no pair within 12 Å.
    """
    li = li_site_indices(structure, element)
    if not li:
        raise ValueError(f"the structure has no {element} site")
    sub = Structure.from_sites([structure[i] for i in li])
    for radius in (4.0, 8.0, 12.0):
        centers, neighbours, images, distances = sub.get_neighbor_list(radius)
        ok = distances >= min_distance
        if ok.any():
            order = np.lexsort(
                (
                    images[ok][:, 2],
                    images[ok][:, 1],
                    images[ok][:, 0],
                    neighbours[ok],
                    centers[ok],
                    np.round(distances[ok], 6),
                )
            )
            k = order[0]
            image = int_triple(images[ok][k])
            return li[centers[ok][k]], li[neighbours[ok][k]], image, float(distances[ok][k])
    raise ValueError(f"no two {element} sites lie between {min_distance} and 12 Å apart")


def path_is_continuous(
    points: np.ndarray, grid_shape: tuple[int, int, int], lattice_matrix: np.ndarray
) -> bool:
    """True when consecutive points are at most one (diagonal) grid step apart."""
    steps = np.asarray(lattice_matrix) / np.array(grid_shape)[:, None]
    longest = max(np.linalg.norm((np.array(d) - 1) @ steps) for d in np.ndindex(3, 3, 3))
    gaps = np.linalg.norm(np.diff(np.asarray(points), axis=0), axis=1)
    return bool(np.all(gaps <= longest + 1e-9)) and math.isfinite(float(gaps.sum()))
