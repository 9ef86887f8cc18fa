"""Handlers at work with the real programs (marked slow, seconds each).

* neb.x on QE's example01 system (H2 + H, 20 Ry, Γ) with nstep_path = 3: the step-limit
  handler restarts from the path file with more steps until it converges.
* pw.x relax resumed after a SIGKILL: the saved output of a killed run (tests/qe/fixtures/pw/
  relax_killed.out) is in the directory, so run_qe first moves the spec to the last geometry
  instead of starting over.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Structure

from sseflows.qe.handlers import SPEC_FILE, load_spec
from sseflows.qe.jobs import run_qe
from sseflows.qe.neb_input import NebPathSettings, make_neb_input
from sseflows.qe.parsers import parse_pw_output
from sseflows.qe.sets import PwInputGenerator
from tests.conftest import require_executable
from tests.qe.structures import h3

FIX = Path(__file__).parent / "fixtures"


@pytest.mark.slow
def test_neb_step_limit_recovered_from_path_file(tmp_path, pseudo_dir, monkeypatch):
    """Example01's barrier with 3 images is 0.1901 eV (tests/qe/fixtures/neb_h3_restart_ci)."""
    require_executable("neb.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    first = h3([-4.56670009, 0.0, 1.55776676])
    last = h3([-1.55776676, 0.0, 4.56670009])
    mid = h3([-3.06223342, 0.0, 3.06223342])
    gen = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=20, dual=5, kspacing=None, degauss_ry=0.03,
        smearing="gaussian", user_input={"electrons": {"mixing_beta": 0.3}},
    )  # fmt: skip
    engine = gen.get_input(first)
    assert engine.namelists["system"]["nspin"] == 2  # 3 electrons: odd
    settings = NebPathSettings(n_images=1, nstep_path=3, path_thr_ev_per_ang=0.1, ds=2.0)
    result = run_qe(tmp_path, make_neb_input([first, mid, last], engine, settings, "h3"), "")
    assert result.converged and result.iterations > 3
    path = load_spec(tmp_path)["input"]["path"]
    assert path["restart_mode"] == "restart" and path["nstep_path"] > 3
    assert list(tmp_path.glob("error.*.tar.gz"))
    log = (tmp_path / "custodian.json").read_text()
    assert "NebStepLimitHandler" in log
    assert result.barrier_ev == pytest.approx(0.1901, abs=0.01)


@pytest.mark.slow
def test_killed_relax_resumes_from_last_geometry(tmp_path, pseudo_dir, monkeypatch):
    """This soft cell needs ~50 BFGS steps to 0.05 eV/Å, so the threshold is 1.5 eV/Å (the
    last geometry's largest force is 1.05 eV/Å): the resumed run must finish at once, from
    the killed run's last geometry, not from the start."""
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    killed = parse_pw_output(FIX / "pw" / "relax_killed.out")
    start = Structure.from_dict(json.loads(json.dumps(killed.structure.as_dict())))
    start.translate_sites([0], [-0.3, -0.1, 0.0])  # the geometry the killed run started from
    gen = PwInputGenerator(
        calculation="relax", pseudo_dir=str(pseudo_dir), ecutwfc=25, dual=8, kspacing=None,
        forc_conv_thr_ev_per_ang=1.5, conv_thr_ry_per_atom=1e-8,
    )  # fmt: skip
    spec = gen.get_input(start, -1)
    (tmp_path / SPEC_FILE).write_text(json.dumps({"kind": "pw", "input": spec.as_dict()}))
    shutil.copy(FIX / "pw" / "relax_killed.out", tmp_path / "pw.out")
    result = run_qe(tmp_path, launcher="")
    assert result.converged and len(result.energies_ev) == 1
    resumed_from = Structure.from_dict(load_spec(tmp_path)["input"]["structure"])
    assert np.allclose(resumed_from.cart_coords, killed.structure.cart_coords, atol=1e-6)
