"""Initial NEB paths between two endpoints: linear, IDPP, or seeded by the BVSE path.

Conventions: framework atoms move along the minimum-image displacement between the
endpoints; the moving Li moves along ``final - initial`` exactly as stored, because the
endpoints carry it unwrapped (:func:`sseflows.core.hops.vacancy_endpoints` builds them so
and ASE/pw.x relaxations keep positions unwrapped). A short hop in a small test supercell
can otherwise be ambiguous (the hop vector and its periodic image equally long).

The ``"ml"`` method starts a (DFT) band from a band already converged with an ML potential
on the same vacancy supercell (:class:`MlBand`), mapped onto this engine's endpoints by
:func:`map_band_onto_endpoints`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from pymatgen.core import Lattice, Structure

from sseflows.core.errors import ConfigurationError

METHODS = ("linear", "idpp", "bvse", "ml")
NO_BVSE_PATH = "linear (no BVSE path)"
BVSE_PATH_OFF = "linear (BVSE path did not join the endpoints)"
NO_ML_BAND = "linear (no ML band)"
ML_BAND_UNCONVERGED = "linear (ML band did not converge)"
ML_BAND_OFF = "linear (ML band does not fit the endpoints)"
ML_BAND_MAX_OFFSET_ANGSTROM = 1.0
"""Largest distance (Å) between an ML endpoint atom and the same atom of this engine's
endpoint for the ML band to be mapped (relaxation differences are ~0.1 Å)."""
ML_SEED_FORCE_FIELDS = ("CHGNet",)
"""Potentials an ML seed may use (the one installed; its weights ship with chgnet)."""
ML_SEED_IMAGE_METHODS = ("linear", "idpp", "bvse")
"""Image methods of the ML band itself (:attr:`MlSeedSettings.image_method`)."""


@dataclass(frozen=True)
class MlSeedSettings:
    """Settings of the ML NEB runs a DFT NEB Maker starts from: the ML band that seeds its
    images (:func:`sseflows.flows.tiers.ml_band_seed`) and the ML NEB over every hop that
    chooses its limiting hop (:func:`sseflows.flows.tiers.ml_hops_maker`). A field of the
    DFT Maker (``QeNebFlowMaker.ml_seed``), so the result key covers them. The hops,
    supercell and number of images are the DFT Maker's own; the defaults are those the
    seed always used (``ForceFieldNebMaker``'s, with linear images).

    Attributes:
        force_field_name: The potential (one of :data:`ML_SEED_FORCE_FIELDS`).
        image_method: How the ML band starts: ``"linear"`` (fewer CHGNet iterations than
            BVSE-seeded ones, ``benchmarks/neb_paths.py``), ``"idpp"`` or ``"bvse"`` (the
            moving Li on the hop's BVSE path, linear when there is none).
        fmax_ev_per_angstrom: Force threshold of both ML NEB stages, eV/Å.
        max_steps: Optimiser steps allowed for both ML NEB stages together.
        climbing_image: Restart the ML band with the climbing image after the plain NEB.

    A plain frozen dataclass (no ``as_dict``), as :class:`~sseflows.core.approximant.
    ApproximantSettings`, so that monty writes it with its class inside a Maker.

    Raises:
        ConfigurationError: an unknown potential or image method, a force threshold that
            is not positive or fewer than one step.
    """

    force_field_name: str = "CHGNet"
    image_method: str = "linear"
    fmax_ev_per_angstrom: float = 0.05
    max_steps: int = 300
    climbing_image: bool = True

    def __post_init__(self) -> None:
        if self.force_field_name not in ML_SEED_FORCE_FIELDS:
            raise ConfigurationError(
                f"The ML seed's force_field_name must be one of "
                f"{', '.join(ML_SEED_FORCE_FIELDS)}, got {self.force_field_name!r}."
            )
        if self.image_method not in ML_SEED_IMAGE_METHODS:
            raise ConfigurationError(
                f"The ML seed's image_method must be one of "
                f"{', '.join(ML_SEED_IMAGE_METHODS)}, got {self.image_method!r}."
            )
        if not float(self.fmax_ev_per_angstrom) > 0:
            raise ConfigurationError(
                "The ML seed's fmax_ev_per_angstrom must be positive (eV/Å), got "
                f"{self.fmax_ev_per_angstrom!r}."
            )
        if int(self.max_steps) < 1 or int(self.max_steps) != self.max_steps:
            raise ConfigurationError(
                f"The ML seed's max_steps must be a whole number of at least 1, got "
                f"{self.max_steps!r}."
            )

    def maker_fields(self) -> dict[str, Any]:
        """These settings as fields of a ``ForceFieldNebMaker`` (the same names)."""
        return asdict(self)


def ml_seed_record(ml_maker: Any, image_method_used: str | None = None) -> dict[str, Any]:
    """What a document records about the ML NEB Maker that computed a seed: its
    :class:`MlSeedSettings` fields as the Maker holds them (fmax eV/Å), and the image
    method its band actually started from (``image_method_used``, when known)."""
    record = {f.name: getattr(ml_maker, f.name, None) for f in fields(MlSeedSettings)}
    if image_method_used is not None:
        record["image_method_used"] = image_method_used
    return record


@dataclass
class MlBand:
    """A NEB band converged with an ML potential: the ``ml_band`` seed of a DFT NEB Maker.

    Attributes:
        positions_cart: Image positions, endpoints included, Cartesian Å, shape
            (images, atoms, 3), unwrapped along the band (as ASE's NEB leaves them).
        lattice: The ML band's cell, Å (3 × 3 rows).
        species: Element symbol of every atom, in order.
        moving_index: Index of the moving Li.
        converged: The ML band converged and is a barrier (the only usable band).
        reason: Why it is not usable (one sentence), or None.
        engine: The potential's name (``"chgnet"``).
        iterations: ML NEB iterations (plain + climbing).
        wall_s: Wall time of the ML step (endpoint relaxations and band), s.
        barrier_ev: The ML barrier, eV (None when withheld).
        settings: The ML NEB's settings (:func:`ml_seed_record`: potential, image method
            asked for and used, fmax eV/Å, max steps, climbing image); None when unknown.
    """

    positions_cart: list
    lattice: list
    species: list[str]
    moving_index: int
    converged: bool
    reason: str | None = None
    engine: str = "chgnet"
    iterations: int | None = None
    wall_s: float | None = None
    barrier_ev: float | None = None
    settings: dict[str, Any] | None = None

    @classmethod
    def coerce(cls, band: MlBand | dict) -> MlBand:
        """``band`` as an :class:`MlBand` (job outputs travel as plain dicts)."""
        if isinstance(band, MlBand):
            return band
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(band).items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (what a job hands on)."""
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """What a NEB document records about its seed band (no positions)."""
        keep = ("engine", "converged", "reason", "iterations", "wall_s", "barrier_ev", "settings")
        return {k: getattr(self, k) for k in keep}


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


class MlBandMismatch(ValueError):
    """An ML band that cannot be mapped onto these endpoints (other atoms or another hop)."""


def map_band_onto_endpoints(
    band: MlBand | dict, initial: Structure, final: Structure, n_images: int, moving_index: int
) -> list[Structure]:
    """The ML band carried onto this engine's (DFT-relaxed) endpoints, ``n_images + 2``
    structures in the lattice of ``initial``.

    Mapping rule, per atom and in fractional coordinates (identical to the Cartesian rule
    when both engines share the cell; with fractions a vc-relaxed DFT cell is handled too):
    the ML band is first resampled to ``n_images + 2`` images equally spaced by arc length
    in configuration space (:func:`resample_by_arc_length` on all coordinates at once), so
    image ``i`` sits at fractional position ``s_i = i / (n_images + 1)``; then ::

        image_i = DFT_start + (ML_i - ML_start)
                  + s_i * [(DFT_end - ML_end) - (DFT_start - ML_start)]

    The ML band keeps its shape (the framework's relaxation along the hop included); the
    endpoint offsets between the engines are interpolated linearly, so ``image_0`` is the DFT
    start and the last image the DFT end. ``ML_i - ML_start`` is taken as the band stores it
    (unwrapped); the two endpoint offsets are small and taken by minimum image.

    Raises:
        MlBandMismatch: other atoms or species, another moving Li, or an endpoint atom more
            than :data:`ML_BAND_MAX_OFFSET_ANGSTROM` from its DFT position.
    """
    band = MlBand.coerce(band)
    cart = np.asarray(band.positions_cart, dtype=float)
    if cart.ndim != 3 or cart.shape[0] < 2 or cart.shape[1:] != (len(initial), 3):
        raise MlBandMismatch(
            f"the ML band has shape {cart.shape}, the endpoints {len(initial)} atoms"
        )
    if list(band.species) != [site.specie.symbol for site in initial]:
        raise MlBandMismatch("the ML band lists other species or another atom order")
    if band.moving_index != moving_index:
        raise MlBandMismatch(
            f"the ML band moves atom {band.moving_index}, the endpoints atom {moving_index}"
        )
    k = n_images + 2
    resampled = resample_by_arc_length(cart.reshape(len(cart), -1), k).reshape(k, -1, 3)
    frac = resampled @ np.linalg.inv(np.asarray(band.lattice, dtype=float))
    dft_start = initial.frac_coords
    dft_end = dft_start + _displacements(initial, final, moving_index)
    start_offset = dft_start - frac[0]
    start_offset -= np.rint(start_offset)
    end_offset = dft_end - frac[-1]
    end_offset -= np.rint(end_offset)
    for offset in (start_offset, end_offset):
        worst = float(np.linalg.norm(initial.lattice.get_cartesian_coords(offset), axis=1).max())
        if worst > ML_BAND_MAX_OFFSET_ANGSTROM:
            raise MlBandMismatch(
                f"an ML endpoint atom lies {worst:.2f} Å from its DFT position "
                f"(limit {ML_BAND_MAX_OFFSET_ANGSTROM} Å)"
            )
    s = np.linspace(0.0, 1.0, k)
    mapped = dft_start + (frac - frac[0]) + s[:, None, None] * (end_offset - start_offset)
    species = [site.species for site in initial]
    props = initial.site_properties or None
    return [Structure(initial.lattice, species, f, site_properties=props) for f in mapped]


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
    ml_band: MlBand | dict | None = None,
) -> list[Structure]:
    """``n_images + 2`` structures from ``initial`` to ``final`` (endpoints included).

    Args:
        initial: First endpoint.
        final: Last endpoint, same atoms in the same order.
        n_images: Intermediate images.
        moving_index: Index of the migrating Li.
        method: ``"linear"`` (all atoms linearly), ``"idpp"`` (pymatgen's IDPPSolver,
            Smidstrup et al. 2014, started from the linear path), ``"bvse"`` (framework
            linear, the moving Li along ``li_path_cart``, resampled by arc length) or
            ``"ml"`` (``ml_band`` mapped onto the endpoints, :func:`map_band_onto_endpoints`).
        li_path_cart: For ``"bvse"``: the Li path, Cartesian Å, unwrapped, from the Li's
            initial site to its final one in any periodic image; it is translated so its
            first point is the moving Li's initial position.
        ml_band: For ``"ml"``: the band converged with an ML potential (:class:`MlBand`).

    Raises:
        ValueError: Unknown method, mismatched endpoints, a path that does not join
            the moving Li's two positions (within 1 Å), or an ML band that does not fit
            (:class:`MlBandMismatch`).
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
    elif method == "ml":
        if ml_band is None:
            raise ValueError('The "ml" image method needs ml_band (a converged ML band).')
        images = map_band_onto_endpoints(ml_band, initial, final, n_images, moving_index)
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
    ml_band: MlBand | dict | None = None,
) -> tuple[list[Structure], str]:
    """The starting band by ``method`` and what was actually used: the one fallback rule of
    every NEB engine.

    ``"auto"`` is ``"ml"`` when an ML band is given, else ``"bvse"`` when a BVSE path is
    given, else ``"linear"``. ``"bvse"`` without a path falls back to linear images
    (recorded :data:`NO_BVSE_PATH`), and so does a path that does not join the endpoints
    (recorded :data:`BVSE_PATH_OFF`). ``"ml"`` falls back to linear images without a band
    (:data:`NO_ML_BAND`), with a band that did not converge (:data:`ML_BAND_UNCONVERGED`)
    and with one that does not fit the endpoints (:data:`ML_BAND_OFF`);
    :func:`seed_fallback_sentence` says why in one sentence.
    """
    path = None if li_path_cart is None else np.asarray(li_path_cart, dtype=float)
    band = None if ml_band is None else MlBand.coerce(ml_band)
    if method == "auto":
        method = "ml" if band is not None else "bvse" if path is not None else "linear"
    args = (initial, final, n_images, moving_index)
    if method == "ml":
        if band is None or not band.converged:
            used = NO_ML_BAND if band is None else ML_BAND_UNCONVERGED
            return interpolate_images(*args), used
        try:
            return interpolate_images(*args, method="ml", ml_band=band), "ml"
        except MlBandMismatch:
            return interpolate_images(*args), ML_BAND_OFF
    if method == "bvse" and path is None:
        return interpolate_images(initial, final, n_images, moving_index), NO_BVSE_PATH
    try:
        return interpolate_images(*args, method=method, li_path_cart=path), method
    except ValueError:
        if method != "bvse":
            raise
        return interpolate_images(*args), BVSE_PATH_OFF


def seed_fallback_sentence(used: str, ml_band: MlBand | dict | None = None) -> str | None:
    """One sentence saying why the band started from linear images instead of the seed
    asked for, or None when it started as asked (``used`` from :func:`seed_images`)."""
    linear = "so the band started from linear images."
    if used == ML_BAND_UNCONVERGED:
        why = MlBand.coerce(ml_band).reason if ml_band is not None else None
        why = re.sub(r"^Candidate '[^']*': ", "", why or "").rstrip(".")
        detail = f" ({why})" if why else ""
        return f"The ML band did not converge{detail}, {linear}"
    sentences = {
        NO_ML_BAND: f"No ML band was given, {linear}",
        ML_BAND_OFF: f"The ML band does not fit the endpoints (other atoms or hop), {linear}",
        NO_BVSE_PATH: f"No BVSE path was given, {linear}",
        BVSE_PATH_OFF: f"The BVSE path does not join the endpoints, {linear}",
    }
    return sentences.get(used)
