"""``sseflows md``: MD → Li diffusion → Arrhenius → σ at room temperature.

* ``sseflows md CIF --engine chgnet --temperatures 600 800 1000 1200 --steps N`` (same as
  ``sseflows md run CIF ...``): CHGNet MD here, one run per temperature, then the analysis.
* ``sseflows md vasp-inputs CIF OUTDIR [--preset kang2022]``: VASP AIMD inputs, one folder per
  temperature, with a POTCAR.spec (no POTCARs needed).
* ``sseflows md analyze TRAJ... --temperatures T... --timestep FS``: analyse trajectories made
  elsewhere (ASE .traj, XDATCAR, vasprun.xml, extended XYZ; wrapped or unwrapped).

``--temperatures`` takes several values after one flag (``--temperatures 600 800 1000``),
or repeated flags, or a comma-separated list.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from sseflows.core.errors import CandidateError, ConfigurationError

MULTI_VALUE_OPTIONS = ("--temperatures", "-T")
_NUMBER = re.compile(r"^[+]?\d+(\.\d*)?([eE][+-]?\d+)?(,[+]?\d+(\.\d*)?([eE][+-]?\d+)?)*$")


def expand_multi_values(args: list[str]) -> list[str]:
    """``--temperatures 600 800,1000`` → ``--temperatures 600 --temperatures 800 ...``."""
    out: list[str] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token in MULTI_VALUE_OPTIONS:
            i += 1
            values: list[str] = []
            while i < len(args) and _NUMBER.match(args[i]):
                values.extend(v for v in args[i].split(",") if v)
                i += 1
            if not values:
                out.append(token)
            for value in values:
                out.extend([token, value])
            continue
        out.append(token)
        i += 1
    return out


class MDGroup(TyperGroup):
    """``md`` group: a first argument that is not a sub-command means ``md run``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Route ``md CIF ...`` to ``md run CIF ...`` and expand multi-value options."""
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["run", *args]
        return super().parse_args(ctx, expand_multi_values(list(args)))


md_app = typer.Typer(
    cls=MDGroup,
    help="MD tier: Li MSD → Arrhenius E_a → σ_RT (CHGNet here, VASP AIMD on clusters).",
    no_args_is_help=True,
)

TEMPERATURES_HELP = "MD temperatures, K (several after one flag, or comma-separated)."


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


def _emit(doc, json_out: str | None) -> None:
    """Print the table (or JSON to stdout with ``--json -``); exit 1 when the doc failed."""
    text = json.dumps(doc.model_dump(mode="json"), indent=1)
    if json_out == "-":
        typer.echo(text)
    else:
        if json_out:
            Path(json_out).write_text(text + "\n")
        _print_table(doc)
    if doc.status == "failed":
        typer.echo(f"Error: {doc.reason}", err=True)
        raise typer.Exit(1)


def _print_table(doc) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{doc.candidate_id} ({doc.engine}): Li diffusion")
    for column in ("T (K)", "D (cm²/s)", "± (cm²/s)", "MSD end (Å²)", "flag"):
        table.add_column(column)
    for r in doc.per_temperature:
        table.add_row(
            f"{r.temperature_k:g}",
            "-" if r.diffusivity_cm2_per_s is None else f"{r.diffusivity_cm2_per_s:.3e}",
            "-" if r.diffusivity_err_cm2_per_s is None else f"{r.diffusivity_err_cm2_per_s:.1e}",
            "-" if r.li_msd_end_a2 is None else f"{r.li_msd_end_a2:.2f}",
            r.flag if r.flag == "ok" else f"{r.flag}: {r.reason}",
        )
    console = Console()
    console.print(table)
    if doc.ea_ev is not None:
        err = "?" if doc.ea_err_ev is None else f"{doc.ea_err_ev:.3f}"
        console.print(f"E_a = {doc.ea_ev:.3f} ± {err} eV")
    if doc.sigma_rt_s_per_cm is not None:
        rng = doc.sigma_rt_range_s_per_cm
        span = f" [{rng[0]:.2e}, {rng[1]:.2e}]" if rng else ""
        console.print(f"σ({doc.rt_temperature_k:g} K) = {doc.sigma_rt_s_per_cm:.3e} S/cm{span}")


@md_app.command("run")
def run(
    cif: Path = typer.Argument(..., help="Structure file (CIF, POSCAR, pymatgen JSON)."),
    engine: str = typer.Option("chgnet", "--engine", help="MD engine: chgnet (vasp: clusters)."),
    temperatures: list[float] | None = typer.Option(
        None, "--temperatures", "-T", help=TEMPERATURES_HELP + " [600 800 1000 1200]"
    ),
    steps: int | None = typer.Option(
        None, "--steps", min=10, help="Production steps per temperature [MD Maker default]."
    ),
    equilibration: int | None = typer.Option(
        None, "--equilibration", min=0, help="Steps run first and discarded [MD Maker default]."
    ),
    timestep: float | None = typer.Option(None, "--timestep", help="MD time step, fs [2]."),
    interval: int | None = typer.Option(
        None, "--interval", min=1, help="Steps between stored frames [10]."
    ),
    min_length: float | None = typer.Option(
        None, "--min-length", help="Minimum perpendicular width of the MD supercell, Å [10]."
    ),
    max_atoms: int | None = typer.Option(
        None, "--max-atoms", help="Largest MD supercell accepted [400]."
    ),
    haven: float = typer.Option(1.0, "--haven", help="Haven ratio for Nernst–Einstein."),
    db: str | None = typer.Option(
        None, "--db", help="Store spec for trajectories (folder, memory, mongodb://) [setting db]."
    ),
    json_out: str | None = typer.Option(
        None, "--json", help="Write the document as JSON ('-': stdout)."
    ),
) -> None:
    """Run CHGNet MD at each temperature and fit E_a and σ_RT (equilibration discarded)."""
    from sseflows.campaign.md import local_md, run_local_md

    if engine != "chgnet":
        raise _fail(
            f"engine '{engine}' cannot run here; use 'sseflows md vasp-inputs' for VASP AIMD "
            "inputs or submit MDArrheniusMaker.from_protocol() flows to a cluster."
        )
    try:
        md = local_md(
            cif, tuple(temperatures) if temperatures else None, timestep, equilibration, steps,
            interval, min_length, max_atoms, haven,
        )  # fmt: skip
    except (CandidateError, ConfigurationError) as exc:
        raise _fail(str(exc)) from None
    from rich.console import Console

    from sseflows.report.progress import StepProgress

    with StepProgress(Console(stderr=True), "md run") as progress:
        progress(f"CHGNet MD of {md.candidate.id} at each temperature, then the Arrhenius fit")
        doc = run_local_md(md, db)
    if doc is None:
        raise _fail(f"the MD analysis of {md.candidate.id} did not run; see the log above.", 1)
    _emit(doc, json_out)


@md_app.command("vasp-inputs")
def vasp_inputs(
    cif: Path = typer.Argument(..., help="Structure file (CIF, POSCAR, pymatgen JSON)."),
    outdir: Path = typer.Argument(..., help="Folder to write T<temperature>K/ sub-folders into."),
    preset: str = typer.Option("kang2022", "--preset", help="AIMD protocol preset."),
) -> None:
    """Write VASP AIMD inputs (INCAR, KPOINTS, POSCAR, POTCAR.spec) for every temperature."""
    from sseflows.campaign.md import write_aimd_inputs

    try:
        written = write_aimd_inputs(cif, outdir, preset)
    except (CandidateError, ConfigurationError) as exc:
        raise _fail(str(exc)) from None
    protocol = written.protocol
    typer.echo(
        f"{written.candidate_id}: {written.n_atoms}-atom cell, {protocol.name} "
        f"({protocol.equilibration_steps} + {protocol.production_steps} steps of "
        f"{protocol.time_step_fs:g} fs); wrote {', '.join(str(f) for f in written.folders)}"
    )


@md_app.command("analyze")
def analyze(
    trajectories: list[Path] = typer.Argument(..., help="One trajectory file per temperature."),
    temperatures: list[float] = typer.Option(..., "--temperatures", "-T", help=TEMPERATURES_HELP),
    timestep: float = typer.Option(
        ..., "--timestep", help="Time between stored frames, fs (MD step × stride)."
    ),
    discard: int = typer.Option(0, "--discard", min=0, help="Leading frames dropped."),
    candidate_id: str | None = typer.Option(
        None, "--id", help="Candidate id [first file's folder/stem]."
    ),
    haven: float = typer.Option(1.0, "--haven", help="Haven ratio for Nernst–Einstein."),
    fit_start: float = typer.Option(0.1, "--fit-start", help="Fit window start (fraction)."),
    fit_end: float = typer.Option(0.7, "--fit-end", help="Fit window end (fraction)."),
    json_out: str | None = typer.Option(
        None, "--json", help="Write the document as JSON ('-': stdout)."
    ),
) -> None:
    """Li D per trajectory, Arrhenius E_a and σ_RT for MD run by any code."""
    from sseflows.campaign.md import analyze_trajectories

    if len(trajectories) != len(temperatures):
        raise _fail(
            f"got {len(trajectories)} trajectories but {len(temperatures)} temperatures; "
            "give one temperature per trajectory, in the same order."
        )
    if timestep <= 0:
        raise _fail("--timestep must be positive (fs between stored frames).")
    doc = analyze_trajectories(
        trajectories, temperatures, timestep, discard, candidate_id, haven, fit_start, fit_end
    )
    _emit(doc, json_out)


def register(app: typer.Typer) -> None:
    """Add the ``md`` command group."""
    app.add_typer(md_app, name="md")
