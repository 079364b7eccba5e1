"""The performance check: metrics computed by hand on a tiny table, compared with registered values."""

from __future__ import annotations

import pandas as pd
import pytest

from govflow.checks.performance import evaluate_performance

# 8 rows: TP=3, FN=1, FP=1, TN=3 -> accuracy 0.75, precision 0.75, recall 0.75, F1 0.75
FRAME = pd.DataFrame(
    {
        "y": ["yes", "yes", "yes", "yes", "no", "no", "no", "no"],
        "p": ["yes", "yes", "yes", "no", "yes", "no", "no", "no"],
        "s": [0.9, 0.8, 0.7, 0.4, 0.6, 0.3, 0.2, 0.1],
    }
)


def test_metrics_match_hand_computed_values():
    result = evaluate_performance(FRAME, label="y", prediction="p", score="s", positive_label="yes")
    metrics = result.summary["metrics"]
    assert metrics["accuracy"] == metrics["precision"] == metrics["recall"] == metrics["f1"] == 0.75
    # Scores rank 15 of the 16 positive/negative pairs correctly (0.6 beats the positive 0.4).
    assert metrics["roc_auc"] == pytest.approx(15 / 16)
    assert result.status == "warn"  # nothing registered to compare with


def test_a_drop_beyond_the_tolerance_fails_and_names_the_metric():
    result = evaluate_performance(
        FRAME,
        label="y",
        prediction="p",
        score="s",
        positive_label="yes",
        baseline={"accuracy": 0.9, "roc_auc": 0.95, "f1": 0.76},
        max_drop=0.05,
    )
    assert result.status == "fail"
    assert result.summary["dropped"] == ["accuracy"]
    assert result.details["comparisons"]["accuracy"] == {
        "registered": 0.9,
        "now": 0.75,
        "drop": 0.15,
        "ok": False,
    }
    assert result.details["comparisons"]["f1"]["ok"] is True


def test_within_tolerance_passes_and_unknown_baseline_keys_are_ignored():
    result = evaluate_performance(
        FRAME,
        label="y",
        prediction="p",
        positive_label="yes",
        baseline={"accuracy": 0.78, "training_rows": 1000},
        max_drop=0.05,
    )
    assert result.status == "pass" and result.details["compared"] == ["accuracy"]


def test_a_registered_metric_that_cannot_be_computed_warns():
    result = evaluate_performance(
        FRAME, label="y", prediction="p", positive_label="yes", baseline={"accuracy": 0.75, "roc_auc": 0.9}
    )  # no score column
    assert result.status == "warn" and result.details["not_computable"] == ["roc_auc"]


def test_bad_input_is_a_one_line_error():
    result = evaluate_performance(FRAME, label="y", prediction="missing", positive_label="yes")
    assert result.status == "error" and "missing" in result.errors[0] and "\n" not in result.errors[0]
    unclear = FRAME.replace({"yes": ">50K", "no": "<=50K"})
    result = evaluate_performance(unclear, label="y", prediction="p")
    assert result.status == "error" and "cannot tell the positive label" in result.errors[0]
    assert (
        evaluate_performance(FRAME, label="y", prediction="p").status == "warn"
    )  # "yes" is taken as positive
