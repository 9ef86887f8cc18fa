"""``sseflows qe ...``: Quantum ESPRESSO helpers (parse a neb.x output)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

qe_app = typer.Typer(help="Quantum ESPRESSO tools.", no_args_is_help=True)


@qe_app.command("parse-neb")
def parse_neb(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="neb.x output file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a summary."),
    tolerance: float | None = typer.Option(
        None, "--tolerance", help="Band-check tolerance, eV [0.05]."
    ),
) -> None:
    """Barrier, convergence and image energies of a neb.x run (reads <prefix>.dat beside it).

    A band whose image falls below its endpoints, or whose highest image is an endpoint, is
    reported as no barrier (exit status 1)."""
    from sseflows.campaign.neb_output import neb_summary

    record = neb_summary(file, tolerance)
    if as_json:
        typer.echo(json.dumps(record, indent=1))
        raise typer.Exit(1 if record["band_problem"] else 0)
    if record["band_problem"] is not None:
        typer.echo(f"{file}: not a barrier: {record['band_problem']}.")
        for i, energy in enumerate(record["energies_ev"]):
            typer.echo(f"  image {i + 1}: {energy:9.4f} eV")
        raise typer.Exit(1)
    if record["barrier_ev"] is None:
        typer.echo(f"{file}: no NEB iteration finished.")
        raise typer.Exit(1)
    typer.echo(
        f"barrier {record['barrier_ev']:.4f} eV forward, {record['barrier_back_ev']:.4f} eV "
        f"backward; {'converged' if record['converged'] else 'NOT converged'} after "
        f"{record['iterations']} iterations"
        + ("; climbing image" if record["climbing_image"] else "")
    )
    for i, energy in enumerate(record["energies_ev"]):
        typer.echo(f"  image {i + 1}: {energy:9.4f} eV")


def _floats(text: str | None) -> tuple[float, ...] | None:
    return tuple(float(x) for x in text.split(",")) if text else None


@qe_app.command("converge")
def converge(
    structure_file: Path = typer.Argument(..., exists=True, help="Structure file (CIF, ...)."),
    ecutwfc: str | None = typer.Option(
        None, "--ecutwfc", help="Cutoffs to try, Ry, comma-separated (default: UPF-based)."
    ),
    kspacing: str | None = typer.Option(
        None, "--kspacing", help="k-spacings to try, 1/Å, comma-separated."
    ),
    dual: float = typer.Option(4.0, "--dual", help="ecutrho / ecutwfc."),
    tol: float = typer.Option(1e-3, "--tol", help="Tolerance, eV/atom."),
    pseudo_dir: str | None = typer.Option(None, "--pseudo-dir", help="Pseudopotential folder."),
    np_: int | None = typer.Option(None, "--np", help="MPI ranks (mpirun -np N)."),
    work_dir: str = typer.Option("qe_runs", "--work-dir", help="QE run directories."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the result as JSON here."),
) -> None:
    """Converge the cutoff and the k-spacing of one structure to --tol eV/atom with pw.x."""
    from sseflows.campaign.convergence import converge_structure
    from sseflows.core.errors import SseflowsError

    try:
        result = converge_structure(
            structure_file, _floats(ecutwfc), _floats(kspacing), dual, tol, pseudo_dir,
            f"mpirun -np {np_}" if np_ else None, work_dir,
        )  # fmt: skip
    except SseflowsError as exc:  # a bad structure, a misconfiguration or a failed pw.x run
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None
    if json_out:
        json_out.write_text(json.dumps(result, indent=1) + "\n")
    typer.echo(
        f"ecutwfc {result['ecutwfc']:g} Ry (ecutrho {result['ecutrho']:g} Ry), kspacing "
        f"{result['kspacing']:g} 1/Å" + ("" if result["settled"] else " (series not settled)")
    )


def register(app: typer.Typer) -> None:
    """Add ``sseflows qe``."""
    app.add_typer(qe_app, name="qe")
