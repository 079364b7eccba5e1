"""The nightly alert for a production model whose fairness degraded names the command and the best option."""

from __future__ import annotations

from govflow.service.mitigate import save_evidence
from govflow.tasks.nightly import _problem

FAILED = {
    "check": "fairness",
    "status": "fail",
    "errors": [],
    "summary": {"demographic_parity_difference": 0.31, "equalized_odds_difference": 0.24},
}
TARGET = {"model": "loans", "version": "3", "tier": "high"}


def test_the_alert_names_the_mitigate_command_for_the_production_version() -> None:
    body = _problem(TARGET, FAILED).body
    assert "Fix: measure mitigations with govflow mitigate --model loans --version 3" in body
    assert "best option found" not in body  # nothing measured for this version yet


def test_the_alert_names_the_best_option_measured_for_the_version() -> None:
    evidence = {
        "disparity_metric": "equalized_odds_difference",
        "primary_metric": "accuracy",
        "recommendation": {
            "candidate": "threshold:equalized_odds",
            "disparity_before": 0.24,
            "disparity": 0.04,
            "cost": 0.011,
            "within_limit": True,
        },
    }
    save_evidence("loans", "3", evidence)
    problem = _problem(TARGET, FAILED)
    assert problem.severity == "critical" and problem.key == "nightly:fairness"
    assert "govflow mitigate --model loans --version 3" in problem.body
    assert (
        "best option found: threshold:equalized_odds (equalized_odds_difference 0.24 -> 0.04, "
        "costing 0.011 accuracy)" in problem.body
    )
    # Another version's measurements are not this one's.
    other = _problem({**TARGET, "version": "4"}, FAILED).body
    assert "--version 4" in other and "best option found" not in other
