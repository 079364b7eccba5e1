"""Per-task thresholds and interval options: in the policy (validated), in params.governance, on the CLI."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from govflow.checks.fairness._runner import fairness_options
from govflow.data import default_policy
from govflow.errors import BadInputError, PolicyError
from govflow.policy import load_policy
from govflow.service.inputs import CheckConfig

DEFAULT = default_policy()


def _policy_with(tmp_path, fairness=None, performance=None):
    data = yaml.safe_load(DEFAULT.read_text())
    tier = data["tiers"]["high"]
    tier["fairness"] = {**tier.get("fairness", {}), **(fairness or {})}
    if performance is not None:
        tier["performance"] = performance
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(data), sort_keys=False))
    return load_policy(path), path


def test_per_task_thresholds_reach_the_check(tmp_path):
    policy, _ = _policy_with(
        tmp_path,
        {
            "max_mean_absolute_error_difference": 2.5,
            "max_accuracy_difference": 0.05,
            "bootstrap": 200,
            "bootstrap_seed": 7,
            "small_groups": "interval",
        },
        {"max_metric_drop_vs_production": 0.02},
    )
    options = fairness_options(policy.tier("high").fairness)
    assert options["max_mean_absolute_error_difference"] == 2.5
    assert options["max_accuracy_difference"] == 0.05
    assert (options["bootstrap"], options["bootstrap_seed"], options["small_groups"]) == (200, 7, "interval")
    assert policy.tier("high").performance.max_metric_drop_vs_production == 0.02
    assert fairness_options(policy.tier("minimal").fairness)["max_mean_absolute_error_difference"] is None


@pytest.mark.parametrize(
    ("fairness", "performance", "message"),
    [
        (
            {"max_mean_absolute_error_difference": -1},
            None,
            "fairness.max_mean_absolute_error_difference: Input should be greater than or equal to 0",
        ),
        (
            {"max_accuracy_difference": 2},
            None,
            "tiers.high.fairness.max_accuracy_difference: Input should be less than or equal to 1",
        ),
        (
            {"small_groups": "interval"},
            None,
            "tiers.high.fairness: small_groups: interval judges bootstrap intervals: set bootstrap > 0",
        ),
        (
            {"small_groups": "hide"},
            None,
            "tiers.high.fairness.small_groups: Input should be 'exclude' or 'interval'",
        ),
        (
            {"bootstrap": 10_001},
            None,
            "tiers.high.fairness.bootstrap: Input should be less than or equal to 10000",
        ),
        (
            {},
            {"max_metric_drop_vs_production": 1.5},
            "tiers.high.performance.max_metric_drop_vs_production: Input should be less than or equal to 1",
        ),
    ],
)
def test_bad_task_options_are_refused_with_their_path(tmp_path, fairness, performance, message):
    with pytest.raises(PolicyError) as info:
        _policy_with(tmp_path, fairness, performance)
    assert str(info.value).endswith(message)


def test_params_governance_task_is_validated():
    assert CheckConfig.from_params({"governance": {"task": "regression"}}).task == "regression"
    assert CheckConfig.from_params({"governance": {"task": "regression"}}).to_params() == {
        "task": "regression"
    }
    with pytest.raises(
        BadInputError, match=r"params\.governance\.task: 'ranking' is not one of binary, multiclass"
    ):
        CheckConfig.from_params({"governance": {"task": "ranking"}})


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "govflow", "check", "fairness", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture()
def regression_csv(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"g": rng.choice(["a", "b"], 400), "t": rng.normal(10, 3, 400)})
    frame["q"] = frame["t"] + rng.normal(np.where(frame["g"] == "a", 0.0, 1.0), 1.0)
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    return path


def test_cli_task_bootstrap_and_regression_threshold(regression_csv):
    args = ["--data", str(regression_csv), "--label", "t", "--prediction", "q", "--sensitive", "g"]
    done = _cli(
        *args,
        "--task",
        "regression",
        "--bootstrap",
        "50",
        "--max-mean-absolute-error-difference",
        "0.05",
        "--json",
    )
    out = json.loads(done.stdout)
    assert done.returncode == 1 and out["status"] == "fail"
    assert out["summary"]["task"] == "regression" and out["summary"]["task_detected"] is None
    assert out["summary"]["exceeded"] == ["mean_absolute_error_difference"]
    assert len(out["by_group"]["a"]["mean_absolute_error_ci"]) == 2
    detected = _cli(*args)
    assert detected.returncode == 0
    assert "task_detected: label 't' has non-integer numbers" in detected.stdout
    assert "  group: count mean_prediction mean_absolute_error root_mean_squared_error" in detected.stdout


def test_cli_bad_input_is_one_line_exit_2(regression_csv):
    done = _cli(
        "--data",
        str(regression_csv),
        "--label",
        "g",
        "--prediction",
        "q",
        "--sensitive",
        "t",
        "--task",
        "regression",
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert (
        line.startswith("govflow: error: label column 'g' is not numeric (")
        and "regression needs numbers" in line
    )
    interval = _cli(
        "--data",
        str(regression_csv),
        "--label",
        "t",
        "--prediction",
        "q",
        "--sensitive",
        "g",
        "--small-groups",
        "interval",
    )
    assert interval.returncode == 2 and "bootstrap" in interval.stderr
