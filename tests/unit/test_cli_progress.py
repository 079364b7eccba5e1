"""Progress on long work: a terminal sees it on stderr, pipes and --quiet see nothing, stdout
stays one JSON object; task logs get a line per interval."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from govflow.checks._io import iter_table_chunks, read_table
from govflow.cli._progress import TerminalProgress, terminal_progress
from govflow.progress import NO_PROGRESS, LogProgress, ProgressState, current, reporting

MILLION = 1_000_000
SAMPLE = Path(__file__).resolve().parents[2] / "include" / "sample" / "adult" / "train.csv"


def _table(path: Path, rows: int) -> Path:
    ids = pd.RangeIndex(rows)
    pd.DataFrame(
        {"id": ids, "contact": "user" + ids.astype(str) + "@example.com", "score": (ids % 97) / 97}
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def million(tmp_path_factory) -> Path:
    return _table(tmp_path_factory.mktemp("progress") / "million.csv", MILLION)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return _table(tmp_path_factory.mktemp("progress") / "small.csv", 20_000)


def _govflow(argv: list[str], *, stderr_tty: bool) -> tuple[int, str, str]:
    """Run the CLI in a child process: stdout a pipe, stderr a pseudo-terminal or a pipe."""
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "140"}
    command = [sys.executable, "-m", "govflow", *argv]
    if not stderr_tty:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        return done.returncode, done.stdout, done.stderr
    master, slave = pty.openpty()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:  # the child blocks if nobody reads the terminal
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = child.stdout.read().decode()
    code = child.wait(timeout=600)
    reader.join(timeout=10)
    os.close(master)
    return code, out, b"".join(chunks).decode(errors="replace")


def test_a_million_row_scan_shows_progress_on_a_terminal_and_json_stays_clean(million):
    code, out, terminal = _govflow(["check", "pii", "--data", str(million), "--json"], stderr_tty=True)
    payload = json.loads(out)  # exactly one JSON object, nothing else on stdout
    assert code == 1 and payload["status"] == "fail" and payload["summary"]["rows"] == MILLION
    assert "pii: scanning million.csv" in terminal
    assert "1,000,000 rows, 100%" in terminal  # the final count of the finished stage
    assert "rows/s" in terminal and "s left" in terminal  # rate, and an estimate mid-way
    assert "pii: Presidio on the sampled candidates" in terminal
    assert "\x1b[" in terminal  # drawn live, not printed as log lines


def test_nothing_on_stderr_when_it_is_not_a_terminal(small):
    code, out, err = _govflow(["check", "pii", "--data", str(small), "--json"], stderr_tty=False)
    assert code == 1 and json.loads(out)["summary"]["rows"] == 20_000
    assert err == ""


def test_quiet_silences_the_terminal(small):
    code, out, terminal = _govflow(
        ["check", "pii", "--data", str(small), "--json", "--quiet"], stderr_tty=True
    )
    assert code == 1 and json.loads(out)["summary"]["rows"] == 20_000
    assert terminal == ""


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_chooses_the_adapter():
    quiet = argparse.Namespace(quiet=True)
    loud = argparse.Namespace(quiet=False)
    with terminal_progress(loud, io.StringIO()) as progress:
        assert progress is NO_PROGRESS
    with terminal_progress(quiet, _FakeTerminal()) as progress:
        assert progress is NO_PROGRESS
    stream = _FakeTerminal()
    with terminal_progress(loud, stream) as progress:
        assert isinstance(progress, TerminalProgress)
        progress("reading x.csv", 500, 1000)
        progress("testing columns", 3, 3, unit="columns")
    drawn = stream.getvalue()
    assert "reading x.csv" in drawn and "500 of 1,000 rows" in drawn
    assert "3 of 3 columns" in drawn


def test_a_stage_cut_short_by_an_error_is_not_ticked():
    stream = _FakeTerminal()
    with (
        pytest.raises(KeyboardInterrupt),
        terminal_progress(argparse.Namespace(quiet=False), stream) as progress,
    ):
        progress("reading x.csv", 500, 1000)
        raise KeyboardInterrupt
    drawn = stream.getvalue()
    assert "reading x.csv" in drawn and "500 of 1,000 rows" in drawn and "✓" not in drawn


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_progress_logs_once_per_interval_and_once_when_a_stage_ends(caplog):
    clock = _Clock()
    progress = LogProgress(logging.getLogger("test.progress"), interval_s=30, clock=clock)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress("pii: scanning t.csv", 0, fraction=0.0)  # the stage starts at t=100
        for step in range(1, 11):  # 10 updates, 10 s apart: 100 s
            clock.now += 10
            progress("pii: scanning t.csv", step * 100_000, fraction=step / 10)
        progress("pii: judging", 0, unit="values")  # a new stage ends the previous one
        progress.close()
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:3] == [
        "progress pii: scanning t.csv: 300,000 rows, 30%, 10,000 rows/s, 30.0s elapsed, ~70s left",
        "progress pii: scanning t.csv: 600,000 rows, 60%, 10,000 rows/s, 60.0s elapsed, ~40s left",
        "progress pii: scanning t.csv: 900,000 rows, 90%, 10,000 rows/s, 90.0s elapsed, ~10s left",
    ]
    assert lines[3] == "done pii: scanning t.csv: 1,000,000 rows, 100%, 10,000 rows/s, 100.0s elapsed"
    assert lines[4] == "done pii: judging: 0.0s elapsed"
    assert len(lines) == 5


def test_progress_state_reads_bytes_as_megabytes():
    clock = _Clock()
    state = ProgressState("reading big.csv", "bytes", clock)
    clock.now += 2
    state.update(20_000_000, 80_000_000, None)
    assert state.line() == ("reading big.csv: 20.0 of 80.0 MB, 10.0 MB/s, 2.0s elapsed, ~6s left")


def test_reporting_installs_a_reporter_for_the_context_and_closes_it():
    seen: list[tuple] = []

    class Recorder:
        closed = False

        def __call__(self, stage, done, total=None, *, unit="rows", fraction=None):
            seen.append((stage, done, total))

        def close(self):
            Recorder.closed = True

    assert current() is NO_PROGRESS
    with reporting(Recorder()):
        read_table(SAMPLE)
    assert current() is NO_PROGRESS and Recorder.closed
    assert seen[-1] == ("reading train.csv", 10_000, None)  # every row, the header not counted


def test_reading_with_progress_gives_the_same_table(small, tmp_path):
    seen: list[tuple] = []

    def record(stage, done, total=None, *, unit="rows", fraction=None):
        seen.append((stage, done, total, unit, fraction))

    plain = read_table(small)
    pd.testing.assert_frame_equal(read_table(small, progress=record), plain)
    assert seen[-1][1:] == (20_000, None, "rows", 1.0)  # rows read, and the share of the file's bytes

    seen.clear()
    chunks = list(iter_table_chunks(small, chunk_rows=7_000, progress=record, stage="scan"))
    assert [len(c) for c in chunks] == [7_000, 7_000, 6_000]
    assert [s[1] for s in seen] == [7_000, 14_000, 20_000] and seen[-1][4] == 1.0

    parquet = tmp_path / "small.parquet"
    plain.to_parquet(parquet)
    seen.clear()
    list(iter_table_chunks(parquet, chunk_rows=7_000, progress=record))
    assert [(s[0], s[1], s[2]) for s in seen][-1] == ("reading small.parquet", 20_000, 20_000)
