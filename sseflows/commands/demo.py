"""``sseflows demo``: screen the shipped demo candidates end to end."""

from __future__ import annotations

from pathlib import Path

import typer

from sseflows.core.errors import ConfigurationError


def demo(
    spec: Path = typer.Option(Path("inputs/demo.yaml"), "--spec", help="Demo specification."),
    store: str | None = typer.Option(None, "--store", help="Store spec [~/.sseflows/db]."),
    workdir: Path = typer.Option(
        Path.home() / ".sseflows" / "demo", "--workdir", help="Where the demo CIFs are written."
    ),
    workers: int | None = typer.Option(None, "--workers", help="Processes [all cores]."),
    json_out: Path | None = typer.Option(None, "--json", help="Write records to this file."),
) -> None:
    """Screen the demo candidates (pymatgen structures + prototypes) through the gates."""
    from sseflows.commands.screen import run_screen, wide_console
    from sseflows.data.demo import load_demo_spec, write_demo_cifs

    console = wide_console()
    try:
        demo_spec = load_demo_spec(spec)
        paths = write_demo_cifs(demo_spec, workdir / "candidates")
        console.print(f"demo: {len(paths)} candidate files written to {workdir / 'candidates'}")
        th = demo_spec.thresholds
        code = run_screen(
            [workdir / "candidates"],
            mp_snapshot=str(demo_spec.mp_snapshot) if demo_spec.mp_snapshot else None,
            ehull=th.get("e_hull_max_ev_per_atom"),
            gap=th.get("band_gap_min_ev"),
            ea=th.get("bvse_ea_max_ev"),
            store_spec=store,
            workers=workers,
            json_out=json_out,
            console=console,
        )
    except ConfigurationError as exc:
        typer.echo(f"Configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the CLI."""
    app.command("demo")(demo)
