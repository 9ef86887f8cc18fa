"""``sseflows qe ...``: Quantum ESPRESSO helpers (parse a neb.x output)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

qe_app = typer.Typer(help="Quantum ESPRESSO tools.", no_args_is_help=True)

NEB_JSON_KEYS = ("barrier_ev", "barrier_back_ev", "converged", "iterations", "energies_ev")


def neb_summary(path: Path) -> dict:
    """The ``parse-neb`` record of one neb.x output (plus climbing image and coordinates)."""
    from sseflows.qe.parsers import parse_neb_output

    result = parse_neb_output(path)
    record = {key: getattr(result, key) for key in NEB_JSON_KEYS}
    record["climbing_image"] = result.climbing_image
    record["reaction_coordinate_angstrom"] = result.reaction_coordinate_angstrom
    return record


@qe_app.command("parse-neb")
def parse_neb(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="neb.x output file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a summary."),
) -> None:
    """Barrier, convergence and image energies of a neb.x run (reads <prefix>.dat beside it)."""
    record = neb_summary(file)
    if as_json:
        typer.echo(json.dumps(record, indent=1))
        return
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


def register(app: typer.Typer) -> None:
    """Add ``sseflows qe``."""
    app.add_typer(qe_app, name="qe")
