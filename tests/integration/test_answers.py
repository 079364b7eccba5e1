"""Reviewers' answers from Airflow reach govflow once, on the evidence they were given for, whatever
happened to the approval task (real DB, SQLite and PostgreSQL; Airflow's REST API is replaced by a
fake that returns what its ``hitlDetails`` endpoints return, to isolate the recording)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govflow.airflow_client import AirflowUnavailableError
from govflow.errors import NotFoundError
from govflow.service import gate, registry
from govflow.service.answers import Answer
from govflow.service.pipeline import RunRef, pipeline_actor
from govflow.service.runs import ensure_run
from govflow.store import Approval, Run, session_scope
from govflow.tasks import answers as task_answers
from govflow.tasks.gate import finish
from tests._helpers import dev_mode_unless_production
from tests.integration.test_gate_service import record, record_all, setup_version

DAG = "governance_gate"
RUN = "manual__2026-12-01T08:18:13.244687+00:00"  # colons, as Airflow's run ids have


def detail(map_index, who, option="Approve", *, try_number=1, run=RUN, comment="evidence reviewed"):
    """A HITL detail as ``GET /api/v2/dags/~/dagRuns/~/hitlDetails`` returns it."""
    return {
        "task_instance": {
            "dag_id": DAG,
            "dag_run_id": run,
            "task_id": "approval",
            "map_index": map_index,
            "try_number": try_number,
            "state": "failed",  # Airflow 3.3.2 failed the task after accepting the answer
        },
        "response_received": who is not None or option is not None,
        "chosen_options": [option] if option else None,
        "params_input": {"comment": comment},
        "responded_by_user": {"id": who, "name": who} if who else None,
    }


class FakeAirflow:
    """The two REST calls task code makes: list a run's HITL details, read an earlier try's."""

    def __init__(self, details=(), earlier=None, *, down=False):
        self.details = {}
        for d in details:
            self.details.setdefault(d["task_instance"]["dag_run_id"], []).append(d)
        self.earlier = earlier or {}
        self.down = down
        self.calls = 0

    def required_actions(self, dag_id, run_id, *, pending=True, task_id=None):
        self.calls += 1
        if self.down:
            raise AirflowUnavailableError("cannot reach Airflow at http://nowhere")
        return list(self.details.get(run_id, []))

    def hitl_detail(self, dag_id, run_id, task_id, map_index=-1, *, try_number=None):
        if (run_id, map_index, try_number) not in self.earlier:
            raise NotFoundError("no such try")
        return self.earlier[(run_id, map_index, try_number)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.fixture
def pending(db_url, sample_files):
    """A high-risk version whose gate run asked two reviewers (a pending_approval decision)."""
    setup_version(sample_files)
    record_all(run=RUN)
    ref = {
        "model": "credit-risk",
        "version": "1.0",
        "tier": "high",
        "run": RunRef(DAG, RUN, "rest").to_dict(),
    }
    with session_scope() as s:
        row = gate.evaluate_gate(s, "credit-risk", "1.0", pipeline_actor(RunRef(DAG, RUN), "gate"))
        decision = gate.decision_to_dict(row, model="credit-risk", version="1.0")
    assert decision["decision"] == "pending_approval"
    return ref, decision


def approvals():
    with session_scope() as s:
        rows = s.scalars(select(Approval).order_by(Approval.id)).all()
        return [(a.approver, a.verdict, a.required_action, a.run_id, a.auth_method) for a in rows]


def stage():
    with session_scope() as s:
        return registry.get_version(s, "credit-risk", "1.0").stage


def test_answers_of_failed_approval_tasks_are_read_from_airflow_and_promote(pending):
    ref, decision = pending
    client = FakeAirflow([detail(0, "rita"), detail(1, "rob")])
    answers, notes = task_answers.collect(RunRef.of(ref["run"]), [], client=client)  # no task results
    out = finish(ref, decision, answers, notes=notes)
    assert (out["decision"], out["stage"]) == ("approved", "production")
    assert sorted(out["approved_by"]) == ["rita", "rob"]
    with session_scope() as s:
        run_id = s.scalar(select(Run.id).where(Run.run_id == RUN))
    assert approvals() == [
        ("rita", "approve", f"{DAG}/{RUN}/approval/0/1", run_id, "airflow"),
        ("rob", "approve", f"{DAG}/{RUN}/approval/1/1", run_id, "airflow"),
    ]


def test_the_same_answer_seen_twice_is_recorded_once(pending):
    ref, decision = pending
    task_result = {
        "chosen_options": ["Approve"],
        "params_input": {"comment": "evidence reviewed"},
        "responded_by_user": {"id": "rita", "name": "rita"},
        "required_action": {
            "dag_id": DAG,
            "run_id": RUN,
            "task_id": "approval",
            "map_index": 0,
            "try_number": 1,
        },
    }
    client = FakeAirflow([detail(0, "rita")])
    answers, _ = task_answers.collect(RunRef.of(ref["run"]), [task_result], client=client)
    assert len(answers) == 1  # the task's return value and Airflow's detail are one answer
    finish(ref, decision, answers)
    out = finish(ref, decision, answers)  # a retried finish, then reconcile, see it again
    task_answers.reconcile(RunRef("nightly_compliance", "scheduled__1"), client=client)
    assert [a[:3] for a in approvals()] == [("rita", "approve", f"{DAG}/{RUN}/approval/0/1")]
    assert out["decision"] == "pending_approval" and stage() == "candidate"
    # The outcome pairs the reason with its fix, with this version's names filled in.
    [fix] = out["fixes"]
    assert (
        fix["reason"] == out["reasons"][0]
        and "govflow approve --model credit-risk --version 1.0" in fix["fix"]
    )


def test_an_answer_on_superseded_evidence_is_recorded_as_such_and_does_not_count(pending):
    ref, decision = pending
    record("fairness", "pass", run="rerun-after-the-request")  # new evidence after the request
    answers, _ = task_answers.collect(RunRef.of(ref["run"]), [], client=FakeAirflow([detail(0, "rita")]))
    out = finish(ref, decision, answers)
    assert out["decision"] == "pending_approval" and out["approved_by"] == []
    assert any("superseded evidence" in n for n in out["notes"])
    assert any("void" in n and "rita" in n for n in out["notes"])
    with session_scope() as s:
        (row,) = s.scalars(select(Approval)).all()
        assert row.evidence_digest == decision["evidence_digest"]  # the evidence rita saw


def test_a_timed_out_request_records_no_verdict(pending):
    ref, decision = pending
    timed_out = detail(0, None, "Reject")
    answers, _ = task_answers.collect(RunRef.of(ref["run"]), [], client=FakeAirflow([timed_out]))
    out = finish(ref, decision, answers)
    assert approvals() == [] and any("timed out" in n for n in out["notes"])


def test_an_answer_to_an_earlier_try_counts(pending):
    retried = detail(0, None, None, try_number=2)  # try 2 asked again and is still waiting
    earlier = {(RUN, 0, 1): detail(0, "rita")}
    answers = task_answers.from_airflow(FakeAirflow([retried], earlier), DAG, RUN)
    assert [a.required_action for a in answers] == [f"{DAG}/{RUN}/approval/0/1"]


def test_without_airflow_the_task_results_still_count_and_the_note_says_so(pending):
    ref, decision = pending
    task_result = {
        "chosen_options": ["Reject"],
        "params_input": {"comment": "group sizes too small"},
        "responded_by_user": {"id": "rob", "name": "rob"},
        "required_action": {
            "dag_id": DAG,
            "run_id": RUN,
            "task_id": "approval",
            "map_index": 1,
            "try_number": 1,
        },
    }
    answers, notes = task_answers.collect(RunRef.of(ref["run"]), [task_result], client=FakeAirflow(down=True))
    out = finish(ref, decision, answers, notes=notes)
    assert (out["decision"], out["stage"]) == ("rejected", "rejected")
    assert any("REST API" in n for n in out["notes"])


def test_reconcile_records_lost_answers_of_an_earlier_run_and_promotes(pending):
    client = FakeAirflow([detail(0, "rita"), detail(1, "rob")])
    nightly = RunRef("nightly_compliance", "scheduled__2026-12-02T02:00:00+00:00", "schedule")
    report = task_answers.reconcile(nightly, client=client)
    assert report["runs_checked"] == 1 and len(report["recorded"]) == 2
    assert report["decisions"] == [
        {
            "model": "credit-risk",
            "version": "1.0",
            "run_id": RUN,
            "decision": "approved",
            "stage": "production",
        }
    ]
    assert stage() == "production"
    with session_scope() as s:
        decision = gate.latest_decision(s, registry.get_version(s, "credit-risk", "1.0").id)
        assert decision.decided_by == pipeline_actor(nightly, "reconcile")
    # Nothing new the next night: no decision, no REST calls for a version that is no longer pending.
    calls = client.calls
    assert task_answers.reconcile(nightly, client=client)["decisions"] == []
    assert client.calls == calls


def test_reconcile_skips_the_run_doing_it_and_survives_airflow_being_down(pending):
    assert (
        task_answers.reconcile(RunRef(DAG, RUN), client=FakeAirflow(down=True), skip_run_id=RUN)[
            "runs_checked"
        ]
        == 0
    )
    report = task_answers.reconcile(RunRef(DAG, "other"), client=FakeAirflow(down=True))
    assert report["decisions"] == [] and "cannot reach Airflow" in report["notes"][0]


def test_answer_keys_name_the_required_action():
    answer = Answer.from_hitl_detail(detail(3, "rita", try_number=2))
    assert answer.required_action == f"{DAG}/{RUN}/approval/3/2" and answer.verdict == "approve"
    assert Answer.from_hitl_detail(detail(0, None, None)) is None  # not answered yet


def test_two_recorders_racing_on_one_answer_record_it_once(pending, monkeypatch):
    """finish and a reconcile (or two workers) see the same answer at the same time."""
    import threading
    import time

    from govflow.service import answers as answers_service
    from govflow.service.answers import record_answers

    def slow_ensure_run(session, **kw):  # both pass the "already recorded?" check before either writes
        time.sleep(0.3)
        return ensure_run(session, **kw)

    monkeypatch.setattr(answers_service, "ensure_run", slow_ensure_run)

    decision = pending[1]
    answer = Answer.from_hitl_detail(detail(0, "rita"))
    barrier, errors, recorded = threading.Barrier(2), [], []

    def record():
        try:
            with session_scope() as s:
                barrier.wait(timeout=30)
                done, _ = record_answers(
                    s, "credit-risk", "1.0", [answer], requested_digest=decision["evidence_digest"]
                )
                recorded.extend(done)
        except Exception as err:  # noqa: BLE001 - the assertion below names it
            errors.append(err)

    threads = [threading.Thread(target=record) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [a[:3] for a in approvals()] == [("rita", "approve", f"{DAG}/{RUN}/approval/0/1")]
    assert len(recorded) == 1


def test_an_answer_from_a_reviewer_of_another_team_is_not_recorded(pending, tmp_path, monkeypatch):
    # rita reviews for team retail only; credit-risk was registered without a team.
    roles = tmp_path / "roles.yaml"
    roles.write_text(
        "users:\n  alice: {roles: [data_scientist]}\n  rita: {roles: [reviewer], teams: [retail]}\n"
        "  rob: {roles: [reviewer]}\n"
    )
    dev_mode_unless_production(monkeypatch)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    ref, decision = pending
    client = FakeAirflow([detail(0, "rita"), detail(1, "rob")])
    answers, notes = task_answers.collect(RunRef.of(ref["run"]), [], client=client)
    out = finish(ref, decision, answers, notes=notes)
    assert out["decision"] == "pending_approval" and out["approved_by"] == ["rob"]
    assert [a[0] for a in approvals()] == ["rob"]
    assert any(
        "not recorded: permission denied: rita (reviewer of team retail) may not approve "
        "credit-risk@1.0 (team none)" in note
        for note in out["notes"]
    ), out["notes"]
