"""BVSE science: percolation topology, barriers, disorder, the gate's pick, Li paths.

Structures ship with pymatgen (LiFePO4, Li10GeP2S12, Li2O) or are built here; the hand-built
grids have barriers that can be read off by eye.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from bvlain import Lain
from pymatgen.core import Composition, Lattice, Species, Structure

from sseflows.core.errors import CandidateError
from sseflows.gates.bvse.barriers import (
    BVSEResult,
    bvse_li_path,
    gate_barrier,
    percolation_barriers,
    prepare_for_bvse,
)
from sseflows.gates.bvse.grid import (
    percolation_dimension,
    percolation_energies,
    site_energy_grid,
)
from sseflows.gates.bvse.path import (
    grid_min_energy_path,
    nearest_li_pair,
    path_is_continuous,
    resample_path,
)
from sseflows.gates.bvse.prepare import common_oxidation_states

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"


def pmg(name: str) -> Structure:
    return Structure.from_file(PMG / f"{name}.json")


@pytest.fixture(scope="module")
def lfp() -> Structure:
    return pmg("LiFePO4")


@pytest.fixture(scope="module")
def lfp_result(lfp: Structure) -> BVSEResult:
    return percolation_barriers(lfp, "LiFePO4", resolution=0.2)


FCC = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]


def rocksalt(a: float, cation, anion) -> Structure:
    """Conventional rock-salt cell (4 formula units) with lattice parameter ``a`` (Å)."""
    anion_sites = [[(x + 0.5) % 1, y, z] for x, y, z in FCC]
    return Structure(Lattice.cubic(a), [cation] * 4 + [anion] * 4, FCC + anion_sites)


def result(e1d, e2d, e3d) -> BVSEResult:
    return BVSEResult(e1d, e2d, e3d, np.zeros((4, 4, 4)), (4, 4, 4), 0.2, "hand-built", 0.0)


# --- the gate's barrier ------------------------------------------------------------------


def test_gate_barrier_auto_takes_lowest_percolating_dimension():
    assert gate_barrier(result(0.4, 0.9, 1.2)) == (0.4, 1)
    assert gate_barrier(result(None, 0.7, 0.8)) == (0.7, 2)
    assert gate_barrier(result(None, None, 1.5), "auto") == (1.5, 3)
    assert gate_barrier(result(None, None, None)) == (None, None)


def test_gate_barrier_explicit_dimension_and_bad_value():
    res = result(0.4, 0.9, None)
    assert gate_barrier(res, 2) == (0.9, 2)
    assert gate_barrier(res, "3D") == (None, 3)
    assert gate_barrier(res, "1") == (0.4, 1)
    with pytest.raises(ValueError, match="dimension"):
        gate_barrier(res, 4)


# --- periodic percolation on hand-built grids --------------------------------------------


def test_percolation_dimension_of_lines_planes_and_pockets():
    mask = np.zeros((6, 6, 6), dtype=bool)
    assert percolation_dimension(mask) == 0
    mask[2, 2, 2] = True  # an isolated pocket
    assert percolation_dimension(mask) == 0
    line = np.zeros_like(mask)
    line[:, 1, 1] = True
    assert percolation_dimension(line) == 1
    diagonal = np.zeros_like(mask)
    for i in range(6):
        diagonal[i, i, 0] = True  # wraps along [110] only through the corner
    assert percolation_dimension(diagonal) == 1
    plane = np.zeros_like(mask)
    plane[:, :, 3] = True
    assert percolation_dimension(plane) == 2
    assert percolation_dimension(np.ones_like(mask)) == 3
    broken = line.copy()
    broken[3, 1, 1] = False  # a gap breaks the channel
    assert percolation_dimension(broken) == 0


def test_percolation_energies_read_off_a_hand_built_grid():
    grid = np.full((8, 8, 8), 5.0)
    grid[:, 0, 0] = 0.0
    grid[4, 0, 0] = 0.3  # bottleneck of the x channel
    grid[0, :, 0] = np.where(np.arange(8) == 5, 0.7, 0.0)  # y channel, saddle 0.7
    grid[0, 0, :] = np.where(np.arange(8) == 2, 1.2, 0.0)  # z channel, saddle 1.2
    e1d, e2d, e3d = percolation_energies(grid)
    assert e1d == pytest.approx(0.3, abs=0.01)
    assert e2d == pytest.approx(0.7, abs=0.01)
    assert e3d == pytest.approx(1.2, abs=0.01)
    assert percolation_energies(grid, e_max=1.0) == (
        pytest.approx(0.3, abs=0.01),
        pytest.approx(0.7, abs=0.01),
        None,
    )


# --- grid and barriers of real structures ------------------------------------------------


def test_grid_reproduces_bvlain_with_its_neighbour_scheme(lfp: Structure):
    decorated = prepare_for_bvse(lfp, "LiFePO4")
    calc = Lain(verbose=False)
    calc.read_structure(decorated, oxi_check=False)
    reference = calc.bvse_distribution(mobile_ion="Li1+", resolution=0.3)[:-1, :-1, :-1]
    ours = site_energy_grid(decorated, reference.shape, neighbours=100)
    finite = reference < reference.min() + 100
    np.testing.assert_allclose(ours[finite], reference[finite], atol=1e-9)
    fast = site_energy_grid(decorated, reference.shape)  # 7 Å cut-off instead of k = 100
    low = reference < reference.min() + 2
    assert np.abs((fast - fast.min()) - (reference - reference.min()))[low].max() < 0.01


def test_lifepo4_shows_its_1d_channel(lfp_result: BVSEResult):
    res = lfp_result
    assert 0.3 <= res.e1d_ev <= 0.5  # BVSE literature: ~0.3-0.5 eV along [010]
    assert res.e3d_ev is None or res.e3d_ev - res.e1d_ev > 0.2
    assert res.e1d_ev <= res.e2d_ev <= res.e3d_ev
    assert res.grid_energies_ev.shape == res.grid_shape
    assert res.grid_energies_ev.min() == 0.0
    assert res.treatment.startswith("Ordered")


def test_periodic_percolation_agrees_with_bvlains_search(lfp: Structure):
    ours = percolation_barriers(lfp, resolution=0.3)
    theirs = percolation_barriers(lfp, resolution=0.3, method="bvlain")
    for a, b in zip(
        (ours.e1d_ev, ours.e2d_ev, ours.e3d_ev),
        (theirs.e1d_ev, theirs.e2d_ev, theirs.e3d_ev),
        strict=True,
    ):
        assert a == pytest.approx(b, abs=0.02)


def test_disordered_li10gep2s12_gets_finite_barriers():
    lgps = pmg("Li10GeP2S12")
    assert not lgps.is_ordered
    res = percolation_barriers(lgps, "LGPS", resolution=0.3)
    assert res.e1d_ev is not None and res.e3d_ev is not None
    assert 0.0 < res.e1d_ev < 1.0 and res.e3d_ev < 1.5
    assert "occupancy-weighted" in res.treatment


def test_mixed_and_vacant_framework_sites_are_occupancy_weighted():
    li = Species("Li", 1)
    shape = (6, 6, 6)
    cl = site_energy_grid(rocksalt(5.6, li, Species("Cl", -1)), shape)
    br = site_energy_grid(rocksalt(5.6, li, Species("Br", -1)), shape)
    mixed = site_energy_grid(rocksalt(5.6, li, {"Cl-": 0.5, "Br-": 0.5}), shape)
    half = site_energy_grid(rocksalt(5.6, li, {"Cl-": 0.5}), shape)
    np.testing.assert_allclose(mixed, 0.5 * (cl + br), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(half, 0.5 * cl, rtol=1e-9, atol=1e-9)


# --- preparing structures ----------------------------------------------------------------


def test_prepare_rejects_structures_without_li_or_parameters():
    with pytest.raises(CandidateError, match=r"Candidate 'SiO2'.*contains no Li"):
        prepare_for_bvse(pmg("SiO2"), "SiO2")
    lih = rocksalt(4.08, "Li", "H")
    with pytest.raises(CandidateError, match=r"Candidate 'LiH'.*no BVSE parameters.*H-1"):
        percolation_barriers(lih, "LiH")


def test_huge_cell_is_refused_before_any_grid_is_built():
    big = Structure(Lattice.cubic(200.0), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(CandidateError, match="grid points"):
        percolation_barriers(big, "huge")


def test_common_oxidation_states_ignore_unlocated_li():
    # Li-deficient garnet file: 3.7 % short of neutral, framework charges are unambiguous
    states = common_oxidation_states(Composition("Li45.888La24Zr11.808Ta3.952O96"))
    assert states == {"Li": 1, "La": 3, "Zr": 4, "Ta": 5, "O": -2}
    # argyrodite with doubled Li: P stays +5, not P3-
    states = common_oxidation_states(Composition("Li45.888P4S20Br3Cl1"))
    assert states == {"Li": 1, "P": 5, "S": -2, "Br": -1, "Cl": -1}
    assert common_oxidation_states(Composition("Li13.2Mn5.2In2.8Cl32"))["Mn"] == 2
    assert common_oxidation_states(Composition("Li4Nb8O96")) is None  # implies 176 Li


# --- paths -------------------------------------------------------------------------------


def test_path_follows_the_valley_over_the_lowest_saddle():
    lattice = np.eye(3) * 8.0
    grid = np.full((16, 16, 16), 3.0)
    grid[2:14, 4, 4] = 0.0  # straight valley from x=2 to x=13 ...
    grid[8, 4, 4] = 1.5  # ... blocked by a 1.5 eV bump
    grid[7:10, 5, 4] = 0.4  # detour around it with a 0.4 eV saddle
    points, energies = grid_min_energy_path(
        grid, lattice, np.array([2, 4, 4]) / 16, np.array([13, 4, 4]) / 16
    )
    assert energies.max() == pytest.approx(0.4)
    np.testing.assert_allclose(points[0], [1.0, 2.0, 2.0])
    np.testing.assert_allclose(points[-1], [6.5, 2.0, 2.0])
    assert path_is_continuous(points, grid.shape, lattice)


def test_lifepo4_path_runs_along_the_channel(lfp: Structure, lfp_result: BVSEResult):
    site_a, site_b, image, distance = nearest_li_pair(lfp)
    assert 2.9 < distance < 3.1  # Li-Li along the [010] chain
    points, energies = bvse_li_path(lfp, site_a, site_b, image, result=lfp_result)
    end = lfp.lattice.get_cartesian_coords(lfp[site_b].frac_coords + np.array(image))
    np.testing.assert_allclose(points[0], lfp[site_a].coords, atol=1e-9)
    np.testing.assert_allclose(points[-1], end, atol=1e-9)
    assert path_is_continuous(points, lfp_result.grid_shape, lfp.lattice.matrix)
    assert energies.max() >= lfp_result.e1d_ev - 0.03
    assert energies.max() < lfp_result.e2d_ev  # stays in the 1D channel
    assert len(points) == len(energies)


def test_path_across_a_periodic_boundary_is_unwrapped():
    li2o = pmg("Li2O")
    site_a, _, _, distance = nearest_li_pair(li2o)
    points, _ = bvse_li_path(li2o, site_a, site_a, (1, 0, 0), resolution=0.3)
    shift = li2o.lattice.matrix[0]
    np.testing.assert_allclose(points[-1] - points[0], shift, atol=1e-9)
    assert 2.2 < distance < 2.4  # antifluorite: Li-Li = a/2 with a = 4.6 Å
    with pytest.raises(ValueError, match="holds no Li"):
        bvse_li_path(li2o, 0, len(li2o) - 1, resolution=0.3)


def test_nearest_li_pair_skips_split_positions():
    lattice = Lattice.cubic(6.0)
    s = Structure(lattice, ["Li", "Li", "Cl"], [[0, 0, 0], [0.1, 0, 0], [0.5, 0.5, 0.5]])
    distance = nearest_li_pair(s)[3]  # the 0.6 Å pair is one split site, not a hop
    assert distance == pytest.approx(5.4)
    assert nearest_li_pair(s, min_distance=0.5)[3] == pytest.approx(0.6)


def test_resample_path_is_even_and_keeps_the_ends():
    points = np.array([[0.0, 0, 0], [1, 0, 0], [1, 3, 0]])
    images = resample_path(points, 5)
    np.testing.assert_allclose(images[0], points[0])
    np.testing.assert_allclose(images[-1], points[-1])
    np.testing.assert_allclose(np.linalg.norm(np.diff(images, axis=0), axis=1), 1.0)


def test_obelix_files_with_awkward_oxidation_states_are_prepared(obelix_dir: Path):
    from sseflows.data.files import read_structure_file

    expected = {
        "4ba": {"O": -2, "P": 5, "Ge": 4},  # BVAnalyzer alone puts O- on some sites
        "uxo": {"N": -3, "O": -2, "P": 5},  # LiPON: N-3, not the N-2 of a rounded guess
        "ueu": {"La": 3, "Zr": 4, "Ta": 5, "O": -2},  # garnet file missing 4 % of its Li
    }
    for name, states in expected.items():
        cand = read_structure_file(obelix_dir / "cifs" / f"{name}.cif")
        decorated = prepare_for_bvse(cand.structure, cand.id)
        found = {sp.symbol: sp.oxi_state for site in decorated for sp in site.species}
        assert {el: found[el] for el in states} == states, name
        assert found["Li"] == 1
