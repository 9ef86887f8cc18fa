"""Arrhenius fit, extrapolation and Nernst–Einstein, checked by hand and against pymatgen."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.analysis.diffusion.analyzer import fit_arrhenius, get_extrapolated_conductivity
from pymatgen.core import Lattice, Structure

from sseflows.md.arrhenius import (
    K_B_EV,
    arrhenius_fit,
    conductivity_range,
    li_density_per_cm3,
    nernst_einstein_s_per_cm,
)

TEMPS = np.array([600.0, 800.0, 1000.0, 1200.0])


def test_nernst_einstein_by_hand():
    """n = 1e22 cm⁻³, D = 1e-6 cm²/s, T = 300 K, z = 1, H_R = 1.

    σ = n e² D / (k_B T) = 1e22 cm⁻³ × (1.602176634e-19 C)² × 1e-6 cm²/s
        / (1.380649e-23 J/K × 300 K)
      = 2.566970e-22 / 4.141947e-21 C²/(J s cm) = 0.0619750 S/cm.
    """
    assert nernst_einstein_s_per_cm(1e22, 1e-6, 300.0) == pytest.approx(0.0619750, rel=1e-6)
    # Haven ratio 0.5 doubles it; charge 2 quadruples it
    assert nernst_einstein_s_per_cm(1e22, 1e-6, 300.0, haven_ratio=0.5) == pytest.approx(
        0.1239499, rel=1e-6
    )
    assert nernst_einstein_s_per_cm(1e22, 1e-6, 300.0, charge=2) == pytest.approx(
        0.2478998, rel=1e-6
    )


def test_li_density_of_a_cube():
    """One Li in a 2 Å cube: 1 / 8e-24 cm³ = 1.25e23 cm⁻³."""
    s = Structure(Lattice.cubic(2.0), ["Li"], [[0, 0, 0]])
    assert li_density_per_cm3(s) == pytest.approx(1.25e23)


def test_exact_arrhenius_data_recover_ea_and_sigma():
    ea, d0 = 0.25, 1e-3
    d = d0 * np.exp(-ea / (K_B_EV * TEMPS))
    fit = arrhenius_fit(TEMPS, d)
    assert fit.ea_ev == pytest.approx(ea, rel=1e-9)
    assert fit.d0_cm2_per_s == pytest.approx(d0, rel=1e-9)
    assert fit.ea_err_ev < 1e-9
    d_rt, sigma, (low, high) = conductivity_range(fit, 2e22)
    expected_d = d0 * np.exp(-ea / (K_B_EV * 300.0))  # 6.3e-8 cm²/s
    assert d_rt == pytest.approx(expected_d, rel=1e-9)
    assert sigma == pytest.approx(nernst_einstein_s_per_cm(2e22, expected_d, 300.0), rel=1e-9)
    assert low <= sigma <= high


def test_unweighted_fit_matches_pymatgen():
    rng = np.random.default_rng(0)
    d = 1e-3 * np.exp(-0.3 / (K_B_EV * TEMPS)) * np.exp(rng.normal(0, 0.2, TEMPS.size))
    fit = arrhenius_fit(TEMPS, d)
    ea, c, std_ea = fit_arrhenius(TEMPS, d)
    assert fit.ea_ev == pytest.approx(ea, rel=1e-9)
    assert fit.d0_cm2_per_s == pytest.approx(c, rel=1e-9)
    assert fit.ea_err_ev == pytest.approx(std_ea, rel=1e-9)


def test_sigma_matches_pymatgen_extrapolation():
    """pymatgen returns mS/cm; ours is S/cm, same Nernst–Einstein (z = 1 for Li)."""
    s = Structure(
        Lattice.cubic(5.0),
        ["Li", "Li", "Cl", "Cl"],
        [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
    )
    d = 1e-3 * np.exp(-0.3 / (K_B_EV * TEMPS)) * np.array([1.1, 0.9, 1.05, 0.97])
    fit = arrhenius_fit(TEMPS, d)
    _, sigma, _ = conductivity_range(fit, li_density_per_cm3(s))
    ms_per_cm = get_extrapolated_conductivity(TEMPS, d, 300.0, s, "Li")
    assert sigma == pytest.approx(ms_per_cm / 1000.0, rel=1e-6)


def test_noisy_data_recover_ea_within_error_and_range_covers_truth():
    """5 % errors on D: E_a within 3 standard errors, true σ_RT inside the 3σ range."""
    ea, d0, n = 0.3, 2e-3, 3e22
    hits = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        err = 0.05 * d0 * np.exp(-ea / (K_B_EV * TEMPS))
        d = d0 * np.exp(-ea / (K_B_EV * TEMPS)) + rng.normal(0, 1, TEMPS.size) * err
        fit = arrhenius_fit(TEMPS, d, err)
        assert abs(fit.ea_ev - ea) < 3 * fit.ea_err_ev
        truth = nernst_einstein_s_per_cm(n, d0 * np.exp(-ea / (K_B_EV * 300.0)), 300.0)
        _, _, (low, high) = conductivity_range(fit, n, n_sigma=3.0)
        hits += low <= truth <= high
    assert hits >= 9


def test_error_propagation_to_ln_d_by_hand():
    """var ln D(T) = var(ln D0) + var(Ea)/(kT)² − 2 cov/(kT) for the 2×2 covariance."""
    rng = np.random.default_rng(5)
    d = 1e-3 * np.exp(-0.3 / (K_B_EV * TEMPS)) * np.exp(rng.normal(0, 0.1, TEMPS.size))
    fit = arrhenius_fit(TEMPS, d)
    kt = K_B_EV * 300.0
    expected = fit.cov[0, 0] + fit.cov[1, 1] / kt**2 - 2 * fit.cov[0, 1] / kt
    assert fit.ln_diffusivity(300.0)[1] == pytest.approx(np.sqrt(expected))
    assert fit.ln_diffusivity(300.0)[1] > fit.ln_diffusivity(900.0)[1]  # wider far away


def test_bad_arrhenius_input_raises():
    with pytest.raises(ValueError, match="at least two"):
        arrhenius_fit([600.0], [1e-5])
    with pytest.raises(ValueError, match="positive"):
        arrhenius_fit([600.0, 800.0, 1000.0], [1e-5, 0.0, 1e-4])
