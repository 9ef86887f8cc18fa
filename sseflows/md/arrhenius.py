"""Arrhenius fit with its covariance, extrapolation to room temperature, Nernst–Einstein σ.

pymatgen-analysis-diffusion's ``fit_arrhenius`` gives E_a and an unweighted standard error
(None with ≤ 2 temperatures), and ``get_extrapolated_conductivity`` ignores errors. Here the
fit is the same straight line ln D = ln D₀ − E_a / (k_B T), weighted by σ(ln D) = σ_D / D
when errors are given, and its 2×2 covariance is propagated to ln D(T_RT) and hence to σ.

Covariance convention: with errors, cov = (AᵀWA)⁻¹ × max(1, χ²/dof) (the scale factor widens
the errors when the points scatter more than their error bars say); without errors,
cov = s²(AᵀA)⁻¹ with s² = RSS/(n−2) (identical to pymatgen's ``std_Ea``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.core import Structure
from scipy import constants as const

K_B_EV = const.k / const.e
"""Boltzmann constant, eV/K."""


@dataclass(frozen=True)
class ArrheniusFit:
    """ln D = ln_d0 − ea_ev / (k_B T), D in cm²/s.

    Attributes:
        ea_ev: Activation energy, eV.
        ln_d0: ln of the prefactor (D₀ in cm²/s).
        cov: Covariance of (ln_d0, ea_ev).
        r2: R² of ln D against 1/T.
        n: Number of temperatures.
    """

    ea_ev: float
    ln_d0: float
    cov: np.ndarray
    r2: float
    n: int

    @property
    def ea_err_ev(self) -> float:
        """Standard error of E_a, eV (inf when it cannot be estimated)."""
        return float(np.sqrt(self.cov[1, 1]))

    @property
    def d0_cm2_per_s(self) -> float:
        """Prefactor D₀, cm²/s."""
        return float(np.exp(self.ln_d0))

    def ln_diffusivity(self, temperature_k: float) -> tuple[float, float]:
        """ln D at ``temperature_k`` (K) and its standard error (from the covariance)."""
        jac = np.array([1.0, -1.0 / (K_B_EV * temperature_k)])
        value = self.ln_d0 + jac[1] * self.ea_ev
        return float(value), float(np.sqrt(max(jac @ self.cov @ jac, 0.0)))


def arrhenius_fit(
    temperatures_k: list[float] | np.ndarray,
    diffusivities_cm2_per_s: list[float] | np.ndarray,
    errors_cm2_per_s: list[float] | np.ndarray | None = None,
) -> ArrheniusFit:
    """Fit D(T) = D₀ exp(−E_a / k_B T) by (weighted) least squares on ln D against 1/(k_B T).

    Args:
        temperatures_k: Temperatures, K (at least 2; the error needs at least 3).
        diffusivities_cm2_per_s: D at each temperature, cm²/s, all > 0.
        errors_cm2_per_s: Standard errors of D, cm²/s; all > 0 to weight the fit.

    Raises:
        ValueError: Fewer than two points or a non-positive D.
    """
    temps = np.asarray(temperatures_k, dtype=float)
    d = np.asarray(diffusivities_cm2_per_s, dtype=float)
    if temps.size < 2 or temps.size != d.size:
        raise ValueError("an Arrhenius fit needs at least two temperatures with one D each")
    if np.any(d <= 0) or np.any(temps <= 0):
        raise ValueError("diffusivities and temperatures must be positive for an Arrhenius fit")
    x = -1.0 / (K_B_EV * temps)
    y = np.log(d)
    design = np.vstack([np.ones_like(x), x]).T
    weighted = errors_cm2_per_s is not None and np.all(np.asarray(errors_cm2_per_s) > 0)
    sigma = np.asarray(errors_cm2_per_s, dtype=float) / d if weighted else np.ones_like(y)
    w = 1.0 / sigma**2
    normal = design.T @ (design * w[:, None])
    params = np.linalg.solve(normal, design.T @ (w * y))
    residual = y - design @ params
    dof = temps.size - 2
    chi2 = float(residual @ (w * residual))
    if weighted:
        scale = max(1.0, chi2 / dof) if dof > 0 else 1.0
    else:
        scale = chi2 / dof if dof > 0 else np.inf
    cov = np.linalg.inv(normal) * scale
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(residual @ residual) / ss_tot if ss_tot > 0 else 1.0
    return ArrheniusFit(
        ea_ev=float(params[1]), ln_d0=float(params[0]), cov=cov, r2=r2, n=int(temps.size)
    )


def nernst_einstein_s_per_cm(
    density_per_cm3: float,
    diffusivity_cm2_per_s: float,
    temperature_k: float,
    charge: float = 1.0,
    haven_ratio: float = 1.0,
) -> float:
    """σ = n (z e)² D / (k_B T H_R) in S/cm.

    Units: cm⁻³ × C² × cm²/s / (J/K × K) = C²/(J s cm) = S/cm, so no conversion factor.
    Example: n = 1e22 cm⁻³, D = 1e-6 cm²/s, T = 300 K, z = 1, H_R = 1 gives
    1e22 × (1.602177e-19 C)² × 1e-6 / (1.380649e-23 × 300 J) = 0.0619750 S/cm.
    """
    return (
        density_per_cm3
        * (charge * const.e) ** 2
        * diffusivity_cm2_per_s
        / (const.k * temperature_k * haven_ratio)
    )


def li_density_per_cm3(structure: Structure, specie: str = "Li") -> float:
    """Number density of ``specie`` in ``structure``, cm⁻³ (occupancies counted)."""
    return float(structure.composition[specie] / (structure.volume * 1e-24))


def conductivity_range(
    fit: ArrheniusFit,
    density_per_cm3: float,
    temperature_k: float = 300.0,
    haven_ratio: float = 1.0,
    n_sigma: float = 1.0,
) -> tuple[float, float, tuple[float, float]]:
    """Extrapolated D and σ at ``temperature_k`` with the σ range exp(ln σ ± n_sigma·s).

    Returns:
        (D in cm²/s, σ in S/cm, (σ_low, σ_high) in S/cm); s is the standard error of ln D(T)
        propagated from the fit covariance, which is also that of ln σ.
    """
    ln_d, ln_err = fit.ln_diffusivity(temperature_k)
    d = float(np.exp(ln_d))
    sigma = nernst_einstein_s_per_cm(density_per_cm3, d, temperature_k, haven_ratio=haven_ratio)
    spread = float(np.exp(n_sigma * ln_err)) if np.isfinite(ln_err) else float("inf")
    low = sigma / spread if np.isfinite(spread) else 0.0
    return d, sigma, (low, sigma * spread)
