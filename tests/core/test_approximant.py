"""Ordered approximants of disordered candidates (core.approximant), counted by hand.

Hand-built cells check the rule (smallest supercell, tolerance, charge balance, limits);
Li10GeP2S12 (ships with pymatgen) and two OBELiX CIFs (an argyrodite and a garnet, read in
place from ``../shared``) check it on real refinements. Time limits are generous or zero;
nothing depends on how far a time-limited search got.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from pymatgen.analysis.ewald import EwaldSummation
from pymatgen.core import Lattice, Structure

from sseflows.core.approximant import (
    ApproximantRecord,
    ApproximantSettings,
    compact_supercell,
    order_disordered,
)
from sseflows.core.errors import CandidateError
from sseflows.data.files import read_structure_file

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def _rock_salt(li: float) -> Structure:
    """Rock salt with a Li(li)Na(1-li) cation site (conventional cell, 8 sites)."""
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.4), [{"Li": li, "Na": 1 - li}, "Cl"], [[0, 0, 0], [0.5] * 3]
    )


def _elements(structure: Structure) -> dict[str, float]:
    return {el.symbol: amt for el, amt in structure.composition.element_composition.items()}


def _net_charge(structure: Structure) -> float:
    return sum(sp.oxi_state * amt for sp, amt in structure.composition.items())


def test_half_occupied_rock_salt_doubles_the_primitive_cell() -> None:
    out = order_disordered(_rock_salt(0.5), "LiNaCl2")
    assert out.reference_cell == "primitive"
    assert round(abs(np.linalg.det(out.supercell_matrix))) == 2  # 2 primitive cells
    assert out.n_sites == 4
    best = out.candidates[0]
    assert best.is_ordered
    assert _elements(best) == {"Li": 1, "Na": 1, "Cl": 2}  # Li:Na exactly 1:1
    assert _net_charge(best) == pytest.approx(0)
    (group,) = out.rounding
    assert [(s.species, s.target, s.count) for s in group.species] == [
        ("Li+", 1.0, 1),
        ("Na+", 1.0, 1),
        ("vacancy", 0.0, 0),
    ]
    # the Ewald energy given is the ordered cell's own
    assert out.ewald_energies_ev_per_atom[0] == pytest.approx(
        EwaldSummation(best).total_energy / len(best), rel=1e-6
    )


def test_tolerance_picks_the_first_near_integral_size() -> None:
    # Li 0.37 within 0.02: 3/8 = 0.375 is the first count/d that fits (d = 1..7 do not)
    settings = ApproximantSettings(occupancy_tolerance=0.02, max_sites=16)
    out = order_disordered(_rock_salt(0.37), "LiNaCl", settings)
    assert round(abs(np.linalg.det(out.supercell_matrix))) == 8
    assert _elements(out.candidates[0]) == {"Li": 3, "Na": 5, "Cl": 8}


def test_tolerance_violation_names_the_candidate_and_the_limit() -> None:
    settings = ApproximantSettings(occupancy_tolerance=0.02, max_sites=15)
    with pytest.raises(CandidateError) as caught:
        order_disordered(_rock_salt(0.37), "LiNaCl", settings)
    message = str(caught.value)
    assert message.startswith("Candidate 'LiNaCl': no supercell of ")
    assert "max_sites = 15 sites" in message
    assert message.endswith("has near-integral site counts within occupancy_tolerance = 0.02.")


def test_time_limit_failure_names_the_limit() -> None:
    with pytest.raises(CandidateError, match=r"within time_limit_s = 0 s\.$"):
        order_disordered(_rock_salt(0.5), "LiNaCl2", ApproximantSettings(time_limit_s=0))


def test_rounding_is_adjusted_to_keep_the_charge_balanced() -> None:
    # 4 Cl- and two Li groups of 16 sites: 16·0.155 = 2.48 and 16·0.09125 = 1.46 Li.
    # Nearest rounding gives 2 + 1 = 3 Li (charged); the cheapest neutral choice is 3 + 1
    # (|3-2.48| + |1-1.46| = 0.98 atoms against 1.02 for 2 + 2).
    grid = [(x, y) for x, y in itertools.product((0.125, 0.375, 0.625, 0.875), repeat=2)]
    species: list = ["Cl"] * 4
    coords: list = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    for occupancy, z in ((0.155, 0.25), (0.09125, 0.75)):
        species += [{"Li": occupancy}] * 16
        coords += [[x, y, z] for x, y in grid]
    structure = Structure(Lattice.cubic(12.0), species, coords)
    structure.add_oxidation_state_by_element({"Li": 1, "Cl": -1})
    out = order_disordered(structure, "LiCl-grid", ApproximantSettings(primitive=False))
    assert out.supercell_matrix == np.eye(3, dtype=int).tolist()
    counts = [(g.species[0].target, g.species[0].count) for g in out.rounding]
    assert counts == [(pytest.approx(2.48), 3), (pytest.approx(1.46), 1)]
    assert all(g.max_occupancy_error <= 0.05 for g in out.rounding)
    for ordered in out.candidates:
        assert _elements(ordered) == {"Li": 4, "Cl": 4}
        assert _net_charge(ordered) == pytest.approx(0)
    energies = out.ewald_energies_ev_per_atom
    assert energies == sorted(energies)
    assert len(set(energies)) == len(energies) <= 5


def test_ordered_structure_passes_through_unchanged() -> None:
    structure = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0] * 3, [0.5] * 3]
    )
    out = order_disordered(structure, "LiCl")
    assert out.ordered_input
    assert out.candidates == [structure]
    assert out.candidates[0] is structure
    record = out.record()
    assert record.ordered_input and record.supercell_matrix == np.eye(3).tolist()


def test_compact_supercell_prefers_the_cube() -> None:
    matrix = compact_supercell(Lattice.cubic(4.0), 8)
    assert sorted(np.abs(matrix).sum(axis=1).tolist()) == [2, 2, 2]
    assert round(abs(np.linalg.det(matrix))) == 8


def test_li10gep2s12_is_ordered_in_its_own_cell() -> None:
    lgps = Structure.from_file(PMG / "Li10GeP2S12.json")
    assert not lgps.is_ordered
    out = order_disordered(lgps, "LGPS", ApproximantSettings(time_limit_s=600))
    # Li 16·0.691 = 11.06 -> 11, 8·0.643 = 5.14 -> 5, plus 4 full: 20; Ge/P 4·0.515 -> 2/2
    assert abs(np.linalg.det(out.supercell_matrix)) == pytest.approx(1)
    assert out.n_sites == len(lgps) == 58
    assert out.search_complete
    assert len(out.candidates) >= 2
    for ordered in out.candidates:
        assert ordered.is_ordered
        assert _elements(ordered) == {"Li": 20, "Ge": 2, "P": 4, "S": 24}
        assert _net_charge(ordered) == pytest.approx(0)
    assert out.ewald_spread_ev_per_atom > 0
    record = ApproximantRecord.model_validate(out.record().model_dump())
    assert record.formula == "Li20 Ge2 P4 S24"
    assert [g.sites for g in record.rounding] == [16, 8, 4]
    assert record.ewald_spread_ev_per_atom == pytest.approx(out.ewald_spread_ev_per_atom)


def _obelix_structure(obelix_dir: Path, cid: str, family: str) -> Structure:
    with (obelix_dir / "train.csv").open(newline="") as handle:
        families = {row["ID"]: row["Family"] for row in csv.DictReader(handle)}
    assert families[cid] == family
    return read_structure_file(obelix_dir / "cifs" / f"{cid}.cif", cid).structure


def test_obelix_argyrodite_li6ps5cl(obelix_dir: Path) -> None:
    structure = _obelix_structure(obelix_dir, "122", "argyrodites")
    # primitive cell: 12 Li sites at 0.5, two S/Cl sites at 0.615/0.385 and 0.385/0.615.
    # 0.615·d within 0.05 of an integer fraction first at d = 5 (3/5 = 0.6; 2/3 is 0.052 off)
    out = order_disordered(structure, "122", ApproximantSettings(time_limit_s=10))
    assert out.reference_cell == "primitive"
    assert round(abs(np.linalg.det(out.supercell_matrix))) == 5
    assert out.n_sites == 95
    for ordered in out.candidates:
        assert ordered.is_ordered
        assert _elements(ordered) == {"Li": 30, "P": 5, "S": 25, "Cl": 5}
        assert _net_charge(ordered) == pytest.approx(0)


def test_obelix_garnet_li5la3nb2o12(obelix_dir: Path) -> None:
    structure = _obelix_structure(obelix_dir, "68u", "garnet")
    # primitive cell (4 formula units): 12 Li sites at 0.667 -> 8 Li, plus 12 full Li sites
    out = order_disordered(structure, "68u", ApproximantSettings(time_limit_s=120))
    assert out.reference_cell == "primitive"
    assert round(abs(np.linalg.det(out.supercell_matrix))) == 1
    assert out.n_sites == 92
    for ordered in out.candidates:
        assert ordered.is_ordered
        assert _elements(ordered) == {"Li": 20, "La": 12, "Nb": 8, "O": 48}
        assert _net_charge(ordered) == pytest.approx(0)
