"""Every gate reason a user can fix names the flag, note or command that fixes it; no decision changes."""

from __future__ import annotations

import dataclasses

import pytest

from govflow.gate import Decision, Evidence, decide
from govflow.gate._fixes import attach_fix
from govflow.gate._types import Reason
from tests.unit.test_gate import NOW, POLICY, VERSION, approve, ev, passing, run


def reason(decision: Decision, code: str, check: str | None = None) -> Reason:
    found = [r for r in decision.reasons if r.code == code and (check is None or r.check == check)]
    assert found, f"no {code} reason in {[r.to_dict() for r in decision.reasons]}"
    return found[0]


def without(evidence: list[Evidence], check: str) -> list[Evidence]:
    return [e for e in evidence if e.check != check]


def replaced(evidence: list[Evidence], check: str, **changes) -> list[Evidence]:
    return [dataclasses.replace(e, **changes) if e.check == check else e for e in evidence]


# (how the evidence is made wrong, reason code, check, what the fix must name)
CASES = [
    (
        lambda e: without(e, "fairness"),
        "check_missing",
        "fairness",
        ["--eval-data", "--label", "--sensitive"],
    ),
    (lambda e: without(e, "drift"), "check_missing", "drift", ["--eval-data", "--reference-data"]),
    (lambda e: without(e, "validation"), "check_missing", "validation", ["--suite", "--reference-data"]),
    (lambda e: replaced(e, "validation", status="error"), "check_errored", "validation", ["--suite"]),
    (
        lambda e: replaced(e, "fairness", status="fail"),
        "check_failed",
        "fairness",
        ["govflow mitigate --model M --version V", "--register", "govflow waive"],
    ),
    (lambda e: replaced(e, "pii", status="fail"), "check_failed", "pii", ["govflow waive"]),
    (lambda e: replaced(e, "drift", data_sha256="c" * 64), "evidence_data_mismatch", "drift", ["--trigger"]),
    (
        lambda e: replaced(e, "documentation", status="fail", summary={}),
        "check_failed",
        "documentation",
        ["govflow docs check"],
    ),
]


@pytest.mark.parametrize(("spoil", "code", "check", "names"), CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_each_fixable_reason_names_its_fix(spoil, code, check, names):
    decision = run("high", spoil(passing("high")))
    fix = reason(decision, code, check).fix
    assert fix and all(name in fix for name in names), fix


def test_documentation_fix_lists_the_missing_facts_from_the_evidence():
    evidence = replaced(
        passing("high"),
        "documentation",
        status="fail",
        summary={
            "incomplete_sections": ["limitations"],
            "fixes": ["add 'limitations' with govflow docs notes", "framework: submit --framework"],
        },
    )
    fix = reason(run("high", evidence), "check_failed", "documentation").fix
    assert "add 'limitations' with govflow docs notes" in fix and "submit --framework" in fix


def test_fairness_fix_names_the_best_mitigation_found():
    best = {
        "candidate": "threshold:equalized_odds",
        "disparity_metric": "equalized_odds_difference",
        "disparity_before": 0.26,
        "disparity": 0.03,
        "cost": 0.012,
        "primary_metric": "accuracy",
    }
    evidence = replaced(passing("high"), "fairness", status="fail", summary={"mitigation": best})
    fix = reason(run("high", evidence), "check_failed", "fairness").fix
    assert "govflow mitigate" in fix
    assert "best option found: threshold:equalized_odds (equalized_odds_difference 0.26 -> 0.03" in fix
    assert "costing 0.012 accuracy" in fix


def test_missing_approvals_say_who_may_approve_and_where():
    evidence = passing("high")
    fix = reason(run("high", evidence, approve(evidence, "rita")), "approvals_missing").fix
    assert "reviewer or admin" in fix and "Required Actions" in fix and "govflow approve" in fix


def test_a_rejection_by_a_reviewer_says_to_address_the_comment():
    evidence = passing("high")
    decision = run("high", evidence, approve(evidence, "rita", verdict="reject"))
    assert "reviewer's comment" in reason(decision, "rejected_by_approver").fix


def test_a_prohibited_tier_has_no_fix():
    decision = run("unacceptable", passing("high"))
    assert reason(decision, "tier_prohibited").fix is None
    assert "fix" not in decision.reasons[0].to_dict()  # stored reasons stay as they were


def test_fixes_do_not_change_decisions_and_round_trip():
    evidence = without(passing("high"), "fairness")
    decision = run("high", evidence)
    plain = decide(POLICY, "high", evidence, (), version_ref=VERSION, now=NOW)
    assert [r.code for r in plain.reasons] == [r.code for r in decision.reasons]
    assert Decision.from_dict(decision.to_dict()) == decision


def test_attach_fix_keeps_an_existing_fix():
    given = Reason("check_missing", "m", "fairness", fix="ask Ana")
    assert attach_fix(given, {}).fix == "ask Ana"


def test_unknown_codes_get_no_fix():
    assert attach_fix(Reason("something_new", "m"), {}).fix is None


def test_every_fix_keeps_a_one_line_shape():
    evidence = passing("high")
    for spoil, code, check, _ in CASES:
        fix = reason(run("high", spoil(evidence)), code, check).fix
        assert "\n" not in fix
    assert ev(1, "validation").summary == {"n": 1}
