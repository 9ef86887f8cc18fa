"""pw.x / neb.x input generation: defaults, charge, spin rule, k-mesh, round trip via ASE."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase.io import read
from pymatgen.core import Lattice, Structure

from sseflows.core.errors import ConfigurationError
from sseflows.qe.neb_input import NebPathSettings, make_neb_input
from sseflows.qe.sets import PwInputGenerator, kmesh_from_kspacing, needs_spin
from sseflows.qe.units import force_ev_ang_to_ry_bohr
from tests.qe.structures import make_lih_vacancy


def test_forc_conv_thr_conversion():
    """3e-4 eV/Å / (13.605693 eV/Ry / 0.529177 Å/Bohr) = 1.1668e-5 Ry/Bohr."""
    assert force_ev_ang_to_ry_bohr(3e-4) == pytest.approx(3e-4 / (13.605693 / 0.529177), rel=1e-6)
    assert force_ev_ang_to_ry_bohr(3e-4) == pytest.approx(1.1668e-5, rel=1e-3)


def test_kmesh_from_kspacing():
    """4 Å cube: |b| = 2π/4 = 1.5708 Å⁻¹ → ceil(1.5708/0.25) = 7; 0.5 → 4; None → Γ."""
    s = make_lih_vacancy()
    assert kmesh_from_kspacing(s, 0.25) == (7, 7, 7)
    assert kmesh_from_kspacing(s, 0.5) == (4, 4, 4)
    assert kmesh_from_kspacing(s, None) is None
    assert math.ceil(2 * math.pi / 4 / 0.25) == 7


def test_vacancy_input_charge_cutoffs_and_round_trip(pseudo_dir, tmp_path):
    """tot_charge -1 is written; cutoffs are Li's suggestions (103/410 → rho = max(410, 412));
    3 Li × 3 e + 4 H × 1 e + 1 = 14 electrons → even → no spin. ASE reads back the cell,
    positions and species."""
    s = make_lih_vacancy()
    gen = PwInputGenerator(calculation="relax", pseudo_dir=str(pseudo_dir), kspacing=0.5)
    inp = gen.get_input(s, tot_charge=-1)
    text = inp.to_str()
    assert "tot_charge = -1.0" in text
    assert inp.namelists["system"]["ecutwfc"] == 103.0
    assert inp.namelists["system"]["ecutrho"] == 412.0
    assert "nspin" not in inp.namelists["system"]
    assert inp.namelists["control"]["forc_conv_thr"] == pytest.approx(1.1668e-5, rel=1e-3)
    assert "K_POINTS automatic\n4 4 4 0 0 0" in text
    path = inp.write(tmp_path / "pw.in")
    atoms = read(path, format="espresso-in")
    assert np.allclose(atoms.cell[:], s.lattice.matrix)
    assert np.allclose(atoms.positions, s.cart_coords, atol=1e-8)
    assert atoms.get_chemical_symbols() == [site.specie.symbol for site in s]


def test_spin_rule_and_user_input(pseudo_dir):
    """Neutral vacancy cell: 13 electrons (odd) → nspin 2; Fe → nspin 2; user_input wins."""
    s = make_lih_vacancy()
    assert needs_spin(s, 13) and not needs_spin(s, 14)
    fe = Structure(Lattice.cubic(2.87), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert needs_spin(fe, 32)
    gen = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=30, dual=8,
        user_input={"electrons": {"mixing_beta": 0.2}, "system": {"degauss": None}},
    )  # fmt: skip
    inp = gen.get_input(s, tot_charge=0)
    assert inp.namelists["system"]["nspin"] == 2
    assert inp.namelists["system"]["ecutrho"] == 240.0
    assert inp.namelists["electrons"]["mixing_beta"] == 0.2
    assert "degauss" not in inp.namelists["system"]
    assert "max_seconds" not in inp.namelists["control"]
    timed = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=30, max_seconds=3420)
    assert timed.get_input(s).namelists["control"]["max_seconds"] == 3420.0


def test_missing_pseudo_names_element_and_folder(tmp_path):
    s = Structure(Lattice.cubic(3.0), ["Li"], [[0, 0, 0]])
    with pytest.raises(ConfigurationError, match=r"Li.*" + str(tmp_path)):
        PwInputGenerator(pseudo_dir=str(tmp_path)).get_input(s)


def test_neb_input_sections(pseudo_dir):
    """Three images → FIRST / one INTERMEDIATE / LAST; num_of_images counts endpoints."""
    s = make_lih_vacancy()
    engine = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=25, kspacing=None).get_input(
        s, -1
    )
    mid, last = s.copy(), s.copy()
    mid.translate_sites([0], [0.05, 0, 0])
    last.translate_sites([0], [0.1, 0, 0])
    neb = make_neb_input([s, mid, last], engine, NebPathSettings(n_images=1))
    text = neb.to_str()
    assert text.count("FIRST_IMAGE") == 1 and text.count("LAST_IMAGE") == 1
    assert text.count("INTERMEDIATE_IMAGE") == 1
    assert "num_of_images = 3" in text and "calculation" not in text
    assert "path_thr = 0.05" in text and "K_POINTS gamma" in text
    assert text.index("END_POSITIONS") < text.index("CELL_PARAMETERS")
