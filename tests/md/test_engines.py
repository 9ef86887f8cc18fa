"""Supercell rule, the Kang et al. VASP AIMD preset (inputs only: VASP is not installed here,
and no POTCARs are needed since a POTCAR.spec is written), and the CHGNet maker settings."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp.inputs import Incar, Kpoints

from sseflows.core.errors import CandidateError
from sseflows.md.engines import (
    KANG2022,
    chgnet_md_maker,
    get_protocol,
    md_supercell,
    supercell_scaling,
    vasp_md_maker,
    write_vasp_md_inputs,
)


@pytest.fixture
def licl() -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.13), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def test_supercell_rule_reaches_min_width_and_atoms():
    s = Structure(Lattice.orthorhombic(3.0, 5.0, 11.0), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    assert supercell_scaling(s, 10.0) == (4, 2, 1)  # 12, 10, 11 Å
    assert supercell_scaling(s, 10.0, min_atoms=24) == (4, 3, 1)  # 10 Å axis grows first
    cell = md_supercell(s, "x", 10.0)
    assert len(cell) == 16
    assert min(cell.lattice.abc) >= 10.0


def test_supercell_rule_uses_perpendicular_widths():
    """A 60° rhombohedral-like cell is thinner than its 5 Å edges (width 5·sin60·… < 5)."""
    s = Structure(Lattice.hexagonal(5.0, 20.0), ["Li"], [[0, 0, 0]])
    # perpendicular width of the a/b axes of a hexagonal cell: 5 × sin 60° = 4.33 Å
    assert supercell_scaling(s, 8.8) == (3, 3, 1)


def test_disordered_or_oversized_cells_fail_with_a_reason(licl):
    disordered = licl.copy()
    disordered.replace_species({"Li": {"Li": 0.5}})
    with pytest.raises(CandidateError, match="partial occupancies"):
        md_supercell(disordered, "lic")
    with pytest.raises(CandidateError, match="more than the limit of 100"):
        md_supercell(licl, "lic", min_length_a=12.0, max_atoms=100)


def test_kang2022_preset_writes_exactly_the_published_tags(licl, tmp_path):
    folders = write_vasp_md_inputs(licl, tmp_path, KANG2022)
    assert [f.name for f in folders] == ["T600K", "T800K", "T1000K", "T1200K"]
    for folder, temperature in zip(folders, (600, 800, 1000, 1200), strict=True):
        assert sorted(p.name for p in folder.iterdir()) == [
            "INCAR",
            "KPOINTS",
            "POSCAR",
            "POTCAR.spec",
        ]
        incar = Incar.from_file(folder / "INCAR")
        published = {
            "ENCUT": 400,  # eV
            "GGA": "Pe",  # PBE
            "IBRION": 0,  # molecular dynamics
            "MDALGO": 2,  # Nosé–Hoover thermostat
            "ISIF": 2,  # fixed cell: NVT
            "SMASS": 0,
            "POTIM": 2,  # fs
            "TEBEG": temperature,
            "TEEND": temperature,
            "NSW": 13000,  # 3,000 equilibration + 10,000 production
            "ISPIN": 1,
            "ISYM": 0,
        }
        for tag, value in published.items():
            assert incar[tag] == value, tag
        for absent in ("MAGMOM", "LORBIT", "EDIFFG"):
            assert absent not in incar
        assert incar["LAECHG"] is False and incar["LVTOT"] is False
        kpoints = Kpoints.from_file(folder / "KPOINTS")
        assert kpoints.style == Kpoints.supported_modes.Gamma
        assert tuple(kpoints.kpts[0]) == (1, 1, 1)
        assert (folder / "POTCAR.spec").read_text().split() == ["Li_sv", "Cl"]


def test_vasp_md_maker_is_atomate2s(licl):
    from atomate2.vasp.jobs.md import MDMaker

    maker = vasp_md_maker(800.0)
    assert isinstance(maker, MDMaker)
    generator = maker.input_set_generator
    assert (generator.start_temp, generator.end_temp, generator.nsteps) == (800.0, 800.0, 13000)
    assert get_protocol("kang2022") is KANG2022
    with pytest.raises(ValueError, match="known presets: kang2022"):
        get_protocol("nope")


def test_chgnet_maker_settings():
    from atomate2.forcefields.md import ForceFieldMDMaker

    maker = chgnet_md_maker(1000.0, n_steps=50, time_step_fs=1.0, traj_interval=5, seed=3)
    assert isinstance(maker, ForceFieldMDMaker)
    assert maker.force_field_name.endswith("CHGNet")
    assert (maker.temperature, maker.n_steps, maker.time_step, maker.traj_interval) == (
        1000.0,
        50,
        1.0,
        5,
    )
    assert maker.ensemble.value == "nvt"
