"""``sseflows qe parse-neb`` on neb.x outputs generated on this machine (QE example01)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sseflows.cli import app

FIX = Path(__file__).parents[1] / "qe" / "fixtures"


def test_parse_neb_json():
    """example01: 'activation energy (->) = 0.190352 eV', converged in 13 iterations."""
    result = CliRunner().invoke(
        app, ["qe", "parse-neb", str(FIX / "neb_h3_example01" / "neb.out"), "--json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["barrier_ev"] == pytest.approx(0.190352, abs=1e-6)
    assert record["barrier_back_ev"] == pytest.approx(0.190352, abs=1e-6)
    assert record["converged"] is True and record["iterations"] == 13
    assert len(record["energies_ev"]) == 5 and record["band_problem"] is None


def test_parse_neb_band_below_its_endpoints_is_not_a_barrier():
    """The real Li2O band of issue 9: neb.x says converged with a 0 eV barrier."""
    out = FIX / "neb_li2o_below_endpoints" / "neb.out"
    text = CliRunner().invoke(app, ["qe", "parse-neb", str(out)])
    assert text.exit_code == 1
    assert "not a barrier: image 2 lies 1.892 eV below the lower endpoint" in text.output
    assert "barrier 0.0000 eV" not in text.output
    as_json = CliRunner().invoke(app, ["qe", "parse-neb", str(out), "--json"])
    record = json.loads(as_json.output)
    assert as_json.exit_code == 1 and record["barrier_ev"] is None
    assert record["band_problem"].startswith("image 2 lies 1.892 eV")
    assert record["energies_ev"][2] == pytest.approx(-1.8917, abs=1e-4)


def test_parse_neb_text_unconverged():
    result = CliRunner().invoke(app, ["qe", "parse-neb", str(FIX / "neb_h3_nstep" / "neb.out")])
    assert result.exit_code == 0
    assert "NOT converged after 3 iterations" in result.output


def test_converge_missing_pw_is_one_line_error(tmp_path, pseudo_dir, monkeypatch):
    from pymatgen.core import Lattice, Structure

    monkeypatch.setenv("SSEFLOWS_PW_CMD", "no-such-pw.x")
    cif = tmp_path / "lif.cif"
    Structure(Lattice.cubic(4.0), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(str(cif))
    args = ["qe", "converge", str(cif), "--ecutwfc", "20,30", "--pseudo-dir", str(pseudo_dir)]
    result = CliRunner().invoke(app, [*args, "--work-dir", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert "no-such-pw.x" in result.output and "Traceback" not in result.output
