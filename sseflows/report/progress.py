"""A progress display for long commands without a per-candidate bar (``sseflows rank``…).

:class:`StepProgress` is a context manager and a callback ``(what, done, total)``: a spinner
with the current phase and the time so far, plus ``done/total`` and a bar while a phase has
steps. Use cases take the callback and never import rich.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class StepProgress:
    """Spinner, phase, bar and elapsed time of one command (``title``) on ``console``; it
    disappears when the command ends (and is not drawn when the output is not a terminal)."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn(f"[bold]{title}[/bold]"),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> StepProgress:
        if self.console.is_terminal:  # piped output (``--json -``) stays clean
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __call__(self, what: str, done: int | None = None, total: int | None = None) -> None:
        """Show phase ``what``, with ``done`` of ``total`` steps when given."""
        if self._task is not None:
            self._progress.update(self._task, description=what, completed=done or 0, total=total)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._progress.stop()
