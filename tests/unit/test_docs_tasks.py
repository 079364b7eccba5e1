"""Documents render each task's per-group table (with bootstrap intervals) and the champion comparison."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from govflow.checks.fairness import evaluate_fairness
from govflow.docs import build_context, render_document
from tests.unit.test_docs import _result, sparse_inputs


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"g": rng.choice(["north", "south"], 400), "t": rng.normal(100, 20, 400)})
    frame["q"] = frame["t"] + rng.normal(np.where(frame["g"] == "north", 0, 6), 5)
    frame["y"] = rng.choice(["low", "mid", "high"], 400)
    frame["p"] = np.where(rng.random(400) < 0.8, frame["y"], "low")
    return frame


def _inputs(fairness, performance=None):
    results = [_result(1, "fairness", fairness.status, fairness.summary, fairness.details, "2026-11-30")]
    if performance is not None:
        results.append(_result(2, "performance", "fail", performance[0], performance[1], "2026-11-30"))
    return dataclasses.replace(sparse_inputs(), check_results=results)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_regression_table_with_intervals_and_a_chart(fmt):
    result = evaluate_fairness(_frame(), label="t", prediction="q", sensitive=["g"], bootstrap=100)
    context = build_context(_inputs(result))
    assert context["fairness"]["task"] == "regression"
    card = render_document(context, kind="model_card", fmt=fmt)
    annex = render_document(context, kind="annex_iv", fmt=fmt)
    north = result.details["by_group"]["north"]
    for text in (card, annex):
        assert "mean absolute error" in text and "root mean squared error" in text
        assert "Brackets: 95% bootstrap intervals." in text
        assert "Task: regression" in text
    low = f"{north['mean_absolute_error_ci'][0]:.3f}"[:4]
    assert low in card
    if fmt == "html":
        assert "<svg" in card  # bars relative to the largest group


def test_multiclass_table_shows_per_class_rates():
    result = evaluate_fairness(_frame(), label="y", prediction="p", sensitive=["g"])
    card = render_document(build_context(_inputs(result)), kind="model_card", fmt="md")
    assert "selection rate.high" in card and "true positive rate.mid" in card
    assert "Task: multiclass" in card and "Accuracy difference" in card


def test_model_card_shows_the_comparison_with_production():
    fairness = evaluate_fairness(_frame(), label="t", prediction="q", sensitive=["g"])
    summary = {"production_version": "1.0", "max_metric_drop_vs_production": 0.05, "exceeded": ["accuracy"]}
    evidence = {
        "comparison": {
            "overall": {"accuracy": {"candidate": 0.8, "production": 0.9, "drop": 0.1}},
            "by_group": {
                "north": {
                    "count": 10,
                    "insufficient": True,
                    "accuracy": {"candidate": 0.7, "production": 0.7, "drop": 0.0},
                }
            },
        }
    }
    card = render_document(build_context(_inputs(fairness, (summary, evidence))), kind="model_card", fmt="md")
    assert "### Compared with production (version 1.0)" in card
    assert "| all rows | accuracy | 0.800 | 0.900 | 0.100 |" in card
    assert "north (small)" in card and "Exceeded: accuracy" in card
