"""run_qe with the real pw.x: a 7-atom LiH vacancy cell at 25 Ry, Γ point (about 2 s)."""

from __future__ import annotations

import json
import os

import pytest

from sseflows.core.errors import ConfigurationError
from sseflows.qe.handlers import load_spec
from sseflows.qe.jobs import QeJob, QeRunError, run_qe
from sseflows.qe.sets import PwInputGenerator
from tests.conftest import require_executable
from tests.qe.structures import make_lih_vacancy


def test_launcher_command():
    job = QeJob("neb", "neb.x", "mpirun -np 4")
    assert job.command() == ["mpirun", "-np", "4", "neb.x", "-inp", "neb.in"]
    assert QeJob("pw", "pw.x").command() == ["pw.x", "-in", "pw.in"]


def test_missing_executable_is_configuration_error(tmp_path, pseudo_dir):
    spec = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=25, kspacing=None).get_input(
        make_lih_vacancy(), -1
    )
    with pytest.raises(ConfigurationError, match=r"no-such-pw\.x"):
        run_qe(tmp_path, spec, executable="no-such-pw.x")


@pytest.mark.slow
def test_scf_runs_once_then_is_reused(tmp_path, pseudo_dir, monkeypatch):
    """A finished run is parsed, not recomputed: the output file is not rewritten."""
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    gen = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=25, dual=8, kspacing=None)
    spec = gen.get_input(make_lih_vacancy(), -1)
    first = run_qe(tmp_path, spec, launcher="")
    assert first.converged and first.n_atoms == 7
    stamp = (tmp_path / "pw.out").stat().st_mtime_ns
    second = run_qe(tmp_path, spec, launcher="")
    assert (tmp_path / "pw.out").stat().st_mtime_ns == stamp
    assert second.energy_ev == first.energy_ev


@pytest.mark.slow
def test_unrecoverable_scf_is_one_sentence_error(tmp_path, pseudo_dir, monkeypatch):
    """electron_maxstep = 1 cannot converge whatever mixing_beta: handlers give up."""
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    gen = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=25, dual=8, kspacing=None,
        user_input={"electrons": {"electron_maxstep": 1}},
    )  # fmt: skip
    with pytest.raises(QeRunError, match=r"^pw\.x failed in .*\(scf_not_converged; \w+"):
        run_qe(tmp_path, gen.get_input(make_lih_vacancy(), -1), launcher="", max_errors=2)
    assert len(list(tmp_path.glob("error.*.tar.gz"))) >= 1


@pytest.mark.slow
def test_crashed_pw_reason_quotes_qe(tmp_path, pseudo_dir, monkeypatch):
    """nbnd = 1 makes pw.x stop at setup, an error no handler knows: it is rerun once
    unchanged, then reported with QE's own sentence and the output's last lines."""
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    gen = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=25, dual=8, kspacing=None,
        user_input={"system": {"nbnd": 1}},
    )  # fmt: skip
    spec = gen.get_input(make_lih_vacancy(), -1)
    with pytest.raises(QeRunError) as caught:
        run_qe(tmp_path, spec, launcher="")
    message = str(caught.value)
    assert "no handler recognises, again after one unchanged rerun" in message
    assert "too few bands (routine setup)" in message and "last lines: " in message
    assert message.count("\n") == 0
    assert load_spec(tmp_path)["unchanged_reruns"] == 1
    assert load_spec(tmp_path)["input"] == json.loads(json.dumps(spec.as_dict()))  # unchanged
    log = json.loads((tmp_path / "custodian.json").read_text())
    assert len(log[-1]["corrections"]) == 1  # two runs: the first and one rerun


@pytest.mark.slow
@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mpirun refuses only as root"
)
def test_mpirun_as_root_is_a_configuration_error_without_retries(tmp_path, pseudo_dir, monkeypatch):
    """The real mpirun, as root without OMPI_ALLOW_RUN_AS_ROOT: pw.x never starts. That is
    a configuration error at once, quoting mpirun, and nothing is retried."""
    require_executable("pw.x")
    require_executable("mpirun")
    monkeypatch.delenv("OMPI_ALLOW_RUN_AS_ROOT", raising=False)
    monkeypatch.delenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", raising=False)
    gen = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=25, dual=8, kspacing=None)
    with pytest.raises(ConfigurationError) as caught:
        run_qe(tmp_path, gen.get_input(make_lih_vacancy(), -1), launcher="mpirun -np 2")
    message = str(caught.value)
    assert "mpirun has detected an attempt to run as root" in message
    assert "OMPI_ALLOW_RUN_AS_ROOT=1" in message and "\n" not in message
    log = json.loads((tmp_path / "custodian.json").read_text())
    assert len(log) == 1 and len(log[0]["corrections"]) == 1  # one launch, no retry
    assert not list(tmp_path.glob("error.*.tar.gz"))  # nothing was corrected
