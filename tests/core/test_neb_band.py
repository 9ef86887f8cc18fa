"""Band checks shared by the NEB engines, on energies derivable by hand."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.hops import rattle_endpoints
from sseflows.core.neb import (
    NebDoc,
    band_problem,
    falls_below,
    lowest_inner_image,
    nearer_endpoint,
    replacement,
)

LI2O_CASE = [0.0, -1.2, -1.89, -1.1, 0.0]
"""The issue-9 band shape: the middle image 1.89 eV below both (symmetric) endpoints."""


def test_a_band_below_its_endpoints_is_no_barrier():
    assert lowest_inner_image(LI2O_CASE) == 2
    assert falls_below(LI2O_CASE, 0.05)
    assert band_problem(LI2O_CASE, 0.05) == (
        "image 2 lies 1.890 eV below the lower endpoint (tolerance 0.05 eV), so the "
        "endpoints are not minima"
    )
    # measured from the *lower* endpoint: 0.3 - 0.2 = 0.1 eV below the final one
    assert band_problem([0.3, 0.5, 0.1, 0.25, 0.2], 0.05).startswith(
        "image 2 lies 0.100 eV below the lower endpoint"
    )


def test_a_band_whose_highest_image_is_an_endpoint_is_no_barrier():
    rising = [0.0, 0.1, 0.2, 0.3, 0.5]  # highest intermediate 0.2 eV under the last image
    assert not falls_below(rising, 0.05)
    assert band_problem(rising, 0.05).startswith(
        "the highest image is the last endpoint: every intermediate image lies at least "
        "0.200 eV below it"
    )
    assert band_problem(rising[::-1], 0.05).startswith("the highest image is the first endpoint")


def test_barriers_and_noise_within_the_tolerance_pass():
    assert band_problem([0.0, 0.2, 0.5, 0.3, 0.1], 0.05) is None
    assert band_problem([0.0, -0.01, 0.0, -0.01, 0.0], 0.05) is None  # flat within 0.05 eV
    assert band_problem([0.0, -0.04, 0.0], 0.05) is None
    assert band_problem([0.0, -0.06, 0.0], 0.05) is not None
    assert band_problem([0.0, 0.0], 0.05) == "the band has no intermediate image"


def test_the_endpoint_nearer_the_low_image_is_replaced():
    assert nearer_endpoint(1, 5, [0.0, -1, -1, -1, 0.0]) == "initial"
    assert nearer_endpoint(3, 5, [0.0, -1, -1, -1, 0.0]) == "final"
    assert nearer_endpoint(2, 5, [0.0, -1, -2, -1, 0.1]) == "final"  # tie: the higher one
    assert nearer_endpoint(2, 5, [0.0, -1, -2, -1, 0.0]) == "initial"  # second tie


def test_rattle_moves_every_atom_by_the_amplitude_and_keeps_the_hop():
    lattice = Lattice.cubic(5.0)
    initial = Structure(lattice, ["Li", "O", "O"], [[0.1, 0, 0], [0.5, 0.5, 0.5], [0, 0.5, 0]])
    final = initial.copy()
    final.translate_sites([0], [0.4, 0, 0], frac_coords=True, to_unit_cell=False)
    a, b = rattle_endpoints(initial, final, 0.02, seed=3)
    moved = np.linalg.norm(a.cart_coords - initial.cart_coords, axis=1)
    assert moved == pytest.approx([0.02] * 3, abs=1e-9)
    np.testing.assert_allclose(
        b.cart_coords - a.cart_coords, final.cart_coords - initial.cart_coords
    )
    again, _ = rattle_endpoints(initial, final, 0.02, seed=3)
    np.testing.assert_allclose(again.cart_coords, a.cart_coords)  # fixed seed, same result
    same, _ = rattle_endpoints(initial, final, 0.0)
    np.testing.assert_allclose(same.cart_coords, initial.cart_coords)


def _doc(energies, converged=True, replacements=()):
    return NebDoc(
        candidate_id="c1", status="completed", energies_ev=energies, converged=converged,
        barrier_ev=max(energies), barrier_back_ev=max(energies) - energies[-1],
        endpoint_replacements=list(replacements),
    )  # fmt: skip


def test_judged_withholds_invalid_and_unconverged_barriers_and_keeps_the_band():
    good = _doc([0.0, 0.2, 0.5, 0.3, 0.1])
    assert good.judged(0.05) == good and good.barrier_ev == 0.5
    invalid = _doc(LI2O_CASE).judged(0.05)
    assert invalid.status == "failed" and invalid.barrier_ev is None
    assert invalid.barrier_back_ev is None and invalid.energies_ev == LI2O_CASE
    assert invalid.reason == (
        "Candidate 'c1': image 2 lies 1.890 eV below the lower endpoint (tolerance 0.05 eV), "
        "so the endpoints are not minima; no barrier is reported (the band is kept for "
        "inspection)."
    )
    record = {"endpoint": "initial", "image": 2, "below_ev": 1.89, "energy_change_ev": -1.9}
    again = _doc(LI2O_CASE, replacements=[record]).judged(0.05)
    assert ", also after the initial endpoint was replaced by relaxed image 2;" in again.reason
    unconverged = _doc([0.0, 0.2, 0.5, 0.3, 0.1], converged=False).judged(0.05, "it stalled")
    assert unconverged.status == "failed" and unconverged.barrier_ev is None
    assert unconverged.reason == "Candidate 'c1': it stalled, so no barrier is reported."


def test_replacement_names_the_image_the_endpoint_and_the_depth():
    plan = replacement(LI2O_CASE)  # equal endpoints, middle image: the initial one
    assert (plan.image, plan.endpoint) == (2, "initial")
    assert plan.below_ev == pytest.approx(1.89)
    assert plan.record(-1.9) == {
        "endpoint": "initial", "image": 2, "below_ev": plan.below_ev, "energy_change_ev": -1.9,
    }  # fmt: skip
    late = replacement([0.0, 0.1, -0.2, -0.5, 0.3])  # image 3, nearer the final endpoint
    assert (late.image, late.endpoint) == (3, "final")
    assert late.below_ev == pytest.approx(0.5)
