"""The progress port: how long work (reading tables, scanning, testing columns, bundling) says
how far it is, without knowing who listens.

A reporter is a callable ``progress(stage, done, total=None, *, unit="rows", fraction=None)``:
``done`` is the cumulative count of ``unit`` in ``stage`` (a new ``stage`` ends the previous
one); ``total`` when the size is known, else ``fraction`` when only the share done is (bytes of
a CSV file). Checks take an optional ``progress`` argument; without one they report to the
reporter installed for the current context (``reporting(...)``), which is silent by default.
Adapters: the CLI draws a bar on a terminal (``govflow.cli._progress``); Airflow tasks log a
line at an interval (``LogProgress``).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, Protocol

__all__ = [
    "NO_PROGRESS",
    "LogProgress",
    "Progress",
    "ProgressState",
    "current",
    "reporting",
    "resolve",
]


class Progress(Protocol):
    def __call__(
        self,
        stage: str,
        done: int,
        total: int | None = None,
        *,
        unit: str = "rows",
        fraction: float | None = None,
    ) -> None: ...


def _silent(
    stage: str, done: int, total: int | None = None, *, unit: str = "rows", fraction: float | None = None
) -> None:
    return None


NO_PROGRESS: Progress = _silent
_CURRENT: contextvars.ContextVar[Progress] = contextvars.ContextVar("govflow_progress", default=NO_PROGRESS)


def current() -> Progress:
    """The reporter installed for this context (silent unless someone installed one)."""
    return _CURRENT.get()


def resolve(progress: Progress | None) -> Progress:
    """``progress`` if given, else the context's reporter."""
    return progress if progress is not None else _CURRENT.get()


@contextlib.contextmanager
def reporting(progress: Progress) -> Iterator[Progress]:
    """Install ``progress`` for the code run inside (an Airflow task's checks, for instance),
    so it need not be threaded through every service call; ``close()`` it on the way out."""
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)
        close = getattr(progress, "close", None)
        if close is not None:
            close()


class ProgressState:
    """One stage's numbers: count, rate, elapsed, and an estimate of what is left."""

    def __init__(self, stage: str, unit: str, clock: Callable[[], float] = time.monotonic):
        self.stage, self.unit, self._clock = stage, unit, clock
        self.started = self.updated = clock()
        self.done = 0
        self.total: int | None = None
        self.fraction: float | None = None

    def update(self, done: int, total: int | None, fraction: float | None) -> None:
        self.done, self.total = done, total
        self.updated = self._clock()
        if total:
            fraction = done / total
        self.fraction = None if fraction is None else min(max(fraction, 0.0), 1.0)

    @property
    def elapsed(self) -> float:
        return self._clock() - self.started

    @property
    def rate(self) -> float | None:
        """Per second up to the last update (a finished stage's rate does not decay on screen)."""
        elapsed = self.updated - self.started
        return self.done / elapsed if elapsed > 0 else None

    @property
    def remaining(self) -> float | None:
        """Seconds left, when the share done is known and not complete (linear in what was done)."""
        if not self.fraction or self.fraction >= 1:
            return None
        return self.elapsed * (1 - self.fraction) / self.fraction

    def figures(self) -> list[str]:
        """Count (of the total), share done when only that is known, and rate; nothing before the
        first count of a stage whose size is unknown (a spinner and the elapsed time say enough)."""
        if not self.done and self.total is None and self.fraction is None:
            return []
        if self.total and self.unit == "bytes":
            parts = [f"{self.done / 1e6:,.1f} of {self.total / 1e6:,.1f} MB"]
        elif self.total:
            parts = [f"{self.done:,} of {self.total:,} {self.unit}".rstrip()]
        else:
            parts = [_amount(self.done, self.unit)]
        if self.fraction is not None and not self.total:
            parts.append(f"{self.fraction:.0%}")
        rate = self.rate
        if rate is not None and self.done:
            parts.append(f"{_amount(rate, self.unit)}/s")
        return parts

    def line(self) -> str:
        parts = [*self.figures(), f"{self.elapsed:.1f}s elapsed"]
        remaining = self.remaining
        if remaining is not None:
            parts.append(f"~{remaining:.0f}s left")
        return f"{self.stage}: " + ", ".join(parts)


def _amount(n: float, unit: str) -> str:
    """``1,234 rows``, ``0.5 columns``; bytes as MB (a table's size reads better that way)."""
    if unit == "bytes":
        return f"{n / 1e6:,.1f} MB"
    number = f"{n:,.1f}" if 0 < n < 10 and not float(n).is_integer() else f"{n:,.0f}"
    return f"{number} {unit}".rstrip()


class LogProgress:
    """Progress as log lines (Airflow task logs): at most one line per ``interval_s`` per stage,
    plus one when a stage ends, so a long scan shows life without flooding the log."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        interval_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._log = logger or logging.getLogger("govflow.progress")
        self._interval = interval_s
        self._clock = clock
        self._state: ProgressState | None = None
        self._logged_at = 0.0

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
            self.close()
            self._state = ProgressState(stage, unit, self._clock)
            self._logged_at = self._state.started
        self._state.update(done, total, fraction)
        now = self._clock()
        finished = self._state.fraction is not None and self._state.fraction >= 1  # the done line says it
        if now - self._logged_at >= self._interval and not finished:
            self._logged_at = now
            self._log.info("progress %s", self._state.line())

    def close(self) -> None:
        """Log the finished stage (once), if it ran long enough to have logged along the way
        or at all: a stage that ends before its first interval logs a single summary line."""
        if self._state is not None:
            self._log.info("done %s", self._state.line())
            self._state = None


class CountingReader(io.RawIOBase):
    """A binary file that reports the bytes read through it, for progress while a library
    (pandas) reads the whole file in its own loop. ``lines`` counts the line breaks read (a
    CSV's rows plus its header; a quoted line break counts too, so it is an estimate)."""

    def __init__(self, raw: BinaryIO, size: int, report: Callable[[int, int], None]):
        super().__init__()
        self._raw, self._size, self._report = raw, size, report
        self.read_bytes = 0
        self.lines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.read_bytes += n or 0
        if n:
            self.lines += memoryview(buffer)[:n].tobytes().count(b"\n")
        self._report(self.read_bytes, self._size)
        return n
