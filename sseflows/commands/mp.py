"""``sseflows mp``: fill the offline Materials Project snapshot, show a candidate's MP entry."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from sseflows.core.errors import CandidateError, ConfigurationError
from sseflows.settings import load_settings

mp_app = typer.Typer(
    help="Materials Project snapshot (offline E_hull/band gaps) and look-ups.",
    no_args_is_help=True,
)

NO_KEY = (
    "MP_API_KEY is not set, so the Materials Project cannot be queried; "
    "export MP_API_KEY=<your key> (https://next-gen.materialsproject.org/api) and retry."
)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code)


@mp_app.command("snapshot")
def snapshot(
    mp_id: list[str] = typer.Option([], "--mp-id", help="MP id to download (repeatable)."),
    chemsys: list[str] = typer.Option(
        [], "--chemsys", help="Chemical system such as Li-P-S (repeatable)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write the documents to this JSON."),
    store: str | None = typer.Option(
        None, "--store", help="Store spec (folder, memory, mongodb://) to fill instead."
    ),
    entries: bool = typer.Option(
        True, "--entries/--no-entries", help="Also store each chemical system's entries."
    ),
) -> None:
    """Download MP summary documents so that compute nodes can run the MP gate offline."""
    from sseflows.campaign.mp import fill_mp_snapshot

    settings = load_settings()
    if not settings.mp_api_key:
        raise _fail(NO_KEY)
    if not mp_id and not chemsys:
        raise _fail("Give at least one --mp-id or --chemsys to download.")
    if out is None and store is None:
        raise _fail("Give --out FILE.json or --store SPEC to say where the snapshot goes.")
    try:
        count = fill_mp_snapshot(settings.mp_api_key, mp_id, chemsys, out, store, entries)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"Wrote {count} MP summary documents to {out or store}.")


@mp_app.command("show")
def show(
    candidate_file: Path = typer.Argument(..., help="Structure file (CIF, POSCAR, JSON)."),
    snapshot: str | None = typer.Option(
        None, "--snapshot", help="Snapshot JSON or store spec (default: the setting)."
    ),
    mp_id: str | None = typer.Option(None, "--mp-id", help="Known MP id of the candidate."),
    as_json: bool = typer.Option(False, "--json", help="Print the gate document as JSON."),
) -> None:
    """Show the MP entry a candidate matches and the gate's verdict on it."""
    from sseflows.campaign.mp import mp_verdict

    try:
        verdict = mp_verdict(candidate_file, snapshot, mp_id)
    except CandidateError as exc:
        raise _fail(str(exc), code=1) from exc
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    candidate, doc = verdict.candidate, verdict.doc
    if as_json:
        typer.echo(json.dumps(doc.model_dump(mode="json"), indent=2))
        return
    typer.echo(f"candidate   {candidate.id} ({candidate.formula})")
    typer.echo(f"MP entry    {doc.mp_id or '-'} {doc.mp_formula or ''}".rstrip())
    typer.echo(f"E_hull      {_fmt(doc.e_hull_ev_per_atom)} eV/atom")
    typer.echo(f"band gap    {_fmt(doc.band_gap_ev)} eV")
    typer.echo(f"from        {doc.value_source or '-'}")
    typer.echo(f"status      {doc.status}: {doc.reason}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def register(app: typer.Typer) -> None:
    """Add the ``mp`` command group."""
    app.add_typer(mp_app, name="mp")
