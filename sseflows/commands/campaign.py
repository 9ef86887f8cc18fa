"""``sseflows campaign``: run or check a campaign spec (``workflows/*.yaml``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

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
) -> None:
    """Screen, select the best, run the NEB and MD tiers, and feed labels back."""
    from sseflows.campaign.run import run_campaign_spec
    from sseflows.report.console import wide_console
    from sseflows.report.tables import print_screen_report, tier_table

    console = wide_console()
    report = run_campaign_spec(
        spec_path, list(paths or []), candidates, store, mp_snapshot, workers, neb_engine,
        min_length, neb_top_k, md_top_k, fresh,
    )  # fmt: skip
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


@campaign_app.command("validate")
def validate(spec_path: Path = typer.Argument(..., help="Campaign spec.")) -> None:
    """Check a campaign spec and print what it will run."""
    from sseflows.campaign.spec import load_campaign_spec

    spec = load_campaign_spec(spec_path)
    typer.echo(spec.model_dump_json(indent=2))


def register(app: typer.Typer) -> None:
    """Add ``campaign`` to the CLI."""
    app.add_typer(campaign_app, name="campaign")
