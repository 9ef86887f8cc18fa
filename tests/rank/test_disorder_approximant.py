"""The ordered approximant of partially occupied structures, counted by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from pymatgen.core import Lattice, Structure

from sseflows.core.errors import CandidateError
from sseflows.rank.descriptors.disorder import ordered_approximant

LGPS_JSON = Path(pymatgen.core.__file__).parents[1] / "util" / "structures" / "Li10GeP2S12.json"


def li2o() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def test_ordered_structure_is_unchanged() -> None:
    s = li2o()
    out = ordered_approximant(s)
    assert out == s and out is not s


def test_half_occupied_li_sites_keep_half_the_li() -> None:
    """8 Li sites at 1/2 -> 4 Li; O untouched; deterministic for a seed."""
    s = li2o()
    for i, site in enumerate(s):
        if site.specie.symbol == "Li":
            s.replace(i, {"Li": 0.5})
    out = ordered_approximant(s, seed=0)
    assert out.is_ordered
    assert out.composition.as_dict() == {"Li": 4.0, "O": 4.0}
    assert ordered_approximant(s, seed=0) == out
    assert len(ordered_approximant(s, seed=1)) == 8


def test_mixed_sites_share_species_by_occupancy() -> None:
    """4 O sites as O0.75F0.25 -> 3 O + 1 F."""
    s = li2o()
    for i, site in enumerate(s):
        if site.specie.symbol == "O":
            s.replace(i, {"O": 0.75, "F": 0.25})
    out = ordered_approximant(s)
    assert out.composition.as_dict() == {"Li": 8.0, "O": 3.0, "F": 1.0}


def test_split_sites_never_both_occupied() -> None:
    """Two quarter-occupied Li sites 0.5 Å apart, times 4 (x4 cell): at most one per pair."""
    lattice = Lattice.cubic(10.0)
    coords, species = [], []
    for x in (0.0, 0.25, 0.5, 0.75):
        coords += [[x, 0.5, 0.5], [x + 0.05, 0.5, 0.5]]
        species += [{"Li": 0.5}, {"Li": 0.5}]
    coords.append([0.5, 0.0, 0.0])
    species.append({"S": 1.0})
    out = ordered_approximant(Structure(lattice, species, coords))
    li = np.array([site.frac_coords for site in out if site.specie.symbol == "Li"])
    assert len(li) == 4  # round(8 × 0.5), one per pair
    distances = lattice.get_all_distances(li, li)
    assert distances[np.triu_indices(len(li), 1)].min() > 0.9


def test_lgps_from_pymatgen() -> None:
    lgps = Structure.from_file(LGPS_JSON)
    out = ordered_approximant(lgps)
    assert out.is_ordered
    comp = out.composition.element_composition
    nominal = lgps.composition.element_composition
    assert comp["S"] == 24
    assert comp["Ge"] + comp["P"] == pytest.approx(nominal["Ge"] + nominal["P"])
    assert abs(comp["Li"] - nominal["Li"]) <= 2


def test_empty_approximant_names_the_candidate() -> None:
    s = Structure(Lattice.cubic(5.0), [{"Li": 0.2}], [[0, 0, 0]])
    with pytest.raises(CandidateError, match=r"'lone'.*no atoms left"):
        ordered_approximant(s, candidate_id="lone")
