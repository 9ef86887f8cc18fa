"""pick_converged on the real Li3ErBr6 series (../shared/fixtures/qe/li3erbr6/scf_convergence).

Cutoff series (k 4×2×4, dual 5; 20 atoms; '!' energies in Ry):
  ecut 120: -6740.56179589, 140: -6740.56288246, 160: -6740.56352012.
  140 vs 160: 0.00063766 Ry × 13.6057 / 20 = 0.43 meV/atom ≤ 1 → 140 qualifies.
  120 vs 160: 0.00172423 Ry × 13.6057 / 20 = 1.17 meV/atom > 1 → 120 does not.
  Picked: 140 Ry.
k-mesh series (ecut 120/600; value = number of k-points):
  k222 (8): -6740.56001062 vs k848 (256): -6740.56181403 → 1.23 meV/atom > 1;
  k424 (32): -6740.56179589 vs k848: 1.814e-5 Ry × 13.6057 / 20 = 0.012 meV/atom ≤ 1.
  Picked: 32 k-points (4×2×4).
"""

from __future__ import annotations

import re

import pytest
from jobflow import run_locally

from sseflows.qe.convergence import QeConvergenceMaker, is_settled, pick_converged
from sseflows.qe.parsers import parse_pw_output
from sseflows.qe.sets import PwInputGenerator
from tests.conftest import require_executable
from tests.qe.structures import lif_primitive


def test_pick_converged_small_series():
    """E = [0, 0.5e-3, 0.9e-3, 1.0e-3] eV/atom: 20 is within 1 meV of both larger values,
    10 is within 1 meV of all (max diff 1.0e-3) → 10; with tol 0.5 meV → 20."""
    assert pick_converged([10, 20, 30, 40], [0.0, 0.5e-3, 0.9e-3, 1.0e-3]) == 10
    assert pick_converged([40, 10, 30, 20], [1.0e-3, 0.0, 0.9e-3, 0.5e-3], 0.5e-3) == 20
    assert not is_settled([10, 20], [0.0, 0.1])
    with pytest.raises(ValueError):
        pick_converged([1, 2], [0.0])


def _series(folder):
    rows = []
    for path in sorted(folder.glob("*.out")):
        m = re.match(r"ecutwfc(\d+)ecutrho(\d+)_k(\d)(\d)(\d)_", path.name)
        ecut, rho, k = int(m.group(1)), int(m.group(2)), tuple(int(g) for g in m.group(3, 4, 5))
        r = parse_pw_output(path)
        assert r.converged and r.n_atoms == 20
        rows.append((ecut, rho, k, r.energy_ev_per_atom))
    return rows


def test_real_li3erbr6_series(qe_fixtures):
    rows = _series(qe_fixtures / "scf_convergence")
    cut = sorted((e, en) for e, rho, k, en in rows if k == (4, 2, 4) and rho == 5 * e)
    assert [c for c, _ in cut] == [40, 60, 80, 100, 120, 140, 160]
    assert pick_converged([c for c, _ in cut], [en for _, en in cut]) == 140
    kpts = sorted((k[0] * k[1] * k[2], en) for e, rho, k, en in rows if e == 120 and rho == 600)
    assert [n for n, _ in kpts] == [1, 4, 8, 32, 108, 256]
    assert pick_converged([n for n, _ in kpts], [en for _, en in kpts]) == 32


@pytest.mark.slow
def test_convergence_maker_runs_both_series(tmp_path, pseudo_dir, monkeypatch):
    require_executable("pw.x")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    maker = QeConvergenceMaker(
        generator=PwInputGenerator(pseudo_dir=str(pseudo_dir), conv_thr_ry_per_atom=1e-8),
        ecutwfc_values=(20, 30, 40),
        dual=4,
        kspacing_for_cutoff=0.5,
        kspacing_values=(0.8, 0.5, 0.35),
        tol_ev_per_atom=1e-3,
        work_dir=str(tmp_path),
        launcher="",
    )
    job = maker.make(lif_primitive(), "lif")
    out = run_locally(job, create_folders=False, log=False)[job.uuid][1].output
    cut = out["cutoff_series"]
    assert cut["ecutwfc"] == [20, 30, 40] and len(cut["energy_ev_per_atom"]) == 3
    assert out["ecutwfc"] == pick_converged(cut["ecutwfc"], cut["energy_ev_per_atom"])
    assert out["ecutrho"] == 4 * out["ecutwfc"]
    k = out["kpoint_series"]
    assert k["n_kpoints"] == sorted(k["n_kpoints"]) and len(set(k["n_kpoints"])) == len(
        k["n_kpoints"]
    )
    assert out["kspacing"] in k["kspacing"]
    assert (tmp_path / "lif" / "convergence" / "ecut30" / "pw.out").is_file()
