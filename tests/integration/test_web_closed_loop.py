"""A verdict given in the Governance view answers the reviewer's open Required Action, and is recorded once.

Airflow is faked at its two edges (the open requests read from its DB, the answer sent through its REST
API); the governance DB is real. tests/e2e/test_closed_loop.py runs the same loop in a real Airflow.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govflow.airflow_client import AirflowError
from govflow.service.answers import Answer, record_answers
from govflow.store import Approval, AuditEvent, session_scope
from tests.integration.test_web import seed_version

RUN = "manual__2026-12-01T10:00:00+00:00"
URL = "/api/models/credit-risk/versions/1.0/approvals"


@pytest.fixture
def seeded(db_url, sample_files):
    seed_version(sample_files, run_id=RUN)
    return db_url


def _request(map_index: int, user: str, **extra) -> dict:
    return {
        "subject": f"Approve credit-risk@1.0 (high risk) for production - approval {map_index + 1} of 2",
        "model": "credit-risk",
        "version": "1.0",
        "url": f"/dags/governance_gate/runs/x/tasks/approval/mapped/{map_index}/required_actions",
        "dag_id": "governance_gate",
        "run_id": RUN,
        "task_id": "approval",
        "map_index": map_index,
        "try_number": 1,
        "named": True,
        "asked_at": "2026-12-01T10:05:00+00:00",
        "waiting": True,
        "assignee": user,
        **extra,
    }


class FakeAirflow:
    """Airflow's Required Actions: rita is asked in request 0, rob in request 1."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.open = [_request(0, "rita"), _request(1, "rob")]
        self.answers: list[tuple[str | None, str, str, str, int]] = []
        self.fail = fail

    def required_actions(self, user: str) -> list[dict]:
        return [a for a in self.open if a["assignee"] == user]

    def answerer(self, token: str | None):
        def answer(request, verdict: str, comment: str) -> None:
            if self.fail is not None:
                raise self.fail
            self.answers.append((token, verdict, comment, request.run_id, request.map_index))

        return answer


def _client(user: str, airflow: FakeAirflow):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    app = create_app(
        user_dependency=lambda: user,
        required_actions=airflow.required_actions,
        answer_required_action=airflow.answerer,
    )
    return TestClient(app, cookies={"_token": f"token-of-{user}"})


def _rows() -> list[tuple]:
    with session_scope() as s:
        return [
            (a.approver, a.verdict, a.required_action)
            for a in s.scalars(select(Approval).order_by(Approval.id))
        ]


def test_a_view_approval_answers_the_reviewers_request_and_the_collected_answer_is_not_recorded_again(
    seeded,
):
    airflow = FakeAirflow()
    done = _client("rita", airflow).post(URL, json={"verdict": "approve", "comment": "evidence read"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["message"] == f"recorded; answered Airflow's request approval 1 of 2 in run {RUN}"
    assert body["airflow"]["answered"] is True
    key = f"governance_gate/{RUN}/approval/0/1"
    assert body["airflow"]["request"]["required_action"] == key
    # Answered as rita, with her own token, her verdict and comment, on her request (0), not rob's.
    assert airflow.answers == [("token-of-rita", "approve", "evidence read", RUN, 0)]
    assert _rows() == [("rita", "approve", key)]

    # The run's finish later reads the same answer from Airflow's HITL details: nothing new.
    collected = Answer(
        dag_id="governance_gate",
        run_id=RUN,
        task_id="approval",
        map_index=0,
        try_number=1,
        approver="rita",
        verdict="approve",
        comment="evidence read",
    )
    with session_scope() as s:
        digest = s.scalar(select(Approval.evidence_digest))
        recorded, notes = record_answers(s, "credit-risk", "1.0", [collected], requested_digest=digest)
    assert (recorded, notes) == ([], [])
    assert _rows() == [("rita", "approve", key)]
    with session_scope() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "approval.recorded")).all()
        assert len(events) == 1 and key in events[0].payload


def test_a_rejection_answers_with_the_reject_option_and_its_comment(seeded):
    airflow = FakeAirflow()
    done = _client("rob", airflow).post(URL, json={"verdict": "reject", "comment": "groups too small"})
    assert done.status_code == 200, done.text
    assert done.json()["message"] == f"recorded; answered Airflow's request approval 2 of 2 in run {RUN}"
    assert airflow.answers == [("token-of-rob", "reject", "groups too small", RUN, 1)]
    assert _rows() == [("rob", "reject", f"governance_gate/{RUN}/approval/1/1")]


def test_without_an_open_request_the_verdict_is_recorded_and_nothing_is_answered(seeded):
    airflow = FakeAirflow()
    airflow.open = [_request(0, "rita", waiting=False)]  # the run went on without it
    done = _client("rita", airflow).post(URL, json={"verdict": "approve"})
    assert done.status_code == 200, done.text
    assert done.json()["message"] == "recorded; no open request in Airflow"
    airflow_part = done.json()["airflow"]
    assert airflow_part == {"answered": False, "request": None, "note": "no open request in Airflow"}
    assert airflow.answers == [] and _rows() == [("rita", "approve", None)]


def test_when_airflow_refuses_the_answer_the_verdict_is_still_recorded_once_and_says_why(seeded):
    airflow = FakeAirflow(fail=AirflowError("PATCH ...: HTTP 500: boom"))
    done = _client("rita", airflow).post(URL, json={"verdict": "approve"})
    assert done.status_code == 200, done.text
    assert done.json()["message"] == (
        f"recorded; Airflow's request approval 1 of 2 in run {RUN} was not answered: "
        "PATCH ...: HTTP 500: boom"
    )
    assert _rows() == [("rita", "approve", None)]  # no key: the request is still Airflow's to answer
    with session_scope() as s:
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "approval.recorded")).all()) == 1


def test_a_refused_approval_answers_nothing(seeded):
    airflow = FakeAirflow()
    airflow.open = [_request(0, "alice")]
    refused = _client("alice", airflow).post(URL, json={"verdict": "approve"})  # the submitter
    assert refused.status_code == 403
    assert airflow.answers == [] and _rows() == []
