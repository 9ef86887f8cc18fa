"""Simplified structures (CAMN, CAN, AM, A, -40, CAMNS/CANS) checked against hand counts."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from pymatgen.core import Composition, Lattice, Species, Structure
from pymatgen.io.cif import CifParser

from sseflows.core.oxidation import sign_balanced_states
from sseflows.core.simplify import (
    LI_S_BOND_ANGSTROM,
    SCHEMES,
    VOLUME_PER_ANION_A3,
    classify,
    simplify,
)

LGPS_JSON = Path(pymatgen.core.__file__).parents[1] / "util" / "structures" / "Li10GeP2S12.json"


@functools.cache
def _li2o_cell() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )


def li2o(oxidation_states: bool = True) -> Structure:
    """Antifluorite Li2O, a = 4.61 Å: conventional cell Li8O4, Li–O = a√3/4."""
    s = _li2o_cell().copy()
    if oxidation_states:
        s.add_oxidation_state_by_element({"Li": 1, "O": -2})
    return s


def li3ps4_like() -> Structure:
    """A Li3PS4-like orthorhombic cell (one PS4 tetrahedron, 3 Li) with given states."""
    lattice = Lattice.orthorhombic(6.0, 6.5, 7.0)
    species = [Species("P", 5)] + [Species("S", -2)] * 4 + [Species("Li", 1)] * 3
    coords = [
        [0.0, 0.0, 0.0],
        [0.2, 0.2, 0.2],
        [-0.2, -0.2, 0.2],
        [0.2, -0.2, -0.2],
        [-0.2, 0.2, -0.2],
        [0.5, 0.5, 0.0],
        [0.5, 0.0, 0.5],
        [0.0, 0.5, 0.5],
    ]
    return Structure(lattice, species, coords)


def counts(structure: Structure) -> dict[str, float]:
    return {el.symbol: round(amt, 6) for el, amt in structure.composition.items()}


def test_classify() -> None:
    assert classify("Li", 1) == "M"
    assert classify("P", 5) == "C"
    assert classify("S", -2) == "A"
    assert classify("Xe", 0) == "N"


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("CAMN", {"Li": 8, "S": 4}),
        ("CAN", {"S": 4}),
        ("AM", {"Li": 8, "S": 4}),
        ("A", {"S": 4}),
    ],
)
def test_li2o_species_and_counts(scheme: str, expected: dict[str, float]) -> None:
    """O -> S, Li kept, no cations to map."""
    out = simplify(li2o(), scheme)
    assert counts(out) == expected
    assert out.volume == pytest.approx(4.61**3)


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("CAMN", {"Li": 3, "Al": 1, "S": 4}),
        ("CAN", {"Al": 1, "S": 4}),
        ("AM", {"Li": 3, "S": 4}),
        ("A", {"S": 4}),
    ],
)
def test_li3ps4_species_and_counts(scheme: str, expected: dict[str, float]) -> None:
    out = simplify(li3ps4_like(), scheme)
    assert counts(out) == expected
    assert all(sp.symbol in {"Li", "Al", "S", "Mg"} for sp in out.composition)


def test_oxidation_states_are_guessed_when_absent() -> None:
    assert counts(simplify(li2o(oxidation_states=False), "CAMN")) == {"Li": 8, "S": 4}


@pytest.mark.parametrize("base", ["CAMN", "CAN", "AM", "A"])
def test_minus_40_scales_to_40_cubic_angstrom_per_anion(base: str) -> None:
    """Li2O has 4 anions per conventional cell: V = 4 × 40 = 160 Å³, a = 160^(1/3) Å."""
    out = simplify(li2o(), f"{base}-40")
    assert out.volume == pytest.approx(160.0)
    assert out.lattice.a == pytest.approx(160.0 ** (1 / 3))
    assert out.lattice.angles == pytest.approx((90.0, 90.0, 90.0))
    ps4 = simplify(li3ps4_like(), f"{base}-40")
    assert ps4.volume == pytest.approx(4 * VOLUME_PER_ANION_A3)
    assert ps4.lattice.abc[0] / ps4.lattice.abc[2] == pytest.approx(6.0 / 7.0)  # isotropic


def test_camns_puts_li_at_the_li2s_bond_length() -> None:
    """Li2O under CAMNS becomes Li2S-sized: a = 4 d(Li–S)/√3 = 5.709 Å (Li2S: 5.708 Å)."""
    out = simplify(li2o(), "CAMNS")
    assert counts(out) == {"Li": 8, "S": 4}
    assert out.lattice.a == pytest.approx(4 * LI_S_BOND_ANGSTROM / math.sqrt(3))
    assert out.lattice.a == pytest.approx(5.708, abs=0.002)
    cans = simplify(li2o(), "CANS")
    assert counts(cans) == {"S": 4}
    assert cans.volume == pytest.approx(out.volume)  # CANS is CAMNS without Li


def test_camns_mean_li_s_distance_on_li3ps4_like_cell() -> None:
    out = simplify(li3ps4_like(), "CAMNS")
    frac = out.frac_coords
    li = [i for i, s in enumerate(out) if s.specie.symbol == "Li"]
    s_sites = [i for i, s in enumerate(out) if s.specie.symbol == "S"]
    nearest = out.lattice.get_all_distances(frac[li], frac[s_sites]).min(axis=1)
    assert nearest.mean() == pytest.approx(LI_S_BOND_ANGSTROM)


def test_neutral_species_become_mg_and_are_dropped_by_am() -> None:
    s = li3ps4_like()
    s.append(Species("Xe", 0), [0.5, 0.5, 0.5])
    assert counts(simplify(s, "CAMN")) == {"Li": 3, "Al": 1, "S": 4, "Mg": 1}
    assert counts(simplify(s, "CAN")) == {"Al": 1, "S": 4, "Mg": 1}
    assert counts(simplify(s, "AM")) == {"Li": 3, "S": 4}


def test_shared_sites_keep_fractions_and_merge_same_proxy() -> None:
    """Li2O with one Li site = Li0.5Mg0.25 and one = Mg0.25Zn0.25 (both +1 on average)."""
    s = li2o()
    li_sites = [i for i, site in enumerate(s) if site.specie.symbol == "Li"]
    s.replace(li_sites[0], {Species("Li", 1): 0.5, Species("Mg", 2): 0.25})
    s.replace(li_sites[1], {Species("Mg", 2): 0.25, Species("Zn", 2): 0.25})

    camn = simplify(s, "CAMN")
    assert len(camn) == 12
    assert dict(camn[li_sites[0]].species.as_dict()) == pytest.approx({"Li": 0.5, "Al": 0.25})
    assert dict(camn[li_sites[1]].species.as_dict()) == pytest.approx({"Al": 0.5})

    can = simplify(s, "CAN")  # 6 full Li sites deleted, the two shared sites keep their Al
    assert len(can) == 4 + 2
    assert counts(can) == {"Al": 0.75, "S": 4}
    am = simplify(s, "AM")  # the Mg/Zn-only site disappears
    assert len(am) == 12 - 1
    assert counts(am) == {"Li": 6.5, "S": 4}


def test_li10gep2s12_disordered() -> None:
    """pymatgen's LGPS (58 sites, Li and Ge/P sites partially occupied)."""
    lgps = Structure.from_file(LGPS_JSON)
    comp = lgps.composition.element_composition
    framework_cation_sites = sum(
        1 for site in lgps if any(el.symbol in ("Ge", "P") for el in site.species.elements)
    )
    camn = simplify(lgps, "CAMN")
    assert len(camn) == len(lgps) == 58
    assert counts(camn) == pytest.approx(
        {"Li": comp["Li"], "Al": comp["Ge"] + comp["P"], "S": comp["S"]}
    )
    mixed = [site for site in camn if site.species.get("Al", 0) and not site.is_ordered]
    assert not mixed  # Ge0.515P0.485 sites became one full Al
    assert len(simplify(lgps, "CAN")) == framework_cation_sites + 24
    assert len(simplify(lgps, "AM")) == 58 - framework_cation_sites
    a40 = simplify(lgps, "A-40")
    assert len(a40) == 24
    assert a40.volume == pytest.approx(24 * 40.0)
    assert not simplify(lgps, "AM").is_ordered  # Li fractions kept
    assert Composition(simplify(lgps, "CAMNS").formula) == Composition(camn.formula)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_keeps_fractional_coordinates(scheme: str) -> None:
    base = li3ps4_like()
    out = simplify(base, scheme)
    kept = {"CAMN": 8, "CAN": 5, "AM": 7, "A": 4}[scheme.split("-")[0].removesuffix("S")]
    assert len(out) == kept
    s_in = [site.frac_coords for site in base if site.specie.symbol == "S"]
    s_out = [site.frac_coords for site in out if site.specie.symbol == "S"]
    assert np.allclose(s_in, s_out)


def test_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown simplification scheme"):
        simplify(li2o(), "CAMN-30")


def test_sign_balanced_states_on_fractional_compositions() -> None:
    """Charge balance on the real (fractional) amounts: 24.2 + 0.2·4 + 3.8·5 = 20·2 + 4·1."""
    assert sign_balanced_states(Composition("Li24.2Si0.2P3.8S20Br4")) == {
        "Li": 1.0,
        "Si": 4.0,
        "P": 5.0,
        "S": -2.0,
        "Br": -1.0,
    }
    assert sign_balanced_states(Composition("Li2SO4"))["S"] == 6.0  # S is a cation here
    assert sign_balanced_states(Composition("Li3PS4"))["S"] == -2.0
    assert sign_balanced_states(Composition("Li3O")) is None  # cannot balance


def test_disordered_argyrodite_from_obelix(obelix_dir: Path) -> None:
    """OBELiX 09w, Li6.05P0.95Si0.05S5Br (Z = 4): 100 partially occupied sites whose
    composition Li24.2P3.8Si0.2S20Br4 defeats the whole-atom oxidation-state guess."""
    cif = obelix_dir / "cifs" / "09w.cif"
    structure = CifParser(cif).parse_structures(primitive=False)[0]
    camn = simplify(structure, "CAMN", candidate_id="09w")
    assert counts(camn) == pytest.approx({"Li": 24.19992, "Al": 3.8 + 0.2, "S": 20 + 4})
    a40 = simplify(structure, "A-40", candidate_id="09w")
    assert a40.volume == pytest.approx(24 * 40.0)
