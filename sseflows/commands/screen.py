"""``sseflows screen``: read candidates, run the MP and BVSE gates, print the funnel."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from sseflows.core.errors import ConfigurationError

if TYPE_CHECKING:
    from sseflows.campaign.screen import ScreenReport


def wide_console() -> Console:
    """A console for tables: the terminal's width, or 160 columns when piped or logged."""
    return Console() if sys.stdout.isatty() else Console(width=160)


def run_screen(
    paths: list[Path],
    candidates_csv: Path | None = None,
    mp_snapshot: str | None = None,
    ehull: float | None = None,
    gap: float | None = None,
    ea: float | None = None,
    store_spec: str | None = None,
    workers: int | None = None,
    json_out: Path | None = None,
    fresh: bool = False,
    console: Console | None = None,
) -> ScreenReport:
    """Body of ``sseflows screen`` (also used by ``sseflows demo``); returns the report."""
    from sseflows.campaign.results import SCREEN_RECORD_KEYS
    from sseflows.campaign.screen import build_screening_maker, screen_candidates
    from sseflows.data.readers import read_candidates
    from sseflows.gates.mp.sources import build_mp_source
    from sseflows.report.tables import print_screen_report
    from sseflows.settings import load_settings
    from sseflows.stores import build_job_store, redact

    console = console or wide_console()
    settings = load_settings(db=store_spec, mp_snapshot=mp_snapshot, workers=workers)
    for path in paths:
        if not path.exists():
            raise ConfigurationError(f"Input path {path} does not exist.")
    if candidates_csv is not None and not candidates_csv.is_file():
        raise ConfigurationError(f"Candidate list {candidates_csv} does not exist.")

    source = build_mp_source(snapshot=settings.mp_snapshot, api_key=settings.mp_api_key)

    def lookup(mp_id: str):
        entry = source.by_id(mp_id)
        return entry.structure if entry is not None else None

    candidate_set = read_candidates(paths, csv=candidates_csv, structure_lookup=lookup)
    maker = build_screening_maker(
        settings.mp_snapshot, e_hull_max_ev_per_atom=ehull, band_gap_min_ev=gap, ea_max_ev=ea
    )
    store = build_job_store(settings.db)
    store.connect()
    for merge in candidate_set.merges:
        console.print(
            f"merged duplicate structures of {merge.formula}: kept {merge.kept_id}, "
            f"merged {', '.join(merge.merged_ids)}"
        )
    total = len(candidate_set.candidates) + len(candidate_set.failures)
    with Progress(
        TextColumn("[bold]screening"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=not console.is_terminal,
    ) as progress:
        task = progress.add_task("", total=total)

        def on_done(run) -> None:
            progress.update(task, advance=1, description=run.key)

        report = screen_candidates(
            candidate_set,
            store,
            maker=maker,
            workers=min(settings.n_workers, max(total, 1)),
            fresh=fresh,
            on_done=on_done,
        )
    if report.reused:
        console.print(
            f"reused stored results for {len(report.reused)} candidate(s) "
            "(same structure and settings); use --fresh to recompute"
        )
    print_screen_report(console, report.funnel, report.records)
    console.print(f"results stored in {redact(settings.db)}")
    if json_out is not None:
        rows = [{k: rec.get(k) for k in SCREEN_RECORD_KEYS} for rec in report.records]
        text = json.dumps(rows, indent=2)
        if str(json_out) == "-":
            sys.stdout.write(text + "\n")
        else:
            json_out.write_text(text + "\n")
            console.print(f"wrote {len(rows)} records to {json_out}")
    store.close()
    return report


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
    run_screen(
        list(paths or []),
        candidates,
        mp_snapshot,
        ehull,
        gap,
        ea,
        store,
        workers,
        json_out,
        fresh,
    )
    raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    """Add ``screen`` to the CLI."""
    app.command("screen")(screen)
