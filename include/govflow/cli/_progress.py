"""Progress of long commands on a terminal: a live line per stage on stderr (rich).

The terminal adapter of ``govflow.progress``: stage, a bar when the share done is known, rows
so far, rate, elapsed and an estimate of the time left. Only when stderr is a terminal and
``--quiet`` is not given; never on stdout, so ``--json`` stays exactly one object and pipes
and CI logs see nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from typing import IO, Any

from govflow.progress import NO_PROGRESS, Progress, ProgressState

__all__ = ["TerminalProgress", "add_quiet_flag", "terminal_progress"]

# Rich redraws on its own thread at this rate, so elapsed time moves during a long library call
# that reports nothing (Presidio on the samples, a Great Expectations run).
REFRESH_PER_SECOND = 8


def add_quiet_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on stderr (shown only on a terminal)"
    )


@contextlib.contextmanager
def terminal_progress(args: argparse.Namespace, stream: IO[str] | None = None) -> Iterator[Progress]:
    """A progress reporter for a command: drawn on ``stream`` (stderr) when it is a terminal and
    ``--quiet`` is not set, else silent. Closed (the last line left in place) on the way out."""
    stream = stream if stream is not None else sys.stderr
    if getattr(args, "quiet", False) or not _is_terminal(stream):
        yield NO_PROGRESS
        return
    reporter = TerminalProgress(stream)
    try:
        yield reporter
    except BaseException:
        reporter.close(finished=False)  # the stage did not finish: no tick, no full bar
        raise
    reporter.close()


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


class TerminalProgress:
    """``govflow.progress.Progress`` drawn with rich: one line per stage, the finished ones kept."""

    def __init__(self, stream: IO[str]):
        from rich.console import Console
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._live = RichProgress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(bar_width=12),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[left]}"),
            console=Console(file=stream, stderr=True, highlight=False),
            refresh_per_second=REFRESH_PER_SECOND,
            # Rich would otherwise capture print() to stdout and draw it on its own console.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._state: ProgressState | None = None
        self._task: Any = None
        self._started = False

    def __call__(
        self,
        stage: str,
        done: int,
        total: int | None = None,
        *,
        unit: str = "rows",
        fraction: float | None = None,
    ) -> None:
        if self._state is None or self._state.stage != stage:
            self._finish_stage()
            if not self._started:
                self._live.start()
                self._started = True
            self._state = ProgressState(stage, unit)
            self._task = self._live.add_task(stage, total=None, detail="", left="")
        state = self._state
        state.update(done, total, fraction)
        self._live.update(
            self._task,
            total=1.0 if state.fraction is not None else None,
            completed=state.fraction or 0.0,
            detail=_detail(state),
            left=_left(state),
        )

    def _finish_stage(self, finished: bool = True) -> None:
        if self._state is None:
            return
        state = self._state
        if finished:  # a full bar, its final count and rate, no estimate
            self._live.update(self._task, total=1.0, completed=1.0, detail=_detail(state), left="")
        self._live.stop_task(self._task)
        self._state = None

    def close(self, *, finished: bool = True) -> None:
        self._finish_stage(finished)
        if self._started:
            self._live.stop()
            self._started = False


def _detail(state: ProgressState) -> str:
    return ", ".join(state.figures())


def _left(state: ProgressState) -> str:
    remaining = state.remaining
    return "" if remaining is None else f"~{remaining:.0f}s left"
