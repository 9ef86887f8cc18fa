"""Rich tables for the terminal: the screening funnel and the ranked candidates."""

from __future__ import annotations

from typing import Any

from rich.console import Console, JustifyMethod
from rich.table import Table


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def funnel_table(funnel: dict[str, int]) -> Table:
    """Stage → candidates remaining."""
    table = Table(title="Screening funnel")
    table.add_column("stage")
    table.add_column("candidates", justify="right")
    for stage, count in funnel.items():
        table.add_row(stage, str(count))
    return table


STATUS_STYLE = {"passed": "green", "unknown": "yellow", "dropped": "magenta", "failed": "red"}

RANKED_COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("#", "right"),
    ("id", "left"),
    ("formula", "left"),
    ("status", "left"),
    ("E_hull eV/at", "right"),
    ("E_g eV", "right"),
    ("E_a BVSE eV", "right"),
    ("E1D/E2D/E3D eV", "right"),
    ("reason", "left"),
)
"""The ranked table's columns: header and justification."""


def ranked_table(records: list[dict[str, Any]], limit: int | None = None) -> Table:
    """Candidates ranked by BVSE barrier, survivors first, with the reason for the rest."""
    table = Table(title="Ranked candidates (lowest BVSE barrier first)")
    for name, justify in RANKED_COLUMNS:
        table.add_column(name, justify=justify, overflow="fold")
    for rank, rec in enumerate(records[:limit] if limit else records, start=1):
        dims = "/".join(_fmt(rec.get(k), 2) for k in ("bvse_e1d_ev", "bvse_e2d_ev", "bvse_e3d_ev"))
        style = STATUS_STYLE.get(rec["status"], "")
        table.add_row(
            str(rank),
            rec["id"],
            rec.get("formula") or "",
            f"[{style}]{rec['status']}[/{style}]" if style else rec["status"],
            _fmt(rec.get("e_hull_ev_per_atom")),
            _fmt(rec.get("band_gap_ev"), 2),
            _fmt(rec.get("bvse_ea_ev")),
            dims,
            rec.get("reason") or "",
        )
    return table


def print_screen_report(console: Console, funnel: dict[str, int], records: list[dict]) -> None:
    """Funnel then ranked table."""
    console.print(funnel_table(funnel))
    console.print(ranked_table(records))


def tier_table(tier: str, rows: list[dict[str, Any]]) -> Table:
    """One row per candidate of an expensive tier (NEB or MD record keys as columns)."""
    table = Table(title=f"{tier.upper()} tier")
    for key in rows[0] if rows else ():
        table.add_column(key, overflow="fold")
    for row in rows:
        table.add_row(*(_fmt(v) for v in row.values()))
    return table
