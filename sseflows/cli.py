"""The ``sseflows`` command. Each command group lives in ``sseflows.commands.<group>``."""

from __future__ import annotations

import warnings

import typer

from sseflows.commands import register_all

# Known, harmless library warnings that would bury the tables a user came for.
warnings.filterwarnings("ignore", category=FutureWarning, module=r"jobflow\..*")
warnings.filterwarnings("ignore", message="Some jobs are not connected", category=UserWarning)
warnings.filterwarnings(
    "ignore", message="Converting a tensor with requires_grad", category=UserWarning
)

app = typer.Typer(
    name="sseflows",
    help="Tiered screening campaigns for Li solid-state electrolytes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
register_all(app)

if __name__ == "__main__":  # pragma: no cover
    app()
