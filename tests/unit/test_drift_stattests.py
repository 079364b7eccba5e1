"""Oracle: the fast drift statistics equal Evidently's implementations (rel. 1e-12), the Jensen-Shannon
distance is SciPy's bit for bit (``==``), and the default test choice is Evidently's.

Run with ``pytest -m oracle`` after upgrading Evidently, SciPy or numpy (see the checklist in
``checks/drift/_stattests.py``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from govflow.checks.drift._columns import prepare_column
from govflow.checks.drift._stattests import (
    choose_stattest,
    jensenshannon_distance,
    run_stattest,
    wasserstein_distance_norm,
)

pytestmark = pytest.mark.oracle


def evidently_stattest(name: str):  # type: ignore[no-untyped-def]
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests

    return next(iter(_registered_stat_tests[name].values()))


SAMPLES = {
    "equal sizes": (
        np.random.default_rng(0).normal(0, 1, 5000),
        np.random.default_rng(1).normal(0.2, 1.5, 5000),
    ),
    "unequal sizes": (
        np.random.default_rng(2).normal(0, 1, 3001),
        np.random.default_rng(3).normal(0.1, 1, 1777),
    ),
    "ties": (
        np.random.default_rng(4).integers(0, 40, 4000).astype(float),
        np.random.default_rng(5).integers(3, 45, 2500).astype(float),
    ),
    "constant reference": (np.full(1500, 7.0), np.random.default_rng(6).normal(7, 0.01, 1200)),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_wasserstein_equals_evidentlys(name: str) -> None:
    from evidently.legacy.core import ColumnType

    reference, current = SAMPLES[name]
    expected = evidently_stattest("wasserstein")(
        pd.Series(reference), pd.Series(current), ColumnType.Numerical, None
    )
    got = wasserstein_distance_norm(np.sort(reference), np.sort(current))
    assert got == pytest.approx(expected.drift_score, rel=1e-12, abs=1e-15)


def test_wasserstein_hand_computed() -> None:
    # W1({0, 1}, {1, 2, 3}) = integral |F - G| = 1/2 + 1/3 + 2/3 = 1.5; std({0, 1}) = 0.5
    assert wasserstein_distance_norm(np.array([0.0, 1.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(
        1.5 / 0.5
    )


JS_CASES = {
    "categorical": (pd.Series(list("aabbbcd") * 300), pd.Series(list("abbccde") * 250)),
    "few numbers": (pd.Series([1.0, 2.0, 2.0, 3.0] * 400), pd.Series([1.0, 3.0, 3.0, 4.0] * 350)),
    "many numbers": (
        pd.Series(np.random.default_rng(7).normal(0, 1, 3000)),
        pd.Series(np.random.default_rng(8).normal(0.3, 1, 2000)),
    ),
    "booleans": (pd.Series([True, False, False] * 500), pd.Series([True, True, False] * 400)),
}


@pytest.mark.parametrize("name", list(JS_CASES))
def test_jensenshannon_equals_evidentlys(name: str) -> None:
    from evidently.legacy.core import ColumnType

    reference, current = JS_CASES[name]
    column = prepare_column("x", reference, current)
    test = evidently_stattest("jensenshannon")
    got = run_stattest(column, test, None)
    expected = test(column.reference, column.current, ColumnType(column.feature_type), None)
    assert got.score == pytest.approx(expected.drift_score, rel=1e-12, abs=1e-15)
    assert got.drifted is bool(expected.drifted)


def _series(kind: str, n: int, seed: int) -> pd.Series:
    rng = np.random.default_rng(seed)
    return {
        "float": lambda: pd.Series(rng.normal(0, 1, n)),
        "two floats": lambda: pd.Series(rng.choice([0.5, 1.5], n)),
        "four floats": lambda: pd.Series(rng.choice([0.5, 1.5, 2.5, 3.5], n)),
        "many ints": lambda: pd.Series(rng.integers(0, 500, n)),
        "few ints": lambda: pd.Series(rng.integers(0, 4, n)),
        "two strings": lambda: pd.Series(rng.choice(["x", "y"], n)),
        "strings": lambda: pd.Series(rng.choice(list("pqrstu"), n)),
        "bools": lambda: pd.Series(rng.random(n) < 0.5),
    }[kind]()


@pytest.mark.parametrize(
    "kind", ["float", "two floats", "four floats", "many ints", "few ints", "two strings", "strings", "bools"]
)
@pytest.mark.parametrize("rows", [200, 1000, 1001, 5000])
def test_default_choice_equals_evidentlys(kind: str, rows: int) -> None:
    from evidently.core.datasets import infer_column_type
    from evidently.legacy.calculations.stattests.registry import get_stattest

    reference, current = _series(kind, rows, 1), _series(kind, 700, 2)
    expected = get_stattest(reference, current, infer_column_type(current), None)
    assert choose_stattest(prepare_column("x", reference, current), None).name == expected.name


def test_unknown_or_inapplicable_stattest_is_bad_input() -> None:
    from govflow.checks._result import CheckInputError

    column = prepare_column("x", pd.Series(list("ab") * 600), pd.Series(list("ab") * 600))
    with pytest.raises(CheckInputError, match="stattest 'ks' cannot test categorical column 'x'"):
        choose_stattest(column, "ks")
    with pytest.raises(CheckInputError, match="stattest 'nope' cannot test"):
        choose_stattest(column, "nope")


COLUMN_TYPE_CASES = {
    "floats": pd.Series([0.5, np.nan, 2.5] * 10),
    "many ints": pd.Series(range(30)),
    "few ints": pd.Series([1, 2, 3] * 10),
    "categories as text": pd.Series(["a", "b", None] * 10),
    "free text": pd.Series([f"note {i}" for i in range(30)]),
    "string dtype": pd.Series(["a", "b", "c"] * 10, dtype="string"),
    "unique string dtype": pd.Series([f"s{i}" for i in range(30)], dtype="string"),
    "bools": pd.Series([True, False] * 15),
    "category dtype": pd.Series(["x", "y"] * 15, dtype="category"),
    "datetimes": pd.Series(pd.date_range("2024-01-01", periods=30)),
    "lists": pd.Series([[1, 2]] * 30),
    "objects with bools": pd.Series([True, None, False] * 10, dtype=object),
    "all null objects": pd.Series([None] * 30, dtype=object),
}


@pytest.mark.parametrize("name", list(COLUMN_TYPE_CASES))
def test_column_typing_equals_evidentlys(name: str) -> None:
    from evidently.core.datasets import infer_column_type

    from govflow.checks.drift._columns import evidently_column_type

    series = COLUMN_TYPE_CASES[name]
    assert evidently_column_type(series, series.notna().to_numpy()) == infer_column_type(series).value


def test_jensenshannon_is_scipys_bit_for_bit():
    from scipy.spatial import distance

    rng = np.random.default_rng(11)
    cases = [
        (np.array([0.5, 0.5]), np.array([0.5, 0.5])),
        (np.array([1.0, 0.0]), np.array([0.0, 1.0])),
        (np.array([0.2, 0.0, 0.8]), np.array([0.25, 0.05, 0.7])),
        (np.array([1e-300, 1.0]), np.array([1.0, 1e-300])),
    ]
    for size in (2, 3, 7, 22, 40, 400):
        for _ in range(60):
            p = rng.random(size) ** rng.integers(1, 6)
            q = p * (1 + rng.normal(0, 0.2, size)) if rng.random() < 0.5 else rng.random(size)
            p[rng.random(size) < 0.1] = 0
            p[0] += 0.01  # never all zeros
            cases.append((p / p.sum(), np.abs(q) / np.abs(q).sum()))
    for p, q in cases:
        ours, scipys = jensenshannon_distance(p, q), float(distance.jensenshannon(p, q))
        assert ours == scipys or (math.isnan(ours) and math.isnan(scipys)), (p, q, ours, scipys)


def test_the_mirrored_evidently_version_is_the_installed_one() -> None:
    from importlib import metadata

    from govflow.checks.drift import _stattests

    assert f"Mirrors Evidently {metadata.version('evidently')} " in (_stattests.__doc__ or "")
