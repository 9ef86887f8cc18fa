"""Initial NEB paths between two endpoints: linear, IDPP, or seeded by the BVSE path.

Conventions: framework atoms move along the minimum-image displacement between the
endpoints; the moving Li moves along ``final - initial`` exactly as stored, because the
endpoints carry it unwrapped (:func:`sseflows.core.hops.vacancy_endpoints` builds them so
and ASE/pw.x relaxations keep positions unwrapped). A short hop in a small test supercell
can otherwise be ambiguous (the hop vector and its periodic image equally long).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Structure

METHODS = ("linear", "idpp", "bvse")
NO_BVSE_PATH = "linear (no BVSE path)"
BVSE_PATH_OFF = "linear (BVSE path did not join the endpoints)"


def resample_by_arc_length(points: np.ndarray, n: int) -> np.ndarray:
    """``n`` points equally spaced by arc length along the polyline ``points`` (k, 3).

    The first and last points are kept; straight segments are interpolated linearly.
    """
    points = np.asarray(points, dtype=float)
    if n < 2:
        raise ValueError(f"Need at least 2 points to resample a path, got n={n}.")
    if len(points) < 2:
        raise ValueError("A path needs at least 2 points to be resampled.")
    segment = np.linalg.norm(np.diff(points, axis=0), axis=1)
    cumulative = np.concatenate([[0.0], np.cumsum(segment)])
    if cumulative[-1] <= 0:
        return np.repeat(points[:1], n, axis=0)
    targets = np.linspace(0.0, cumulative[-1], n)
    return np.stack(
        [np.interp(targets, cumulative, points[:, axis]) for axis in range(points.shape[1])],
        axis=1,
    )


def _check_endpoints(initial: Structure, final: Structure, moving_index: int) -> None:
    if len(initial) != len(final):
        raise ValueError(
            f"Endpoints differ in size ({len(initial)} and {len(final)} sites); "
            "NEB needs the same atoms in the same order."
        )
    if [s.species for s in initial] != [s.species for s in final]:
        raise ValueError("Endpoints list different species; NEB needs the same atom order.")
    if not 0 <= moving_index < len(initial):
        raise ValueError(f"moving_index {moving_index} is outside 0..{len(initial) - 1}.")


def _displacements(initial: Structure, final: Structure, moving_index: int) -> np.ndarray:
    """Fractional displacements: minimum image for the framework, as stored for the Li."""
    delta = final.frac_coords - initial.frac_coords
    moving = delta[moving_index].copy()
    delta -= np.rint(delta)
    delta[moving_index] = moving
    return delta


def _linear_images(
    initial: Structure, final: Structure, n_images: int, moving_index: int
) -> list[Structure]:
    delta = _displacements(initial, final, moving_index)
    start_matrix, end_matrix = initial.lattice.matrix, final.lattice.matrix
    images = []
    for k in range(n_images + 2):
        x = k / (n_images + 1)
        lattice = Lattice(start_matrix + x * (end_matrix - start_matrix))
        images.append(
            Structure(
                lattice,
                [site.species for site in initial],
                initial.frac_coords + x * delta,
                site_properties=initial.site_properties or None,
            )
        )
    return images


def _bvse_images(
    initial: Structure,
    final: Structure,
    n_images: int,
    moving_index: int,
    li_path_cart: np.ndarray,
) -> list[Structure]:
    path = np.asarray(li_path_cart, dtype=float)
    if path.ndim != 2 or path.shape[1] != 3 or len(path) < 2:
        raise ValueError("li_path_cart must be an (N, 3) array of Cartesian points, N ≥ 2.")
    images = _linear_images(initial, final, n_images, moving_index)
    start = initial.lattice.get_cartesian_coords(initial.frac_coords[moving_index])
    end = start + initial.lattice.get_cartesian_coords(
        _displacements(initial, final, moving_index)[moving_index]
    )
    shifted = path - path[0] + start
    mismatch = end - shifted[-1]
    if np.linalg.norm(mismatch) > 1.0:
        raise ValueError(
            f"The Li path ends {np.linalg.norm(mismatch):.2f} Å away from the moving Li's "
            "final position; it belongs to another hop or image."
        )
    points = resample_by_arc_length(shifted, n_images + 2)
    # Spread any small endpoint mismatch (relaxed endpoints) linearly along the path.
    points += np.linspace(0.0, 1.0, n_images + 2)[:, None] * mismatch[None, :]
    for image, point in zip(images[1:-1], points[1:-1], strict=True):
        image.replace(
            moving_index,
            image[moving_index].species,
            coords=point,
            coords_are_cartesian=True,
            properties=image[moving_index].properties,
        )
    return images


def _idpp_images(
    initial: Structure, final: Structure, n_images: int, moving_index: int
) -> list[Structure]:
    from pymatgen.analysis.diffusion.neb.pathfinder import IDPPSolver

    linear = _linear_images(initial, final, n_images, moving_index)
    return IDPPSolver(linear).run(maxiter=2000, tol=1e-5, gtol=1e-3)


def interpolate_images(
    initial: Structure,
    final: Structure,
    n_images: int,
    moving_index: int,
    method: str = "linear",
    li_path_cart: np.ndarray | None = None,
) -> list[Structure]:
    """``n_images + 2`` structures from ``initial`` to ``final`` (endpoints included).

    Args:
        initial: First endpoint.
        final: Last endpoint, same atoms in the same order.
        n_images: Intermediate images.
        moving_index: Index of the migrating Li.
        method: ``"linear"`` (all atoms linearly), ``"idpp"`` (pymatgen's IDPPSolver,
            Smidstrup et al. 2014, started from the linear path) or ``"bvse"`` (framework
            linear, the moving Li along ``li_path_cart``, resampled by arc length).
        li_path_cart: For ``"bvse"``: the Li path, Cartesian Å, unwrapped, from the Li's
            initial site to its final one in any periodic image; it is translated so its
            first point is the moving Li's initial position.

    Raises:
        ValueError: Unknown method, mismatched endpoints, or a path that does not join
            the moving Li's two positions (within 1 Å).
    """
    if method not in METHODS:
        raise ValueError(f"Unknown image method {method!r}; choose one of {', '.join(METHODS)}.")
    if n_images < 1:
        raise ValueError(f"n_images must be at least 1, got {n_images}.")
    _check_endpoints(initial, final, moving_index)
    if method == "linear":
        images = _linear_images(initial, final, n_images, moving_index)
    elif method == "idpp":
        images = _idpp_images(initial, final, n_images, moving_index)
    else:
        if li_path_cart is None:
            raise ValueError('The "bvse" image method needs li_path_cart (the BVSE Li path).')
        images = _bvse_images(initial, final, n_images, moving_index, li_path_cart)
    return [initial.copy(), *images[1:-1], final.copy()]


def seed_images(
    initial: Structure,
    final: Structure,
    n_images: int,
    moving_index: int,
    method: str = "auto",
    li_path_cart: np.ndarray | None = None,
) -> tuple[list[Structure], str]:
    """The starting band by ``method`` and what was actually used: the one fallback rule of
    every NEB engine.

    ``"auto"`` is ``"bvse"`` when a BVSE path is given, else ``"linear"``. ``"bvse"``
    without a path falls back to linear images (recorded :data:`NO_BVSE_PATH`), and so does
    a path that does not join the endpoints (recorded :data:`BVSE_PATH_OFF`).
    """
    path = None if li_path_cart is None else np.asarray(li_path_cart, dtype=float)
    if method == "auto":
        method = "bvse" if path is not None else "linear"
    if method == "bvse" and path is None:
        return interpolate_images(initial, final, n_images, moving_index), NO_BVSE_PATH
    args = (initial, final, n_images, moving_index)
    try:
        return interpolate_images(*args, method=method, li_path_cart=path), method
    except ValueError:
        if method != "bvse":
            raise
        return interpolate_images(*args), BVSE_PATH_OFF
