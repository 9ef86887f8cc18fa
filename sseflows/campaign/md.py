"""The MD tier for one structure from the command line (``sseflows md``): CHGNet MD here,
VASP AIMD inputs for a cluster, and the analysis of trajectories made elsewhere; each ends
in MSD → Arrhenius E_a (eV) → σ_RT (S/cm)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sseflows.core.candidate import Candidate, make_candidate_id
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.core.overrides import apply_overrides
from sseflows.md.analysis import DiffusionSettings
from sseflows.md.arrhenius import li_density_per_cm3
from sseflows.md.conductivity import (
    ConductivitySettings,
    analyze_trajectory,
    conductivity_doc,
    failed_doc,
    failed_temperature,
    require_li,
)
from sseflows.md.schemas import ConductivityDoc, TemperatureResult
from sseflows.md.trajectory import read_trajectory

if TYPE_CHECKING:  # the engines and the Maker load atomate2; only running MD needs them
    from sseflows.md.engines import AIMDProtocol
    from sseflows.md.makers import MDArrheniusMaker


def conductivity_settings(
    haven_ratio: float = 1.0, fit_start: float = 0.1, fit_end: float = 0.7
) -> ConductivitySettings:
    """Nernst–Einstein with Haven ratio ``haven_ratio``; D fitted over the MSD window from
    ``fit_start`` to ``fit_end`` (fractions of the trajectory)."""
    return ConductivitySettings(
        haven_ratio=haven_ratio,
        diffusion=DiffusionSettings(fit_start=fit_start, fit_end=fit_end),
    )


@dataclass
class LocalMD:
    """A structure read as a candidate and the CHGNet MD Maker that will run it here."""

    candidate: Candidate
    maker: MDArrheniusMaker


def local_md(
    structure_file: Path,
    temperatures_k: tuple[float, ...] | None = None,
    time_step_fs: float | None = None,
    equilibration_steps: int | None = None,
    production_steps: int | None = None,
    traj_interval: int | None = None,
    supercell_min_length_a: float | None = None,
    supercell_max_atoms: int | None = None,
    haven_ratio: float = 1.0,
) -> LocalMD:
    """Read ``structure_file`` and build the CHGNet MD Maker; the given settings (K, fs,
    steps, frames, Å, atoms) override the Maker's defaults, None keeps them.

    Raises:
        CandidateError: the file cannot be read as a structure.
        ConfigurationError: an invalid setting.
    """
    from sseflows.data.files import read_structure_file
    from sseflows.md.makers import MDArrheniusMaker

    candidate = read_structure_file(structure_file)
    given = {
        "temperatures_k": temperatures_k,
        "time_step_fs": time_step_fs,
        "equilibration_steps": equilibration_steps,
        "production_steps": production_steps,
        "traj_interval": traj_interval,
        "supercell_min_length_a": supercell_min_length_a,
        "supercell_max_atoms": supercell_max_atoms,
    }
    maker = apply_overrides(
        MDArrheniusMaker(engine="chgnet"), {k: v for k, v in given.items() if v is not None}
    )
    return LocalMD(candidate, replace(maker, conductivity=conductivity_settings(haven_ratio)))


def run_local_md(md: LocalMD, store_spec: str | None = None) -> ConductivityDoc | None:
    """Run ``md`` here, trajectories going to the store ``store_spec`` (None: the ``db``
    setting); the conductivity document, or None when the analysis never ran. A partially
    occupied structure runs on its ordered approximant (:mod:`sseflows.flows.approximant`,
    recorded in ``ConductivityDoc.approximant``)."""
    from jobflow import run_locally

    from sseflows.flows.approximant import final_output
    from sseflows.flows.tiers import make_tier_flow
    from sseflows.stores import build_job_store

    flow = make_tier_flow(md.maker, md.candidate)  # a disordered one: its approximant first
    responses = run_locally(
        flow, store=build_job_store(store_spec), ensure_success=False, log=False
    )
    return final_output(responses, flow.output)


@dataclass
class AimdInputs:
    """VASP AIMD inputs written for one candidate: its MD supercell size (atoms), the
    protocol and one folder per temperature."""

    candidate_id: str
    n_atoms: int
    protocol: AIMDProtocol
    folders: list[Path]


def write_aimd_inputs(structure_file: Path, outdir: Path, preset: str = "kang2022") -> AimdInputs:
    """Write VASP AIMD inputs (INCAR, KPOINTS, POSCAR, POTCAR.spec) of the MD supercell of
    the structure in ``structure_file`` into ``outdir/T<temperature>K/``, following the
    protocol ``preset``.

    Raises:
        ConfigurationError: an unknown preset.
        CandidateError: the file cannot be read, holds no Li, cannot be ordered (a
            partially occupied structure is replaced by its ordered approximant), or its
            supercell is too large.
    """
    from sseflows.data.files import read_structure_file
    from sseflows.md.engines import get_protocol, md_supercell, write_vasp_md_inputs

    try:
        protocol = get_protocol(preset)
    except ValueError as exc:
        raise ConfigurationError(f"{exc}.") from None
    candidate = read_structure_file(structure_file)
    structure = candidate.structure
    if structure is None:  # read_structure_file always sets it; for the type
        raise CandidateError(candidate.id, "has no structure")
    require_li(tuple(e.symbol for e in structure.composition.elements), candidate.id, "Li")
    if not structure.is_ordered:  # the lowest-ML-energy ordered approximant, as the MD tier
        from sseflows.flows.approximant import ordered_candidate
        from sseflows.md.makers import MDArrheniusMaker

        structure = ordered_candidate(MDArrheniusMaker(), candidate)[0].structure
        assert structure is not None
    cell = md_supercell(
        structure,
        candidate.id,
        protocol.supercell_min_length_a,
        max_atoms=protocol.supercell_max_atoms,
    )
    folders = write_vasp_md_inputs(cell, outdir, protocol)
    return AimdInputs(candidate.id, len(cell), protocol, folders)


def analyze_trajectories(
    trajectories: list[Path],
    temperatures_k: list[float],
    frame_interval_fs: float,
    discard_frames: int = 0,
    candidate_id: str | None = None,
    haven_ratio: float = 1.0,
    fit_start: float = 0.1,
    fit_end: float = 0.7,
) -> ConductivityDoc:
    """Li D per trajectory (one per temperature, K, ``frame_interval_fs`` fs between stored
    frames, the first ``discard_frames`` dropped), then E_a and σ_RT.

    The candidate id defaults to the first file's stem (its folder's name for ``XDATCAR``
    and ``vasprun.xml``). An unreadable trajectory is a failed temperature; trajectories
    without Li give a ``failed`` document.
    """
    first = trajectories[0]
    cid = candidate_id or make_candidate_id(
        first.stem
        if first.stem.lower() not in ("xdatcar", "vasprun")
        else first.resolve().parent.name
    )
    settings = conductivity_settings(haven_ratio, fit_start, fit_end)
    results: list[TemperatureResult] = []
    reference: tuple[str, ...] | None = None
    density: float | None = None
    for path, temperature in zip(trajectories, temperatures_k, strict=True):
        try:
            traj = read_trajectory(path)
        except ValueError as exc:
            results.append(failed_temperature(temperature, str(exc), str(path)))
            continue
        if reference is None:
            try:
                require_li(traj.species, cid, settings.diffusion.specie)
            except CandidateError as exc:
                return failed_doc(exc, "external", settings={"trajectories": [str(first)]})
            reference = traj.species
            density = li_density_per_cm3(traj.first_structure(), settings.diffusion.specie)
        results.append(
            analyze_trajectory(
                traj, temperature, frame_interval_fs, reference, discard_frames, settings.diffusion
            )
        )
    extra = {"trajectories": [str(p) for p in trajectories], "frame_interval_fs": frame_interval_fs}
    return conductivity_doc(cid, results, density, settings, "external", "", extra)
