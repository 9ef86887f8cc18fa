"""The progress display of long commands: phase and steps on a terminal, nothing when piped."""

from __future__ import annotations

import io

from rich.console import Console

from sseflows.report.progress import StepProgress


def test_step_progress_shows_phase_and_steps_on_a_terminal() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    with StepProgress(console, "rank evaluate") as progress:
        progress("cross-validating", 2, 3)
    shown = console.file.getvalue()
    assert "rank evaluate" in shown and "cross-validating" in shown and "2/3" in shown


def test_step_progress_writes_nothing_when_piped() -> None:
    console = Console(file=io.StringIO(), force_terminal=False)
    with StepProgress(console, "neb") as progress:
        progress("band", None, None)
    assert console.file.getvalue() == ""
