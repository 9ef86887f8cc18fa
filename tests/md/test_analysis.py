"""MSD → D on synthetic random walks whose D is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from sseflows.md.analysis import (
    DiffusionSettings,
    analyze_temperature,
    fit_diffusivity,
    remove_com_drift,
    unwrap_positions,
)


def test_unwrap_restores_continuous_path(make_walk):
    wrapped, _, lattice = make_walk(wrap=True, n_frames=200)
    unwrapped, _, _ = make_walk(wrap=False, n_frames=200)
    restored = unwrap_positions(wrapped, lattice)
    # same path up to whole lattice vectors fixed at frame 0
    shift = restored[0] - unwrapped[0]
    assert np.allclose(shift / 10.0, np.round(shift / 10.0), atol=1e-9)
    assert np.allclose(restored - shift, unwrapped, atol=1e-9)


def test_remove_com_drift_cancels_uniform_translation():
    positions = np.zeros((5, 2, 3))
    positions[:, :, 0] = np.arange(5)[:, None] * 0.3  # both atoms translate together
    fixed = remove_com_drift(positions, np.array([7.0, 32.0]))
    assert np.allclose(fixed, positions[:1])


@pytest.mark.parametrize("wrap", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_walk_recovers_d_within_stated_error(make_walk, wrap, seed):
    """D = 1e-5 cm²/s with a drift of 0.05 Å/frame (7.5× the Li step) that must be removed."""
    d_true = 1e-5
    positions, species, lattice = make_walk(d_cm2_per_s=d_true, wrap=wrap, seed=seed)
    fit = fit_diffusivity(positions, species, lattice, frame_interval_fs=10.0)
    assert fit.diffusivity_err_cm2_per_s < 0.2 * d_true
    assert abs(fit.diffusivity_cm2_per_s - d_true) < 3 * fit.diffusivity_err_cm2_per_s
    assert fit.framework_rmsd_a < 0.3  # drift removed: only the 0.1 Å/axis vibration
    assert fit.r2 > 0.9


def test_stated_error_matches_scatter_between_runs(make_walk):
    """The standard error agrees with the spread of D over 12 independent runs (factor 2)."""
    fits = [
        fit_diffusivity(*make_walk(seed=seed, n_frames=800, wrap=False), frame_interval_fs=10.0)
        for seed in range(12)
    ]
    spread = np.std([f.diffusivity_cm2_per_s for f in fits], ddof=1)
    stated = np.mean([f.diffusivity_err_cm2_per_s for f in fits])
    assert 0.5 < stated / spread < 2.0


def test_drift_left_in_would_bias_d(make_walk):
    """Control: without the drift removal a 0.05 Å/frame drift dominates the MSD."""
    positions, species, lattice = make_walk(wrap=False)
    from sseflows.md import analysis

    unwrapped = unwrap_positions(positions, lattice)
    msd = analysis.msd_per_atom(unwrapped)[:32].mean(axis=0)
    slope_naive = (msd[1000] - msd[150]) / (850 * 10.0) / 60
    fit = fit_diffusivity(positions, species, lattice, frame_interval_fs=10.0)
    assert slope_naive > 3 * fit.diffusivity_cm2_per_s


def test_flat_msd_is_flagged_not_diffusing(make_walk):
    positions, species, lattice = make_walk(d_cm2_per_s=1e-9, seed=3)
    result = analyze_temperature(600, positions, species, lattice, 10.0)
    assert result.flag == "not_diffusing"
    assert not result.used_in_fit
    assert "does not diffuse at 600 K" in result.reason


def test_moving_framework_is_flagged_melted(make_walk):
    positions, species, lattice = make_walk(seed=4)
    rng = np.random.default_rng(9)
    kicks = rng.normal(0, 0.15, (positions.shape[0] - 1, 27, 3))
    positions[1:, 32:] += np.cumsum(kicks, axis=0)  # framework diffuses too
    result = analyze_temperature(1200, positions, species, lattice, 10.0)
    assert result.flag == "melted"
    assert result.framework_rmsd_a > 1.5
    assert "melted" in result.reason


def test_nan_positions_are_flagged_exploded(make_walk):
    positions, species, lattice = make_walk(n_frames=100)
    positions[60:, 3] = np.nan
    result = analyze_temperature(1200, positions, species, lattice, 10.0)
    assert result.flag == "exploded"
    assert result.diffusivity_cm2_per_s is None
    energies = np.zeros(100)
    energies[-1] = np.inf
    good, species, lattice = make_walk(n_frames=100)
    assert analyze_temperature(1200, good, species, lattice, 10.0, energies).flag == "exploded"
    energies[-1] = 59 * 1.2  # +1.2 eV/atom over 59 atoms: blown up although finite
    blown = analyze_temperature(1200, good, species, lattice, 10.0, energies)
    assert blown.flag == "exploded" and "rose 1.20 eV/atom" in blown.reason
    energies[-1] = 59 * 0.5
    assert analyze_temperature(1200, good, species, lattice, 10.0, energies).flag != "exploded"


def test_no_li_and_too_few_frames_raise_clear_errors(make_walk):
    positions, species, lattice = make_walk(n_frames=100)
    with pytest.raises(ValueError, match="contains no Li"):
        fit_diffusivity(positions, ["Na"] * 32 + ["S"] * 27, lattice, 10.0)
    with pytest.raises(ValueError, match="too few"):
        fit_diffusivity(positions[:3], species, lattice, 10.0)


def test_fit_window_is_configurable(make_walk):
    positions, species, lattice = make_walk()
    narrow = DiffusionSettings(fit_start=0.2, fit_end=0.4)
    fit = fit_diffusivity(positions, species, lattice, 10.0, narrow)
    assert abs(fit.diffusivity_cm2_per_s - 1e-5) < 3 * fit.diffusivity_err_cm2_per_s


def test_short_run_is_flagged_too_short(make_walk):
    """1 ps of fast diffusion (MSD ≫ 1 Å²) is still too short for the 5 ps minimum."""
    positions, species, lattice = make_walk(d_cm2_per_s=1e-4, n_frames=101, seed=5)
    result = analyze_temperature(1000, positions, species, lattice, 10.0)
    assert result.flag == "too_short"
    assert result.li_msd_end_a2 > 1.0
    assert "lasts 1 ps, shorter than the 5 ps" in result.reason
    lenient = DiffusionSettings(min_duration_ps=0.5)
    assert analyze_temperature(1000, positions, species, lattice, 10.0, None, lenient).flag == "ok"
