"""``MDArrheniusMaker``: one MD job per temperature, then one analysis job → ConductivityDoc.

The MD jobs are atomate2's own (CHGNet forcefield MD or VASP MD) and independent of each
other, so FireWorks runs them in parallel. The analysis job is configured with
``on_missing_references="none"``: when one MD job fails (CHGNet crash, VASP error), the
analysis still runs, records that temperature as ``failed`` and fits the others.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

from jobflow import Flow, Job, JobConfig, OnMissing, job
from pymatgen.core import Structure
from pymatgen.core.trajectory import Trajectory

from sseflows.core.approximant import ApproximantRecord
from sseflows.core.candidate import Candidate
from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.core.maker import ApproximantFields, TierMaker
from sseflows.md.arrhenius import li_density_per_cm3
from sseflows.md.conductivity import (
    ConductivitySettings,
    analyze_trajectory,
    conductivity_doc,
    failed_temperature,
    require_li,
)
from sseflows.md.engines import (
    KANG2022,
    AIMDProtocol,
    chgnet_md_maker,
    md_supercell,
    vasp_md_maker,
)
from sseflows.md.schemas import ConductivityDoc, TemperatureResult
from sseflows.md.trajectory import (
    TrajectoryData,
    from_pymatgen_trajectory,
    read_trajectory,
)

Engine = Literal["chgnet", "vasp"]


@dataclass
class MDArrheniusMaker(ApproximantFields, TierMaker):
    """MD at several temperatures → Li D(T) → Arrhenius E_a → σ at room temperature.

    A disordered candidate arrives as its ordered approximant
    (:func:`sseflows.flows.tiers.make_tier_flow`, settings ``approximant`` and
    ``approximant_relax``); the MD cell is that approximant repeated by the size rule
    (``supercell_min_length_a``, ``supercell_min_atoms``), within ``supercell_max_atoms``;
    an approximant that alone exceeds ``supercell_max_atoms`` fails the candidate.

    Attributes:
        name: Flow name.
        engine: ``chgnet`` (atomate2 ForceFieldMDMaker, runs anywhere) or ``vasp``
            (atomate2 MDMaker, needs VASP on a cluster).
        temperatures_k: MD temperatures, K (at least ``conductivity.min_temperatures``).
        time_step_fs: MD time step, fs.
        equilibration_steps: Steps run first and discarded, per temperature.
        production_steps: Steps analysed, per temperature.
        traj_interval: Steps between stored frames (CHGNet; VASP stores every step).
        supercell_min_length_a: Minimum perpendicular width of the MD cell, Å.
        supercell_min_atoms: Minimum number of atoms of the MD cell.
        supercell_max_atoms: Larger MD cells make the candidate fail.
        seed: Seed of the initial Maxwell–Boltzmann velocities (CHGNet).
        vasp_protocol: INCAR/KPOINTS protocol of the VASP engine.
        conductivity: Fit window, flag thresholds, Haven ratio, T_RT.
        approximant: Limits of the ordered approximant of a disordered candidate.
        approximant_relax: The ML relaxation that picks the approximant's ordering.
    """

    seed_names: ClassVar[tuple[str, ...]] = ("approximant",)
    name: str = "md arrhenius"
    engine: Engine = "chgnet"
    temperatures_k: tuple[float, ...] = (600.0, 800.0, 1000.0, 1200.0)
    time_step_fs: float = 2.0
    equilibration_steps: int = 3000
    production_steps: int = 10000
    traj_interval: int = 10
    supercell_min_length_a: float = 10.0
    supercell_min_atoms: int = 0
    supercell_max_atoms: int = 400
    seed: int | None = 0
    vasp_protocol: AIMDProtocol = field(default_factory=lambda: KANG2022)
    conductivity: ConductivitySettings = field(default_factory=ConductivitySettings)

    def __post_init__(self) -> None:
        """Fail fast on settings that can never give an Arrhenius fit."""
        if isinstance(self.conductivity, dict):  # decoded from a serialised Maker
            self.conductivity = ConductivitySettings.from_dict(self.conductivity)
        if len(set(self.temperatures_k)) < self.conductivity.min_temperatures:
            raise ConfigurationError(
                f"MD needs at least {self.conductivity.min_temperatures} distinct temperatures "
                f"for an Arrhenius fit, got {list(self.temperatures_k)}."
            )
        if self.engine not in ("chgnet", "vasp"):
            raise ConfigurationError(f"Unknown MD engine '{self.engine}'; use chgnet or vasp.")

    @classmethod
    def from_protocol(cls, protocol: AIMDProtocol = KANG2022, **kwargs: Any) -> MDArrheniusMaker:
        """A VASP maker reproducing ``protocol`` (temperatures, time step, step counts)."""
        values = {
            "engine": "vasp",
            "temperatures_k": protocol.temperatures_k,
            "time_step_fs": protocol.time_step_fs,
            "equilibration_steps": protocol.equilibration_steps,
            "production_steps": protocol.production_steps,
            "traj_interval": 1,
            "supercell_min_length_a": protocol.supercell_min_length_a,
            "supercell_max_atoms": protocol.supercell_max_atoms,
            "vasp_protocol": protocol,
        }
        return cls(**{**values, **kwargs})

    @property
    def frame_interval_fs(self) -> float:
        """Time between stored frames, fs."""
        return self.time_step_fs * self.traj_interval

    @property
    def discard_frames(self) -> int:
        """Stored frames that fall in the equilibration (frame 0 is step 0)."""
        return math.ceil(self.equilibration_steps / self.traj_interval)

    def settings(self) -> dict[str, Any]:
        """The maker's settings for the document."""
        values = asdict(self)
        values.pop("conductivity")
        if self.engine != "vasp":
            values.pop("vasp_protocol")
        return values

    def md_job(self, structure: Structure, temperature_k: float) -> Job:
        """The atomate2 MD job at one temperature."""
        if self.engine == "chgnet":
            return chgnet_md_maker(
                temperature_k,
                self.equilibration_steps + self.production_steps,
                self.time_step_fs,
                self.traj_interval,
                self.seed,
            ).make(structure)
        protocol = AIMDProtocol(
            **{
                **asdict(self.vasp_protocol),
                "time_step_fs": self.time_step_fs,
                "equilibration_steps": self.equilibration_steps,
                "production_steps": self.production_steps,
            }
        )
        # atomate2 annotates vasp_job (the decorator of MDMaker.make) as returning `job`, a
        # function rather than a type, so mypy cannot see that make is callable
        return vasp_md_maker(temperature_k, protocol).make(structure)  # type: ignore[misc]

    def make(
        self, candidate: Candidate, approximant: dict[str, Any] | None = None, **seeds: Any
    ) -> Flow:
        """MD jobs (one per temperature, independent) and the analysis job.

        ``approximant``: the record (dict) of the ordered approximant ``candidate.structure``
        is, copied into the document; None for a candidate that was ordered already.
        """
        settings = self.settings()
        try:
            if candidate.structure is None:
                raise CandidateError(candidate.id, "it has no structure")
            require_li(
                tuple(el.symbol for el in candidate.structure.composition.elements),
                candidate.id,
                self.conductivity.diffusion.specie,
            )
            cell = md_supercell(
                candidate.structure,
                candidate.id,
                self.supercell_min_length_a,
                self.supercell_min_atoms,
                self.supercell_max_atoms,
            )
        except CandidateError as error:
            report = record_failure(
                error.candidate_id, str(error), self.engine, candidate.formula, settings,
                approximant,
            )  # fmt: skip
            report.name = f"{candidate.id} md failed"
            return Flow([report], output=report.output, name=f"{candidate.id} {self.name}")
        md_jobs = []
        for temperature in self.temperatures_k:
            md = self.md_job(cell, temperature)
            md.name = f"{candidate.id} {md.name}"
            md_jobs.append(md)
        analysis = analyze_md_runs(
            candidate.id,
            [float(t) for t in self.temperatures_k],
            [md.output for md in md_jobs],
            self.frame_interval_fs,
            self.discard_frames,
            self.engine,
            candidate.formula or cell.composition.reduced_formula,
            self.conductivity.as_dict(),
            settings,
            approximant,
        )
        analysis.name = f"{candidate.id} md analysis"
        analysis.config = JobConfig(on_missing_references=OnMissing.NONE)
        return Flow(
            [*md_jobs, analysis], output=analysis.output, name=f"{candidate.id} {self.name}"
        )


def failure_doc(
    candidate_id: str,
    reason: str,
    engine: str,
    formula: str,
    settings: dict[str, Any],
    approximant: dict[str, Any] | None = None,
) -> ConductivityDoc:
    """The ``failed`` document of a candidate that could not enter the MD tier."""
    return ConductivityDoc(
        candidate_id=candidate_id,
        formula=formula,
        engine=engine,
        status="failed",
        reason=reason,
        settings=settings,
        approximant=None if approximant is None else ApproximantRecord.model_validate(approximant),
    )


@job(output_schema=ConductivityDoc)
def record_failure(
    candidate_id: str,
    reason: str,
    engine: str,
    formula: str,
    settings: dict[str, Any],
    approximant: dict[str, Any] | None = None,
) -> ConductivityDoc:
    """A job that only records why the candidate could not enter the MD tier
    (:func:`failure_doc`)."""
    return failure_doc(candidate_id, reason, engine, formula, settings, approximant)


def trajectory_from_md_output(output: Any, frame_interval_fs: float, label: str) -> TrajectoryData:
    """Frames from an atomate2 MD task document (object or dict).

    CHGNet (``ForceFieldTaskDocument``): the pymatgen ``Trajectory`` under ``objects``.
    VASP (``TaskDoc``): ``XDATCAR`` (smaller, read first) or ``vasprun.xml`` in
    ``dir_name`` (``host:/path`` accepted). Raises ValueError (one sentence) when none is found.
    """
    if output is None:
        raise ValueError(f"the MD job {label} did not finish")
    objects = _get(output, "objects") or {}
    for key, value in dict(objects).items():
        if str(getattr(key, "value", key)).lower().endswith("trajectory") and value:
            if not isinstance(value, Trajectory):
                # monty annotates from_dict as returning MSONable; here it is a Trajectory
                value = cast(Trajectory, Trajectory.from_dict(value))
            return from_pymatgen_trajectory(value, frame_interval_fs, source=label)
    dir_name = _get(output, "dir_name")
    if dir_name:
        folder = Path(str(dir_name).split(":", 1)[-1])
        for name in ("XDATCAR", "XDATCAR.gz", "vasprun.xml", "vasprun.xml.gz"):
            if (folder / name).is_file():
                return read_trajectory(folder / name)
    raise ValueError(f"the MD job {label} left no trajectory")


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


@job(output_schema=ConductivityDoc)
def analyze_md_runs(
    candidate_id: str,
    temperatures_k: list[float],
    md_outputs: list[Any],
    frame_interval_fs: float,
    discard_frames: int,
    engine: str,
    formula: str,
    conductivity_settings: dict[str, Any],
    settings: dict[str, Any],
    approximant: dict[str, Any] | None = None,
) -> ConductivityDoc:
    """Per-temperature D (flags for failed/flat/molten runs), Arrhenius fit, σ_RT.

    ``conductivity_settings`` is :meth:`ConductivitySettings.as_dict` (plain, so FireWorks
    can serialise it); ``frame_interval_fs`` in fs; ``discard_frames`` equilibration frames;
    ``approximant`` the record of the ordered approximant the MD ran on (None: ordered input).
    """
    conductivity = ConductivitySettings.from_dict(conductivity_settings)
    results: list[TemperatureResult] = []
    reference: tuple[str, ...] | None = None
    density = None
    for temperature, output in zip(temperatures_k, md_outputs, strict=True):
        label = f"at {temperature:g} K"
        try:
            trajectory = trajectory_from_md_output(output, frame_interval_fs, label)
        except ValueError as exc:
            results.append(failed_temperature(temperature, str(exc), label))
            continue
        if reference is None:
            reference = trajectory.species
            density = li_density_per_cm3(
                trajectory.first_structure(), conductivity.diffusion.specie
            )
        results.append(
            analyze_trajectory(
                trajectory,
                temperature,
                frame_interval_fs,
                reference,
                discard_frames,
                conductivity.diffusion,
            )
        )
    doc = conductivity_doc(candidate_id, results, density, conductivity, engine, formula, settings)
    if approximant is None:
        return doc
    return doc.model_copy(update={"approximant": ApproximantRecord.model_validate(approximant)})
