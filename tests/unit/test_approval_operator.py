"""GovflowApprovalOperator: an answer given while the request is being written is taken without parking.

Airflow's REST API is replaced by a fake (to isolate the operator); the real
race is reproduced end to end in tests/e2e (answers within 0.5 s).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from govflow.airflow_client import AirflowUnavailableError
from govflow.tasks import approval_operator
from govflow.tasks.approval_operator import GovflowApprovalOperator, answer_grace_seconds

TI = SimpleNamespace(dag_id="governance_gate", run_id="r1", task_id="approval", map_index=1, try_number=1)


class FakeClient:
    def __init__(self, answers_after: int | None, *, down: bool = False):
        self.answers_after, self.down, self.calls = answers_after, down, 0

    def hitl_detail(self, dag_id, run_id, task_id, map_index=-1, *, try_number=None):
        assert (dag_id, run_id, task_id, map_index) == ("governance_gate", "r1", "approval", 1)
        self.calls += 1
        if self.down:
            raise AirflowUnavailableError("cannot reach Airflow")
        if self.answers_after is None or self.calls <= self.answers_after:
            return {"response_received": False, "chosen_options": None}
        return {
            "response_received": True,
            "chosen_options": ["Approve"],
            "params_input": {"comment": "ok"},
            "responded_at": "2026-12-01T08:00:00.250000Z",
            "responded_by_user": {"id": "rita", "name": "rita"},
        }

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def operator(grace=2.0):
    return GovflowApprovalOperator(
        task_id="approval", subject="approve?", answer_grace=grace, grace_poll=0.01
    )


@pytest.fixture
def fake(monkeypatch):
    def use(client):
        monkeypatch.setattr(approval_operator, "AirflowClient", lambda url=None: client)
        monkeypatch.setattr(approval_operator, "task_api_url", lambda: "http://airflow")
        return client

    return use


def test_an_answer_within_the_grace_window_is_taken_in_process(fake):
    client = fake(FakeClient(answers_after=3))
    event = operator()._early_answer(TI)
    assert client.calls == 4
    assert event == {
        "chosen_options": ["Approve"],
        "params_input": {"comment": "ok"},
        "responded_at": dt.datetime(2026, 12, 1, 8, 0, 0, 250000, tzinfo=dt.UTC),
        "responded_by_user": {"id": "rita", "name": "rita"},
        "timedout": False,
    }


def test_no_answer_within_the_window_parks(fake):
    fake(FakeClient(answers_after=None))
    assert operator(grace=0.05)._early_answer(TI) is None


def test_without_rest_access_it_parks_at_once(fake):
    client = fake(FakeClient(answers_after=0, down=True))
    assert operator()._early_answer(TI) is None and client.calls == 1


def test_grace_zero_turns_the_workaround_off(fake, monkeypatch):
    client = fake(FakeClient(answers_after=0))
    assert operator(grace=0)._early_answer(TI) is None and client.calls == 0
    monkeypatch.setenv("GOVFLOW_APPROVAL_GRACE_SECONDS", "0")
    assert answer_grace_seconds() == 0.0
    monkeypatch.delenv("GOVFLOW_APPROVAL_GRACE_SECONDS")
    assert answer_grace_seconds() == 10.0


def test_the_result_names_its_required_action(monkeypatch):
    op = operator()
    context = {"ti": TI, "task": op}
    monkeypatch.setattr(op, "skip", lambda **kw: None)
    result = op.execute_complete(
        context,
        {
            "chosen_options": ["Approve"],
            "params_input": {"comment": "ok"},
            "responded_at": dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
            "responded_by_user": {"id": "rita", "name": "rita"},
        },
    )
    assert result["required_action"] == {
        "dag_id": "governance_gate",
        "run_id": "r1",
        "task_id": "approval",
        "map_index": 1,
        "try_number": 1,
    }
    assert result["chosen_options"] == ["Approve"]
