"""The ``sseflows`` command. Each command group lives in ``sseflows.commands.<group>``."""

from __future__ import annotations

import typer

from sseflows.commands import register_all

app = typer.Typer(
    name="sseflows",
    help="Tiered screening campaigns for Li solid-state electrolytes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
register_all(app)

if __name__ == "__main__":  # pragma: no cover
    app()
