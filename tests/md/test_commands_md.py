"""``sseflows md`` CLI: analyze, vasp-inputs, and the ``sseflows md CIF`` form.

(Lives in tests/md because the MD tier owns sseflows/commands/md.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import Atoms
from ase.io import write
from md_synthetic import random_walk
from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from sseflows.cli import app
from sseflows.commands.md import expand_multi_values
from sseflows.md.arrhenius import K_B_EV

runner = CliRunner()
TEMPS = (600, 800, 1000, 1200)


def _write_walks(folder, temps=TEMPS, ea=0.3, d0=1e-2):
    paths = []
    for i, t in enumerate(temps):
        d = d0 * np.exp(-ea / (K_B_EV * t))
        pos, species, lattice = random_walk(d, n_frames=500, frame_interval_fs=12.0, seed=i)
        path = folder / f"walk_{t}K.extxyz"
        write(path, [Atoms(species, positions=p, cell=lattice, pbc=True) for p in pos])
        paths.append(str(path))
    return paths


@pytest.fixture
def lif_cif(tmp_path):
    s = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    path = tmp_path / "LiF.cif"
    s.to(filename=str(path))
    return path


def test_expand_multi_values():
    assert expand_multi_values(["a", "--temperatures", "600", "800,1000", "x.traj"]) == [
        "a",
        "--temperatures",
        "600",
        "--temperatures",
        "800",
        "--temperatures",
        "1000",
        "x.traj",
    ]


def test_analyze_writes_the_documented_json(tmp_path):
    paths = _write_walks(tmp_path)
    out = tmp_path / "sigma.json"
    result = runner.invoke(
        app,
        [
            "md",
            "analyze",
            *paths,
            "--temperatures",
            *map(str, TEMPS),
            "--timestep",
            "12",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["temperatures_k"] == [600.0, 800.0, 1000.0, 1200.0]
    assert len(data["diffusivities_cm2_per_s"]) == 4
    assert abs(data["ea_ev"] - 0.3) < 3 * data["ea_err_ev"]
    low, high = data["sigma_rt_range_s_per_cm"]
    assert low < data["sigma_rt_s_per_cm"] < high
    assert data["candidate_id"] == "walk_600K"
    assert "E_a =" in result.output


def test_analyze_bad_input_gives_one_sentence(tmp_path):
    paths = _write_walks(tmp_path, temps=(1000, 1200))
    wrong_count = runner.invoke(app, ["md", "analyze", *paths, "-T", "1000", "--timestep", "12"])
    assert wrong_count.exit_code == 2
    assert "got 2 trajectories but 1 temperatures" in wrong_count.output
    two = runner.invoke(app, ["md", "analyze", *paths, "-T", "1000,1200", "--timestep", "12"])
    assert two.exit_code == 1
    assert "an Arrhenius fit needs at least 3 temperatures" in two.output
    missing = runner.invoke(
        app,
        [
            "md",
            "analyze",
            *paths,
            str(tmp_path / "gone.traj"),
            "-T",
            "1000",
            "1200",
            "1400",
            "--timestep",
            "12",
        ],
    )
    assert missing.exit_code == 1
    assert "gone.traj does not exist" in missing.output


def test_vasp_inputs_and_no_li(tmp_path, lif_cif):
    result = runner.invoke(app, ["md", "vasp-inputs", str(lif_cif), str(tmp_path / "aimd")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "aimd").iterdir()) == [
        "T1000K",
        "T1200K",
        "T600K",
        "T800K",
    ]
    assert "kang2022" in result.output and "216-atom cell" in result.output
    nacl = tmp_path / "NaCl.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    ).to(filename=str(nacl))
    bad = runner.invoke(app, ["md", "vasp-inputs", str(nacl), str(tmp_path / "x")])
    assert bad.exit_code == 2
    assert "Candidate 'NaCl': the structure contains no Li" in bad.output
    unknown = runner.invoke(
        app, ["md", "vasp-inputs", str(lif_cif), str(tmp_path / "y"), "--preset", "nope"]
    )
    assert unknown.exit_code == 2 and "known presets: kang2022" in unknown.output


def test_md_cif_form_routes_to_run(lif_cif):
    """``sseflows md CIF ...`` is ``sseflows md run CIF ...`` (VASP cannot run here)."""
    result = runner.invoke(app, ["md", str(lif_cif), "--engine", "vasp"])
    assert result.exit_code == 2
    assert "engine 'vasp' cannot run here" in result.output
    few = runner.invoke(app, ["md", str(lif_cif), "--temperatures", "600", "800"])
    assert few.exit_code == 2 and "at least 3 distinct temperatures" in few.output


@pytest.mark.slow
def test_md_cif_runs_chgnet(lif_cif, tmp_path):
    """A real CHGNet run through the issue's exact command form (8-atom LiF cell, 3 × 10 steps)."""
    out = tmp_path / "md.json"
    result = runner.invoke(
        app,
        [
            "md",
            str(lif_cif),
            "--engine",
            "chgnet",
            "--temperatures",
            "600",
            "900",
            "1200",
            "--steps",
            "10",
            "--equilibration",
            "0",
            "--interval",
            "1",
            "--min-length",
            "0",
            "--timestep",
            "2",
            "--db",
            "memory",
            "--json",
            str(out),
        ],
    )
    data = json.loads(out.read_text())
    assert data["engine"] == "chgnet"
    assert data["temperatures_k"] == [600.0, 900.0, 1200.0]
    assert all(np.isfinite(d) for d in data["diffusivities_cm2_per_s"])
    assert data["flags"] == ["too_short"] * 3  # 20 fs, far below the 5 ps minimum
    assert result.exit_code == 1
