"""From per-temperature trajectories to a :class:`ConductivityDoc` (no I/O, no jobs).

Shared by the jobflow analysis job, ``sseflows md analyze`` and the benchmark, so every
engine goes through the same MSD → Arrhenius → Nernst–Einstein path.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sseflows.core.errors import CandidateError
from sseflows.md.analysis import DiffusionSettings, analyze_temperature
from sseflows.md.arrhenius import arrhenius_fit, conductivity_range
from sseflows.md.schemas import ConductivityDoc, TemperatureResult
from sseflows.md.trajectory import TrajectoryData, check_trajectory


@dataclass(frozen=True)
class ConductivitySettings:
    """Settings of the Arrhenius / Nernst–Einstein step.

    Attributes:
        rt_temperature_k: Temperature of the extrapolation, K.
        haven_ratio: Haven ratio H_R (σ = n e² D / (k_B T H_R)); 1 = uncorrelated hops.
        n_sigma: Half-width of the σ_RT range in standard errors of ln D(T_RT).
        min_temperatures: Fitted temperatures needed for a result (≥ 3 so E_a has an error).
        diffusion: MSD window and flag thresholds.
    """

    rt_temperature_k: float = 300.0
    haven_ratio: float = 1.0
    n_sigma: float = 1.0
    min_temperatures: int = 3
    diffusion: DiffusionSettings = field(default_factory=DiffusionSettings)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-ready) for documents and job arguments."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ConductivitySettings:
        """Inverse of :meth:`as_dict`."""
        values = dict(values)
        diffusion = DiffusionSettings(**values.pop("diffusion", {}))
        return cls(**values, diffusion=diffusion)


def analyze_trajectory(
    trajectory: TrajectoryData,
    temperature_k: float,
    frame_interval_fs: float,
    reference_species: tuple[str, ...] | None = None,
    discard_frames: int = 0,
    settings: DiffusionSettings | None = None,
) -> TemperatureResult:
    """D at one temperature; any problem becomes a flagged result, never an exception.

    Args:
        trajectory: Frames of the run (equilibration included when ``discard_frames`` > 0).
        temperature_k: MD temperature, K.
        frame_interval_fs: Time between stored frames, fs (checked against the file).
        reference_species: Species the trajectory must have (same candidate).
        discard_frames: Leading frames dropped as equilibration.
        settings: MSD analysis settings.
    """
    try:
        check_trajectory(trajectory, frame_interval_fs, reference_species)
        production = trajectory.skip(discard_frames) if discard_frames else trajectory
        result = analyze_temperature(
            temperature_k,
            production.positions,
            list(production.species),
            production.lattice,
            frame_interval_fs,
            production.energies_ev,
            settings,
        )
    except ValueError as exc:
        return failed_temperature(temperature_k, str(exc), trajectory.source)
    return result.model_copy(update={"source": trajectory.source})


def failed_temperature(temperature_k: float, reason: str, source: str = "") -> TemperatureResult:
    """A ``failed`` result at ``temperature_k`` with a one-sentence reason."""
    return TemperatureResult(
        temperature_k=float(temperature_k),
        flag="failed",
        reason=f"{reason.rstrip('.')} (at {temperature_k:g} K)",
        source=source,
    )


def require_li(
    structure_species: tuple[str, ...] | list[str], candidate_id: str, specie: str
) -> None:
    """Raise :class:`CandidateError` when the structure has no ``specie``."""
    if specie not in set(structure_species):
        raise CandidateError(candidate_id, f"the structure contains no {specie}, so no Li MSD")


def conductivity_doc(
    candidate_id: str,
    results: list[TemperatureResult],
    li_density_per_cm3: float | None,
    settings: ConductivitySettings | None = None,
    engine: str = "",
    formula: str = "",
    extra_settings: dict[str, Any] | None = None,
) -> ConductivityDoc:
    """Fit the ``ok`` temperatures and build the document.

    Status is ``completed`` when at least ``settings.min_temperatures`` temperatures were
    fitted and E_a came out finite, otherwise ``failed`` with the reason (the flagged
    temperatures are named).
    """
    settings = settings or ConductivitySettings()
    results = sorted(results, key=lambda r: r.temperature_k)
    fitted = [r for r in results if r.flag == "ok"]
    doc_settings = {**settings.as_dict(), **(extra_settings or {})}
    base: dict[str, Any] = {
        "candidate_id": candidate_id,
        "formula": formula,
        "engine": engine,
        "settings": doc_settings,
        "temperatures_k": [r.temperature_k for r in results],
        "diffusivities_cm2_per_s": [r.diffusivity_cm2_per_s for r in results],
        "diffusivity_errs_cm2_per_s": [r.diffusivity_err_cm2_per_s for r in results],
        "flags": [r.flag for r in results],
        "per_temperature": [r.model_copy(update={"used_in_fit": r.flag == "ok"}) for r in results],
        "n_fitted": len(fitted),
        "li_density_per_cm3": li_density_per_cm3,
        "haven_ratio": settings.haven_ratio,
        "rt_temperature_k": settings.rt_temperature_k,
    }
    if len(fitted) < settings.min_temperatures:
        skipped = "; ".join(r.reason for r in results if r.flag != "ok")
        reason = (
            f"an Arrhenius fit needs at least {settings.min_temperatures} temperatures with "
            f"diffusing Li, got {len(fitted)} of {len(results)}"
        )
        return ConductivityDoc(
            **base, status="failed", reason=reason + (f" ({skipped})" if skipped else "")
        )
    if li_density_per_cm3 is None or li_density_per_cm3 <= 0:
        return ConductivityDoc(**base, status="failed", reason="the Li density is unknown")
    try:
        # as float arrays, a missing error is NaN and leaves the fit unweighted
        fit = arrhenius_fit(
            [r.temperature_k for r in fitted],
            np.array([r.diffusivity_cm2_per_s for r in fitted], dtype=float),
            np.array([r.diffusivity_err_cm2_per_s for r in fitted], dtype=float),
        )
    except ValueError as exc:
        return ConductivityDoc(**base, status="failed", reason=str(exc))
    d_rt, sigma, (low, high) = conductivity_range(
        fit,
        li_density_per_cm3,
        settings.rt_temperature_k,
        haven_ratio=settings.haven_ratio,
        n_sigma=settings.n_sigma,
    )
    ea_err = fit.ea_err_ev if math.isfinite(fit.ea_err_ev) else None
    flagged = [f"{r.temperature_k:g} K ({r.flag})" for r in results if r.flag != "ok"]
    reason = f"fitted {len(fitted)} temperatures" + (
        f"; not fitted: {', '.join(flagged)}" if flagged else ""
    )
    return ConductivityDoc(
        **base,
        status="completed",
        reason=reason,
        ea_ev=fit.ea_ev,
        ea_err_ev=ea_err,
        d0_cm2_per_s=fit.d0_cm2_per_s,
        arrhenius_r2=fit.r2,
        d_rt_cm2_per_s=d_rt,
        sigma_rt_s_per_cm=sigma,
        sigma_rt_range_s_per_cm=(low, high) if math.isfinite(high) else None,
    )


def failed_doc(
    error: CandidateError, engine: str = "", formula: str = "", settings: dict | None = None
) -> ConductivityDoc:
    """A ``failed`` document for a candidate that cannot enter the MD tier at all."""
    return ConductivityDoc(
        candidate_id=error.candidate_id,
        formula=formula,
        engine=engine,
        status="failed",
        reason=str(error),
        settings=settings or {},
    )
