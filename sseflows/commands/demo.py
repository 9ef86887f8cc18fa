"""``sseflows demo``: screen the shipped demo candidates end to end."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    spec: Path | None = typer.Option(
        None, "--spec", help="Demo specification [the one shipped with sseflows]."
    ),
    store: str | None = typer.Option(None, "--store", help="Store spec [~/.sseflows/db]."),
    workdir: Path = typer.Option(
        Path.home() / ".sseflows" / "demo", "--workdir", help="Where the demo CIFs are written."
    ),
    workers: int | None = typer.Option(None, "--workers", help="Processes [all cores]."),
    json_out: Path | None = typer.Option(None, "--json", help="Write records to this file."),
    neb: bool = typer.Option(True, "--neb/--no-neb", help="CHGNet NEB on the best survivor."),
    rank: bool = typer.Option(True, "--rank/--no-rank", help="Rank the pool first."),
) -> None:
    """Rank the demo candidates, screen the survivors through the gates, then a CHGNet NEB
    on the best one."""
    from sseflows.campaign.demo import (
        default_demo_spec,
        load_demo_spec,
        rank_demo,
        run_demo_neb,
        screen_demo,
        write_demo_cifs,
    )
    from sseflows.report.console import wide_console
    from sseflows.report.screening import ScreeningProgress, print_screening, write_json_records
    from sseflows.report.tables import tier_table

    console = wide_console()
    demo_spec = load_demo_spec(spec or default_demo_spec())
    folder = workdir / "candidates"
    paths = write_demo_cifs(demo_spec, folder)
    console.print(f"demo: {len(paths)} candidate files written to {folder}")
    dropped: list[str] = []
    if rank and demo_spec.rank is not None:
        console.print("ranking stage: training a small model and ranking the pool")
        ranked, note = rank_demo(demo_spec, folder, store)
        if ranked is None:
            console.print(note)
        else:
            console.print(
                f"ranking (model {ranked.model_version}, {ranked.criteria}): "
                f"{len(ranked.kept)} of {len(ranked.docs)} go on"
            )
            keys = ("candidate_id", "formula", "p_superionic", "log10_sigma", "near_training")
            rows = [{k: ranked.docs[c].get(k) for k in keys} for c in ranked.kept]
            console.print(tier_table("rank", rows))
            for reason in ranked.dropped.values():
                console.print(f"  dropped: {reason}")
            dropped = list(ranked.dropped)
    with ScreeningProgress(console) as progress:
        run = screen_demo(
            demo_spec, folder, store, workers, progress.start, progress.advance, dropped
        )
    report = run.report
    print_screening(console, report.funnel, report.records, report.reused, run.stored_in)
    if json_out is not None:
        write_json_records(console, run.json_records(), json_out)
    neb_spec = demo_spec.neb
    if neb and neb_spec is not None:
        console.print(
            f"NEB tier ({neb_spec.engine}, supercell >= {neb_spec.min_length} Å, "
            f"{neb_spec.n_images} images) for the best survivor(s) by BVSE barrier"
        )
        chosen, rows = run_demo_neb(demo_spec, report, folder, store)
        console.print(f"selected: {', '.join(chosen) or 'none'}")
        console.print(tier_table("neb", rows))
    raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the CLI."""
    app.command("demo")(demo)
