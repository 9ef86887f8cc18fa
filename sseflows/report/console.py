"""The console the CLI prints tables on."""

from __future__ import annotations

import sys

from rich.console import Console


def wide_console() -> Console:
    """A console for tables: the terminal's width, or 160 columns when piped or logged."""
    return Console() if sys.stdout.isatty() else Console(width=160)
