"""Parsers on real outputs: pw.x runs made on this machine (tests/qe/fixtures/pw, a 7-atom
LiH vacancy cell at 25 Ry), QE's NEB example01 (H2+H, tests/qe/fixtures/neb_h3_*), and the
Li3ErBr6 vc-relax from ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sseflows.qe.parsers import (
    parse_neb_output,
    parse_pw_output,
    parse_qe_time,
    pw_output_complete,
    read_path_file,
)

FIX = Path(__file__).parent / "fixtures"


def test_qe_time_strings():
    assert parse_qe_time("1.55s") == pytest.approx(1.55)
    assert parse_qe_time("2m 3.45s") == pytest.approx(123.45)
    assert parse_qe_time("3h 3m") == pytest.approx(10980)


def test_scf_output():
    """'!    total energy = -48.83... Ry' × 13.6057 eV/Ry; 7 atoms; 5 scf iterations."""
    r = parse_pw_output(FIX / "pw" / "scf.out")
    ry = float(
        next(
            line
            for line in (FIX / "pw" / "scf.out").read_text().splitlines()
            if line.startswith("!")
        ).split()[-2]
    )
    assert r.energy_ev == pytest.approx(ry * 13.605693, rel=1e-7)
    assert r.converged and r.job_done and r.calculation == "scf"
    assert r.n_atoms == 7 and r.scf_steps == [5]
    assert r.forces_ev_per_ang.shape == (7, 3)
    assert r.structure.composition.reduced_formula == "Li3H4"
    assert r.wall_s == pytest.approx(1.55)
    assert pw_output_complete(FIX / "pw" / "scf.out")


def test_failed_outputs_are_classified():
    cases = {
        "scf_maxstep.out": "scf_not_converged",
        "relax_nstep.out": "max_ionic_steps",
        "relax_bfgsfail.out": "bfgs_history_failure",
        "relax_walltime.out": "walltime",
        "relax_killed.out": "incomplete",
    }
    for name, error in cases.items():
        r = parse_pw_output(FIX / "pw" / name)
        assert error in r.errors, name
        assert not r.converged, name
        assert not pw_output_complete(FIX / "pw" / name)
    killed = parse_pw_output(FIX / "pw" / "relax_killed.out")
    assert killed.structure is not None and not killed.job_done  # last geometry survives


def test_crash_message_is_kept():
    """nbnd = 1 for 14 electrons: pw.x stops with 'Error in routine setup (1): too few bands'."""
    r = parse_pw_output(FIX / "pw" / "scf_crash.out")
    assert "qe_error" in r.errors and not r.converged and not r.job_done
    assert r.error_message == "too few bands (routine setup)"


def test_vc_relax_real_output(qe_fixtures):
    """Li3ErBr6: BFGS stopped after two history resets with gradient 5.7e-5 > 1e-5 Ry/Bohr,
    so not converged; final cell a = 6.9455 Å (6.945531302 × alat 1.88972612 Bohr)."""
    r = parse_pw_output(qe_fixtures / "vc_relax" / "vc-relax.out")
    assert r.calculation == "vc-relax" and r.n_atoms == 20
    assert "bfgs_history_failure" in r.errors and not r.converged
    assert r.structure.lattice.abc[0] == pytest.approx(
        np.hypot(6.945531302, 0.017458583) * 1.88972612 * 0.52917721, abs=1e-3
    )
    assert r.wall_s == pytest.approx(3 * 3600 + 3 * 60)


def test_neb_example01():
    """neb.x example01 (H2+H, 5 images): 'activation energy (->) = 0.190352 eV', converged
    in 13 iterations with CI_scheme auto; path length 5.244 bohr = 2.775 Å."""
    r = parse_neb_output(FIX / "neb_h3_example01" / "neb.out")
    assert r.converged and r.iterations == 13 and r.climbing_image
    assert len(r.energies_ev) == 5 and r.energies_ev[0] == 0.0
    assert r.barrier_ev == pytest.approx(0.190352, abs=1e-6)
    assert r.barrier_back_ev == pytest.approx(0.190352, abs=1e-6)
    assert r.reaction_coordinate_angstrom[-1] == pytest.approx(5.244 * 0.529177, abs=1e-3)
    energies, positions = read_path_file(FIX / "neb_h3_example01" / "H2+H.path")
    assert energies[0] == pytest.approx(-1.8139188785 * 27.211386, rel=1e-8)
    assert positions[0][0, 0] == pytest.approx(-4.5667 * 0.529177, abs=1e-5)
    # the .dat energies agree with the absolute .path energies
    assert energies[2] - energies[0] == pytest.approx(r.energies_ev[2], abs=1e-5)


def test_neb_step_limit_then_ci_restart():
    """nstep_path = 3 without CI stops unconverged; restarting from the .path file with
    CI_scheme auto continues the count (iterations 4..12) and converges."""
    stopped = parse_neb_output(FIX / "neb_h3_nstep" / "neb.out")
    assert not stopped.converged and stopped.iterations == 3
    assert "neb_max_steps" in stopped.errors and not stopped.climbing_image
    restarted = parse_neb_output(FIX / "neb_h3_restart_ci" / "neb.out")
    assert restarted.converged and restarted.iterations == 12 and restarted.climbing_image
    assert restarted.barrier_ev == pytest.approx(0.190128, abs=1e-6)
