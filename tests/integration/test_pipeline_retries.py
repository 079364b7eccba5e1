"""The governance_gate and nightly task bodies on a real DB (SQLite and PostgreSQL), without Airflow:
each task run twice leaves one result and one set of audit events; outcomes follow the policy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sqlalchemy import func, select

from govflow import config
from govflow.access import load_users
from govflow.policy import load_policy
from govflow.service import registry
from govflow.service.answers import Answer
from govflow.service.check_table import nightly_checks
from govflow.service.policy import apply_policy
from govflow.store import Alert, Approval, AuditEvent, CheckResultRow, GateDecision, session_scope
from govflow.tasks import gate, nightly
from tests._helpers import version_inputs

RUN = {"dag_id": "governance_gate", "run_id": "manual__test_1", "trigger_kind": "rest"}
HITL_APPROVE = {
    "chosen_options": ["Approve"],
    "params_input": {"comment": "looked at the evidence"},
    "responded_by_user": {"id": "rita", "name": "rita"},
    "responded_at": "2026-01-01T00:00:00+00:00",
}


def answers(*responses):
    """Airflow's answers as the DAG hands them to finish: one Required Action each (approval, map index i)."""
    return [
        Answer.of_response(
            response,
            dag_id=RUN["dag_id"],
            run_id=RUN["run_id"],
            task_id="approval",
            map_index=i,
            try_number=1,
        )
        for i, response in enumerate(responses)
    ]


@pytest.fixture(autouse=True)
def policy(request, tmp_path, monkeypatch):
    """The default policy with small tiers: documentation is the docs tests' business, not ours."""
    data = yaml.safe_load(config.policy_path().read_text())
    data["version"] = "test-pipeline"
    data["tiers"]["minimal"].update(required_checks=["validation", "pii"], approvals={"count": 0})
    data["tiers"]["limited"].update(
        required_checks=["validation", "pii", "drift"],
        approvals={"count": 1, "roles": ["reviewer", "admin"]},
        drift={"max_share_drifted": 0.2},
    )
    data["tiers"]["high"]["required_checks"] = ["validation", "pii", "fairness", "drift"]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("GOVFLOW_POLICY", str(path))
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))  # alerts look up connections: none here
    if "db_url" in request.fixturenames:  # the gate decides only with the policy an admin applied
        request.getfixturevalue("db_url")
        with session_scope() as s:
            apply_policy(
                s,
                load_policy(path),
                "admin",
                users=load_users(config.demo_roles_path()),
                auth_method="airflow",
            )
    return path


def _table(path, rng, n=400, shift=0.0, with_outputs=True):
    import pandas as pd

    group = rng.choice(["a", "b"], size=n)
    label = rng.integers(0, 2, size=n)
    flip = rng.random(n) < 0.1
    frame = pd.DataFrame(
        {
            "age": (rng.normal(40 + shift, 8, n)).round().astype(int),
            "hours": rng.integers(20, 60, size=n),
            "group": group,
            "label": label,
        }
    )
    if with_outputs:
        frame["prediction"] = np.where(flip, 1 - label, label)
        frame["score"] = np.clip(frame["prediction"] * 0.7 + rng.random(n) * 0.3, 0, 1).round(4)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(11)
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "model.skops").write_bytes(b"model bytes")
    batches = folder / "batches"
    batches.mkdir()
    return {
        "artifact": folder / "model.skops",
        "training": _table(folder / "train.csv", rng, with_outputs=False),
        "eval": _table(folder / "eval.csv", rng),
        "shifted": _table(folder / "shifted.csv", rng, shift=25.0),
        "batches": batches,
        "rng": rng,
    }


def submit(files, *, tier, name="scorer", version="1.0", eval_key="eval", governance=None):
    governance = governance or {
        "label": "label",
        "prediction": "prediction",
        "score": "score",
        "positive_label": 1,
        "sensitive": ["group"],
    }
    with session_scope() as s:
        if s.scalar(select(registry.Model.id).where(registry.Model.name == name)) is None:
            registry.register_model(
                s,
                name=name,
                owner="olga@bank.example",
                risk_tier=tier,
                actor="alice",
                regions=["EU"],
                batches_uri=str(files["batches"]),
            )
        registry.register_version(
            s,
            model=name,
            version=version,
            artifact=files["artifact"],
            training_data=files["training"],
            reference_data=files["training"],
            eval_data=files[eval_key],
            actor="alice",
            metrics={"accuracy": 0.9, "roc_auc": 0.9},
            params={"algorithm": "test", "governance": governance},
        )
    return gate.resolve(RUN, {"model": name, "version": version})


def counts():
    with session_scope() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (CheckResultRow, GateDecision, Approval, AuditEvent, Alert)
        }


def twice(step):
    """Run a task body, then again as a retry would: same answer, nothing new stored."""
    first = step()
    after_first = counts()
    second = step()
    assert counts() == after_first, f"a retry stored something: {after_first} -> {counts()}"
    return first, second


def stage(name="scorer", version="1.0"):
    with session_scope() as s:
        return registry.get_version(s, name, version).stage


def test_every_gate_task_twice_leaves_one_result_and_one_set_of_audit_events(db_url, files):
    submit(files, tier="limited")
    ref, again = twice(lambda: gate.resolve(RUN, {"model": "scorer", "version": "1.0"}))
    assert ref == again and ref["tier"] == "limited" and ref["submitted_by"] == "alice"
    for check in ("validation", "pii", "fairness", "drift"):
        first, second = twice(lambda check=check: gate.check(ref, check))
        assert first == second and first["status"] == "pass", first
    twice(lambda: gate.document(ref))
    decision, same = twice(lambda: gate.evaluate(ref))
    assert decision == same and decision["decision"] == "pending_approval"
    requests = gate.approval_requests(ref, decision)
    assert len(requests) == 1
    # The submitter is never asked; reviewers and admins are.
    assert [u["id"] for u in requests[0]["assigned_users"]] == ["admin", "rita", "rob"]

    outcome, repeat = twice(lambda: gate.finish(ref, decision, answers(HITL_APPROVE)))
    assert outcome == repeat
    assert (outcome["decision"], outcome["stage"], outcome["approved_by"]) == (
        "approved",
        "production",
        ["rita"],
    )
    assert not [n for n in outcome["notes"] if "documents not refreshed" in n], outcome["notes"]
    assert {(d["kind"], d["format"]) for d in outcome["documents"]} == {
        ("model_card", "md"),
        ("model_card", "html"),
        ("annex_iv", "md"),
        ("annex_iv", "html"),
    }
    twice(lambda: gate.notify(outcome))
    with session_scope() as s:
        checks = sorted(s.scalars(select(CheckResultRow.check)))
        actions = [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert checks == ["documentation", "drift", "fairness", "pii", "validation"]
    assert actions.count("check.recorded") == 5
    assert actions.count("approval.recorded") == 1
    assert actions.count("gate.evaluated") == 2  # the first decision and the one with the approval
    assert actions.count("version.stage_changed") == 1
    assert stage() == "production"


def test_a_failed_check_rejects_without_asking_anyone(db_url, files):
    ref = submit(files, tier="limited", eval_key="shifted")  # ages 25 years older than the reference
    results = {c: gate.check(ref, c)["status"] for c in ("validation", "pii", "drift")}
    assert results["drift"] == "fail"
    decision = gate.evaluate(ref)
    assert decision["decision"] == "rejected"
    assert [r["code"] for r in decision["reasons"]] == ["check_failed", "approvals_missing"]
    assert gate.approval_requests(ref, decision) == []
    outcome = gate.finish(ref, decision, [])
    # Rejected by the checks: the version stays a candidate, so a reviewer may still waive and re-run.
    assert (outcome["decision"], outcome["stage"]) == ("rejected", "candidate")


def test_a_reviewer_rejection_moves_the_version_to_rejected(db_url, files):
    ref = submit(files, tier="limited")
    for check in ("validation", "pii", "drift"):
        gate.check(ref, check)
    decision = gate.evaluate(ref)
    rejection = HITL_APPROVE | {
        "chosen_options": ["Reject"],
        "params_input": {"comment": "group b is too small"},
        "responded_by_user": {"id": "rob", "name": "rob"},
    }
    outcome = gate.finish(ref, decision, answers(rejection))
    assert (outcome["decision"], outcome["stage"]) == ("rejected", "rejected")
    assert "rob (reviewer) rejected this evidence: group b is too small" in " ".join(outcome["reasons"])


def test_an_answer_by_someone_the_policy_does_not_allow_is_not_counted(db_url, files):
    ref = submit(files, tier="limited")
    for check in ("validation", "pii", "drift"):
        gate.check(ref, check)
    decision = gate.evaluate(ref)
    by_submitter = HITL_APPROVE | {"responded_by_user": {"id": "alice", "name": "alice"}}
    outcome = gate.finish(ref, decision, answers(by_submitter))
    assert (outcome["decision"], outcome["stage"]) == ("pending_approval", "candidate")
    assert any(
        note.startswith("approve by alice (") and "not recorded: permission denied" in note
        for note in outcome["notes"]
    ), outcome["notes"]


def test_missing_inputs_skip_an_optional_check_and_error_a_required_one(db_url, files):
    no_columns = {"label": "label"}  # no sensitive feature: fairness cannot run
    limited = submit(files, tier="limited", governance=no_columns)
    assert gate.check(limited, "fairness")["status"] == "skipped"
    high = submit(files, tier="high", name="credit", governance=no_columns)
    result = gate.check(high, "fairness")
    assert result["status"] == "error"
    assert "fairness needs params.governance.label and .sensitive" in result["errors"][0]
    assert "the high tier requires fairness" in result["errors"][0]


def test_fairness_refuses_an_artifact_changed_since_registration(db_url, files):
    ref = submit(files, tier="high")
    files["artifact"].write_bytes(b"other model bytes")  # the submitter's file: no longer what is governed
    with session_scope() as s:
        stored = Path(registry.get_version(s, ref["model"], ref["version"]).artifact_uri)
    stored.write_bytes(b"other model bytes")  # the stored copy swapped: refused on the bytes read
    result = gate.check(ref, "fairness")
    assert result["status"] == "error"
    assert "registered artifact" in result["errors"][0]
    assert "no longer matches the sha256 recorded at registration" in result["errors"][0]


def test_nightly_checks_run_once_per_night_on_the_newest_batch(db_url, files):
    ref = submit(files, tier="minimal")
    for check in ("validation", "pii"):
        gate.check(ref, check)
    gate.finish(ref, gate.evaluate(ref), [])
    assert stage() == "production"
    _table(files["batches"] / "batch-0001.csv", files["rng"], shift=25.0)  # old, drifted
    import pandas as pd

    newest = pd.read_csv(files["training"]).sort_values("group", kind="stable")  # the reference's rows,
    newest["label"] = np.arange(len(newest)) % 2  # with outcomes balanced in each group, predicted right
    newest["prediction"] = newest["label"]
    newest["score"] = newest["label"] * 0.8 + 0.1
    newest.to_csv(files["batches"] / "batch-0002.csv", index=False)

    due = nightly.due_models()
    assert due == [{"model": "scorer", "version": "1.0", "tier": "minimal"}]
    assert nightly.due_model_groups(parallelism=4) == [due]
    night = {"dag_id": "nightly_compliance", "run_id": "scheduled__1", "trigger_kind": "schedule"}
    results = {}
    for check in nightly_checks():
        # The DAG's task runs a group of models; a retried task finds what it recorded.
        [results[check]], _ = twice(lambda check=check: nightly.check_group(night, due, check))
    assert {c: r["status"] for c, r in results.items()} == {
        "drift": "pass",
        "pii": "pass",
        "fairness": "pass",
        "performance": "pass",
    }
    assert results["drift"]["batch"] == "batch-0002.csv"
    audit = nightly.verify_audit()
    assert audit["ok"] and audit["events"] > 0
    summary, _ = twice(lambda: nightly.summarize(night, due, audit))
    assert summary["models"][0]["problems"] == []
    # Checked tonight: not due again until the tier's re-check interval has passed.
    assert nightly.due_models() == []


def test_an_asset_event_naming_new_files_registers_the_version(db_url, files, monkeypatch):
    from govflow.errors import BadInputError
    from govflow.service import run_roles

    # Who triggered the run that emitted the event (Airflow's REST API in a real run).
    runs = {("training", "manual__7"): "dave"}
    monkeypatch.setattr(run_roles, "_airflow_source_user", lambda dag_id, run_id: runs.get((dag_id, run_id)))

    with session_scope() as s:
        registry.register_model(
            s, name="scorer", owner="olga@bank.example", risk_tier="minimal", actor="alice"
        )
    event = {
        "model": "scorer",
        "version": "3.1",
        "artifact": str(files["artifact"]),
        "training_data": str(files["training"]),
        "eval_data": str(files["eval"]),
        "submitted_by": "alice",
        "params": {"governance": {"label": "label", "prediction": "prediction"}},
        run_roles.SOURCE_RUN: ["training", "manual__7"],
    }
    asset_run = RUN | {"run_id": "asset_triggered__1", "trigger_kind": "asset"}
    ref = gate.resolve(asset_run, {"model": None, "version": None}, [{"unrelated": 1}, event])
    # The submitter is who triggered the emitting run: the event's own "submitted_by" is not proof.
    assert (ref["model"], ref["version"], ref["submitted_by"]) == ("scorer", "3.1", "dave")
    with session_scope() as s:
        assert registry.get_version(s, "scorer", "3.1").params["governance"]["label"] == "label"
    with pytest.raises(BadInputError, match="governance_gate needs a model and a version"):
        gate.resolve(asset_run, {}, [{"unrelated": 1}])


def test_an_approval_request_that_timed_out_leaves_the_version_pending(db_url, files):
    ref = submit(files, tier="limited")
    for check in ("validation", "pii", "drift"):
        gate.check(ref, check)
    decision = gate.evaluate(ref)
    timed_out = {
        "chosen_options": ["Reject"],
        "params_input": {},
        "responded_by_user": None,
        "timedout": True,
    }
    outcome = gate.finish(ref, decision, answers(timed_out))
    assert (outcome["decision"], outcome["stage"]) == ("pending_approval", "candidate")
    assert any("timed out without an answer" in note for note in outcome["notes"]), outcome["notes"]
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Approval)) == 0


def test_unreadable_drift_input_is_an_error_result_not_a_crash(tmp_path):
    from govflow.policy import load_policy
    from govflow.service.check_runners import runner

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    inputs = version_inputs(str(empty))
    result = runner("drift")(str(empty), inputs, load_policy())
    assert result.status == "error" and "empty file" in result.errors[0]


def test_an_approval_settles_the_notices_it_supersedes_and_leaves_newer_ones(db_url, files):
    """After 1.0 was rejected and 2.0 approved into production, the model had 1.0's rejection still
    open: the portfolio showed "Compliant" beside an open alert. An approval now settles its own
    notice and those of earlier versions; a newer version waiting in the gate keeps its notice."""
    from govflow.service.alerts import open_alerts

    rejected = submit(files, tier="limited", version="1.0", eval_key="shifted")
    for check in ("validation", "pii", "drift"):
        gate.check(rejected, check)
    outcome = gate.finish(rejected, gate.evaluate(rejected), [])
    assert outcome["decision"] == "rejected"
    gate.notify(outcome)
    approved = submit(files, tier="limited", version="2.0")
    waiting = submit(files, tier="limited", version="3.0", eval_key="shifted")
    for check in ("validation", "pii", "drift"):
        gate.check(waiting, check)
    gate.notify(gate.finish(waiting, gate.evaluate(waiting), []))
    with session_scope() as s:
        assert {a.problem_key for a in open_alerts(s, "scorer")} == {"gate:1.0:rejected", "gate:3.0:rejected"}

    for check in ("validation", "pii", "fairness", "drift"):
        gate.check(approved, check)
    gate.document(approved)
    outcome = gate.finish(approved, gate.evaluate(approved), answers(HITL_APPROVE))
    assert (outcome["decision"], outcome["stage"]) == ("approved", "production")
    delivered = gate.notify(outcome)
    assert {a["problem"] for a in delivered} == {"gate:2.0:approved"}  # the owner is still told
    with session_scope() as s:
        assert {a.problem_key for a in open_alerts(s, "scorer")} == {"gate:3.0:rejected"}
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "alert.resolved"))
        resolved = [json.loads(e.payload)["problem"] for e in events]
    assert set(resolved) == {"gate:1.0:rejected", "gate:2.0:approved"}  # one per channel
