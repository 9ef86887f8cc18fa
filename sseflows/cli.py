"""The ``sseflows`` command. Each command group lives in ``sseflows.commands.<group>``."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import typer

from sseflows.commands import register_all
from sseflows.core.errors import CandidateError, ConfigurationError

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


def exits_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with the two kinds of sseflows error turned into one line on stderr and
    an exit status: a configuration error exits 2, a bad candidate 1 (no traceback)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConfigurationError as exc:
            typer.echo(f"Configuration error: {exc}", err=True)
            raise typer.Exit(2) from None
        except CandidateError as exc:
            typer.echo(f"Error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def _wrap_commands(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = exits_cleanly(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _wrap_commands(group.typer_instance)


register_all(app)
_wrap_commands(app)

if __name__ == "__main__":  # pragma: no cover
    app()
