"""Command groups of the ``sseflows`` CLI, one module each.

Every module exposes ``register(app: typer.Typer) -> None`` that adds its commands or
sub-apps. A module that is missing (a tier not installed) is skipped.
"""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = (
    "screen",
    "demo",
    "campaign",
    "rank",
    "labels",
    "mp",
    "bvse",
    "neb",
    "qe",
    "md",
    "fireworks",
    "report",
)


def register_all(app: typer.Typer) -> None:
    """Add every command group to ``app``."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"sseflows.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sseflows.commands.{name}":
                continue
            raise
        module.register(app)
