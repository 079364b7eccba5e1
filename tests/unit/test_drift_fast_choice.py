"""The drift check picks Evidently's numpy-computed distances without importing Evidently, and picks
exactly what Evidently's own choice would be (name and default threshold), for every column shape."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from govflow.checks.drift import _stattests
from govflow.checks.drift._columns import prepare_column

rng = np.random.default_rng(3)
CASES = {
    "numeric, many values, large": (rng.normal(size=5000), rng.normal(size=4000)),
    "numeric, few values, large": (rng.integers(0, 4, 5000), rng.integers(0, 4, 5000)),
    "numeric, two values, large": (rng.integers(0, 2, 5000), rng.integers(0, 2, 5000)),
    "categorical, large": (rng.choice(list("abcdefg"), 3000), rng.choice(list("abcdefg"), 3000)),
    "boolean, large": (rng.integers(0, 2, 3000).astype(bool), rng.integers(0, 2, 3000).astype(bool)),
    "numeric, small": (rng.normal(size=500), rng.normal(size=500)),
    "categorical, small": (rng.choice(list("abc"), 800), rng.choice(list("abc"), 800)),
}


def _evidently_choice(column, stattest):  # type: ignore[no-untyped-def]
    original = _stattests._fast_choice
    _stattests._fast_choice = lambda *_: None
    try:
        return _stattests.choose_stattest(column, stattest)
    finally:
        _stattests._fast_choice = original


@pytest.mark.parametrize("stattest", [None, "wasserstein", "jensenshannon", "psi", "ks"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_choice_as_evidently(case, stattest):
    reference, current = CASES[case]
    column = prepare_column("x", pd.Series(reference), pd.Series(current))
    try:
        expected = _evidently_choice(column, stattest)
    except Exception as err:  # noqa: BLE001 - the fast path must refuse the same (not apply)
        with pytest.raises(type(err)):
            _stattests.choose_stattest(column, stattest)
        return
    chosen = _stattests.choose_stattest(column, stattest)
    assert (chosen.name, chosen.default_threshold) == (expected.name, expected.default_threshold)


def test_the_drift_check_on_large_tables_does_not_import_evidently():
    code = (
        "import sys, numpy as np, pandas as pd\n"
        "from govflow.checks.drift import detect_drift\n"
        "rng = np.random.default_rng(0)\n"
        "ref = pd.DataFrame({'a': rng.normal(size=3000), 'c': rng.choice(list('xyz'), 3000)})\n"
        "cur = pd.DataFrame({'a': rng.normal(size=3000) + 1, 'c': rng.choice(list('xyz'), 3000)})\n"
        "result = detect_drift(ref, cur)\n"
        "assert result.status != 'error', result.errors\n"
        "assert result.summary['drifted_columns'] == ['a'], result.summary\n"
        "print(any(m == 'evidently' or m.startswith('evidently.') for m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
