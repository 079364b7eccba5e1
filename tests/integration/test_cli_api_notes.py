"""`govflow approve --api` and `waive --api` say what became of Airflow's approval request, as the
Governance view does: the same note, from the same service call (``answers``) behind the same API.

The CLI's HTTP client talks to the Governance app in-process (a TestClient in its place); Airflow is
the fake of test_web_closed_loop (open requests, answers); the governance DB is real.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from govflow.api_session import GovernanceApi, Login
from govflow.store import Approval, Waiver, session_scope
from tests._helpers import VERSION, cli
from tests.integration.test_gate_service import record
from tests.integration.test_web import seed_version
from tests.integration.test_web_closed_loop import RUN, FakeAirflow, _request


def _api_through(airflow: FakeAirflow, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--api` reaches the Governance app mounted at /governance; the bearer token names the user."""
    from fastapi import FastAPI, Header
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    def bearer(authorization: str | None = Header(default=None)) -> str:
        return (authorization or "").removeprefix("Bearer token-of-")

    outer = FastAPI()
    outer.mount(
        "/governance",
        create_app(
            user_dependency=bearer,
            required_actions=airflow.required_actions,
            answer_required_action=airflow.answerer,
        ),
    )

    class InProcessApi(GovernanceApi):
        def __init__(self) -> None:
            self.session = Login(url="http://testserver", user="rita", access_token="token-of-rita")
            self._http = TestClient(
                outer,
                base_url="http://testserver/governance/api",
                headers={"Authorization": "Bearer token-of-rita"},
            )

    monkeypatch.setattr("govflow.cli._gate.GovernanceApi", InProcessApi)


@pytest.fixture
def seeded(db_url, sample_files):
    seed_version(sample_files, run_id=RUN)
    return db_url


def test_approve_api_prints_the_airflow_note_the_view_shows(seeded, capsys, monkeypatch):
    airflow = FakeAirflow()
    _api_through(airflow, monkeypatch)
    code, out, err = cli(capsys, "approve", *VERSION, "--comment", "evidence read", "--api")
    assert code == 0, err
    assert f"  Airflow: answered Airflow's request approval 1 of 2 in run {RUN}" in out.splitlines()
    assert airflow.answers == [("token-of-rita", "approve", "evidence read", RUN, 0)]

    # Nothing open any more (the fake keeps the answered request listed: Airflow's list would not).
    airflow.open = []
    code, out, err = cli(capsys, "approve", *VERSION, "--comment", "again", "--api", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["airflow"]["note"] == "no open request in Airflow"
    assert payload["message"] == "recorded; no open request in Airflow"


def test_approve_api_says_why_airflow_was_not_answered(seeded, capsys, monkeypatch):
    airflow = FakeAirflow()
    airflow.answered.add(f"governance_gate/{RUN}/approval/0/1")  # answered in Airflow meanwhile
    _api_through(airflow, monkeypatch)
    code, out, err = cli(capsys, "approve", *VERSION, "--comment", "evidence read", "--api")
    assert code == 2 and out == ""
    assert (
        err.strip().endswith("HTTP 409: Human-in-the-loop detail has already been updated)")
        and f"request approval 1 of 2 in run {RUN} was answered meanwhile" in err
    )
    with session_scope() as s:
        assert s.scalars(select(Approval)).all() == []


@pytest.mark.parametrize("open_request", [True, False], ids=["request-open", "none-open"])
def test_a_waiver_answers_no_required_action_and_says_what_still_waits(
    seeded, capsys, monkeypatch, open_request
):
    record("drift", "fail", run="rerun")  # a later run failed drift: the result a reviewer waives
    airflow = FakeAirflow()
    airflow.open = [_request(0, "rita")] if open_request else []
    _api_through(airflow, monkeypatch)
    code, out, err = cli(
        capsys, "waive", *VERSION, "--check", "drift", "--reason", "seasonal shift, retrain planned", "--api"
    )
    assert code == 0, err
    assert airflow.answers == []  # a waiver is not a verdict: Airflow's request is left to rita
    if open_request:
        note = (
            f"Airflow's request approval 1 of 2 in run {RUN} still waits for your verdict "
            "(a waiver is not an approval)"
        )
    else:
        note = (
            "no open request in Airflow: run `govflow gate --model credit-risk --version 1.0 --api` "
            "to decide with the waiver"
        )
    assert f"  Airflow: {note}" in out.splitlines()
    with session_scope() as s:
        assert [w.waived_by for w in s.scalars(select(Waiver))] == ["rita"]
        assert s.scalars(select(Approval)).all() == []
