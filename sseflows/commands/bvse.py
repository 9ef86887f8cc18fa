"""``sseflows bvse CIF``: Li⁺ percolation barriers and the Li path of one structure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from sseflows.campaign.bvse import BvseResult

JSON_KEYS = ("formula", "e1d_ev", "e2d_ev", "e3d_ev", "gate_ea_ev", "path_points")
"""Keys of the ``--json`` record, in order."""


def _fmt(value: float | None) -> str:
    return "does not percolate" if value is None else f"{value:.3f}"


def bvse(
    cif: Path = typer.Argument(..., help="Structure file (CIF, pymatgen JSON, POSCAR)."),
    json_out: str | None = typer.Option(
        None, "--json", help="Write the result as JSON to this file, or '-' for stdout only."
    ),
    resolution: float | None = typer.Option(
        None, "--resolution", min=0.05, max=1.0, help="Grid spacing, Å [0.2]."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", help="Wall-time limit, s [setting bvse_timeout_s; 0 = none]."
    ),
) -> None:
    """BVSE barriers E_1D/E_2D/E_3D of Li⁺ and the Li path between the nearest Li pair.

    Runs the BVSE gate Maker itself, so what is printed is what the gate stores."""
    from sseflows.campaign.bvse import bvse_barriers

    result = bvse_barriers(cif, resolution, timeout)
    candidate, doc = result.candidate, result.doc
    if doc.status == "failed":  # the gate's own sentence, naming the candidate
        typer.echo(f"Error: {doc.reason}", err=True)
        raise typer.Exit(1)
    points = doc.path_points_angstrom
    record = {
        "formula": candidate.formula,
        "e1d_ev": doc.e1d_ev,
        "e2d_ev": doc.e2d_ev,
        "e3d_ev": doc.e3d_ev,
        "gate_ea_ev": doc.gate_ea_ev,
        "path_points": None if points is None else [[round(x, 4) for x in p] for p in points],
    }
    text = json.dumps(record, indent=1)
    if json_out == "-":
        typer.echo(text)
        return
    if json_out:
        Path(json_out).write_text(text + "\n")
    _print_table(result, json_out)


def _print_table(result: BvseResult, json_out: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    formula, doc = result.candidate.formula, result.doc
    console = Console()
    table = Table(title=f"BVSE Li⁺ barriers of {formula} ({doc.resolution_angstrom} Å grid)")
    table.add_column("dimension")
    table.add_column("barrier (eV)", justify="right")
    for d, value in ((1, doc.e1d_ev), (2, doc.e2d_ev), (3, doc.e3d_ev)):
        table.add_row(f"{d}D", _fmt(value))
    console.print(table)
    dim = doc.gate_dimension
    console.print(f"gate barrier: {_fmt(doc.gate_ea_ev)}" + (f" ({dim}D)" if dim else ""))
    console.print(f"gate: {doc.status} ({doc.reason})")
    console.print(f"treatment: {doc.treatment}")
    if doc.path_points_angstrom is None or doc.path_sites is None:
        console.print("path: none")
    else:
        a, b, image = doc.path_sites
        pts, en = doc.path_points_angstrom, doc.path_energies_ev or [0.0]
        console.print(
            f"path: Li site {a} → site {b} + {list(image)}: {len(pts)} points, "
            f"highest {max(en):.3f} eV (hop barrier {doc.path_barrier_ev:.3f} eV)"
        )
        for label, p in (("start", pts[0]), ("end", pts[-1])):
            console.print(f"  {label}: [{p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}] Å")
    console.print(
        f"wall time: {doc.wall_s:.1f} s" + (f"; JSON written to {json_out}" if json_out else "")
    )


def register(app: typer.Typer) -> None:
    """Add ``sseflows bvse``."""
    app.command("bvse")(bvse)
