"""``sseflows bvse CIF``: Li⁺ percolation barriers and the Li path of one structure."""

from __future__ import annotations

import json
from pathlib import Path

import typer

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
    """BVSE barriers E_1D/E_2D/E_3D of Li⁺ and the Li path between the nearest Li pair."""
    from sseflows.data.files import read_structure_file
    from sseflows.gates.bvse.barriers import DEFAULT_RESOLUTION_ANGSTROM, gate_barrier
    from sseflows.gates.bvse.maker import evaluate_structure
    from sseflows.gates.timelimit import run_with_time_limit
    from sseflows.settings import load_settings

    resolution = resolution or DEFAULT_RESOLUTION_ANGSTROM
    limit = timeout if timeout is not None else load_settings().bvse_timeout_s
    candidate = read_structure_file(cif)
    kwargs = {"resolution": resolution, "compute_path": True}
    if limit > 0:
        ev = run_with_time_limit(
            evaluate_structure,
            candidate.structure,
            candidate.id,
            timeout_s=limit,
            candidate_id=candidate.id,
            **kwargs,
        )
    else:
        ev = evaluate_structure(candidate.structure, candidate.id, **kwargs)
    result = ev.result
    barrier, dim = gate_barrier(result)
    record = {
        "formula": candidate.formula,
        "e1d_ev": result.e1d_ev,
        "e2d_ev": result.e2d_ev,
        "e3d_ev": result.e3d_ev,
        "gate_ea_ev": barrier,
        "path_points": None
        if ev.path_points is None
        else [[round(float(x), 4) for x in p] for p in ev.path_points],
    }
    text = json.dumps(record, indent=1)
    if json_out == "-":
        typer.echo(text)
        return
    if json_out:
        Path(json_out).write_text(text + "\n")
    _print_table(candidate.formula, ev, barrier, dim, json_out)


def _print_table(formula: str, ev, barrier: float | None, dim: int | None, json_out) -> None:
    from rich.console import Console
    from rich.table import Table

    result = ev.result
    console = Console()
    table = Table(title=f"BVSE Li⁺ barriers of {formula} ({result.resolution_angstrom} Å grid)")
    table.add_column("dimension")
    table.add_column("barrier (eV)", justify="right")
    for d, value in ((1, result.e1d_ev), (2, result.e2d_ev), (3, result.e3d_ev)):
        table.add_row(f"{d}D", _fmt(value))
    console.print(table)
    console.print(f"gate barrier: {_fmt(barrier)}" + (f" ({dim}D)" if dim else ""))
    console.print(f"treatment: {result.treatment}")
    if ev.path_points is None:
        console.print(f"path: none ({ev.path_note})")
    else:
        a, b, image = ev.path_sites
        pts, en = ev.path_points, ev.path_energies
        console.print(
            f"path: Li site {a} → site {b} + {list(image)}: {len(pts)} points, "
            f"highest {en.max():.3f} eV (hop barrier {en.max() - en[0]:.3f} eV)"
        )
        for label, p in (("start", pts[0]), ("end", pts[-1])):
            console.print(f"  {label}: [{p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f}] Å")
    console.print(
        f"wall time: {ev.wall_s:.1f} s" + (f"; JSON written to {json_out}" if json_out else "")
    )


def register(app: typer.Typer) -> None:
    """Add ``sseflows bvse``."""
    app.command("bvse")(bvse)
