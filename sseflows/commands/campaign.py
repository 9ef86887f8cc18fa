"""``sseflows campaign``: run or check a campaign spec (``workflows/*.yaml``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from sseflows.core.errors import ConfigurationError

campaign_app = typer.Typer(
    help="Whole campaigns from workflows/*.yaml specs.", no_args_is_help=True
)


@campaign_app.command("run")
def run(
    spec_path: Path = typer.Argument(..., help="Campaign spec (workflows/*.yaml)."),
    paths: list[Path] = typer.Argument(None, help="CIF files or folders."),
    candidates: Path | None = typer.Option(None, "--candidates", help="Candidate CSV."),
    store: str | None = typer.Option(None, "--store", help="Store spec [~/.sseflows/db]."),
    mp_snapshot: str | None = typer.Option(None, "--mp-snapshot", help="MP snapshot."),
    workers: int | None = typer.Option(None, "--workers", help="Processes [all cores]."),
    neb_engine: str | None = typer.Option(None, "--neb-engine", help="qe or chgnet."),
    min_length: float | None = typer.Option(None, "--min-length", help="NEB supercell, Å."),
    neb_top_k: int | None = typer.Option(None, "--neb-top-k", help="Candidates for NEB."),
    md_top_k: int | None = typer.Option(None, "--md-top-k", help="Candidates for MD."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the report here."),
    fresh: bool = typer.Option(False, "--fresh", help="Recompute stored results."),
    rounds: int | None = typer.Option(
        None, "--rounds", help="Closed-loop rounds in all [spec loop.rounds]."
    ),
    models_dir: Path | None = typer.Option(
        None, "--models-dir", help="Trained ranking models [~/.sseflows/models]."
    ),
) -> None:
    """Screen, select the best, run the NEB and MD tiers, and feed labels back; with
    ``--rounds N`` (or a spec ``loop:``) N rounds of retrain → rank → pick → compute."""
    from sseflows.campaign.loop import wants_loop
    from sseflows.campaign.options import CampaignOptions
    from sseflows.campaign.run import run_campaign_spec
    from sseflows.report.console import wide_console
    from sseflows.report.tables import print_screen_report, tier_table

    console = wide_console()
    options = CampaignOptions(
        paths=list(paths or []), candidates_csv=candidates, store_spec=store,
        mp_snapshot=mp_snapshot, workers=workers, neb_engine=neb_engine, min_length=min_length,
        neb_top_k=neb_top_k, md_top_k=md_top_k, fresh=fresh, models_dir=models_dir,
        rounds=rounds,
    )  # fmt: skip
    if wants_loop(spec_path, rounds):
        if fresh:
            raise ConfigurationError(
                "--fresh cannot be combined with the loop, which reuses results."
            )
        _run_loop(console, json_out, spec_path, options)
        return
    from sseflows.report.progress import StepProgress

    with StepProgress(console, "campaign run") as progress:
        progress(f"ranking, gates, NEB and MD of {spec_path.name}")
        report = run_campaign_spec(spec_path, options)
    print_screen_report(console, report.funnel, report.screen.records)
    if report.rank is not None:
        for reason in report.rank.dropped.values():
            console.print(f"ranking dropped: {reason}")
    for tier, rows in report.tiers.items():
        console.print(f"{tier}: selected {', '.join(report.selected[tier]) or 'none'}")
        console.print(tier_table(tier, rows))
    console.print(f"{report.n_labels} computed label(s) written to the label store")
    if json_out is not None:
        payload = {"screen": report.screen.records, "selected": report.selected,
                   "tiers": report.tiers, "labels_written": report.n_labels,
                   "funnel": report.funnel,
                   "rank": None if report.rank is None else {
                       "model_version": report.rank.model_version, "kept": report.rank.kept,
                       "dropped": report.rank.dropped}}  # fmt: skip
        json_out.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def _rounds_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Rounds")
    for key in rows[0] if rows else ():
        table.add_column(key, overflow="fold")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    return table


def _run_loop(console: Console, json_out: Path | None, spec_path: Path, options: Any) -> None:
    """Run the loop of ``campaign run --rounds`` (``options``: ``CampaignOptions``), one line
    per round as it ends, then the rounds table."""
    from sseflows.campaign.loop import round_rows, run_loop_spec

    def show(doc: dict[str, Any]) -> None:
        (row,) = round_rows([doc])
        console.print(
            f"round {row['round']}: model {row['model']} on {row['labels']} labels "
            f"({row['computed']} computed); picks {row['picks']}; "
            f"{row['new labels']} new label(s); hits {row['hits']}"
        )

    report = run_loop_spec(spec_path, options, on_round=show)
    console.print(_rounds_table(round_rows(report.rounds)))
    console.print(report.stop_reason)
    if json_out is not None:
        payload = {"campaign": report.campaign, "ran": report.ran, "rounds": report.rounds,
                   "stop_reason": report.stop_reason}  # fmt: skip
        json_out.write_text(json.dumps(payload, indent=2, default=str) + "\n")


@campaign_app.command("rounds")
def rounds_(
    name: str = typer.Argument(..., help="Campaign name (the spec's name)."),
    store: str | None = typer.Option(None, "--store", help="Store spec [~/.sseflows/db]."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the rounds here."),
) -> None:
    """List the stored rounds of a campaign's loop: model, labels, picks, results, hits."""
    from sseflows.campaign.loop import list_rounds, round_rows
    from sseflows.report.console import wide_console

    stored = list_rounds(name, store)
    if not stored:
        raise ConfigurationError(f"Campaign {name!r} has no stored rounds in this store.")
    wide_console().print(_rounds_table(round_rows(stored)))
    if json_out is not None:
        json_out.write_text(json.dumps(stored, indent=2, default=str) + "\n")


@campaign_app.command("submit")
def submit(
    spec_path: Path = typer.Argument(..., help="Campaign spec (workflows/*.yaml)."),
    paths: list[Path] = typer.Argument(None, help="CIF files or folders."),
    candidates: Path | None = typer.Option(None, "--candidates", help="Candidate CSV."),
    launchpad: Path | None = typer.Option(None, "--launchpad", help="launchpad.yaml."),
    store: str | None = typer.Option(None, "--store", help="Store spec [~/.sseflows/db]."),
    mp_snapshot: str | None = typer.Option(None, "--mp-snapshot", help="MP snapshot."),
    neb_engine: str | None = typer.Option(None, "--neb-engine", help="qe or chgnet."),
    min_length: float | None = typer.Option(None, "--min-length", help="NEB supercell, Å."),
    neb_top_k: int | None = typer.Option(None, "--neb-top-k", help="Candidates for NEB."),
    md_top_k: int | None = typer.Option(None, "--md-top-k", help="Candidates for MD."),
    fresh: bool = typer.Option(False, "--fresh", help="Recompute stored results."),
    rounds: int | None = typer.Option(
        None, "--rounds", help="Closed-loop rounds in all [spec loop.rounds]."
    ),
    models_dir: Path | None = typer.Option(
        None, "--models-dir", help="Ranking models, seen by every worker [~/.sseflows/models]."
    ),
) -> None:
    """Add the whole campaign (rank, gates, selection, NEB, MD, labels; with ``--rounds N``
    or a spec ``loop:``, round after round) to the FireWorks LaunchPad as one workflow that
    workers alone drive."""
    from sseflows.campaign.options import CampaignOptions
    from sseflows.campaign.submit import submit_campaign

    if fresh and rounds is not None:
        raise ConfigurationError("--fresh cannot be combined with the loop, which reuses results.")
    options = CampaignOptions(
        paths=list(paths or []), candidates_csv=candidates, store_spec=store,
        mp_snapshot=mp_snapshot, neb_engine=neb_engine, min_length=min_length,
        neb_top_k=neb_top_k, md_top_k=md_top_k, fresh=fresh, models_dir=models_dir,
        rounds=rounds,
    )  # fmt: skip
    from sseflows.report.console import wide_console
    from sseflows.report.progress import StepProgress

    with StepProgress(wide_console(), "campaign submit") as progress:
        progress(f"reading the pool, planning {spec_path.name} and adding it to the LaunchPad")
        submission = submit_campaign(spec_path, options, launchpad)
    for failure in submission.failures:
        typer.echo(f"unreadable: {failure.reason}")
    categories = ", ".join(f"{k} {v}" for k, v in submission.categories.items())
    then = (
        "each round job adds its gates, selection, NEB, MD and closing Fireworks on a worker"
        if submission.rounds
        else "the selection adds the NEB, MD and labels Fireworks on a worker"
    )
    rounds_text = f" in up to {submission.rounds} round(s)" if submission.rounds else ""
    typer.echo(
        f"submitted campaign {submission.name!r}{rounds_text}: {submission.candidates} "
        f"candidate(s), {len(submission.fw_ids)} Firework(s) now ({categories}); {then}"
    )


@campaign_app.command("status")
def status(
    name: str = typer.Argument(..., help="The campaign's name (its spec's name)."),
    launchpad: Path | None = typer.Option(None, "--launchpad", help="launchpad.yaml."),
    store: str | None = typer.Option(None, "--store", help="Store spec [~/.sseflows/db]."),
    json_out: Path | None = typer.Option(None, "--json", help="Write the status here."),
) -> None:
    """The funnel so far, what is running, every failed candidate with its reason, and the
    rounds of the learning loop."""
    from dataclasses import asdict

    from sseflows.campaign.status import campaign_status

    report = campaign_status(name, launchpad, store)
    typer.echo(f"campaign {report.name}")
    for stage, count in report.funnel.items():
        typer.echo(f"  {stage:<28} {count}")
    for tier, chosen in report.selected.items():
        typer.echo(f"  {tier} selected: {', '.join(chosen) or 'none'}")
    states = ", ".join(f"{state} {n}" for state, n in report.fireworks.items()) or "none"
    typer.echo(f"fireworks: {states}")
    for running in report.running:
        typer.echo(f"  running: {running}")
    typer.echo(f"failed: {len(report.failures)}")
    for who, stage, reason in report.failures:
        typer.echo(f"  {who} [{stage}]: {reason}")
    if report.rounds:
        from sseflows.report.console import wide_console

        wide_console().print(_rounds_table(report.rounds))
    if json_out is not None:
        json_out.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")


@campaign_app.command("validate")
def validate(spec_path: Path = typer.Argument(..., help="Campaign spec.")) -> None:
    """Check a campaign spec and print what it will run."""
    from sseflows.campaign.spec import load_campaign_spec

    spec = load_campaign_spec(spec_path)
    typer.echo(spec.model_dump_json(indent=2))


def register(app: typer.Typer) -> None:
    """Add ``campaign`` to the CLI."""
    app.add_typer(campaign_app, name="campaign")
