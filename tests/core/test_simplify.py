"""Simplified structures (substituted, -noli, anions, -v40, original) checked by hand."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pymatgen.core
import pytest
from pymatgen.core import Composition, Lattice, Species, Structure
from pymatgen.io.cif import CifParser

from sseflows.core.oxidation import sign_balanced_states
from sseflows.core.simplify import (
    PAPER_SCHEMES,
    SCHEMES,
    VOLUME_PER_ANION_A3,
    classify,
    resolve_scheme,
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
        ("substituted", {"Li": 8, "S": 4}),
        ("substituted-noli", {"S": 4}),
        ("anions-li", {"Li": 8, "S": 4}),
        ("anions", {"S": 4}),
        ("original", {"Li": 8, "O": 4}),
        ("original-noli", {"O": 4}),
    ],
)
def test_li2o_species_and_same_volume(scheme: str, expected: dict[str, float]) -> None:
    """O -> S, Li kept or removed, no cations to map; the lattice is untouched."""
    out = simplify(li2o(), scheme)
    assert counts(out) == expected
    assert out.volume == pytest.approx(4.61**3)
    assert out.lattice.abc == pytest.approx((4.61, 4.61, 4.61))


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("substituted", {"Li": 3, "Al": 1, "S": 4}),
        ("substituted-noli", {"Al": 1, "S": 4}),
        ("anions-li", {"Li": 3, "S": 4}),
        ("anions", {"S": 4}),
        ("original", {"Li": 3, "P": 1, "S": 4}),
        ("original-noli", {"P": 1, "S": 4}),
    ],
)
def test_li3ps4_species_and_counts(scheme: str, expected: dict[str, float]) -> None:
    out = simplify(li3ps4_like(), scheme)
    assert counts(out) == expected
    assert out.volume == pytest.approx(6.0 * 6.5 * 7.0)


def test_substituted_holds_only_proxy_elements() -> None:
    for scheme in ("substituted", "substituted-noli", "anions-li", "anions"):
        out = simplify(li3ps4_like(), scheme)
        assert {el.symbol for el in out.composition} <= {"Li", "Al", "S", "Mg"}


def test_original_schemes_need_no_oxidation_states() -> None:
    """McHaffie's CAMN/CAN: the nominal structure, even when no state could be guessed."""
    s = li2o(oxidation_states=False)
    s.append("Xe", [0.5, 0.5, 0.5])  # would break the charge balance of a guess
    assert counts(simplify(s, "original")) == {"Li": 8, "O": 4, "Xe": 1}
    assert counts(simplify(s, "original-noli")) == {"O": 4, "Xe": 1}


def test_oxidation_states_are_guessed_when_absent() -> None:
    assert counts(simplify(li2o(oxidation_states=False), "substituted")) == {"Li": 8, "S": 4}


@pytest.mark.parametrize("base", ["substituted", "substituted-noli", "anions-li", "anions"])
def test_v40_scales_to_40_cubic_angstrom_per_anion(base: str) -> None:
    """Li2O has 4 anions per conventional cell: V = 4 × 40 = 160 Å³, a = 160^(1/3) Å."""
    out = simplify(li2o(), f"{base}-v40")
    assert out.volume == pytest.approx(160.0)
    assert out.volume / counts(simplify(li2o(), "anions"))["S"] == pytest.approx(40.0)
    assert out.lattice.a == pytest.approx(160.0 ** (1 / 3))
    assert out.lattice.angles == pytest.approx((90.0, 90.0, 90.0))
    ps4 = simplify(li3ps4_like(), f"{base}-v40")
    assert ps4.volume == pytest.approx(4 * VOLUME_PER_ANION_A3)
    assert ps4.lattice.abc[0] / ps4.lattice.abc[2] == pytest.approx(6.0 / 7.0)  # isotropic


def test_v40_counts_neutral_atoms_with_the_anions() -> None:
    """As in the authors' code: 4 S + 1 neutral Xe -> V = 5 × 40 Å³, also when Xe is deleted."""
    s = li3ps4_like()
    s.append(Species("Xe", 0), [0.5, 0.5, 0.5])
    assert simplify(s, "substituted-v40").volume == pytest.approx(200.0)
    assert simplify(s, "anions-v40").volume == pytest.approx(200.0)


def test_neutral_species_become_mg_and_are_dropped_by_anions_li() -> None:
    s = li3ps4_like()
    s.append(Species("Xe", 0), [0.5, 0.5, 0.5])
    assert counts(simplify(s, "substituted")) == {"Li": 3, "Al": 1, "S": 4, "Mg": 1}
    assert counts(simplify(s, "substituted-noli")) == {"Al": 1, "S": 4, "Mg": 1}
    assert counts(simplify(s, "anions-li")) == {"Li": 3, "S": 4}


def test_shared_sites_keep_fractions_and_merge_same_proxy() -> None:
    """Li2O with one Li site = Li0.5Mg0.25 and one = Mg0.25Zn0.25 (both +1 on average)."""
    s = li2o()
    li_sites = [i for i, site in enumerate(s) if site.specie.symbol == "Li"]
    s.replace(li_sites[0], {Species("Li", 1): 0.5, Species("Mg", 2): 0.25})
    s.replace(li_sites[1], {Species("Mg", 2): 0.25, Species("Zn", 2): 0.25})

    sub = simplify(s, "substituted")
    assert len(sub) == 12
    assert dict(sub[li_sites[0]].species.as_dict()) == pytest.approx({"Li": 0.5, "Al": 0.25})
    assert dict(sub[li_sites[1]].species.as_dict()) == pytest.approx({"Al": 0.5})

    noli = simplify(s, "substituted-noli")  # 6 full Li sites deleted, shared sites keep Al
    assert len(noli) == 4 + 2
    assert counts(noli) == {"Al": 0.75, "S": 4}
    anions_li = simplify(s, "anions-li")  # the Mg/Zn-only site disappears
    assert len(anions_li) == 12 - 1
    assert counts(anions_li) == {"Li": 6.5, "S": 4}
    original_noli = simplify(s, "original-noli")  # Li fraction removed, Mg0.25 stays
    assert len(original_noli) == 4 + 2
    assert counts(original_noli) == {"Mg": 0.5, "Zn": 0.25, "O": 4}


def test_li10gep2s12_disordered() -> None:
    """pymatgen's LGPS (58 sites, Li and Ge/P sites partially occupied)."""
    lgps = Structure.from_file(LGPS_JSON)
    comp = lgps.composition.element_composition
    framework_cation_sites = sum(
        1 for site in lgps if any(el.symbol in ("Ge", "P") for el in site.species.elements)
    )
    sub = simplify(lgps, "substituted")
    assert len(sub) == len(lgps) == 58
    assert counts(sub) == pytest.approx(
        {"Li": comp["Li"], "Al": comp["Ge"] + comp["P"], "S": comp["S"]}
    )
    mixed = [site for site in sub if site.species.get("Al", 0) and not site.is_ordered]
    assert not mixed  # Ge0.515P0.485 sites became one full Al
    assert len(simplify(lgps, "substituted-noli")) == framework_cation_sites + 24
    assert len(simplify(lgps, "anions-li")) == 58 - framework_cation_sites
    a40 = simplify(lgps, "anions-v40")
    assert len(a40) == 24
    assert a40.volume == pytest.approx(24 * 40.0)
    assert not simplify(lgps, "anions-li").is_ordered  # Li fractions kept
    assert simplify(lgps, "substituted").volume == pytest.approx(lgps.volume)


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_every_scheme_keeps_fractional_coordinates(scheme: str) -> None:
    base = li3ps4_like()
    out = simplify(base, scheme)
    kept = {"C": 1, "A": 4, "M": 3, "N": 0}
    assert len(out) == sum(kept[c] for c in SCHEMES[scheme].kept)
    s_in = [site.frac_coords for site in base if site.specie.symbol == "S"]
    s_out = [site.frac_coords for site in out if site.specie.symbol == "S"]
    assert np.allclose(s_in, s_out)


@pytest.mark.parametrize(
    ("paper", "name", "project"),
    [
        ("laskowski2023", "CAMN", "substituted"),
        ("laskowski2023", "CAN", "substituted-noli"),
        ("laskowski2023", "A-40", "anions-v40"),
        ("mchaffie2025", "CAMN", "original"),
        ("mchaffie2025", "CAN", "original-noli"),
        ("mchaffie2025", "CAMNS", "substituted"),
        ("mchaffie2025", "CANS", "substituted-noli"),
    ],
)
def test_paper_names_need_their_paper(paper: str, name: str, project: str) -> None:
    assert resolve_scheme(name, paper=paper) is SCHEMES[project]
    assert PAPER_SCHEMES[paper][name] == project
    expected = counts(simplify(li3ps4_like(), project))
    assert counts(simplify(li3ps4_like(), name, paper=paper)) == expected


def test_mchaffie_cans_is_laskowski_can() -> None:
    """002's CANS and 000's CAN are one structure; 002's CAN keeps P."""
    cans = simplify(li3ps4_like(), "CANS", paper="mchaffie2025")
    can = simplify(li3ps4_like(), "CAN", paper="laskowski2023")
    assert counts(cans) == counts(can) == {"Al": 1, "S": 4}
    assert counts(simplify(li3ps4_like(), "CAN", paper="mchaffie2025")) == {"P": 1, "S": 4}


@pytest.mark.parametrize("name", ["CAMN", "CAN", "CAMNS", "CANS", "A-40"])
def test_paper_names_alone_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="paper"):
        simplify(li2o(), name)


def test_unknown_scheme_and_paper() -> None:
    with pytest.raises(ValueError, match="unknown simplification scheme"):
        simplify(li2o(), "substituted-v30")
    with pytest.raises(ValueError, match="unknown paper"):
        simplify(li2o(), "CAMN", paper="zhang2020")
    with pytest.raises(ValueError, match="has no simplification"):
        simplify(li2o(), "CAMNS", paper="laskowski2023")


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
    sub = simplify(structure, "substituted", candidate_id="09w")
    assert counts(sub) == pytest.approx({"Li": 24.19992, "Al": 3.8 + 0.2, "S": 20 + 4})
    a40 = simplify(structure, "anions-v40", candidate_id="09w")
    assert a40.volume == pytest.approx(24 * 40.0)
