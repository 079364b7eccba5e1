"""A Parquet file's string columns read as dictionaries (pandas categoricals: codes and the distinct
strings) give the drift check the same column types, missing counts, scores and decisions as the same
strings read as Python objects; the shared reader's default and CSV input stay as they were."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow.checks._io import DICTIONARY_STRINGS, dictionary_string_columns, read_table
from govflow.checks.drift import detect_drift
from govflow.checks.drift._columns import _string_counts, as_plain_strings
from tests.unit.test_drift import assert_same_as_evidently, evidently_report

# Mixed case, an empty string, a leading space and a value looking like a null: all distinct values.
VALUES = ["Web", "web", "WEB", "", " app", "app", "branch", "NaN"]
STRINGS = ["channel", "region", "sparse", "note"]


def frame(n: int, seed: int, *, shifted: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    even = np.full(len(VALUES), 1 / len(VALUES))
    skew = np.array([0.3, 0.2] + [0.5 / (len(VALUES) - 2)] * (len(VALUES) - 2))
    channel = rng.choice(VALUES, n, p=skew if shifted else even).astype(object)
    channel[rng.random(n) < 0.1] = None
    region = rng.choice(VALUES[:5] + (["partner"] if shifted else []), n).astype(object)  # a new value
    region[:: 7 if shifted else 11] = None
    sparse = rng.choice(["a", "A", ""], n).astype(object)
    sparse[rng.random(n) < (0.8 if shifted else 0.05)] = None  # mostly missing in the current data
    words = np.array(["loan", "Late", "payment", "fine", "", "refund", "CARD", "fee"])
    note = np.array([" ".join(rng.choice(words, 4)) + f" #{i}" for i in range(n)], dtype=object)
    note[::9] = None
    x = rng.normal(0.3 if shifted else 0.0, 1.0, n)
    x[::13] = np.nan
    return pd.DataFrame(
        {
            "channel": channel,
            "region": region,
            "sparse": sparse,
            "note": note,
            # A categorical column of the file itself: Evidently types it categorical at any
            # cardinality (a plain string column this distinct would be text); it stays one.
            "code": pd.Categorical([f"c{i % (n // 2)}" for i in range(n)]),
            "x": x,
        }
    )


def write(tmp_path: Path, rows: tuple[int, int]) -> tuple[Path, Path]:
    reference, current = tmp_path / "reference.parquet", tmp_path / "current.parquet"
    # Several row groups: each has its own dictionary, which the reader unifies.
    frame(rows[0], 1, shifted=False).to_parquet(reference, row_group_size=max(rows[0] // 3, 1))
    frame(rows[1], 2, shifted=True).to_parquet(current, row_group_size=max(rows[1] // 3, 1))
    return reference, current


def test_the_opt_in_reads_string_columns_as_codes_and_the_default_is_unchanged(tmp_path: Path) -> None:
    reference, _ = write(tmp_path, (1200, 1100))
    coded = read_table(reference, dictionary_strings=True)
    assert dictionary_string_columns(coded) == frozenset(STRINGS)  # not "code": the file's own categorical
    for name in STRINGS:
        assert isinstance(coded[name].dtype, pd.CategoricalDtype), name
    plain = read_table(reference)
    assert DICTIONARY_STRINGS not in plain.attrs and dictionary_string_columns(plain) == frozenset()
    assert all(plain[name].dtype == object for name in STRINGS)
    pd.testing.assert_frame_equal(plain, pd.read_parquet(reference))
    # The same values either way, nulls at the same places.
    pd.testing.assert_frame_equal(as_plain_strings(coded, frozenset(STRINGS)), plain)


@pytest.mark.parametrize(
    "rows",
    [(3000, 2500), (600, 500)],
    ids=["distances-computed-here", "evidently-small-sample-tests"],
)
def test_dictionary_path_equals_the_object_path(tmp_path: Path, rows: tuple[int, int]) -> None:
    reference, current = write(tmp_path, rows)
    assert dictionary_string_columns(read_table(current, dictionary_strings=True)) == frozenset(STRINGS)
    from_files = detect_drift(reference, current)
    from_objects = detect_drift(pd.read_parquet(reference), pd.read_parquet(current))
    assert from_files.status == from_objects.status
    assert from_files.summary == from_objects.summary
    assert from_files.details == from_objects.details  # scores equal to the bit, not approximately
    columns = from_files.details["columns"]
    assert (columns["channel"]["type"], columns["note"]["type"], columns["code"]["type"]) == (
        "categorical",
        "text",
        "categorical",
    )
    ref_frame = pd.read_parquet(reference)
    cur_frame = pd.read_parquet(current)
    assert columns["channel"]["missing_current"] == int(cur_frame["channel"].isna().sum()) > 0
    assert columns["region"]["missing_reference"] == int(ref_frame["region"].isna().sum()) > 0
    assert from_files.summary["mostly_missing_columns"] == ["sparse"]
    assert {"channel", "region"} <= set(from_files.summary["drifted_columns"])
    # A path on one side and a frame of objects on the other: the same again.
    mixed = detect_drift(reference, cur_frame)
    assert mixed.details == from_objects.details


def test_dictionary_path_agrees_with_evidently(tmp_path: Path) -> None:
    reference, current = write(tmp_path, (3000, 2500))
    names = ["channel", "region", "code", "x"]
    result = detect_drift(reference, current, columns=names)
    expected = evidently_report(pd.read_parquet(reference)[names], pd.read_parquet(current)[names])
    assert_same_as_evidently(result, expected)


def test_counts_come_in_first_seen_order_without_nulls_or_unused_values() -> None:
    values = ["a", None, "", "a", "B", "b", "", "a"]
    # Categories in another order than the values appear, one never used.
    coded = pd.Series(pd.Categorical(values, categories=["b", "unused", "", "B", "a"]))
    counts = _string_counts(coded)
    expected = pd.Series(values, dtype=object).dropna().value_counts(sort=False)
    assert list(counts.items()) == list(expected.items()) == [("a", 3), ("", 2), ("B", 1), ("b", 1)]
    # Values first appearing past the first prefix read are found too.
    late = pd.Series(pd.Categorical(["z"] * 10_000 + ["y"] + [None] * 5 + ["x"], categories=["x", "y", "z"]))
    assert list(_string_counts(late).items()) == [("z", 10_000), ("y", 1), ("x", 1)]


def test_csv_input_is_read_as_before(tmp_path: Path) -> None:
    reference, current = tmp_path / "reference.csv", tmp_path / "current.csv"
    ref_frame, cur_frame = frame(1500, 1, shifted=False), frame(1300, 2, shifted=True)
    ref_frame.drop(columns="code").to_csv(reference, index=False)
    cur_frame.drop(columns="code").to_csv(current, index=False)
    opted = read_table(reference, dictionary_strings=True)
    pd.testing.assert_frame_equal(opted, read_table(reference))
    assert dictionary_string_columns(opted) == frozenset()
    from_files = detect_drift(reference, current)
    assert from_files.details == detect_drift(pd.read_csv(reference), pd.read_csv(current)).details
    assert from_files.details["columns"]["channel"]["type"] == "categorical"


def test_html_report_from_parquet_paths(tmp_path: Path) -> None:
    reference, current = write(tmp_path, (1200, 1100))
    info = detect_drift(reference, current, columns=["channel", "region", "x"], html_report=True).details[
        "html_report"
    ]
    assert "error" not in info and len(info["sha256"]) == 64
    assert "branch" in info["html"]  # Evidently saw the strings themselves
