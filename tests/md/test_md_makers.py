"""MDArrheniusMaker: flow wiring, failed MD jobs, bad candidates, and one real CHGNet run."""

from __future__ import annotations

import numpy as np
import pytest
from jobflow import job, run_locally
from md_synthetic import random_walk
from pymatgen.core import Lattice, Structure
from pymatgen.core.trajectory import Trajectory

from sseflows.core.candidate import Candidate
from sseflows.core.errors import ConfigurationError
from sseflows.md.arrhenius import K_B_EV
from sseflows.md.makers import MDArrheniusMaker
from sseflows.stores import build_job_store


@pytest.fixture
def lif() -> Candidate:
    s = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.03), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    return Candidate.from_structure(s, "LiF-test")


@job
def fake_md(temperature: float, blow_up: str = "") -> dict:
    """Stands in for atomate2's MD job (CHGNet is exercised in the slow test below): returns
    a random walk whose D follows Arrhenius (E_a = 0.3 eV) in the same document layout."""
    if blow_up == "raise":
        raise RuntimeError("MD crashed")
    d = 1e-2 * np.exp(-0.3 / (K_B_EV * temperature))
    positions, species, lattice = random_walk(
        d, n_frames=400, frame_interval_fs=20.0, seed=int(temperature)
    )
    if blow_up == "nan":
        positions[200:] = np.nan
    traj = Trajectory(species=species, coords=positions @ np.linalg.inv(lattice), lattice=lattice)
    return {"objects": {"trajectory": traj}}


def test_failed_md_jobs_are_flagged_and_the_rest_is_fitted(lif, monkeypatch):
    """One MD job raises, one blows up (NaN): the analysis still runs and fits the other three."""
    failures = {500.0: "raise", 600.0: "nan"}
    monkeypatch.setattr(
        MDArrheniusMaker, "md_job", lambda self, cell, t: fake_md(t, failures.get(t, ""))
    )
    maker = MDArrheniusMaker(
        temperatures_k=(500.0, 600.0, 800.0, 1000.0, 1200.0),
        traj_interval=10,
        time_step_fs=2.0,
        equilibration_steps=0,
        supercell_min_length_a=0.0,
    )
    flow = maker.make(lif)
    responses = run_locally(flow, store=build_job_store("memory"), ensure_success=False)
    doc = responses[flow.jobs[-1].uuid][1].output
    assert doc.flags == ["failed", "exploded", "ok", "ok", "ok"]
    assert "did not finish" in doc.per_temperature[0].reason
    assert doc.status == "completed"
    assert doc.n_fitted == 3
    assert abs(doc.ea_ev - 0.3) < 3 * doc.ea_err_ev
    assert doc.sigma_rt_s_per_cm > 0


def test_candidate_without_li_gives_a_failed_document():
    s = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    flow = MDArrheniusMaker().make(Candidate.from_structure(s, "NaCl"))
    responses = run_locally(flow, store=build_job_store("memory"))
    doc = responses[flow.jobs[0].uuid][1].output
    assert doc.status == "failed"
    assert doc.reason == "Candidate 'NaCl': the structure contains no Li, so no Li MSD."


def test_fewer_than_three_temperatures_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="at least 3 distinct temperatures"):
        MDArrheniusMaker(temperatures_k=(800.0, 1000.0))


def test_vasp_flow_from_protocol_has_one_independent_job_per_temperature(lif):
    """VASP cannot run here: only the wiring is checked (4 atomate2 MD jobs + analysis)."""
    maker = MDArrheniusMaker.from_protocol()
    flow = maker.make(lif)
    md_jobs, analysis = flow.jobs[:-1], flow.jobs[-1]
    assert [j.name for j in md_jobs] == [
        f"LiF-test vasp aimd {t} K" for t in (600, 800, 1000, 1200)
    ]
    assert all(not j.input_references for j in md_jobs)  # independent: run in parallel
    assert {r.uuid for r in analysis.input_references} == {j.uuid for j in md_jobs}
    assert maker.discard_frames == 3000 and maker.frame_interval_fs == 2.0
    incar = (
        md_jobs[0]
        .maker.input_set_generator.get_input_set(md_jobs[0].function_args[0], potcar_spec=True)
        .incar
    )
    assert incar["NSW"] == 13000 and incar["ENCUT"] == 400


@pytest.mark.slow
def test_real_chgnet_md_three_temperatures(lif):
    """A real CHGNet NVT MD (atomate2 ForceFieldMDMaker), 8-atom LiF, 3 × 12 steps.

    Far too short for diffusion: every temperature must come out ``too_short`` (24 fs < 5 ps)
    with a finite D and a vibrational Li MSD, and the document must fail with the fit reason; the
    trajectories must land in the JobStore's ``data`` store.
    """
    maker = MDArrheniusMaker(
        temperatures_k=(600.0, 900.0, 1200.0),
        production_steps=10,
        equilibration_steps=2,
        traj_interval=1,
        supercell_min_length_a=0.0,
    )
    lif8 = Candidate.from_structure(lif.structure.to_conventional(), "LiF8")
    flow = maker.make(lif8)
    store = build_job_store("memory")
    responses = run_locally(flow, store=store, ensure_success=True)
    doc = responses[flow.jobs[-1].uuid][1].output
    assert doc.engine == "chgnet"
    assert doc.flags == ["too_short"] * 3
    for result in doc.per_temperature:
        assert result.n_frames == 11  # 13 stored frames (steps 0..12) minus 2 equilibration
        assert np.isfinite(result.diffusivity_cm2_per_s)
        assert 0 < result.li_msd_end_a2 < 1.0
    assert doc.status == "failed"
    assert "got 0 of 3" in doc.reason
    assert doc.li_density_per_cm3 == pytest.approx(4 / (4.03**3 * 1e-24), rel=1e-6)
    assert store.additional_stores["data"].count() >= 3


def test_vasp_outputs_are_parsed_from_their_folders(tmp_path):
    """atomate2's VASP TaskDoc is mocked (VASP cannot run here) by its ``dir_name`` only; each
    folder holds an XDATCAR of an Arrhenius random walk (E_a = 0.3 eV) with 20 equilibration
    frames that are discarded."""
    from pymatgen.core import Structure as S

    from sseflows.md.conductivity import ConductivitySettings
    from sseflows.md.makers import analyze_md_runs

    temps = [600.0, 800.0, 1000.0, 1200.0]
    outputs = []
    for temperature in temps:
        d = 1e-2 * np.exp(-0.3 / (K_B_EV * temperature))
        positions, species, lattice = random_walk(
            d, n_frames=220, frame_interval_fs=30.0, seed=int(temperature)
        )
        folder = tmp_path / f"T{temperature:g}"
        folder.mkdir()
        frames = [
            S(lattice, species, p, coords_are_cartesian=True, to_unit_cell=True) for p in positions
        ]
        Trajectory.from_structures(frames).write_Xdatcar(str(folder / "XDATCAR"))
        outputs.append({"dir_name": f"node042:{folder}"})
    outputs.append(None)  # a fifth VASP job that never finished
    doc = analyze_md_runs.original(
        "LGPS-vasp",
        [*temps, 1400.0],
        outputs,
        30.0,
        20,
        "vasp",
        "Li10GeP2S12",
        ConductivitySettings().as_dict(),
        {"preset": "kang2022"},
    )
    assert doc.flags == ["ok", "ok", "ok", "ok", "failed"]
    assert all(r.n_frames == 200 for r in doc.per_temperature[:4])
    assert doc.status == "completed"
    assert abs(doc.ea_ev - 0.3) < 3 * doc.ea_err_ev
    assert doc.li_density_per_cm3 == pytest.approx(32 / 1e-21)
