"""A verdict given in the Governance view answers the reviewer's open Required Action, and is recorded once.

Airflow is faked at its two edges (the open requests read from its DB, the answer sent through its REST
API); the governance DB is real. tests/e2e/test_closed_loop.py runs the same loop in a real Airflow.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from govflow.airflow_client import AirflowError
from govflow.errors import ConflictError
from govflow.service import gate
from govflow.service.answers import Answer, record_answers
from govflow.service.pipeline import RunRef, pipeline_actor
from govflow.store import Approval, AuditEvent, session_scope
from tests.integration.test_gate_service import record_all, setup_version
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
    """Airflow's Required Actions: rita is asked in request 0, rob in request 1.

    Like Airflow, a request takes one answer: a second one gets 409 (``answered`` names those taken).
    ``readers``: that many callers must list the open requests before any of them goes on (they all
    see a request open that only one of them can answer)."""

    def __init__(self, fail: Exception | None = None, *, readers: int = 1) -> None:
        self.open = [_request(0, "rita"), _request(1, "rob")]
        self.answers: list[tuple[str | None, str, str, str, int]] = []
        self.answered: set[str] = set()
        self.fail = fail
        self.together = threading.Barrier(readers)
        self.lock = threading.Lock()

    def required_actions(self, user: str) -> list[dict]:
        listed = [a for a in self.open if a["assignee"] == user]
        self.together.wait(timeout=30)
        return listed

    def answerer(self, token: str | None):
        def answer(request, verdict: str, comment: str) -> None:
            if self.fail is not None:
                raise self.fail
            with self.lock:
                if request.required_action in self.answered:
                    raise ConflictError(
                        "PATCH .../hitlDetails: HTTP 409: Human-in-the-loop detail has already been updated"
                    )
                self.answered.add(request.required_action)
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


def _post_together(airflow: FakeAirflow, bodies: list[tuple[str, dict]]) -> list:
    """Each (user, body) POSTed from its own thread, all at once (``airflow.readers`` = len(bodies))."""
    responses: list = [None] * len(bodies)

    def post(i: int, user: str, body: dict) -> None:
        responses[i] = _client(user, airflow).post(URL, json=body)

    threads = [threading.Thread(target=post, args=(i, *b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_two_concurrent_answers_to_one_request_record_one_approval(seeded):
    """A double click, or the view and `govflow approve --api` at once: both see the request open."""
    airflow = FakeAirflow(readers=2)
    body = {"verdict": "approve", "comment": "evidence read"}
    responses = _post_together(airflow, [("rita", body), ("rita", body)])
    key = f"governance_gate/{RUN}/approval/0/1"
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert _rows() == [("rita", "approve", key)]  # one row, with the request's key
    assert len(airflow.answers) == 1  # Airflow was answered once
    with session_scope() as s:
        approval_id = s.scalar(select(Approval.id))
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "approval.recorded")).all()) == 1
    messages = sorted(r.json()["message"] for r in responses)
    assert messages == sorted(
        [
            f"recorded; answered Airflow's request approval 1 of 2 in run {RUN}",
            f"recorded; Airflow's request approval 1 of 2 in run {RUN} was already answered: "
            f"approve by rita (approval {approval_id}), recorded once",
        ]
    )
    assert {r.json()["id"] for r in responses} == {approval_id}  # both name the one approval


def test_a_concurrent_other_verdict_on_the_same_request_is_refused_not_recorded(seeded):
    airflow = FakeAirflow(readers=2)
    responses = _post_together(
        airflow,
        [
            ("rita", {"verdict": "approve", "comment": "fine"}),
            ("rita", {"verdict": "reject", "comment": "no"}),
        ],
    )
    # A conflict with stored state is the API's 400 (as every ConflictError), with the one line.
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 400], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 400).json()["detail"]
    first = next(r for r in responses if r.status_code == 200).json()
    assert refused.startswith(f"Airflow's request approval 1 of 2 in run {RUN} was already answered: ")
    assert len(_rows()) == 1 and _rows()[0][1] == first["verdict"] and len(airflow.answers) == 1


@pytest.fixture
def asked(db_url, sample_files):
    """credit-risk@1.0 whose gate run RUN asked its reviewers (a signed pending_approval decision)."""
    setup_version(sample_files)
    record_all(run=RUN)
    with session_scope() as s:
        row = gate.evaluate_gate(
            s, "credit-risk", "1.0", pipeline_actor(RunRef("governance_gate", RUN), "gate")
        )
        assert row.decision == "pending_approval"
        return row.evidence_digest


def test_airflows_409_records_nothing_here_and_the_run_records_the_answer_airflow_took_once(asked):
    """rita answered in Airflow's own Required Actions page while her view click was on its way."""
    airflow = FakeAirflow()
    airflow.answered.add(f"governance_gate/{RUN}/approval/0/1")
    refused = _client("rita", airflow).post(URL, json={"verdict": "approve", "comment": "from the view"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["detail"].startswith(
        f"Airflow's request approval 1 of 2 in run {RUN} was answered meanwhile (in Airflow, or by its "
        "timeout): your verdict is not recorded, the run records the answer Airflow took"
    )
    assert _rows() == []  # no key-less second row beside the answer the run collects
    taken = Answer(
        dag_id="governance_gate",
        run_id=RUN,
        task_id="approval",
        map_index=0,
        try_number=1,
        approver="rita",
        verdict="approve",
        comment="from Airflow",
    )
    with session_scope() as s:
        recorded, notes = record_answers(s, "credit-risk", "1.0", [taken], requested_digest=asked)
    assert notes == [] and recorded == [taken.required_action]
    assert _rows() == [("rita", "approve", taken.required_action)]
