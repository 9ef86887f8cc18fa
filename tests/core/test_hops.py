"""Li hop enumeration and single-vacancy endpoints on hand-made cells."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.errors import CandidateError
from sseflows.core.hops import LiHop, enumerate_li_hops, vacancy_endpoints


def _licl(a: float = 5.13) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Li", "Cl"], [[0] * 3, [0.5] * 3])


def _li2o(a: float = 4.62) -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Li", "O"], [[0.25] * 3, [0] * 3])


def test_bcc_li_sublattice() -> None:
    """bcc Li (a = 3.5 Å), cut-off 4.5 Å: 8 body-diagonal neighbours at a√3/2 and 6 axial at
    a. Per cell (2 Li): 2·8/2 = 8 and 2·6/2 = 6 undirected hops, two distinct kinds."""
    bcc = Structure(Lattice.cubic(3.5), ["Li", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    hops = enumerate_li_hops(bcc, max_length=4.5)
    assert [h.length_angstrom for h in hops] == pytest.approx([3.5 * 3**0.5 / 2, 3.5])
    assert [h.multiplicity for h in hops] == [8, 6]
    assert {hops[0].site_a, hops[0].site_b} == {0, 1}
    assert hops[1].site_a == hops[1].site_b  # a Li hopping to its own periodic image


def test_rock_salt_licl() -> None:
    """fcc Li sublattice: 12 neighbours at a/√2, next at a = 5.13 Å (> 4.5)."""
    conventional = enumerate_li_hops(_licl())
    assert len(conventional) == 1
    assert conventional[0].length_angstrom == pytest.approx(5.13 / 2**0.5)
    assert conventional[0].multiplicity == 4 * 12 // 2
    primitive = enumerate_li_hops(_licl().get_primitive_structure())
    assert [h.multiplicity for h in primitive] == [6]


def test_li2o_antifluorite() -> None:
    """Li on a simple cubic sublattice of side a/2: hops a/2 (6 per Li), a/√2 (12 per Li),
    and a√3/2 (8 per Li), which splits in two kinds: across an O-filled or an empty cube."""
    a = 4.62
    hops = enumerate_li_hops(_li2o(a))
    assert hops[0].length_angstrom == pytest.approx(a / 2)
    assert [h.multiplicity for h in hops] == [8 * 6 // 2, 8 * 12 // 2, 16, 16]
    assert hops[1].length_angstrom == pytest.approx(a / 2**0.5)
    assert hops[2].length_angstrom == pytest.approx(a * 3**0.5 / 2)


def test_oxidation_states_are_fine() -> None:
    licl = _licl()
    licl.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    assert enumerate_li_hops(licl)[0].multiplicity == 24


def test_to_doc() -> None:
    doc = LiHop(0, 1, (0, 0, 1), 2.31, 6).to_doc()
    assert (doc.site_b, doc.jimage, doc.length_angstrom, doc.multiplicity) == (
        1,
        (0, 0, 1),
        2.31,
        6,
    )


def test_no_li_raises() -> None:
    nacl = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.6), ["Na", "Cl"], [[0] * 3, [0.5] * 3]
    )
    with pytest.raises(CandidateError, match="Candidate 'NaCl': the structure contains no Li"):
        enumerate_li_hops(nacl, candidate_id="NaCl")


def test_single_isolated_li_raises() -> None:
    lonely = Structure(Lattice.cubic(6.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(CandidateError, match=r"no two Li sites are closer than 4\.5"):
        enumerate_li_hops(lonely, candidate_id="lonely")


def test_disordered_raises() -> None:
    mixed = Structure(Lattice.cubic(4.0), [{"Li": 0.5, "Na": 0.5}, "Cl"], [[0] * 3, [0.5] * 3])
    with pytest.raises(CandidateError, match="partially occupied"):
        enumerate_li_hops(mixed, candidate_id="mixed")


def test_vacancy_endpoints_counts_order_and_moving_li() -> None:
    structure = _li2o()
    hop = enumerate_li_hops(structure)[0]
    matrix = np.diag([2, 2, 2])
    ends = vacancy_endpoints(structure, hop, matrix)
    n_li = 8 * 8
    assert len(ends.initial) == len(ends.final) == 12 * 8 - 1
    for end in (ends.initial, ends.final):
        assert end.composition["Li"] == n_li - 1
        assert end.composition["O"] == 4 * 8
    assert [s.species for s in ends.initial] == [s.species for s in ends.final]
    assert ends.initial[ends.moving_index].specie.symbol == "Li"
    # Only the moving Li differs, by the hop vector (length a/2).
    moved = np.linalg.norm(ends.final.cart_coords - ends.initial.cart_coords, axis=1)
    assert moved[ends.moving_index] == pytest.approx(hop.length_angstrom)
    assert np.delete(moved, ends.moving_index) == pytest.approx(0.0, abs=1e-9)
    # The moving Li starts on site A's image and ends on site B's image; in the initial
    # endpoint B is empty, in the final A is empty.
    a_cart = structure[hop.site_a].coords
    b_cart = structure.lattice.get_cartesian_coords(
        structure.frac_coords[hop.site_b] + np.array(hop.jimage)
    )
    for end, occupied, empty in ((ends.initial, a_cart, b_cart), (ends.final, b_cart, a_cart)):
        li = [i for i, s in enumerate(end) if s.specie.symbol == "Li"]
        dist_occupied = [
            end.lattice.get_distance_and_image(
                end.frac_coords[i], end.lattice.get_fractional_coords(occupied)
            )[0]
            for i in li
        ]
        dist_empty = [
            end.lattice.get_distance_and_image(
                end.frac_coords[i], end.lattice.get_fractional_coords(empty)
            )[0]
            for i in li
        ]
        assert min(dist_occupied) == pytest.approx(0.0, abs=1e-6)
        assert min(dist_empty) > 1.0
    assert ends.supercell_matrix.tolist() == matrix.tolist()


def test_vacancy_endpoints_supercell_too_small() -> None:
    primitive = _licl().get_primitive_structure()
    hop = enumerate_li_hops(primitive)[0]
    with pytest.raises(CandidateError, match="supercell is too small"):
        vacancy_endpoints(primitive, hop, np.eye(3, dtype=int), candidate_id="LiCl")
