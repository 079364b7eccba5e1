"""Evidence names what computed each number, and separately what the numbers are tested against.

Fairness and drift's distances are govflow's own numpy code: their ``library_versions`` no longer
claim Fairlearn or Evidently ran; ``provenance.oracle`` names those libraries (and the tolerance
of the oracle tests). Where a library really computes (Great Expectations, scikit-learn, an
Evidently test on a small sample) the evidence says so.
"""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pandas as pd

from govflow import __version__
from govflow.checks.drift import detect_drift
from govflow.checks.fairness import evaluate_fairness
from govflow.checks.performance import evaluate_performance
from govflow.docs._rows import library_versions

ENGINE = f"govflow {__version__}"


def _binary_frame(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], rows),
            "label": rng.integers(0, 2, rows),
            "prediction": rng.integers(0, 2, rows),
        }
    )


def test_fairness_is_computed_by_govflow_and_tested_against_fairlearn_bit_for_bit():
    result = evaluate_fairness(_binary_frame(), label="label", prediction="prediction", sensitive=["sex"])
    assert result.status in ("pass", "warn", "fail"), result.errors
    assert "fairlearn" not in result.library_versions
    assert result.details["provenance"] == {
        "engine": ENGINE,
        "oracle": [{"library": f"fairlearn {metadata.version('fairlearn')}", "tolerance": 0.0}],
    }
    assert result.to_dict()["provenance"] == result.details["provenance"]  # and in the evidence JSON


def test_multiclass_fairness_states_the_oracle_tolerance_of_its_tests():
    frame = _binary_frame().assign(
        label=lambda f: f["label"] + f["prediction"], prediction=lambda f: f["label"]
    )
    result = evaluate_fairness(
        frame, label="label", prediction="prediction", sensitive=["sex"], task="multiclass", min_group_size=1
    )
    assert result.summary["task"] == "multiclass", result.errors
    assert result.details["provenance"]["oracle"][0]["tolerance"] == 1e-12


def test_drift_distances_are_govflows_and_an_evidently_test_is_named_when_it_ran():
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(size=2000)})
    current = pd.DataFrame({"x": rng.normal(0.2, size=2000)})
    fast = detect_drift(reference, current)
    assert fast.details["columns"]["x"]["method"] == "wasserstein"
    assert not {"evidently", "scipy"} & set(fast.library_versions)
    origin = fast.details["provenance"]
    assert origin["engine"] == ENGINE and "evidently_methods" not in origin
    assert [o["library"].split()[0] for o in origin["oracle"]] == ["evidently", "scipy"]
    by_evidently = detect_drift(reference, current, stattest="ks")
    assert by_evidently.details["provenance"]["evidently_methods"] == ["ks"]
    assert by_evidently.library_versions["evidently"] == metadata.version("evidently")


def test_a_library_that_really_computes_is_the_engine():
    frame = _binary_frame()
    result = evaluate_performance(frame, label="label", prediction="prediction")
    assert result.details["provenance"] == {"engine": f"scikit-learn {metadata.version('scikit-learn')}"}


def test_documents_list_the_oracle_libraries_beside_the_ones_that_ran():
    results = [
        {
            "library_versions": {"numpy": "2.0"},
            "evidence": {"provenance": {"engine": ENGINE, "oracle": [{"library": "fairlearn 0.15.0"}]}},
        },
        {"library_versions": {"great_expectations": "1.24.1"}, "evidence": None},
    ]
    assert library_versions(results) == {
        "fairlearn": "0.15.0",
        "great_expectations": "1.24.1",
        "numpy": "2.0",
    }
