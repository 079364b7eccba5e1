"""The Required Action body says "All required checks passed" only when none warned (#31 item 4)."""

from __future__ import annotations

from govflow.tasks.gate import approval_body
from tests._helpers import checked_version

DECISION = {
    "approvals": {"required": 2, "approved_by": []},
    "evidence_digest": "d" * 64,
    "policy_version": "2026.12.1",
}
REF = {
    "model": "credit-risk",
    "version": "1.0",
    "tier": "high",
    "submitted_by": "alice",
    "run": {"dag_id": "governance_gate", "run_id": "r1"},
}


def test_a_warn_is_named_in_the_headline(db_url, sample_files):
    checked_version(sample_files, {"fairness": "warn"})
    body = approval_body(REF, DECISION)
    assert "All required checks passed" not in body
    assert "The checks allow approval with findings on fairness (warn)" in body


def test_all_passed_only_when_everything_passed(db_url, sample_files):
    checked_version(sample_files)
    assert "All required checks passed; the policy needs 2 approval(s)" in approval_body(REF, DECISION)
