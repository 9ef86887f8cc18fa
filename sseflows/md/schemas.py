"""Output documents of the MD tier: per-temperature results and the ``ConductivityDoc``.

Units are in the field names: D in cm²/s, σ in S/cm, E_a in eV, time in fs/ps, lengths in Å,
densities in cm⁻³. Trajectories never enter these documents; they stay in the JobStore's
``data`` store (atomate2's task documents put them there).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sseflows.core.approximant import ApproximantRecord
from sseflows.core.documents import TierDoc

Flag = Literal["ok", "not_diffusing", "too_short", "melted", "exploded", "failed"]
"""``ok``: fitted. ``not_diffusing``: flat Li MSD. ``too_short``: run too short to fit D past
the ballistic regime. ``melted``: framework moved too much.
``exploded``: non-finite positions/energies. ``failed``: no usable trajectory (MD crashed,
wrong species or time step)."""


class TemperatureResult(BaseModel):
    """Diffusion at one temperature; only ``flag == "ok"`` enters the Arrhenius fit."""

    temperature_k: float = Field(description="MD temperature, K.")
    flag: Flag = Field(default="ok", description="Outcome at this temperature.")
    reason: str = Field(default="", description="One sentence when flagged.")
    used_in_fit: bool = Field(default=False, description="Whether D entered the fit.")
    diffusivity_cm2_per_s: float | None = Field(default=None, description="Li tracer D, cm²/s.")
    diffusivity_err_cm2_per_s: float | None = Field(
        default=None, description="Standard error of D (independent-ion variance), cm²/s."
    )
    fit_r2: float | None = Field(default=None, description="R² of the linear MSD fit.")
    li_msd_end_a2: float | None = Field(
        default=None, description="Li MSD at the end of the fit window, Å²."
    )
    framework_rmsd_a: float | None = Field(
        default=None, description="Non-Li RMS displacement at the end of the fit window, Å."
    )
    n_frames: int = Field(default=0, description="Frames analysed (after equilibration).")
    frame_interval_fs: float | None = Field(default=None, description="Time between frames, fs.")
    duration_ps: float = Field(default=0.0, description="Analysed duration, ps.")
    source: str = Field(default="", description="Trajectory file or MD job it came from.")


class ConductivityDoc(TierDoc):
    """Arrhenius fit of Li diffusion and the room-temperature conductivity of one candidate.

    ``status`` is ``completed`` when at least ``min_temperatures`` temperatures were fitted,
    else ``failed`` with the reason; per-temperature results are kept either way.
    """

    tier: str = "md"
    engine: str = Field(default="", description="MD engine: 'chgnet', 'vasp' or 'external'.")
    temperatures_k: list[float] = Field(default_factory=list, description="MD temperatures, K.")
    diffusivities_cm2_per_s: list[float | None] = Field(
        default_factory=list, description="Li D per temperature (None when not computed), cm²/s."
    )
    diffusivity_errs_cm2_per_s: list[float | None] = Field(
        default_factory=list, description="Standard error of D per temperature, cm²/s."
    )
    flags: list[Flag] = Field(default_factory=list, description="Flag per temperature.")
    per_temperature: list[TemperatureResult] = Field(
        default_factory=list, description="Full per-temperature results."
    )
    n_fitted: int = Field(default=0, description="Temperatures used in the Arrhenius fit.")
    ea_ev: float | None = Field(default=None, description="Activation energy, eV.")
    ea_err_ev: float | None = Field(default=None, description="Standard error of E_a, eV.")
    d0_cm2_per_s: float | None = Field(default=None, description="Arrhenius prefactor, cm²/s.")
    arrhenius_r2: float | None = Field(default=None, description="R² of ln D against 1/T.")
    rt_temperature_k: float = Field(default=300.0, description="Extrapolation temperature, K.")
    d_rt_cm2_per_s: float | None = Field(default=None, description="Extrapolated D, cm²/s.")
    sigma_rt_s_per_cm: float | None = Field(
        default=None, description="Nernst–Einstein σ at rt_temperature_k, S/cm."
    )
    sigma_rt_range_s_per_cm: tuple[float, float] | None = Field(
        default=None,
        description="σ_RT range from the fit covariance (± n_sigma std of ln D), S/cm.",
    )
    li_density_per_cm3: float | None = Field(default=None, description="Li number density, cm⁻³.")
    haven_ratio: float = Field(default=1.0, description="Haven ratio used in Nernst–Einstein.")
    approximant: ApproximantRecord | None = Field(
        default=None,
        description="The ordered approximant the MD ran on when the candidate was disordered "
        "(supercell, occupancy rounding, energy spread among orderings); None when ordered.",
    )
