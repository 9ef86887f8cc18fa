"""``sseflows labels``: import the published label sets and list the labelled set."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

labels_app = typer.Typer(
    help="Conductivity labels: import published sets, list the labelled set.",
    no_args_is_help=True,
)

MAX_REASONS_SHOWN = 10
STORE_HELP = "Store spec: a folder, 'memory', or a mongodb:// URI (default: the db setting)."


class LabelSet(str, Enum):
    """Label sets that ``labels import`` knows."""

    obelix = "obelix"
    laskowski = "laskowski"
    laskowski_clustering = "laskowski-clustering"


@labels_app.command("import")
def import_labels(
    label_set: LabelSet = typer.Argument(..., help="Which label set PATH holds."),
    path: Path = typer.Argument(
        ...,
        exists=True,
        help="OBELiX folder (train.csv + cifs/), Laskowski's digitized CSV or their "
        "semi_supervised_labels.csv (or the folder holding it).",
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Import a published label set into the label store (re-importing replaces)."""
    from sseflows.campaign.labels import import_label_set
    from sseflows.report.progress import StepProgress

    console = Console()
    with StepProgress(console, "labels import") as progress:
        progress(f"reading {label_set.value} labels and structures from {path}")
        result = import_label_set(label_set.value, path, store)
    console.print(
        f"Imported {result.written} {label_set.value} labels ({result.with_structure} with a "
        f"structure) from {path}; skipped {len(result.skipped)}. The store now holds "
        f"{result.total} labels."
    )
    for reason in result.skipped[:MAX_REASONS_SHOWN]:
        console.print(f"  skipped: {reason}", highlight=False)
    if len(result.skipped) > MAX_REASONS_SHOWN:
        console.print(f"  ... and {len(result.skipped) - MAX_REASONS_SHOWN} more skipped rows.")


def _sigma_text(doc: dict) -> str:
    if doc["sigma_upper_bound"] and doc["log10_sigma_rt"] is not None:
        return f"< {10 ** doc['log10_sigma_rt']:.2e}"
    return f"{doc['sigma_rt_s_per_cm']:.2e}" if doc["sigma_rt_s_per_cm"] is not None else "-"


def _number_text(value: float | None, fmt: str) -> str:
    return format(value, fmt) if value is not None else "-"


@labels_app.command("list")
def list_labels(
    kind: str | None = typer.Option(None, "--kind", help="experimental or computed."),
    source: str | None = typer.Option(None, "--source", help="e.g. obelix, laskowski2023."),
    formula: str | None = typer.Option(None, "--formula", help="Any formula of the composition."),
    limit: int = typer.Option(20, "--limit", help="Show at most this many labels (0 = all)."),
    json_out: Path | None = typer.Option(
        None, "--json", help="Also write the listed labels (without structures) to this file."
    ),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """List labels as a table, optionally filtered; --json writes the same records."""
    from sseflows.campaign.labels import find_labels

    console = Console()
    listing = find_labels(kind, source, formula, limit, store)
    docs = listing.shown
    table = Table(title=f"{len(docs)} of {listing.n_matching} matching labels")
    for column in ("label_id", "formula", "σ_RT S/cm", "log10 σ", "Ea eV", "kind", "source", "cif"):
        table.add_column(column, no_wrap=True)
    for doc in docs:
        kind_text = doc["method"] or doc["kind"]
        table.add_row(
            doc["label_id"],
            doc["formula"],
            _sigma_text(doc),
            _number_text(doc["log10_sigma_rt"], ".2f"),
            _number_text(doc["ea_ev"], ".3f"),
            kind_text,
            doc["source"],
            "yes" if doc["has_structure"] else "no",
        )
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(docs, indent=2, default=str))
        console.print(f"Wrote {len(docs)} labels to {json_out}.")


def register(app: typer.Typer) -> None:
    """Add the ``labels`` command group to ``app``."""
    app.add_typer(labels_app, name="labels")
