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
) -> None:
    """Screen the demo candidates through the gates, then a CHGNet NEB on the best one."""
    from sseflows.campaign.demo import default_demo_spec, load_demo_spec, write_demo_cifs
    from sseflows.commands.screen import run_screen, wide_console

    console = wide_console()
    demo_spec = load_demo_spec(spec or default_demo_spec())
    paths = write_demo_cifs(demo_spec, workdir / "candidates")
    console.print(f"demo: {len(paths)} candidate files written to {workdir / 'candidates'}")
    th = demo_spec.thresholds
    report = run_screen(
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
    if neb and demo_spec.neb is not None:
        _demo_neb(demo_spec, report, workdir / "candidates", store, console)
    raise typer.Exit(0)


def _demo_neb(demo_spec, report, folder: Path, store: str | None, console) -> None:
    """Print the demo's NEB stage (the campaign's own stage, run by ``campaign.demo``)."""
    from sseflows.campaign.demo import run_demo_neb
    from sseflows.report.tables import tier_table
    from sseflows.settings import load_settings
    from sseflows.stores import build_job_store

    spec = demo_spec.neb
    console.print(
        f"NEB tier ({spec.engine}, supercell >= {spec.min_length} Å, {spec.n_images} images) "
        "for the best survivor(s) by BVSE barrier"
    )
    job_store = build_job_store(load_settings(db=store).db)
    job_store.connect()
    chosen, rows = run_demo_neb(demo_spec, report, folder, job_store)
    console.print(f"selected: {', '.join(chosen) or 'none'}")
    console.print(tier_table("neb", rows))
    job_store.close()


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the CLI."""
    app.command("demo")(demo)
