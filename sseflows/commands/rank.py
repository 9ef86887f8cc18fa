"""``sseflows rank``: train, predict, evaluate and replay the ranking stage."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

rank_app = typer.Typer(
    help="The ranking stage: learn from measured conductivities, rank candidates.",
    no_args_is_help=True,
)

SOURCE_HELP = (
    "Labels: 'store' (the label store), or with --labels-path 'obelix', 'laskowski' or "
    "'laskowski-clustering'."
)
PATH_HELP = "OBELiX folder, or a Laskowski CSV (or its folder), for a published label source."
STORE_HELP = "Store spec of the label store (default: the db setting)."
REPRESENTATION_HELP = "Representation: magpie, soap, soap-sine, chgnet, or parts joined by '+'."
ROWS_SHOWN = 20

# Options shared by several rank commands (typer reads these defaults, never mutates them).
LABELS_SOURCE = typer.Option("store", "--labels-source", help=SOURCE_HELP)
LABELS_PATH = typer.Option(None, "--labels-path", help=PATH_HELP)
REPRESENTATION = typer.Option("magpie", "--representation", help=REPRESENTATION_HELP)
MODEL = typer.Option("ensemble", "--model", help="ensemble, kang or clusters.")
STORE = typer.Option(None, "--store", help=STORE_HELP)
JSON_REPORT = typer.Option(None, "--json", help="Write the report here.")
MODEL_OPTIONS = typer.Option(
    [], "--model-option", help="KEY=VALUE overriding a model default (repeatable), e.g. n_runs=20."
)


def _write_json(path: Path | None, payload: Any, console: Console) -> None:
    if path is not None:
        path.write_text(json.dumps(payload, indent=2, default=_json_default, allow_nan=False))
        console.print(f"Wrote {path}.")


def _json_default(value: Any) -> Any:
    return str(value)


def _finite(payload: Any) -> Any:
    """``payload`` with inf/NaN floats as None (JSON has no infinity)."""
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, dict):
        return {k: _finite(v) for k, v in payload.items()}
    if isinstance(payload, list | tuple):
        return [_finite(v) for v in payload]
    return payload


def _number(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


@rank_app.command("train")
def train_command(
    out: Path = typer.Option(..., "--out", help="Model file to write (.skops; .json beside)."),
    labels_source: str = LABELS_SOURCE,
    labels_path: Path | None = LABELS_PATH,
    model: str = MODEL,
    representation: str = REPRESENTATION,
    threshold: float = typer.Option(1e-4, "--threshold", help="Superionic at σ ≥ this, S/cm."),
    pool: list[Path] = typer.Option([], "--pool", help="Pool structures (clusters model)."),
    model_option: list[str] = MODEL_OPTIONS,
    store: str | None = STORE,
) -> None:
    """Train a ranking model on measured conductivities and save it with its provenance."""
    from sseflows.campaign.rank import model_options, train
    from sseflows.report.progress import StepProgress

    console = Console()
    with StepProgress(console, "rank train") as progress:
        summary = train(
            out,
            source=labels_source,
            labels_path=labels_path,
            store_spec=store,
            model=model,
            representation_name=representation,
            threshold_s_per_cm=threshold,
            pool_paths=pool,
            model_settings=model_options(model_option),
            progress=progress,
        )
    console.print(
        f"Trained {model} on {summary.n_rows} materials ({representation}); model "
        f"{summary.model_version} saved to {summary.path}; {len(summary.excluded)} rows "
        "could not be featurised."
    )
    for row_id, reason in list(summary.excluded.items())[:5]:
        console.print(f"  left out {row_id}: {reason}", highlight=False)


@rank_app.command("predict")
def predict_command(
    model: Path = typer.Argument(..., help="Model file written by 'sseflows rank train'."),
    paths: list[Path] = typer.Argument(None, help="Structure files or folders."),
    candidates: Path | None = typer.Option(
        None, "--candidates", help="CSV with path, mp_id or composition rows (and id)."
    ),
    order_by: str = typer.Option("p_superionic", "--order-by", help="p_superionic or log10_sigma."),
    json_out: Path | None = typer.Option(None, "--json", help="Write every record here."),
) -> None:
    """Rank candidates: one record each; failures keep their one-sentence reason."""
    from sseflows.campaign.rank import predict
    from sseflows.report.progress import StepProgress

    console = Console()
    with StepProgress(console, "rank predict") as progress:
        records = predict(model, paths or [], candidates, order_by, progress=progress)
    table = Table(title=f"{len(records)} candidates ranked")
    for column in ("rank", "id", "formula", "P(SI)", "±", "log10 σ", "90 % interval", "novelty"):
        table.add_column(column, no_wrap=True)
    for record in records[:ROWS_SHOWN]:
        if record["status"] != "completed":
            continue
        table.add_row(
            str(record["rank"]),
            record["candidate_id"],
            record.get("formula", ""),
            _number(record.get("p_superionic"), ".2f"),
            _number(record.get("p_superionic_sd"), ".2f"),
            _number(record.get("log10_sigma"), ".2f"),
            f"{_number(record.get('log10_sigma_lo'), '.1f')} … "
            f"{_number(record.get('log10_sigma_hi'), '.1f')}",
            _number(record.get("novelty"), ".2f"),
        )
    console.print(table)
    for record in records:
        if record["status"] == "failed":
            console.print(f"failed: {record['reason']}", highlight=False)
    _write_json(json_out, _finite(records), console)


@rank_app.command("evaluate")
def evaluate_command(
    split: str = typer.Option("grouped", "--split", help="kfold, grouped or loco."),
    n_splits: int = typer.Option(5, "--n-splits", help="Folds (clusters for loco)."),
    labels_source: str = LABELS_SOURCE,
    labels_path: Path | None = LABELS_PATH,
    model: str = MODEL,
    representation: str = REPRESENTATION,
    seed: int = typer.Option(0, "--seed", help="Seed of the split and the control."),
    model_option: list[str] = MODEL_OPTIONS,
    store: str | None = STORE,
    json_out: Path | None = JSON_REPORT,
) -> None:
    """Cross-validated metrics of a model, each next to a shuffled-label control."""
    from sseflows.campaign.rank import evaluate_model, model_options
    from sseflows.report.progress import StepProgress

    console = Console()
    with StepProgress(console, "rank evaluate") as progress:
        report = evaluate_model(
            source=labels_source,
            labels_path=labels_path,
            store_spec=store,
            model=model,
            representation_name=representation,
            split=split,
            n_splits=n_splits,
            seed=seed,
            model_settings=model_options(model_option),
            progress=progress,
        )
    table = Table(title=f"{model} on {representation}: {split} CV, {report['n']} materials")
    for column in ("metric", "model", "shuffled control"):
        table.add_column(column)
    for metric, value in report["model"].items():
        table.add_row(metric, _number(value, ".3f"), _number(report["control"][metric], ".3f"))
    console.print(table)
    _write_json(json_out, _finite(report), console)


@rank_app.command("replay")
def replay_command(
    labels_source: str = LABELS_SOURCE,
    labels_path: Path | None = LABELS_PATH,
    representation: str = REPRESENTATION,
    strategy: list[str] = typer.Option(
        ["exploit", "explore", "ucb"], "--strategy", help="Acquisitions (random always runs)."
    ),
    seed_labels: int = typer.Option(5, "--seed-labels", help="Labels known at the start."),
    batch: int = typer.Option(5, "--batch", help="Measurements per round."),
    budget: int = typer.Option(50, "--budget", help="Measurements in all."),
    seeds: int = typer.Option(20, "--seeds", help="Repeats with different seed labels."),
    kappa: float = typer.Option(1.0, "--kappa", help="κ of the UCB acquisition."),
    store: str | None = STORE,
    json_out: Path | None = JSON_REPORT,
) -> None:
    """Retrospective campaign: measurements each acquisition needs to find the targets."""
    from sseflows.campaign.rank import replay_campaign
    from sseflows.report.progress import StepProgress

    console = Console()
    with StepProgress(console, "rank replay") as progress:
        report = replay_campaign(
            source=labels_source,
            labels_path=labels_path,
            store_spec=store,
            representation_name=representation,
            strategies=strategy,
            n_seed_labels=seed_labels,
            batch_size=batch,
            budget=budget,
            n_seeds=seeds,
            kappa=kappa,
            progress=progress,
        )
    table = Table(
        title=f"Replay on {report['n_rows']} materials, {report['n_targets']} targets "
        f"(top 5 %), budget {budget}, median of {seeds} seeds"
    )
    for column in ("strategy", "measurements to 3 targets", "targets found", "families found"):
        table.add_column(column)
    for name, figures in report["strategies"].items():
        to_three = figures["measurements_to_3_targets"]
        table.add_row(
            name,
            f"> {budget}" if math.isinf(to_three) else f"{to_three:.0f}",
            f"{figures['targets_found']:.1f}",
            f"{figures['families_found']:.1f}",
        )
    console.print(table)
    _write_json(json_out, _finite(report), console)


def register(app: typer.Typer) -> None:
    """Add the ``rank`` command group to ``app``."""
    app.add_typer(rank_app, name="rank")
