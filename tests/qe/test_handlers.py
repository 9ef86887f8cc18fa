"""Error handlers on real pw.x / neb.x outputs (tests/qe/fixtures); no binary needed.

The fixture outputs were produced on this machine with QE 6.7: electron_maxstep = 2
(scf_maxstep), nstep = 1 (relax_nstep), trust_radius_max < trust_radius_min (relax_bfgsfail,
QE's "history already reset at previous step: stopping"), max_seconds = 3 (relax_walltime),
a relax killed with SIGKILL after 5 s (relax_killed), neb.x example01 with nstep_path = 3,
the same with electron_maxstep = 2 (neb_h3_scf: an image's SCF fails, neb.x stops),
and ``mpirun -np 2 pw.x`` as root without OMPI_ALLOW_RUN_AS_ROOT (mpirun_root: OpenMPI 4's
refusal, pw.x never started).
An eigensolver failure could not be provoked with PAW on a small cell here, so the
diagonalization handler is tested on QE's error-block text in a spec-only directory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pymatgen.core import Structure

from sseflows.qe.handlers import (
    DEFAULTS,
    SPEC_FILE,
    DiagonalizationHandler,
    KilledRunHandler,
    LauncherFailureHandler,
    NebStepLimitHandler,
    RelaxationHandler,
    ScfConvergenceHandler,
    UnrecognisedErrorHandler,
    default_handlers,
    last_lines,
    launcher_failure_sentence,
    load_spec,
)
from sseflows.qe.neb_input import NebPathSettings, make_neb_input
from sseflows.qe.sets import PwInputGenerator
from tests.qe.structures import make_lih_vacancy

FIX = Path(__file__).parent / "fixtures"


def _pw_dir(tmp_path: Path, pseudo_dir: Path, output: str, calculation: str, **namelists) -> Path:
    gen = PwInputGenerator(calculation=calculation, pseudo_dir=str(pseudo_dir), ecutwfc=25)
    spec = gen.get_input(make_lih_vacancy(), -1, **namelists).as_dict()
    (tmp_path / SPEC_FILE).write_text(json.dumps({"kind": "pw", "input": spec}))
    shutil.copy(FIX / "pw" / output, tmp_path / "pw.out")
    return tmp_path


def test_scf_not_converged_lowers_mixing_beta(tmp_path, pseudo_dir):
    d = _pw_dir(tmp_path, pseudo_dir, "scf_maxstep.out", "scf")
    h = ScfConvergenceHandler()
    assert h.check(d) and not RelaxationHandler().check(d) and not KilledRunHandler().check(d)
    out = h.correct(d)
    assert out["errors"] == ["scf_not_converged"]
    electrons = load_spec(d)["input"]["namelists"]["electrons"]
    assert electrons["mixing_beta"] == pytest.approx(0.4 * DEFAULTS["mixing_beta_factor"])
    assert electrons["startingpot"] == "file"
    assert list(d.glob("error.*.tar.gz"))  # backup made before the change


def test_relax_step_limit_restarts_from_last_geometry(tmp_path, pseudo_dir):
    d = _pw_dir(tmp_path, pseudo_dir, "relax_nstep.out", "relax")
    before = load_spec(d)["input"]["structure"]
    h = RelaxationHandler()
    assert h.check(d)
    h.correct(d)
    spec = load_spec(d)["input"]
    moved = Structure.from_dict(spec["structure"])
    assert moved.cart_coords[0] != pytest.approx(Structure.from_dict(before).cart_coords[0])
    assert (
        "ion_dynamics" not in spec["namelists"]["ions"]
        or spec["namelists"]["ions"]["ion_dynamics"] == "bfgs"
    )


def test_bfgs_failure_ladder(tmp_path, pseudo_dir):
    """relax: bfgs → damp, then give up; vc-relax: trust_radius_min first, then damp + damp-w."""
    (tmp_path / "r").mkdir()
    d = _pw_dir(tmp_path / "r", pseudo_dir, "relax_bfgsfail.out", "relax")
    h = RelaxationHandler()
    assert h.check(d)
    h.correct(d)
    assert load_spec(d)["input"]["namelists"]["ions"]["ion_dynamics"] == "damp"
    assert h.correct(d)["actions"] is None
    (tmp_path / "vc").mkdir()
    vc = _pw_dir(tmp_path / "vc", pseudo_dir, "relax_bfgsfail.out", "vc-relax")
    h.correct(vc)
    ions = load_spec(vc)["input"]["namelists"]["ions"]
    assert ions["trust_radius_min"] == pytest.approx(1e-4) and ions["ion_dynamics"] == "bfgs"
    h.correct(vc)
    names = load_spec(vc)["input"]["namelists"]
    assert names["ions"]["ion_dynamics"] == "damp" and names["cell"]["cell_dynamics"] == "damp-w"


def test_walltime_and_killed(tmp_path, pseudo_dir):
    (tmp_path / "w").mkdir()
    (tmp_path / "k").mkdir()
    w = _pw_dir(tmp_path / "w", pseudo_dir, "relax_walltime.out", "relax")
    h = KilledRunHandler()
    assert h.check(w)
    h.correct(w)
    assert load_spec(w)["input"]["namelists"]["control"]["restart_mode"] == "restart"
    k = _pw_dir(tmp_path / "k", pseudo_dir, "relax_killed.out", "relax")
    before = Structure.from_dict(load_spec(k)["input"]["structure"])
    assert h.check(k) and not ScfConvergenceHandler().check(k)
    h.correct(k)
    after = Structure.from_dict(load_spec(k)["input"]["structure"])
    assert after.cart_coords[0] != pytest.approx(
        before.cart_coords[0]
    )  # last geometry, not scratch


def test_unrecognised_crash_is_rerun_once_unchanged(tmp_path, pseudo_dir):
    """A QE error no handler knows (too few bands) is no killed run and no known failure:
    only the unrecognised-error handler answers, with an unchanged rerun, at most once."""
    d = _pw_dir(tmp_path, pseudo_dir, "scf_crash.out", "scf")
    handlers = [DiagonalizationHandler(), ScfConvergenceHandler(), RelaxationHandler()]
    assert not any(h.check(d) for h in [*handlers, KilledRunHandler(), LauncherFailureHandler()])
    h = UnrecognisedErrorHandler()
    assert h.check(d) and h.max_num_corrections == 1 and h.raise_on_max
    before = load_spec(d)["input"]
    out = h.correct(d)
    assert out["errors"] == ["qe_error"] and out["actions"]  # non-empty: custodian reruns
    assert load_spec(d)["input"] == before and load_spec(d)["unchanged_reruns"] == 1
    tail = last_lines((FIX / "pw" / "scf_crash.out").read_text(), 4)
    assert tail.startswith("Error in routine setup (1): | too few bands | stopping ... | [vm:")
    assert "%%%" not in tail  # QE's frame lines are no content


def test_launcher_failure_is_not_a_killed_run(tmp_path, pseudo_dir):
    """mpirun refusing to run as root: pw.x never wrote its header. Only the launcher
    handler answers, it gives up at once, and the sentence quotes mpirun and the fix."""
    d = _pw_dir(tmp_path, pseudo_dir, "mpirun_root.out", "relax")
    others = [h for h in default_handlers("pw", "pw.out") if type(h) is not LauncherFailureHandler]
    assert not any(h.check(d) for h in others)
    h = LauncherFailureHandler()
    assert h.check(d) and h.correct(d)["actions"] is None
    sentence = launcher_failure_sentence((d / "pw.out").read_text(), "mpirun -np 2", "pw.x")
    assert sentence.startswith(
        "The launcher 'mpirun -np 2' failed before pw.x started "
        '("mpirun has detected an attempt to run as root"): set OMPI_ALLOW_RUN_AS_ROOT=1 and '
        "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    )
    assert sentence.count(". ") == 0 and sentence.endswith(".")
    (d / "pw.out").write_text("")  # killed before anything was printed: a killed run
    assert not h.check(d) and KilledRunHandler().check(d)


def test_diagonalization_ladder(tmp_path, pseudo_dir):
    d = _pw_dir(tmp_path, pseudo_dir, "scf.out", "scf")
    (d / "pw.out").write_text(
        (FIX / "pw" / "scf_maxstep.out").read_text().split("JOB DONE")[0] + " " + "%" * 92 + "\n"
        "     Error in routine cdiaghg (193):\n     S matrix not positive definite\n"
    )
    h = DiagonalizationHandler()
    assert h.check(d) and not KilledRunHandler().check(d)
    for solver in ("paro", "cg"):
        h.correct(d)
        assert load_spec(d)["input"]["namelists"]["electrons"]["diagonalization"] == solver
    assert h.correct(d)["actions"] is None


def test_neb_step_limit_and_killed(tmp_path, pseudo_dir):
    s = make_lih_vacancy()
    engine = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=25, kspacing=None).get_input(s)
    neb = make_neb_input([s, s.copy()], engine, NebPathSettings(n_images=1, nstep_path=3))
    (tmp_path / SPEC_FILE).write_text(json.dumps({"kind": "neb", "input": neb.as_dict()}))
    for name in ("neb.out", "H2+H.path", "H2+H.dat"):
        shutil.copy(FIX / "neb_h3_nstep" / name, tmp_path / name)
    h = NebStepLimitHandler()
    assert h.check(tmp_path) and not KilledRunHandler("neb.out").check(tmp_path)
    h.correct(tmp_path)
    path = load_spec(tmp_path)["input"]["path"]
    assert path["restart_mode"] == "restart" and path["nstep_path"] == 6
    text = (tmp_path / "neb.out").read_text()
    (tmp_path / "neb.out").write_text(text[: len(text) // 2])  # killed mid-run
    k = KilledRunHandler("neb.out")
    assert k.check(tmp_path)
    assert [type(h).__name__ for h in default_handlers("neb", "neb.out")] == [
        "LauncherFailureHandler", "DiagonalizationHandler", "NebStepLimitHandler",
        "ScfConvergenceHandler", "KilledRunHandler", "UnrecognisedErrorHandler",
    ]  # fmt: skip
    engine_diag = DiagonalizationHandler("neb.out").actions(tmp_path, load_spec(tmp_path))[0]
    assert engine_diag[0]["action"]["_set"] == {
        "input->engine->namelists->electrons->diagonalization": "paro"
    }
    assert k.correct(tmp_path)["actions"][0]["action"]["_set"] == {
        "input->path->restart_mode": "restart"
    }


def test_neb_image_scf_failure_lowers_the_engine_mixing_and_restarts_the_band(tmp_path, pseudo_dir):
    """neb.x stops when an image's SCF does not converge (real output, electron_maxstep 2),
    though it prints JOB DONE: no killed run, no step limit; the engine's mixing_beta is
    lowered (0.4 → 0.32) and the band restarts from the path file, or from scratch when
    neb.x wrote none."""
    s = make_lih_vacancy()
    engine = PwInputGenerator(pseudo_dir=str(pseudo_dir), ecutwfc=25, kspacing=None).get_input(s)
    neb = make_neb_input([s, s.copy()], engine, NebPathSettings(n_images=1))
    for with_path in (True, False):
        d = tmp_path / str(with_path)
        d.mkdir()
        (d / SPEC_FILE).write_text(json.dumps({"kind": "neb", "input": neb.as_dict()}))
        names = ["neb.out", "H2+H.path"] if with_path else ["neb.out"]
        for name in names:
            shutil.copy(FIX / "neb_h3_scf" / name, d / name)
        h = ScfConvergenceHandler("neb.out")
        assert h.check(d)
        assert not NebStepLimitHandler().check(d) and not KilledRunHandler("neb.out").check(d)
        assert not UnrecognisedErrorHandler("neb.out").check(d)
        assert h.correct(d)["errors"] == ["scf_not_converged"]
        spec = load_spec(d)["input"]
        assert spec["engine"]["namelists"]["electrons"]["mixing_beta"] == pytest.approx(
            0.4 * DEFAULTS["mixing_beta_factor"]
        )
        assert spec["path"]["restart_mode"] == ("restart" if with_path else "from_scratch")
