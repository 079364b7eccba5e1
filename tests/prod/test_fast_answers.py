"""Fast reviewers on the production stack (CeleryExecutor, two workers): each approval request is
answered within 0.5 s of its creation and the run ends approved and promoted, with no failed task.

Airflow 3.3.2 lost such answers (docs/airflow-hitl-fast-answer-repro.md); the LocalExecutor
variant of this test is tests/e2e/test_governance_e2e.py.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest

from govflow.prodstack import demo
from govflow.prodstack.demo import publish
from govflow.timeutil import utc
from tests.prod._stackops import GATE, client, wait_run

pytestmark = [pytest.mark.prod, pytest.mark.slow]


def test_reviewers_answering_within_half_a_second_promote_the_version(stack_env, trained):
    stack = stack_env
    model = f"fast-{secrets.token_hex(3)}"
    uris = publish(trained, model, "1.0", stack.bucket)
    _register_model(model, uris["batches"])
    run_id = _submit(stack, trained, model, uris)

    admin = client(stack)
    reviewers = {name: client(stack, name) for name in ("rita", "rob")}
    for reviewer in reviewers.values():
        reviewer.token()  # logged in before the requests appear: no delay when they do
    answered: dict[int, str] = {}
    deadline = time.monotonic() + 900
    while len(answered) < 2:
        for action in admin.required_actions(GATE, run_id):
            index = action["task_instance"]["map_index"]
            if index not in answered:
                # Each request goes to its own reviewers (dealt round-robin over the sorted approvers:
                # admin and rita, then rob), answered by the one of rita and rob it names; on two
                # workers either request may be listed first.
                assigned = sorted(u["id"] for u in action["assigned_users"])
                assert assigned == (["admin", "rita"] if index == 0 else ["rob"]), (index, assigned)
                name = "rita" if index == 0 else "rob"
                reviewers[name].approve(GATE, run_id, "approval", map_index=index, comment=f"{name}: ok")
                answered[index] = name
        if admin.get_run(GATE, run_id)["state"] in ("success", "failed") and len(answered) < 2:
            states = {t["task_id"]: t["state"] for t in admin.task_instances(GATE, run_id)}
            outcome = admin.xcom(GATE, run_id, "finish") if states.get("finish") == "success" else None
            pytest.fail(f"run ended with {len(answered)} requests answered: {states} {outcome}")
        assert time.monotonic() < deadline, "no two approval requests within 900 s"
        time.sleep(0.05)

    assert wait_run(admin, GATE, run_id, timeout=900)["state"] == "success"
    for action in admin.required_actions(GATE, run_id, pending=False):
        delay = utc(action["responded_at"]) - utc(action["created_at"])
        assert delay.total_seconds() < 0.5, delay
    states = {(t["task_id"], t["map_index"]): t["state"] for t in admin.task_instances(GATE, run_id)}
    assert states[("approval", 0)] == states[("approval", 1)] == "success", states
    outcome = admin.xcom(GATE, run_id, "finish")
    outcome = json.loads(outcome) if isinstance(outcome, str) else outcome
    assert (outcome["decision"], outcome["stage"]) == ("approved", "production"), outcome
    assert sorted(outcome["approved_by"]) == ["rita", "rob"]
    _assert_split_by_key(stack, admin, run_id, model)


def _assert_split_by_key(stack, admin, run_id: str, model: str) -> None:  # type: ignore[no-untyped-def]
    """Checks ran on the check workers and signed with the check-result key; every decision was
    signed where the decision key is (the decision queue's worker, the api-server)."""
    from sqlalchemy import select

    from govflow.signing import key_id_of, parse_public_key
    from govflow.store import AuditEvent, session_scope

    queues = {t["task_id"]: t["queue"] for t in admin.task_instances(GATE, run_id)}
    assert {queues[t] for t in ("resolve", "gate", "finish")} == {"govern"}, queues
    assert "govern" not in {queues[t] for t in ("validation", "pii", "fairness", "drift", "documentation")}
    check_id, decision_id = (
        key_id_of(parse_public_key(path.with_suffix(".pub").read_text(), what=str(path)))
        for path in (stack.check_key_file, stack.decision_key_file)
    )
    with session_scope() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject == f"version:{model}@1.0")).all()
    signers: dict[str, set[str]] = {}
    for event in events:
        signers.setdefault(event.action, set()).add(event.key_id)
    assert signers["check.recorded"] == {check_id}, signers
    for action in ("version.registered", "gate.evaluated", "approval.recorded", "version.stage_changed"):
        assert signers[action] == {decision_id}, (action, signers)


def _register_model(model: str, batches: str) -> None:
    """A high-risk model with everything its documentation needs (the README's high-tier example)."""
    from govflow.service import registry
    from govflow.store import session_scope

    with session_scope() as session:
        registry.register_model(
            session,
            name=model,
            owner="olga.owner@bank.example",
            risk_tier="high",
            actor="alice",
            team="Retail credit analytics",
            use_case="pre-sorts credit applications for manual review",
            business_goals=["shorter queues"],
            stakeholders=["Dana Privacy:dpo:dana@bank.example"],
            regions=["EU"],
            sector="finance",
            data_protection_notes="no direct identifiers; sex used only to measure fairness",
            batches_uri=batches,
        )


def _submit(stack, trained: dict, model: str, uris: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """The README's high-tier submit for alice, with the files in object storage; returns the run id.

    As prod-demo submits (``demo.submit``): the stack is a production deployment, where dev mode
    (``--as alice``) is refused, so the gate is triggered as alice through Airflow's REST API."""
    return str(demo.submit(trained, model, "1.0", uris, lambda: client(stack, "alice"))["run_id"])
