"""``sseflows bvse CIF``: the JSON contract and one-sentence errors (module
``sseflows.commands.bvse``; kept beside the gate's other tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pymatgen.core
from pymatgen.core import Structure
from typer.testing import CliRunner

from sseflows.cli import app

PMG = Path(pymatgen.core.__file__).parents[1] / "util" / "structures"
runner = CliRunner()


def test_json_contract_on_stdout_and_in_a_file(tmp_path: Path):
    cif = tmp_path / "LiFePO4.cif"
    Structure.from_file(PMG / "LiFePO4.json").to(filename=str(cif))
    result = runner.invoke(app, ["bvse", str(cif), "--json", "-", "--resolution", "0.3"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert list(record) == ["formula", "e1d_ev", "e2d_ev", "e3d_ev", "gate_ea_ev", "path_points"]
    assert record["formula"] == "LiFePO4"
    assert record["gate_ea_ev"] == record["e1d_ev"] < record["e2d_ev"] <= record["e3d_ev"]
    points = np.array(record["path_points"])
    assert points.ndim == 2 and points.shape[1] == 3 and len(points) >= 3
    assert 2.9 < np.linalg.norm(points[-1] - points[0]) < 3.1  # the nearest Li-Li hop

    out = tmp_path / "bvse.json"
    shown = runner.invoke(app, ["bvse", str(cif), "--json", str(out), "--resolution", "0.3"])
    assert shown.exit_code == 0, shown.output
    assert "1D" in shown.stdout and "path: Li site" in shown.stdout
    assert json.loads(out.read_text()) == record


def test_bad_input_is_one_sentence_on_stderr(tmp_path: Path):
    missing = runner.invoke(app, ["bvse", str(tmp_path / "nope.cif")])
    assert missing.exit_code == 1
    assert (
        missing.stderr.strip()
        == f"Error: Candidate 'nope': file {tmp_path / 'nope.cif'} does not exist."
    )
    no_li = tmp_path / "SiO2.cif"
    Structure.from_file(PMG / "SiO2.json").to(filename=str(no_li))
    result = runner.invoke(app, ["bvse", str(no_li), "--json", "-"])
    assert result.exit_code == 1
    assert "contains no Li" in result.stderr and result.stdout == ""
    garbage = tmp_path / "garbage.cif"
    garbage.write_text("this is not a CIF\n")
    result = runner.invoke(app, ["bvse", str(garbage)])
    assert result.exit_code == 1 and "cannot be parsed as CIF" in result.stderr
