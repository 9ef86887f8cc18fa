"""Li mean-squared displacement → diffusion coefficient, and per-temperature flags.

Units: positions in Å, time in fs, MSD in Å², D in cm²/s (1 Å²/fs = 0.1 cm²/s, so
D = slope / 6 × 0.1 = slope / 60, as in pymatgen-analysis-diffusion).

Method (documented once here, used for every engine):

1. **Unwrap**: positions may be wrapped into the cell; each displacement between
   consecutive frames is mapped to its minimum image (fractional difference minus its
   rounding), then accumulated. This needs frames closer in time than the time an atom
   takes to cross half a cell (always true for stored MD frames up to ~100 fs).
2. **Drift**: the mass-weighted centre of mass of the whole cell is subtracted frame by
   frame (a thermostat or numerical noise can make the whole cell drift; physical
   diffusion conserves it).
3. **MSD**: averaged over every time origin (FFT autocorrelation, pymatgen's
   ``_msd_from_positions_fft``) and over Li ions.
4. **Fit window**: MSD(t) = 6 D t + c is fitted on lags between ``fit_start`` and
   ``fit_end`` fractions of the trajectory (default 10 %–70 %): the start skips the
   ballistic regime, the end skips long lags that have few independent origins.
5. **Error**: D is the mean of per-ion slopes (identical to the slope of the mean MSD),
   its standard error ``std(D_i) / sqrt(N_Li)`` treats ions as independent samples. With a
   single Li the regression standard error of the slope is used instead.
6. **Flags** (a flagged temperature is reported but never fitted): ``exploded`` when any
   position or energy is not finite or the potential energy rises more than
   ``max_energy_rise_ev_per_atom`` (default 1 eV/atom, ~10 k_B·1200 K) above its first
   value; ``melted`` when the framework (non-Li atoms) RMS
   displacement over the window exceeds ``max_framework_rmsd_a`` (default 1.5 Å);
   ``too_short`` when the analysed run is shorter than ``min_duration_ps`` (default 5 ps, so
   that the window starts ≥ 0.5 ps, past the ballistic and cage-rattling regime; Kang et
   al. analyse 20 ps); ``not_diffusing`` when the Li MSD at the end of the window is below
   ``min_li_msd_a2`` (default 1 Å², i.e. vibrations only) or D is below
   ``min_diffusivity_cm2_per_s`` (default 1e-10 cm²/s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.diffusion.analyzer import _msd_from_positions_fft
from pymatgen.core import Element

from sseflows.md.schemas import TemperatureResult

A2_PER_FS_TO_CM2_PER_S = 0.1
"""1 Å²/fs = 1e-16 cm² / 1e-15 s = 0.1 cm²/s."""


@dataclass(frozen=True)
class DiffusionSettings:
    """Settings of the MSD analysis (see module docstring).

    Attributes:
        fit_start: Start of the fit window as a fraction of the trajectory duration.
        fit_end: End of the fit window as a fraction of the trajectory duration.
        min_li_msd_a2: Li MSD at the window end below which Li is "not diffusing", Å².
        min_diffusivity_cm2_per_s: D below which Li is "not diffusing", cm²/s.
        max_framework_rmsd_a: Framework RMS displacement above which the cell "melted", Å.
        max_energy_rise_ev_per_atom: Energy rise above frame 0 that means "exploded", eV/atom.
        min_duration_ps: Shorter analysed runs are flagged "too_short", ps.
        specie: The diffusing element.
    """

    fit_start: float = 0.1
    fit_end: float = 0.7
    min_li_msd_a2: float = 1.0
    min_diffusivity_cm2_per_s: float = 1e-10
    max_framework_rmsd_a: float = 1.5
    max_energy_rise_ev_per_atom: float = 1.0
    min_duration_ps: float = 5.0
    specie: str = "Li"


def unwrap_positions(positions: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Unwrap Cartesian positions by minimum-image steps between consecutive frames.

    Args:
        positions: (n_frames, n_atoms, 3) Cartesian positions, Å, wrapped or not.
        lattice: (3, 3) lattice matrix (rows are vectors), Å, fixed (NVT).

    Returns:
        (n_frames, n_atoms, 3) continuous Cartesian positions, Å, starting at frame 0.
    """
    frac = positions @ np.linalg.inv(lattice)
    steps = np.diff(frac, axis=0)
    steps -= np.round(steps)
    unwrapped = np.concatenate([frac[:1], frac[:1] + np.cumsum(steps, axis=0)], axis=0)
    return unwrapped @ lattice


def remove_com_drift(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Subtract the displacement of the whole cell's centre of mass, frame by frame.

    Args:
        positions: (n_frames, n_atoms, 3) unwrapped Cartesian positions, Å.
        masses: (n_atoms,) atomic masses, amu.

    Returns:
        Positions with the centre of mass fixed at its frame-0 position, Å.
    """
    weights = masses / masses.sum()
    com = np.einsum("fad,a->fd", positions, weights)
    return positions - (com - com[0])[:, None, :]


def msd_per_atom(positions: np.ndarray) -> np.ndarray:
    """Time-origin-averaged MSD of each atom, Å², shape (n_atoms, n_frames); lag 0 first."""
    per_dim = _msd_from_positions_fft(np.transpose(positions, (1, 0, 2)))
    return per_dim.sum(axis=2)


@dataclass(frozen=True)
class DiffusivityFit:
    """D from the linear regime of the Li MSD.

    Attributes:
        diffusivity_cm2_per_s: Tracer diffusion coefficient, cm²/s.
        diffusivity_err_cm2_per_s: Standard error of D, cm²/s.
        r2: Coefficient of determination of the linear fit of the mean MSD.
        li_msd_end_a2: Mean Li MSD at the last lag of the fit window, Å².
        framework_rmsd_a: RMS displacement of non-Li atoms at the window end, Å (0 if none).
        times_fs: Lags of the whole MSD curve, fs.
        li_msd_a2: Mean Li MSD at each lag, Å².
    """

    diffusivity_cm2_per_s: float
    diffusivity_err_cm2_per_s: float
    r2: float
    li_msd_end_a2: float
    framework_rmsd_a: float
    times_fs: np.ndarray
    li_msd_a2: np.ndarray


def fit_diffusivity(
    positions: np.ndarray,
    species: list[str],
    lattice: np.ndarray,
    frame_interval_fs: float,
    settings: DiffusionSettings | None = None,
) -> DiffusivityFit:
    """Unwrap, remove drift, compute the Li MSD and fit D (see module docstring).

    Args:
        positions: (n_frames, n_atoms, 3) Cartesian positions, Å, wrapped or unwrapped.
        species: Element symbol of each atom.
        lattice: (3, 3) lattice matrix, Å.
        frame_interval_fs: Time between stored frames, fs.
        settings: Window and thresholds; defaults when None.

    Raises:
        ValueError: No diffusing species, or too few frames for the fit window.
    """
    settings = settings or DiffusionSettings()
    symbols = np.array(species)
    is_li = symbols == settings.specie
    if not is_li.any():
        raise ValueError(f"the trajectory contains no {settings.specie}")
    n_frames = positions.shape[0]
    first = int(np.floor(settings.fit_start * (n_frames - 1)))
    last = int(np.ceil(settings.fit_end * (n_frames - 1)))
    first = max(first, 1)
    if last - first + 1 < 3:
        raise ValueError(
            f"{n_frames} frames are too few for a fit window of "
            f"{settings.fit_start:.0%}-{settings.fit_end:.0%} (need at least 3 lags in it)"
        )
    masses = np.array([Element(s).atomic_mass for s in species], dtype=float)
    unwrapped = remove_com_drift(unwrap_positions(positions, lattice), masses)
    msd = msd_per_atom(unwrapped)
    times = np.arange(n_frames) * frame_interval_fs
    window = slice(first, last + 1)
    t = times[window]
    design = np.vstack([t, np.ones_like(t)]).T
    li_msd = msd[is_li]
    coefs, *_ = np.linalg.lstsq(design, li_msd[:, window].T, rcond=None)
    per_ion = coefs[0] / 6.0 * A2_PER_FS_TO_CM2_PER_S
    mean_msd = li_msd.mean(axis=0)
    (slope, intercept), *_ = np.linalg.lstsq(design, mean_msd[window], rcond=None)
    residual = mean_msd[window] - (slope * t + intercept)
    total = mean_msd[window] - mean_msd[window].mean()
    ss_tot = float(total @ total)
    r2 = 1.0 - float(residual @ residual) / ss_tot if ss_tot > 0 else 0.0
    if per_ion.size > 1:
        error = float(per_ion.std(ddof=1) / np.sqrt(per_ion.size))
    else:
        n = t.size
        sxx = float(((t - t.mean()) ** 2).sum())
        slope_err = np.sqrt(float(residual @ residual) / max(n - 2, 1) / sxx)
        error = float(slope_err / 6.0 * A2_PER_FS_TO_CM2_PER_S)
    framework = msd[~is_li]
    rmsd = float(np.sqrt(framework[:, last].mean())) if framework.size else 0.0
    return DiffusivityFit(
        diffusivity_cm2_per_s=float(slope / 6.0 * A2_PER_FS_TO_CM2_PER_S),
        diffusivity_err_cm2_per_s=error,
        r2=r2,
        li_msd_end_a2=float(mean_msd[last]),
        framework_rmsd_a=rmsd,
        times_fs=times,
        li_msd_a2=mean_msd,
    )


def analyze_temperature(
    temperature_k: float,
    positions: np.ndarray,
    species: list[str],
    lattice: np.ndarray,
    frame_interval_fs: float,
    energies_ev: np.ndarray | None = None,
    settings: DiffusionSettings | None = None,
) -> TemperatureResult:
    """D at one temperature with its flag; a flagged temperature is never fitted.

    Arguments as :func:`fit_diffusivity`; ``energies_ev`` (per frame, eV) are only checked
    for blow-ups. Returns a :class:`TemperatureResult` whose ``flag`` is ``ok``,
    ``exploded``, ``melted``, ``too_short`` or ``not_diffusing`` with a one-sentence
    ``reason`` (checked in that order).
    """
    settings = settings or DiffusionSettings()
    duration_ps = (positions.shape[0] - 1) * frame_interval_fs / 1000.0
    base = {
        "temperature_k": float(temperature_k),
        "n_frames": int(positions.shape[0]),
        "frame_interval_fs": float(frame_interval_fs),
        "duration_ps": duration_ps,
    }
    bad_energy = energies_ev is not None and not np.all(np.isfinite(energies_ev))
    if not np.all(np.isfinite(positions)) or bad_energy:
        return TemperatureResult(
            **base,
            flag="exploded",
            reason=f"the MD at {temperature_k:g} K blew up (positions or energies not finite)",
        )
    if energies_ev is not None and len(energies_ev):
        rise = float(np.max(energies_ev) - energies_ev[0]) / positions.shape[1]
        if rise > settings.max_energy_rise_ev_per_atom:
            return TemperatureResult(
                **base,
                flag="exploded",
                reason=(
                    f"the MD at {temperature_k:g} K blew up (energy rose {rise:.2f} eV/atom, "
                    f"> {settings.max_energy_rise_ev_per_atom} eV/atom)"
                ),
            )
    fit = fit_diffusivity(positions, species, lattice, frame_interval_fs, settings)
    values = {
        **base,
        "diffusivity_cm2_per_s": fit.diffusivity_cm2_per_s,
        "diffusivity_err_cm2_per_s": fit.diffusivity_err_cm2_per_s,
        "fit_r2": fit.r2,
        "li_msd_end_a2": fit.li_msd_end_a2,
        "framework_rmsd_a": fit.framework_rmsd_a,
    }
    if fit.framework_rmsd_a > settings.max_framework_rmsd_a:
        return TemperatureResult(
            **values,
            flag="melted",
            reason=(
                f"framework atoms moved {fit.framework_rmsd_a:.2f} Å RMS at {temperature_k:g} K "
                f"(> {settings.max_framework_rmsd_a} Å): the structure melted or decomposed"
            ),
        )
    if duration_ps < settings.min_duration_ps:
        return TemperatureResult(
            **values,
            flag="too_short",
            reason=(
                f"the analysed run at {temperature_k:g} K lasts {duration_ps:.3g} ps, shorter than "
                f"the {settings.min_duration_ps:g} ps needed to fit D past the ballistic regime"
            ),
        )
    if (
        fit.li_msd_end_a2 < settings.min_li_msd_a2
        or fit.diffusivity_cm2_per_s < settings.min_diffusivity_cm2_per_s
    ):
        return TemperatureResult(
            **values,
            flag="not_diffusing",
            reason=(
                f"Li does not diffuse at {temperature_k:g} K within {duration_ps:.3g} ps "
                f"(MSD {fit.li_msd_end_a2:.2f} Å² < {settings.min_li_msd_a2} Å² or "
                f"D < {settings.min_diffusivity_cm2_per_s:g} cm²/s)"
            ),
        )
    return TemperatureResult(**values, flag="ok", used_in_fit=True)
