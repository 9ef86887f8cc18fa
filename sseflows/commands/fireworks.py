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
    processes: int = typer.Option(
        1, "--processes", "-n", min=1, help="Independent worker processes on this machine."
    ),
    recover: bool = typer.Option(
        False,
        "--recover",
        help="First rerun Fireworks whose worker died (killed, node lost); completed ones "
        "are kept.",
    ),
    lost_after: float | None = typer.Option(
        None,
        "--lost-after",
        help="With --recover: a launch silent this many seconds is lost (default 4 h; "
        "launches of dead workers on this host are lost at once).",
    ),
    recover_only: bool = typer.Option(
        False, "--recover-only", help="Recover lost runs and exit without running."
    ),
    sleep: int = typer.Option(
        5, "--sleep", help="Seconds between polls while Fireworks wait for others."
    ),
    fworker: Path | None = typer.Option(
        None,
        "--fworker",
        help="my_fworker.yaml: the categories of Fireworks this worker runs "
        "(inputs/my_fworker_*.yaml); default any.",
    ),
) -> None:
    """Run ready Fireworks on this machine (what a cluster job script calls)."""
    from sseflows.campaign.fireworks import (
        launch_local_worker,
        launch_workers,
        load_fworker,
        load_launchpad,
        recover_lost_runs,
    )

    console = Console()
    lpad = load_launchpad(launchpad)
    if recover or recover_only:
        recovery = recover_lost_runs(lpad, lost_after_s=lost_after)
        ids = ", ".join(str(i) for i in recovery.lost_fw_ids) or "none"
        console.print(f"recovered {len(recovery.lost_fw_ids)} lost Firework(s) to rerun: {ids}")
        if recover_only:
            return
    if processes == 1:
        launch_local_worker(
            lpad, nlaunches=nlaunches, launch_dir=launch_dir, sleep_time=sleep,
            fworker=load_fworker(fworker),
        )  # fmt: skip
        return
    codes = launch_workers(
        processes, launchpad, nlaunches, launch_dir, sleep_time=sleep, fworker_path=fworker
    )
    failed = [code for code in codes if code != 0]
    if failed:
        console.print(f"[red]{len(failed)} of {processes} worker process(es) failed[/red]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``submit`` and ``worker`` to the CLI."""
    app.command("submit")(submit)
    app.command("worker")(worker)
