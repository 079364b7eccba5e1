"""`govflow submit --wait` prints each reason of the decision with its fix under it."""

from __future__ import annotations

from govflow.cli._submit import _lines


def test_each_reason_is_followed_by_its_fix():
    payload = {
        "model": "credit-risk",
        "version": "1.0",
        "run_id": "manual__1",
        "state": "success",
        "decision": "rejected",
        "stage": "candidate",
        "reasons": [
            "documentation: evidence 5 has status fail",
            "approvals: 0 of 2 required from role reviewer or admin on the current evidence",
            "something nobody can fix",
        ],
        "fixes": [
            {
                "reason": "documentation: evidence 5 has status fail",
                "fix": "give the framework: govflow submit --framework",
            },
            {
                "reason": "approvals: 0 of 2 required from role reviewer or admin on the current evidence",
                "fix": "a reviewer answers the request in Airflow's Required Actions",
            },
        ],
    }
    assert _lines(payload) == [
        "credit-risk@1.0: run manual__1 success",
        "decision: rejected (stage candidate)",
        "  - documentation: evidence 5 has status fail",
        "    fix: give the framework: govflow submit --framework",
        "  - approvals: 0 of 2 required from role reviewer or admin on the current evidence",
        "    fix: a reviewer answers the request in Airflow's Required Actions",
        "  - something nobody can fix",
    ]
