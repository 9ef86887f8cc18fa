"""``sseflows submit`` and ``sseflows worker``: the screening campaign on FireWorks."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def submit(
    paths: list[Path] = typer.Argument(None, help="CIF files or folders of structures."),
    candidates: Path | None = typer.Option(None, "--candidates", help="Candidate CSV."),
    launchpad: Path | None = typer.Option(None, "--launchpad", help="launchpad.yaml."),
    store: str | None = typer.Option(None, "--store", help="Store spec for job outputs."),
    mp_snapshot: str | None = typer.Option(None, "--mp-snapshot", help="MP snapshot."),
    ehull: float | None = typer.Option(None, "--ehull", help="Max E_hull, eV/atom."),
    gap: float | None = typer.Option(None, "--gap", help="Min band gap, eV."),
    ea: float | None = typer.Option(None, "--ea", help="Max BVSE barrier, eV."),
) -> None:
    """Add one screening workflow per candidate to the FireWorks LaunchPad."""
    from sseflows.campaign.fireworks import submit_files

    console = Console()
    submission = submit_files(
        list(paths or []), candidates, launchpad, store, mp_snapshot, ehull, gap, ea
    )
    plan = submission.plan
    for failure in submission.failures:
        console.print(f"[red]unreadable[/red] {failure.reason}")
    if plan.reused:
        console.print(f"{len(plan.reused)} candidate(s) already have stored results")
    console.print(f"submitted {len(plan.flows)} workflow(s) to the LaunchPad")


def worker(
    launchpad: Path | None = typer.Option(None, "--launchpad", help="launchpad.yaml."),
    nlaunches: int = typer.Option(0, "--nlaunches", help="0 = until no work is left."),
    launch_dir: Path = typer.Option(Path("."), "--launch-dir", help="Where to run."),
) -> None:
    """Run ready Fireworks on this machine (what a cluster job script calls)."""
    from sseflows.campaign.fireworks import launch_local_worker, load_launchpad

    launch_local_worker(load_launchpad(launchpad), nlaunches=nlaunches, launch_dir=launch_dir)


def register(app: typer.Typer) -> None:
    """Add ``submit`` and ``worker`` to the CLI."""
    app.command("submit")(submit)
    app.command("worker")(worker)
