"""The scan's cheap paths: per-value pre-screens, coordinated samples, windows, null markers.

Each of them saves work without changing what the scan may find; these tests pin that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from govflow.checks.pii import scan_pii
from govflow.checks.pii._prescreen import Prescreen
from govflow.checks.pii._recognizers import CAPITALISED_PAIR, CAPITALISED_WORD, street_address_recognizer
from govflow.checks.pii._sampling import ColumnSamples, windows
from govflow.checks.pii._scan import _sample_chunk


def _sampled(values: list[str | None], screens: list[Prescreen], chunks: int = 1) -> ColumnSamples:
    col = ColumnSamples("c")
    rng = np.random.default_rng(0)
    for _ in range(chunks):
        _sample_chunk(col, pd.Series(values, dtype=object), screens, rng, 50)
    return col


class TestPrescreenOnDistinctValues:
    def test_candidates_are_counted_per_cell_not_per_distinct_value(self):
        values = ["Ana Lopez", "Ana Lopez", "x", None, "", "Ana Lopez", "Li Wei"] * 3
        col = _sampled(values, [Prescreen("pair", CAPITALISED_PAIR, 5)], chunks=2)
        assert col.non_empty == 2 * 3 * 5  # None and "" are not cells with content
        assert col.by_prescreen["pair"].count == 2 * 3 * 4
        assert set(col.by_prescreen["pair"].texts) == {"Ana Lopez", "Li Wei"}

    def test_compiled_pattern_and_vectorised_pattern_agree(self):
        screen = Prescreen("word", CAPITALISED_WORD, 10)
        few = ["Ana", "ana", "ÉMILE", "Émile", "42"]
        assert screen.compiled_below > len(few)
        many = few * (screen.compiled_below // len(few) + 1)
        import pyarrow as pa

        small = screen.mask(pa.array(few, type=pa.large_string()))  # the `regex` module's compiled pattern
        large = screen.mask(pa.array(many, type=pa.large_string()))[: len(few)]  # RE2 through pyarrow
        assert small.tolist() == large.tolist() == [True, False, False, True, False]


class TestCoordinatedSamples:
    def test_two_screens_over_the_same_cells_keep_the_same_cells(self):
        values = [f"Ana L{'o' * (i + 1)}pez" for i in range(500)]
        col = _sampled(
            values, [Prescreen("word", CAPITALISED_WORD, 40), Prescreen("pair", CAPITALISED_PAIR, 40)]
        )
        word, pair = col.by_prescreen["word"], col.by_prescreen["pair"]
        assert word.count == pair.count == 500
        assert sorted(word.texts) == sorted(pair.texts)  # one draw per cell: Presidio reads each once


class TestWindows:
    def test_overlapping_windows_are_one_piece_without_repeated_text(self):
        import regex

        cell = "x" * 700 + " Ana Lopez met Li Wei and Jo Kim here " + "y" * 700
        text = windows(cell, regex.compile(CAPITALISED_PAIR))
        assert "\n\n" not in text
        assert text.count("Ana Lopez") == text.count("Jo Kim") == 1
        assert len(text) < 400

    def test_distant_matches_stay_apart(self):
        import regex

        cell = "Ana Lopez " + "z " * 400 + "Li Wei"
        assert windows(cell, regex.compile(CAPITALISED_PAIR)).count("\n\n") == 1


class TestStreetAddressGate:
    def test_an_address_is_still_found_and_prose_is_skipped(self):
        recognizer = street_address_recognizer()
        for address in ("221B Baker Street, London, NW1 6XE", "Hauptstraße 5, 10115 Berlin"):
            found = recognizer.analyze(address, ["LOCATION"])
            assert [(r.entity_type, r.start, r.end) for r in found] == [("LOCATION", 0, len(address))]
        assert recognizer.analyze("Nothing here looks like a house number", ["LOCATION"]) == []


def test_database_null_markers_are_missing_cells(tmp_path):
    path = tmp_path / "dump.csv"
    notes = ["\\N"] * 8 + ["The clerk mailed the letter to the wrong patient last week."] * 2
    pd.DataFrame({"id": range(10), "note": notes}).to_csv(path, index=False)
    columns = scan_pii(path).details["columns"]
    assert columns["note"]["non_empty"] == 2
    assert columns["note"]["kind"] == "free_text"


def test_csv_chunks_hold_a_bounded_amount_of_text(tmp_path):
    from govflow.checks.pii._read import CHUNK_BYTES, MIN_CHUNK_ROWS, csv_chunk_rows

    wide = tmp_path / "wide.csv"
    wide.write_text("a,b\n" + ("x" * 2_000 + ",1\n") * 600, encoding="utf-8")
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("a\n" + "1\n" * 600, encoding="utf-8")
    assert csv_chunk_rows(wide, 50_000) == CHUNK_BYTES * 601 // wide.stat().st_size  # ~4,000 rows of 2 kB
    assert csv_chunk_rows(narrow, 50_000) == 50_000  # short rows: the caller's bound
    assert csv_chunk_rows(wide, 97) == 97  # never more rows than asked
    huge = tmp_path / "huge.csv"
    huge.write_text("a\n" + "y" * 3_000_000 + "\n", encoding="utf-8")
    assert csv_chunk_rows(huge, 50_000) == MIN_CHUNK_ROWS
