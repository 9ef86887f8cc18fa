"""What ``sseflows screen`` and ``sseflows demo`` print while and after screening: merged
duplicates, the progress bar, the funnel and ranked tables, and the JSON records."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from sseflows.report.tables import print_screen_report


class Merge(Protocol):
    """Duplicate structures merged into one candidate on reading."""

    formula: str
    kept_id: str
    merged_ids: list[str]


class Finished(Protocol):
    """A candidate's finished run; ``key`` names it."""

    key: str


class ScreeningProgress:
    """The ``screening`` progress bar; a context manager whose :meth:`start` (called once the
    candidates are read) prints the merged duplicates and shows the bar, and whose
    :meth:`advance` moves it on by one candidate."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ScreeningProgress:
        return self

    def start(self, total: int, merges: Sequence[Merge]) -> None:
        """Print ``merges``, then show a bar of ``total`` candidates."""
        for merge in merges:
            self.console.print(
                f"merged duplicate structures of {merge.formula}: kept {merge.kept_id}, "
                f"merged {', '.join(merge.merged_ids)}"
            )
        self._progress = Progress(
            TextColumn("[bold]screening"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=not self.console.is_terminal,
        )
        self._progress.start()
        self._task = self._progress.add_task("", total=total)

    def advance(self, run: Finished) -> None:
        """One more candidate done; its key is shown beside the bar."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=run.key)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


def print_screening(
    console: Console,
    funnel: dict[str, int],
    records: list[dict[str, Any]],
    reused: Sequence[str],
    stored_in: str,
) -> None:
    """The outcome of a screening: how many candidates were reused, the funnel and ranked
    tables, and where the results are stored (``stored_in``, a printable store spec)."""
    if reused:
        console.print(
            f"reused stored results for {len(reused)} candidate(s) "
            "(same structure and settings); use --fresh to recompute"
        )
    print_screen_report(console, funnel, records)
    console.print(f"results stored in {stored_in}")


def write_json_records(console: Console, rows: list[dict[str, Any]], json_out: Path) -> None:
    """Write ``rows`` as JSON to ``json_out``, or to stdout when it is ``-``."""
    text = json.dumps(rows, indent=2)
    if str(json_out) == "-":
        sys.stdout.write(text + "\n")
    else:
        json_out.write_text(text + "\n")
        console.print(f"wrote {len(rows)} records to {json_out}")
