"""``sseflows neb CIF``: argument handling and failures (the real QE flow is tested in
tests/qe/test_flows.py; here pw.x is deliberately missing so nothing heavy runs)."""

from __future__ import annotations

import json

from pymatgen.core import Lattice, Structure
from typer.testing import CliRunner

from sseflows.campaign.neb import neb_maker
from sseflows.cli import app


def test_no_li_is_one_sentence_error(tmp_path):
    cif = tmp_path / "nacl.cif"
    Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(str(cif))
    result = CliRunner().invoke(app, ["neb", str(cif), "--store", "memory"])
    assert result.exit_code == 1
    assert "contains no Li" in result.output


def test_missing_pw_gives_failed_json(tmp_path, pseudo_dir, monkeypatch):
    """--ecutwfc skips convergence; pw.x is missing → failed NebDoc written to --json."""
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    cif = tmp_path / "lif.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    out = tmp_path / "doc.json"
    args = ["neb", str(cif), "--ecutwfc", "20", "--pseudo-dir", str(pseudo_dir), "--no-bvse"]
    args += ["--store", "memory", "--json", str(out), "--work-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    doc = json.loads(out.read_text())
    assert doc["status"] == "failed" and "no-such-pw.x" in doc["reason"]


def test_protocol_maker_overrides_reach_every_step(tmp_path):
    maker = neb_maker(
        "qe", 8.0, 3, 1, ecutwfc=30.0, kspacing=0.4, pseudo_dir=str(tmp_path),
        launcher="mpirun -np 2", work_dir="runs",
    )  # fmt: skip
    assert maker.convergence_maker is None  # explicit cutoff: no convergence series
    assert maker.neb_maker.path.n_images == 3 and maker.hop_index == 1
    for step in (maker.cell_relax_maker, maker.endpoint_relax_maker, maker.neb_maker):
        assert step.generator.ecutwfc == 30.0 and step.generator.kspacing == 0.4
        assert step.generator.pseudo_dir == str(tmp_path) and step.launcher == "mpirun -np 2"
    assert maker.cell_relax_maker.generator.calculation == "vc-relax"
    assert maker.endpoint_relax_maker.generator.forc_conv_thr_ev_per_ang == 3e-4


def test_unknown_image_method_is_rejected(tmp_path):
    cif = tmp_path / "lif.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    result = CliRunner().invoke(app, ["neb", str(cif), "--image-method", "spline"])
    assert result.exit_code == 2
    assert "unknown image method 'spline'" in result.output


def test_image_method_reaches_the_protocol_maker(tmp_path):
    maker = neb_maker("qe", 8.0, 3, 0, "idpp", ecutwfc=30.0, pseudo_dir=str(tmp_path))
    assert maker.image_method == "idpp"
    assert neb_maker("qe", 8.0, 3, 0, "bvse", ecutwfc=30.0).image_method == "bvse"
    assert neb_maker("qe").image_method == "auto"  # the Maker's default when not given
    chgnet = neb_maker("chgnet", 6.0, 3, 1, "linear")
    assert (chgnet.min_length, chgnet.n_images, chgnet.hop_index) == (6.0, 3, 1)
    assert chgnet.image_method == "linear" and chgnet.force_field_name == "CHGNet"


def test_missing_bvse_path_falls_back_to_linear_images(tmp_path, pseudo_dir, monkeypatch):
    """--image-method bvse on a structure whose BVSE path cannot be found (no softBV
    parameters for H⁻) falls back to linear images and says so; pw.x is deliberately
    missing so the run stops at the first QE step with a failed document."""
    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    cif = tmp_path / "lih.cif"
    Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.08), ["Li", "H"], [[0, 0, 0], [0.5, 0, 0]]
    ).to(str(cif))
    args = ["neb", str(cif), "--ecutwfc", "20", "--pseudo-dir", str(pseudo_dir)]
    args += ["--store", "memory", "--work-dir", str(tmp_path / "runs"), "--image-method", "bvse"]
    result = CliRunner().invoke(app, args)
    assert "BVSE path unavailable" in result.output
    assert "images are interpolated linearly" in result.output
