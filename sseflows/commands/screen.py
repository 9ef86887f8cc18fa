"""``sseflows screen``: read candidates, run the MP and BVSE gates, print the funnel."""

from __future__ import annotations

from pathlib import Path

import typer


def screen(
    paths: list[Path] = typer.Argument(None, help="CIF files or folders of structures."),
    candidates: Path | None = typer.Option(
        None, "--candidates", help="CSV with `path` or `mp_id` columns (+ e_hull/band_gap)."
    ),
    mp_snapshot: str | None = typer.Option(
        None, "--mp-snapshot", help="JSON file or store with MP summary documents."
    ),
    ehull: float | None = typer.Option(
        None, "--ehull", help="Max E_hull, eV/atom [MP gate default]."
    ),
    gap: float | None = typer.Option(None, "--gap", help="Min band gap, eV [MP gate default]."),
    ea: float | None = typer.Option(None, "--ea", help="Max BVSE barrier, eV [BVSE gate default]."),
    store: str | None = typer.Option(
        None, "--store", help="Store: folder, 'memory' or mongodb:// URI [~/.sseflows/db]."
    ),
    workers: int | None = typer.Option(None, "--workers", help="Processes [all cores]."),
    json_out: Path | None = typer.Option(None, "--json", help="Write records to this file."),
    fresh: bool = typer.Option(False, "--fresh", help="Recompute stored results."),
) -> None:
    """Screen candidates through the Materials Project and BVSE gates."""
    if not paths and candidates is None:
        typer.echo("Give structure files/folders or --candidates CSV.", err=True)
        raise typer.Exit(2)
    from sseflows.campaign.screen import screen_files
    from sseflows.report.console import wide_console
    from sseflows.report.screening import ScreeningProgress, print_screening, write_json_records

    console = wide_console()
    with ScreeningProgress(console) as progress:
        run = screen_files(
            list(paths or []), candidates, mp_snapshot, ehull, gap, ea, store, workers, fresh,
            on_read=progress.start, on_done=progress.advance,
        )  # fmt: skip
    report = run.report
    print_screening(console, report.funnel, report.records, report.reused, run.stored_in)
    if json_out is not None:
        write_json_records(console, run.json_records(), json_out)
    raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    """Add ``screen`` to the CLI."""
    app.command("screen")(screen)
