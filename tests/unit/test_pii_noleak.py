"""Nothing raw leaves a scan: every output of a CLI run and an API run (stdout, stderr,
the evidence JSON, logs at DEBUG level) is searched for the raw PII values."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from govflow.checks.pii import scan_pii
from govflow.cli import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "table.parquet"
TRUTH = json.loads(FIXTURE.with_name("table.truth.json").read_text())
FREE_TEXT_PII = (
    re.compile(r"Send the invoice copy to (\S+@\S+) please"),
    re.compile(r"Call back on (.+) tomorrow"),
    re.compile(r"Handled by (.+) from the retention desk"),
)
MIN_LENGTH = 6  # shorter values ("Li", "Ana") also occur inside ordinary words


@pytest.fixture(scope="module")
def raw_values() -> set[str]:
    frame = pd.read_parquet(FIXTURE)
    values: set[str] = set()
    for column, entities in TRUTH.items():
        if not entities:
            continue
        for cell in frame[column].dropna().astype(str):
            found = [m.group(1) for rx in FREE_TEXT_PII for m in rx.finditer(cell)]
            values.update(found or [cell])
    values = {v for v in values if len(v) >= MIN_LENGTH}
    assert len(values) > 9000  # the check below must have something to find
    return values


def _leaks(text: str, raw_values: set[str]) -> list[str]:
    """Raw values occurring in ``text`` (one pass over the text, indexed by 6-char prefix:
    DEBUG logs run to megabytes and there are thousands of values)."""
    by_prefix: dict[str, list[str]] = {}
    for value in raw_values:
        by_prefix.setdefault(value[:MIN_LENGTH], []).append(value)
    found = set()
    for i in range(len(text) - MIN_LENGTH + 1):
        for value in by_prefix.get(text[i : i + MIN_LENGTH], ()):
            if text.startswith(value, i):
                found.add(value)
    return sorted(found)[:5]


def test_leak_search_finds_a_planted_value(raw_values):
    value = sorted(raw_values)[0]
    assert _leaks(f"log line ... {value} ...", raw_values) == [value]


def test_cli_outputs_and_logs_hold_no_raw_value(tmp_path, capsys, caplog, raw_values):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="presidio-analyzer")  # govflow quiets it to WARNING
    csv = tmp_path / "table.csv"
    pd.read_parquet(FIXTURE).to_csv(csv, index=False)
    outputs = []
    for argv in (["check", "pii", "--data", str(csv), "--json"], ["check", "pii", "--data", str(FIXTURE)]):
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 1  # the table holds PII nothing allows
        outputs += [captured.out, captured.err]
    payload = json.loads(outputs[0])
    assert payload["columns"]["ssn"]["entities"]["US_SSN"]["examples"]  # masked examples are there
    assert any(r.name == "presidio-analyzer" for r in caplog.records)  # presidio's own lines were live
    for text in (*outputs, caplog.text):
        assert _leaks(text, raw_values) == []


def test_api_evidence_and_logs_hold_no_raw_value(tmp_path, caplog, raw_values):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="presidio-analyzer")
    result = scan_pii(FIXTURE)
    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    examples = [
        e
        for col in result.details["columns"].values()
        for info in col["entities"].values()
        for e in info["examples"]
    ]
    assert len(examples) > 20
    for text in (evidence.read_text(encoding="utf-8"), repr(result), caplog.text):
        assert _leaks(text, raw_values) == []


def test_presidio_info_lines_stay_out_of_a_task_log_unless_asked_for(tmp_path, caplog):
    # Presidio logs at INFO for every value it analyses without NLP artifacts (hundreds per scan).
    from govflow.checks.pii._engine import PRESIDIO_LOGGER, analyzer_engine

    caplog.set_level(logging.INFO)
    analyzer_engine()
    assert logging.getLogger(PRESIDIO_LOGGER).getEffectiveLevel() == logging.WARNING
    scan_pii(FIXTURE)
    assert not [r for r in caplog.records if r.name == PRESIDIO_LOGGER and r.levelno < logging.WARNING]
