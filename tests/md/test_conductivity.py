"""From per-temperature trajectories to a ConductivityDoc, including flagged temperatures."""

from __future__ import annotations

import numpy as np
import pytest

from sseflows.md.arrhenius import K_B_EV, nernst_einstein_s_per_cm
from sseflows.md.conductivity import (
    ConductivitySettings,
    analyze_trajectory,
    conductivity_doc,
)
from sseflows.md.schemas import ConductivityDoc, TemperatureResult
from sseflows.md.trajectory import TrajectoryData

EA, D0 = 0.3, 1e-2  # eV, cm²/s → D(600 K) = 3.0e-5 ... D(1200 K) = 5.5e-4 cm²/s


def _arrhenius_walk(make_walk, temperature, seed=0):
    d = D0 * np.exp(-EA / (K_B_EV * temperature))
    positions, species, lattice = make_walk(
        d_cm2_per_s=d, seed=seed, n_frames=600, frame_interval_fs=10.0
    )
    return TrajectoryData(tuple(species), positions, lattice, None, None, f"T{temperature}")


def test_synthetic_arrhenius_walks_recover_ea_and_sigma(make_walk):
    temps = [600.0, 800.0, 1000.0, 1200.0]
    results = [
        analyze_trajectory(_arrhenius_walk(make_walk, t, i), t, 10.0) for i, t in enumerate(temps)
    ]
    assert all(r.flag == "ok" for r in results)
    density = 32 / 1e-21  # 32 Li in (10 Å)³ = 3.2e22 cm⁻³
    doc = conductivity_doc("walk", results, density, engine="external")
    assert doc.status == "completed"
    assert doc.n_fitted == 4
    assert abs(doc.ea_ev - EA) < 3 * doc.ea_err_ev
    assert doc.ea_err_ev < 0.05
    truth = nernst_einstein_s_per_cm(density, D0 * np.exp(-EA / (K_B_EV * 300.0)), 300.0)
    low, high = doc.sigma_rt_range_s_per_cm
    assert low < doc.sigma_rt_s_per_cm < high
    assert abs(np.log(doc.sigma_rt_s_per_cm / truth)) < 3 * np.log(high / doc.sigma_rt_s_per_cm)
    assert doc.temperatures_k == temps
    assert doc.settings["haven_ratio"] == 1.0


def test_flagged_temperatures_are_reported_not_fitted(make_walk):
    temps = [600.0, 800.0, 1000.0, 1200.0]
    results = [
        analyze_trajectory(_arrhenius_walk(make_walk, t, i), t, 10.0) for i, t in enumerate(temps)
    ]
    results.append(TemperatureResult(temperature_k=1400.0, flag="melted", reason="it melted"))
    doc = conductivity_doc("walk", results, 3.2e22)
    assert doc.status == "completed"
    assert doc.flags == ["ok", "ok", "ok", "ok", "melted"]
    assert doc.n_fitted == 4
    assert "1400 K (melted)" in doc.reason
    assert [r.used_in_fit for r in doc.per_temperature] == [True] * 4 + [False]


def test_fewer_than_three_usable_temperatures_fail_with_reason(make_walk):
    results = [analyze_trajectory(_arrhenius_walk(make_walk, t), t, 10.0) for t in (1000.0, 1200.0)]
    doc = conductivity_doc("two", results, 3.2e22)
    assert doc.status == "failed"
    assert doc.reason.startswith("an Arrhenius fit needs at least 3 temperatures")
    assert doc.ea_ev is None and doc.sigma_rt_s_per_cm is None
    assert all(d is not None for d in doc.diffusivities_cm2_per_s)  # D still reported


def test_mismatched_trajectory_is_failed_and_others_finish(make_walk):
    temps = [600.0, 800.0, 1000.0, 1200.0]
    trajs = [_arrhenius_walk(make_walk, t, i) for i, t in enumerate(temps)]
    reference = trajs[0].species
    wrong = TrajectoryData(
        ("Na",) * 32 + ("S",) * 27, trajs[1].positions, trajs[1].lattice, source="na.xyz"
    )
    stamped = TrajectoryData(
        reference, trajs[2].positions, trajs[2].lattice, 1.0, source="vasprun.xml"
    )
    results = [
        analyze_trajectory(trajs[0], 600.0, 10.0, reference),
        analyze_trajectory(wrong, 800.0, 10.0, reference),
        analyze_trajectory(stamped, 1000.0, 10.0, reference),
        analyze_trajectory(trajs[3], 1200.0, 10.0, reference),
    ]
    assert [r.flag for r in results] == ["ok", "failed", "failed", "ok"]
    assert "do not match" in results[1].reason and results[1].reason.endswith("(at 800 K)")
    assert "every 1 fs but the time step given is 10 fs" in results[2].reason
    doc = conductivity_doc("mixed", results, 3.2e22)
    assert doc.status == "failed"
    assert "got 2 of 4" in doc.reason


def test_equilibration_frames_are_discarded(make_walk):
    traj = _arrhenius_walk(make_walk, 1000.0)
    result = analyze_trajectory(traj, 1000.0, 10.0, discard_frames=100)
    assert result.n_frames == 500
    assert result.duration_ps == pytest.approx(499 * 10.0 / 1000)


def test_settings_round_trip_and_doc_json():
    settings = ConductivitySettings(haven_ratio=0.4)
    assert ConductivitySettings.from_dict(settings.as_dict()) == settings
    doc = ConductivityDoc(candidate_id="x", status="failed", reason="r")
    data = doc.model_dump(mode="json")
    for key in (
        "temperatures_k",
        "diffusivities_cm2_per_s",
        "ea_ev",
        "ea_err_ev",
        "sigma_rt_s_per_cm",
        "sigma_rt_range_s_per_cm",
    ):
        assert key in data
    assert data["tier"] == "md"
