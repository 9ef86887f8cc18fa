"""``sseflows report``: one self-contained HTML page with a campaign's figures and tables."""

from __future__ import annotations

from pathlib import Path

import typer


def report(
    name: str = typer.Argument(..., help="Campaign name (the spec's `name`)."),
    out: Path = typer.Option(..., "--out", help="Folder to write <NAME>.html into."),
    store: str | None = typer.Option(
        None, "--store", help="Store: folder, 'memory' or mongodb:// URI [~/.sseflows/db]."
    ),
) -> None:
    """Write the report of campaign NAME: funnel, ranked table, predicted vs measured σ,
    BVSE vs NEB barriers, NEB profiles, Arrhenius plots and the learning curve."""
    from sseflows.campaign.report_data import campaign_report_data
    from sseflows.report.console import wide_console
    from sseflows.report.html import write_html_report

    console = wide_console()
    with console.status(f"gathering the documents of campaign {name}"):
        data = campaign_report_data(name, store)
    with console.status("drawing the figures"):
        path = write_html_report(data, out)
    console.print(f"wrote the report of campaign {name} to {path}")


def register(app: typer.Typer) -> None:
    """Add ``report`` to the CLI."""
    app.command("report")(report)
