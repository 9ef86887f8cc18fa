"""Relaxed vacancy endpoints shared between the hops of one structure."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Structure

from sseflows.core.neb import vacancy_hop_setup
from sseflows.core.shared_endpoints import SharedEndpoints, carried_over, site_order
from sseflows.data.prototypes import pymatgen_structure


def _fake_relax(structure: Structure) -> Structure:
    """A deterministic stand-in for a relaxation that depends only on where the atoms are
    (each moves 0.05 Å·sin(2π·fractional coordinate) along each axis): the same sites in
    another order relax to the same positions."""
    shift = 0.05 * np.sin(2 * np.pi * structure.frac_coords)
    return Structure(
        structure.lattice,
        [site.species for site in structure],
        structure.cart_coords + shift,
        coords_are_cartesian=True,
    )


def _site_set(structure: Structure) -> frozenset:
    wrapped = np.round(structure.frac_coords % 1.0, 6) % 1.0
    return frozenset(
        (site.specie.symbol, *map(float, f)) for site, f in zip(structure, wrapped, strict=True)
    )


def test_hops_of_li2o_share_the_vacancy_set_of_their_common_site():
    """Li2O (primitive) has two hops from the same Li: their final endpoints (the supercell
    without that Li) are one set of sites in two atom orders, so three relaxations serve
    the four endpoints; each reused endpoint is exactly its own relaxation, moving Li
    unwrapped."""
    structure = pymatgen_structure("Li2O")
    setups = [vacancy_hop_setup(structure, "li2o", i, 3.5, 0.1, 5.5) for i in (0, 1)]
    ends = [s for setup in setups for s in (setup.initial, setup.final)]
    calls = []
    shared = SharedEndpoints()
    relaxed = []
    for end in ends:
        relaxed.append(shared.relaxed(end, lambda end=end: calls.append(1) or _fake_relax(end)))
    distinct = len({_site_set(end) for end in ends})
    assert distinct == 3 and len(calls) == 3
    assert shared.record() == {"endpoint_relaxations": 3, "endpoints_reused": 1}
    for end, got in zip(ends, relaxed, strict=True):
        np.testing.assert_allclose(got.cart_coords, _fake_relax(end).cart_coords, atol=1e-9)
    moving = setups[1].moving_index
    hop = relaxed[3].cart_coords[moving] - relaxed[2].cart_coords[moving]
    assert np.linalg.norm(hop) == pytest.approx(setups[1].hop.length_angstrom, abs=0.15)


def test_site_order_tells_other_sets_apart():
    structure = pymatgen_structure("Li2O")
    setup = vacancy_hop_setup(structure, "li2o", 0, 3.5, 0.1, 5.5)
    assert site_order(setup.initial, setup.final) is None  # other vacancy
    order = site_order(setup.initial, setup.initial.copy())
    assert order is not None and list(order) == list(range(len(setup.initial)))
    strained = setup.initial.copy()
    strained.apply_strain(0.01)
    assert site_order(setup.initial, strained) is None
    back = carried_over(setup.initial, order, setup.initial)
    np.testing.assert_allclose(back.cart_coords, setup.initial.cart_coords, atol=1e-12)
