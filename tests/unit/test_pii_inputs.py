"""Bad input to the PII scan: a clear one-line error (status error, CLI exit 2) or a sound result."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from govflow.checks.pii import scan_pii
from govflow.cli import main


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


BAD_FILES = {
    "missing": (None, "file not found: "),
    "empty": (b"", "empty file: "),
    "header_only": (b"name,email\n", "has no data rows"),
    "latin1": ("name\nJos\xe9 M\xfcller\n".encode("latin-1"), "is not valid UTF-8 text"),
    "broken_quotes": (b'a,b\n"unterminated,1\n', "cannot read "),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_a_clear_error(tmp_path, case):
    content, message = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    if content is not None:
        _write(path, content)
    result = scan_pii(path)
    assert result.status == "error"
    assert len(result.errors) == 1 and message in result.errors[0] and "\n" not in result.errors[0]


@pytest.mark.parametrize("case", ["missing", "latin1", "header_only"])
def test_cli_bad_file_exits_2_with_one_line(tmp_path, capsys, case):
    content, message = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    if content is not None:
        _write(path, content)
    assert main(["check", "pii", "--data", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert '"status": "error"' in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("govflow: error: ") and message in lines[0]


def test_unsupported_type_and_directory(tmp_path):
    assert "unsupported file type '.txt'" in scan_pii(_write(tmp_path / "x.txt", b"a\n1\n")).errors[0]
    (tmp_path / "d.csv").mkdir()
    assert scan_pii(tmp_path / "d.csv").errors == [f"not a file: {tmp_path / 'd.csv'}"]


def test_wrong_data_type():
    assert scan_pii(42).errors == ["data must be a file path or a pandas DataFrame, not int"]


def test_bad_options():
    frame = pd.DataFrame({"a": ["x"]})
    assert scan_pii(frame, chunk_rows=0).status == "error"
    result = scan_pii(
        frame, custom_recognizers=[{"name": "no_entity", "patterns": [{"regex": "x", "score": 1}]}]
    )
    assert result.errors == ["custom recognizer 'no_entity': missing entity name"]


def test_ten_megabyte_cell_gives_a_sound_result(tmp_path):
    filler = "lorem ipsum dolor sit amet " * 390_000  # ~10.5 MB in one cell
    text = filler + " write to grace.hopper@example.com today " + filler
    path = tmp_path / "big.csv"
    pd.DataFrame({"blob": [text, "short note", "another short note"], "n": [1, 2, 3]}).to_csv(
        path, index=False
    )
    assert path.stat().st_size > 20_000_000
    result = scan_pii(path)
    assert result.status == "fail"
    blob = result.details["columns"]["blob"]
    assert set(blob["entities"]) == {"EMAIL_ADDRESS"}
    assert blob["entities"]["EMAIL_ADDRESS"]["examples"] == ["g***@e***.com"]
    assert result.details["columns"]["n"]["entities"] == {}


def test_all_empty_column_and_mixed_object_values():
    frame = pd.DataFrame(
        {
            "empty": pd.Series([None, None, None], dtype=object),
            "mixed": [b"\x00\xff", 12, "jane.roe@example.org"],
        }
    )
    columns = scan_pii(frame).details["columns"]
    assert columns["empty"] == {
        "entities": {},
        "name_hint": None,
        "kind": "values",
        "non_empty": 0,
        "ruled_out": {},
    }
    assert set(columns["mixed"]["entities"]) == {"EMAIL_ADDRESS"}
