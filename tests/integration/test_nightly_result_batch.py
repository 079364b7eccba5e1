"""A nightly task writes its models' results together: every row and signed ``check.recorded`` event
of a window of models in one transaction, each event still signed on its own; a failed row costs
only itself, and a task that dies before the write is retried into the same results, once each."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from govflow.checks import CheckResult
from govflow.service import registry
from govflow.service.audit import verify_audit
from govflow.service.pipeline import RunRef, record_result
from govflow.service.result_batch import results_written_together
from govflow.store import AuditEvent, CheckResultRow, Run, session_scope
from govflow.store import seals as seals_module
from govflow.tasks import gate, nightly
from tests.integration.test_nightly_partitions import GOVERNANCE, _night, _put, _rows
from tests.integration.test_pipeline_retries import RUN, counts, files, policy  # noqa: F401  (fixtures)

CHECKS = ("pii", "fairness", "drift", "performance")


def _production(files, name: str) -> dict:  # noqa: F811
    root = f"memory://nightly-{secrets.token_hex(4)}/{name}/preds"
    with session_scope() as s:
        registry.register_model(
            s, name=name, owner="olga@bank.example", risk_tier="minimal", actor="alice",
            regions=["EU"], batches_uri=root,
        )  # fmt: skip
        registry.register_version(
            s, model=name, version="1.0", artifact=files["artifact"], training_data=files["training"],
            reference_data=files["training"], eval_data=files["eval"], actor="alice",
            metrics={"accuracy": 0.9}, params={"governance": GOVERNANCE, "monitoring": {"partition": "ds"}},
        )  # fmt: skip
    ref = gate.resolve(RUN, {"model": name, "version": "1.0"})
    for check in ("validation", "pii"):
        gate.check(ref, check)
    gate.finish(ref, gate.evaluate(ref), [])
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=1))
    return {"model": name, "version": "1.0", "tier": "minimal"}


@contextmanager
def recorded_per_commit() -> Iterator[list[list[str]]]:
    """The ``check.recorded`` events of each committed transaction (as "model check")."""
    commits: list[list[str]] = []

    def flushed(session: Session, _context) -> None:
        for obj in session.new:
            if isinstance(obj, AuditEvent) and obj.action == "check.recorded":
                model = obj.subject.split(":", 1)[1].split("@")[0]
                session.info.setdefault("_test_recorded", []).append(
                    f"{model} {json.loads(obj.payload)['check']}"
                )

    def committed(session: Session) -> None:
        if recorded := session.info.pop("_test_recorded", None):
            commits.append(recorded)

    event.listen(Session, "after_flush", flushed)
    event.listen(Session, "after_commit", committed)
    try:
        yield commits
    finally:
        event.remove(Session, "after_flush", flushed)
        event.remove(Session, "after_commit", committed)


@pytest.mark.parametrize("write_models", [None, "1"])
def test_a_group_tasks_results_are_written_in_one_transaction_each_event_signed(
    db_url,
    files,  # noqa: F811
    monkeypatch,
    write_models,
):
    if write_models:
        monkeypatch.setenv("GOVFLOW_NIGHTLY_WRITE_MODELS", write_models)
    else:
        monkeypatch.delenv("GOVFLOW_NIGHTLY_WRITE_MODELS", raising=False)
    targets = [_production(files, "scorer"), _production(files, "ranker")]
    with recorded_per_commit() as commits:
        results = nightly.check_group(_night(1), targets, CHECKS, task="checks")
    both = [f"{t['model']} {c}" for t in targets for c in CHECKS]
    # One transaction for the group's eight results, or one per model when the window is one model.
    assert commits == ([both] if write_models is None else [both[:4], both[4:]])
    # What the task returns was filled in once written: the ids of the stored rows.
    with session_scope() as s:
        rows = {r.id: r for r in s.scalars(select(CheckResultRow).where(CheckResultRow.run_id.is_not(None)))}
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "check.recorded")))
    assert all(isinstance(r["result_id"], int) and rows[r["result_id"]].check == r["check"] for r in results)
    assert [rows[r["result_id"]].evidence_sha256 for r in results] == [r["evidence_sha256"] for r in results]
    # Each event keeps its own signature: a fact is verified alone, as the gate reads it.
    nightly_events = [e for e in events if json.loads(e.payload)["run"].endswith("/scheduled__1")]
    assert len(nightly_events) == 8 and all(e.signature for e in nightly_events)
    assert len({e.signature for e in nightly_events}) == 8
    with session_scope() as s:
        report = verify_audit(s)
    assert report.ok, report.problems


def test_a_process_that_seals_writes_one_subject_seal_per_model_per_batch(db_url, files, monkeypatch):  # noqa: F811
    targets = [_production(files, "scorer"), _production(files, "ranker")]
    sealed: list[str] = []
    real = seals_module.write_subject_seal
    monkeypatch.setattr(
        seals_module,
        "write_subject_seal",
        lambda key, seq, head, **kw: sealed.append(key) or real(key, seq, head, **kw),
    )
    monkeypatch.setattr(seals_module, "holds_decision_key", lambda: True)  # the demo's LocalExecutor
    nightly.check_group(_night(1), targets, CHECKS, task="checks")
    assert sorted(sealed) == ["version:ranker@1.0", "version:scorer@1.0"]  # not one per result


def test_a_row_that_cannot_be_written_costs_only_itself(db_url, files):  # noqa: F811
    _production(files, "scorer")
    run = RunRef.of(_night(1))
    from govflow.policy import load_policy

    policy_ = load_policy()
    before = counts()["check_results"]
    with results_written_together(db_url=None) as batch:
        good = record_result(
            run, "scorer", "1.0", CheckResult("drift", "pass", {"share": 0.0}), None, policy_, db_url=None
        )
        bad = record_result(
            run, "scorer", "9.9", CheckResult("drift", "pass", {}), None, policy_, db_url=None
        )
        assert good["result_id"] is None and counts()["check_results"] == before  # pending until written
        failures = batch.write()
    assert [(f.pending.version, f.pending.result.check) for f in failures] == [("9.9", "drift")]
    assert bad["result_id"] is None and "9.9" in str(failures[0].error)
    assert isinstance(good["result_id"], int)  # filled in place once committed
    with session_scope() as s:
        stored = s.get(CheckResultRow, good["result_id"])
        assert (stored.check, stored.status) == ("drift", "pass")


def test_a_task_that_dies_before_its_write_is_retried_into_the_same_results_once(db_url, files):  # noqa: F811
    target = _production(files, "scorer")
    before = counts()

    class Killed(BaseException):  # as a worker's SIGTERM would end the task
        pass

    with pytest.raises(Killed), results_written_together(db_url=None):
        for check in CHECKS:
            nightly.check(_night(1), target, check)
        raise Killed
    assert counts()["check_results"] == before["check_results"]  # nothing of the dead attempt stored
    retried = nightly.check_group(_night(1), [target], CHECKS, documents=True, task="checks")
    again = nightly.check_group(_night(1), [target], CHECKS, documents=True, task="checks")
    assert [r["result_id"] for r in again] == [r["result_id"] for r in retried]  # found, not run again
    with session_scope() as s:
        night = s.scalar(select(Run.id).where(Run.run_id == "scheduled__1"))
        nightly_rows = s.scalars(select(CheckResultRow.check).where(CheckResultRow.run_id == night)).all()
    assert sorted(nightly_rows) == sorted([*CHECKS, "documentation"])  # each once
    assert counts()["check_results"] - before["check_results"] == 5
    # The retry judged the partitions the dead attempt claimed: they are named by its results.
    assert all(
        r["summary"].get("partitions") == ["2026-12-01"] for r in retried if r["check"] in ("pii", "drift")
    )
