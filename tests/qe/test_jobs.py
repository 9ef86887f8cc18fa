"""run_qe with the real pw.x: a 7-atom LiH vacancy cell at 25 Ry, Γ point (about 2 s)."""

from __future__ import annotations

import pytest

from sseflows.core.errors import ConfigurationError
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
    """nbnd = 1 makes pw.x stop at setup; the error names QE's own sentence."""
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    gen = PwInputGenerator(
        pseudo_dir=str(pseudo_dir), ecutwfc=25, dual=8, kspacing=None,
        user_input={"system": {"nbnd": 1}},
    )  # fmt: skip
    with pytest.raises(QeRunError, match=r"qe_error.*too few bands \(routine setup\)"):
        run_qe(tmp_path, gen.get_input(make_lih_vacancy(), -1), launcher="")
