"""Initial NEB paths: linear, BVSE-seeded (on a synthetic curved path), IDPP."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.hops import enumerate_li_hops, vacancy_endpoints
from sseflows.core.images import (
    ML_BAND_OFF,
    ML_BAND_UNCONVERGED,
    NO_ML_BAND,
    MlBand,
    MlBandMismatch,
    interpolate_images,
    map_band_onto_endpoints,
    resample_by_arc_length,
    seed_fallback_sentence,
    seed_images,
)


def _endpoints():
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.62), ["Li", "O"], [[0.25] * 3, [0] * 3]
    )
    hop = enumerate_li_hops(li2o)[0]
    ends = vacancy_endpoints(li2o, hop, np.diag([1, 1, 2]))
    final = ends.final.copy()
    final.translate_sites([0], [0.01, -0.02, 0.0])  # a framework atom relaxed a little
    return ends.initial, final, ends.moving_index


def _arc(radius: float, n: int) -> np.ndarray:
    """A half circle from (0,0,0) to (2r,0,0) bulging along +y, Cartesian Å."""
    theta = np.linspace(np.pi, 0.0, n)
    return np.stack([radius + radius * np.cos(theta), radius * np.sin(theta), 0 * theta], axis=1)


def test_resample_gives_equal_spacing_on_uneven_input() -> None:
    theta = np.pi * np.linspace(0, 1, 40) ** 2  # points crowd near the start
    points = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(theta)], axis=1)
    out = resample_by_arc_length(points, 7)
    chords = np.linalg.norm(np.diff(out, axis=0), axis=1)
    assert chords == pytest.approx(np.full(6, chords.mean()), rel=2e-3)
    assert out[0] == pytest.approx(points[0])
    assert out[-1] == pytest.approx(points[-1])


def test_resample_straight_line_exact() -> None:
    out = resample_by_arc_length(np.array([[0, 0, 0], [1, 0, 0], [4, 0, 0.0]]), 5)
    assert out[:, 0] == pytest.approx([0, 1, 2, 3, 4])


def test_linear_midpoint_is_exact() -> None:
    initial, final, moving = _endpoints()
    images = interpolate_images(initial, final, 3, moving, method="linear")
    assert len(images) == 5
    mid = images[2]
    expected = (initial.cart_coords + final.cart_coords) / 2
    assert mid.cart_coords == pytest.approx(expected, abs=1e-9)
    assert images[0].cart_coords == pytest.approx(initial.cart_coords)
    assert images[-1].cart_coords == pytest.approx(final.cart_coords)


def test_linear_framework_uses_minimum_image() -> None:
    lattice = Lattice.cubic(6.0)
    initial = Structure(lattice, ["Li", "O"], [[0.1, 0.1, 0.1], [0.99, 0.5, 0.5]])
    final = Structure(lattice, ["Li", "O"], [[0.4, 0.1, 0.1], [0.01, 0.5, 0.5]])
    mid = interpolate_images(initial, final, 1, 0)[1]
    assert mid.frac_coords[1] % 1.0 == pytest.approx([0.0, 0.5, 0.5], abs=1e-9)
    assert mid.frac_coords[0] == pytest.approx([0.25, 0.1, 0.1])


def test_bvse_follows_a_curved_path_and_keeps_endpoints() -> None:
    initial, final, moving = _endpoints()
    start = initial.cart_coords[moving]
    hop = final.cart_coords[moving] - start
    length = np.linalg.norm(hop)
    # A half circle over the hop, in a plane containing it, translated far away (the path
    # comes in the unit-cell frame; interpolate_images moves it onto the moving Li).
    side = np.cross(hop, [0.3, 0.7, 0.1])
    side /= np.linalg.norm(side)
    u = hop / length
    arc = _arc(length / 2, 61)
    path = 17.0 + arc[:, :1] * u + arc[:, 1:2] * side
    images = interpolate_images(initial, final, 5, moving, method="bvse", li_path_cart=path)
    assert len(images) == 7
    assert images[0].cart_coords == pytest.approx(initial.cart_coords)
    assert images[-1].cart_coords == pytest.approx(final.cart_coords)
    li = np.array([image.cart_coords[moving] for image in images])
    # Every Li position lies on the circle of radius length/2 around the hop's midpoint.
    radii = np.linalg.norm(li - (start + hop / 2), axis=1)
    assert radii == pytest.approx(np.full(7, length / 2), rel=1e-3)
    # The middle image sits at the top of the arc, not on the straight line.
    assert np.dot(li[3] - start, side) == pytest.approx(length / 2, rel=1e-3)
    # Equal arc-length spacing: equal chords.
    chords = np.linalg.norm(np.diff(li, axis=0), axis=1)
    assert chords == pytest.approx(np.full(6, chords.mean()), rel=1e-3)
    # Framework atoms are linear.
    linear = interpolate_images(initial, final, 5, moving, method="linear")
    others = [i for i in range(len(initial)) if i != moving]
    assert images[3].cart_coords[others] == pytest.approx(linear[3].cart_coords[others])


def test_bvse_path_that_misses_the_final_site_is_rejected() -> None:
    initial, final, moving = _endpoints()
    wrong = np.array([[0.0, 0, 0], [5.0, 0, 0]])
    with pytest.raises(ValueError, match="another hop"):
        interpolate_images(initial, final, 3, moving, method="bvse", li_path_cart=wrong)


def test_bvse_without_path_and_unknown_method_rejected() -> None:
    initial, final, moving = _endpoints()
    with pytest.raises(ValueError, match="li_path_cart"):
        interpolate_images(initial, final, 3, moving, method="bvse")
    with pytest.raises(ValueError, match="Unknown image method"):
        interpolate_images(initial, final, 3, moving, method="spline")


def test_idpp_keeps_endpoints_and_separates_atoms() -> None:
    initial, final, moving = _endpoints()
    images = interpolate_images(initial, final, 3, moving, method="idpp")
    assert len(images) == 5
    assert images[-1].cart_coords == pytest.approx(final.cart_coords)
    for image in images[1:-1]:
        distances = image.distance_matrix[np.triu_indices(len(image), 1)]
        assert distances.min() > 1.0


def _toy_ml_band(converged: bool = True) -> dict:
    """2-atom toy ML band (Li moving, O framework) in a 10 Å cube, Cartesian Å: the Li bows
    out along +y, the O breathes 0.2 Å along +y at the midpoint; equal steps (s = 0, ½, 1)."""
    positions = [
        [[1.0, 0.0, 0.0], [5.0, 5.0, 5.0]],
        [[2.0, 1.0, 0.0], [5.0, 5.2, 5.0]],
        [[3.0, 0.0, 0.0], [5.0, 5.0, 5.0]],
    ]
    return MlBand(
        positions_cart=positions,
        lattice=(np.eye(3) * 10.0).tolist(),
        species=["Li", "O"],
        moving_index=0,
        converged=converged,
        reason=None if converged else "the plain NEB did not reach 0.05 eV/Å within 3 steps.",
    ).as_dict()


def _toy_dft_endpoints(a: float = 10.0) -> tuple[Structure, Structure]:
    """DFT-relaxed endpoints of the toy: each atom a little off its ML position."""
    lattice = Lattice.cubic(a)
    start = Structure(lattice, ["Li", "O"], [[1.1, 0, 0], [5, 5, 5.1]], coords_are_cartesian=True)
    end = Structure(lattice, ["Li", "O"], [[3, 0, 0.2], [5, 5, 4.9]], coords_are_cartesian=True)
    return start, end


def test_ml_band_mapping_by_hand() -> None:
    """image_i = DFT_start + (ML_i - ML_start) + s_i [(DFT_end - ML_end) - (DFT_start - ML_start)].
    Offsets: start Li (0.1,0,0), O (0,0,0.1); end Li (0,0,0.2), O (0,0,-0.1); s_1 = ½:
    Li (1.1,0,0) + (1,1,0) + ½[(0,0,0.2) - (0.1,0,0)] = (2.05, 1, 0.1);
    O (5,5,5.1) + (0,0.2,0) + ½[(0,0,-0.1) - (0,0,0.1)] = (5, 5.2, 5.0)."""
    start, end = _toy_dft_endpoints()
    images = map_band_onto_endpoints(_toy_ml_band(), start, end, 1, 0)
    assert len(images) == 3
    assert images[1].cart_coords == pytest.approx(np.array([[2.05, 1, 0.1], [5, 5.2, 5.0]]))
    assert images[0].cart_coords == pytest.approx(start.cart_coords)
    assert images[2].cart_coords == pytest.approx(end.cart_coords)


def test_ml_band_mapping_resamples_and_uses_fractions() -> None:
    """Three images from a 3-image band: resampled by arc length (s = ¼, ½, ¾); a DFT cell
    2 % larger than the ML one maps fractions (the midpoint of the hand case, scaled)."""
    start, end = _toy_dft_endpoints(10.2)
    start = Structure(start.lattice, start.species, [[0.11, 0, 0], [0.5, 0.5, 0.51]])
    end = Structure(end.lattice, end.species, [[0.3, 0, 0.02], [0.5, 0.5, 0.49]])
    images = map_band_onto_endpoints(_toy_ml_band(), start, end, 3, 0)
    assert len(images) == 5
    assert images[2].frac_coords == pytest.approx(np.array([[0.205, 0.1, 0.01], [0.5, 0.52, 0.5]]))
    # s = ¼: ML image halfway to the ML midpoint, a quarter of the endpoint correction
    li = np.array([0.11, 0, 0]) + np.array([0.05, 0.05, 0]) + 0.25 * np.array([-0.01, 0, 0.02])
    assert images[1].frac_coords[0] == pytest.approx(li)


def test_ml_seed_falls_back_to_linear_and_says_why() -> None:
    start, end = _toy_dft_endpoints()
    images, used = seed_images(start, end, 1, 0, "auto", ml_band=_toy_ml_band())
    assert used == "ml" and images[1].cart_coords[0] == pytest.approx([2.05, 1, 0.1])
    assert seed_fallback_sentence(used) is None
    linear = interpolate_images(start, end, 1, 0)[1].cart_coords
    images, used = seed_images(start, end, 1, 0, "ml", ml_band=_toy_ml_band(converged=False))
    assert used == ML_BAND_UNCONVERGED and images[1].cart_coords == pytest.approx(linear)
    sentence = seed_fallback_sentence(used, _toy_ml_band(converged=False))
    assert sentence == (
        "The ML band did not converge (the plain NEB did not reach 0.05 eV/Å within 3 steps), "
        "so the band started from linear images."
    )
    far = Structure(start.lattice, start.species, [[4, 4, 4], [5, 5, 5]], coords_are_cartesian=True)
    images, used = seed_images(far, end, 1, 0, "ml", ml_band=_toy_ml_band())
    assert used == ML_BAND_OFF
    with pytest.raises(MlBandMismatch, match=r"lies 6\.40 Å"):
        map_band_onto_endpoints(_toy_ml_band(), far, end, 1, 0)
    assert seed_images(start, end, 1, 0, "ml")[1] == NO_ML_BAND
    assert seed_images(start, end, 1, 0, "auto")[1] == "linear"
