"""Red team, round 3: an insider who wants a high-risk version shipped without its approvals.

Each test is one way through that the signed-fact checks of round 2 missed:

- the DB writer reorders one reviewer's verdicts (``approvals.created_at`` was not
  signed): their later rejection sorts first, their earlier approval counts again;
- the DB writer hides a failing result from the gate by moving it (or its run) to a
  monitoring DAG (``runs.dag_id``, ``check_results.run_id`` were not compared with
  the signed ``run``), so the older passing result is the "latest" again;
- the DB writer edits ``model_versions.params`` (label and sensitive columns, the
  mitigation lineage) or the model's regions for as long as a check runs: the check
  then records an honest, signed pass about the wrong columns, and the row is put back
  before the gate reads it;
- the DB writer and the state-volume writer together cut the newest facts of a version
  (a rejection and the decision after it) and delete the seals that named them: a
  missing seal was taken as "never sealed".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from govflow import data, store
from govflow.checks import CheckResult
from govflow.policy import load_policy
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.gate import UnsignedFactError
from govflow.service.inputs import inputs_of
from govflow.service.runs import ensure_run
from govflow.store import AuditEvent, session_scope
from govflow.store.seals import checkpoint_root
from tests._helpers import checked_version

MODEL, VERSION = "credit-risk", "1.0"
DEFAULT = data.default_policy()


@pytest.fixture(autouse=True)
def dev_mode(monkeypatch):
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")  # the service calls name the bundled demo users


def _sql(url: str, *statements: str) -> None:
    """What a DB writer does: plain SQL (the append-only trigger dropped where it touches events)."""
    engine = store.make_engine(url)
    with engine.begin() as conn:
        if any("audit_events" in s for s in statements):
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
            else:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _approve(approver: str, verdict: str = "approve") -> None:
    with session_scope() as s:
        gate.approve(s, MODEL, VERSION, approver, verdict=verdict, comment="looked", auth_method="airflow")


def _decide() -> str:
    with session_scope() as s:
        return gate.evaluate_gate(
            s, MODEL, VERSION, "airflow", auth_method="system", policy=load_policy(DEFAULT)
        ).decision


def _record(check: str, status: str, run_id: str) -> int:
    with session_scope() as s:
        row = registry.get_version(s, MODEL, VERSION)
        run = ensure_run(s, dag_id="governance_gate", run_id=run_id)
        return record_check_result(
            s,
            version=row,
            run=run,
            data_sha256=row.training_data_sha256,
            result=CheckResult(check=check, status=status, summary={}),
        ).id


def test_reordering_one_reviewers_verdicts_is_refused(db_url, sample_files):
    """rob approved, then rejected; backdating the rejection made his approval his last word."""
    checked_version(sample_files)
    _approve("rita")
    _approve("rob")
    _approve("rob", verdict="reject")
    assert _decide() == "rejected"
    _sql(db_url, "UPDATE approvals SET created_at = '2001-01-01 00:00:00' WHERE verdict = 'reject'")

    with pytest.raises(UnsignedFactError, match=r"approvals #\d+ .*(created_at|order)"):
        _decide()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE runs SET dag_id = 'nightly_compliance' WHERE run_id = 'r2'",
        "UPDATE check_results SET run_id = (SELECT id FROM runs WHERE run_id = 'n1') WHERE id = {failed}",
    ],
    ids=["run-renamed", "result-moved"],
)
def test_a_failing_result_hidden_in_a_monitoring_run_is_refused(db_url, sample_files, sql):
    """Approved on the first results; fairness then failed on a re-run. Filing that result under
    the nightly DAG took it out of the gate's evidence, and the old approvals counted again."""
    checked_version(sample_files)
    _approve("rita")
    _approve("rob")
    failed = _record("fairness", "fail", "r2")
    with session_scope() as s:
        ensure_run(s, dag_id="nightly_compliance", run_id="n1")
    assert _decide() == "rejected"
    _sql(db_url, sql.format(failed=failed))

    with pytest.raises(UnsignedFactError, match=rf"check_results #{failed} run"):
        _decide()


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE model_versions SET params = \'{"governance": {"label": "y", "sensitive": ["x"]}}\'',
        "UPDATE models SET regions = '[\"US\"]'",
        "UPDATE models SET risk_tier = 'minimal'",
        "UPDATE models SET batches_uri = '/tmp/benign-batches'",
        'UPDATE models SET stakeholders = \'[{"name": "Eve", "role": "owner", "contact": "slack:#eve"}]\'',
    ],
    ids=["params", "regions", "tier", "batches", "stakeholders"],
)
def test_a_check_never_runs_on_unsigned_registration_facts(db_url, sample_files, sql):
    """A check reads the version's columns, the model's regions and tier from the rows: edited for
    the length of a check, they decide what it measures (and it signs an honest pass); nightly reads
    the model's batches and alerts its stakeholders."""
    checked_version(sample_files)
    _sql(db_url, sql)
    with pytest.raises(UnsignedFactError, match="does not match its signed event"), session_scope() as s:
        inputs_of(registry.get_version(s, MODEL, VERSION))


def _reject_then_cut(db_url: str, sample_files) -> str:  # type: ignore[no-untyped-def]
    """rita approves, rob rejects (the gate rejects); then rob's rejection, the decisions and the
    version's events from his verdict on are cut from the DB. Returns the version's subject."""
    checked_version(sample_files)
    _approve("rita")
    _approve("rob", verdict="reject")
    assert _decide() == "rejected"
    subject = f"version:{MODEL}@{VERSION}"
    with session_scope() as s:
        cut = s.scalar(
            select(AuditEvent.seq)
            .where(AuditEvent.action == "approval.recorded")
            .order_by(AuditEvent.seq.desc())
        )
    _sql(
        db_url,
        "DELETE FROM gate_decisions",
        "DELETE FROM approvals WHERE verdict = 'reject'",
        f"DELETE FROM audit_events WHERE seq >= {cut} AND subject = '{subject}'",
    )
    return subject


def test_cutting_the_newest_facts_and_their_seals_is_refused(db_url, sample_files):
    """rob's rejection and the decision after it, cut from the DB, and every seal deleted from the
    state volume: the version went back to one approval of two (pending), the rejection gone."""
    _reject_then_cut(db_url, sample_files)
    shutil.rmtree(checkpoint_root())

    with pytest.raises(UnsignedFactError, match="seal"):
        _decide()


# --- the worker shell: XCom is not an identity ----------------------------------------------------

DAG, RUN = "governance_gate", "manual__2026-12-01T08:18:13+00:00"


def _forged_answer(map_index: int, who: str, option: str = "Approve") -> dict:
    """What an approval task returns (its XCom): the worker that ran it, or whoever writes Airflow's
    metadata DB, can return anything here."""
    return {
        "chosen_options": [option],
        "params_input": {"comment": "fine"},
        "responded_by_user": {"id": who, "name": who},
        "required_action": {
            "dag_id": DAG,
            "run_id": RUN,
            "task_id": "approval",
            "map_index": map_index,
            "try_number": 1,
        },
    }


@pytest.fixture
def asked(db_url, sample_files):
    """A high-risk version whose gate run asked two reviewers (pending_approval)."""
    from govflow.service.pipeline import RunRef, pipeline_actor

    checked_version(sample_files)
    with session_scope() as s:
        row = gate.evaluate_gate(
            s, MODEL, VERSION, pipeline_actor(RunRef(DAG, RUN), "gate"), policy=load_policy(DEFAULT)
        )
        decision = gate.decision_to_dict(row, model=MODEL, version=VERSION)
    assert decision["decision"] == "pending_approval"
    ref = {"model": MODEL, "version": VERSION, "tier": "high", "run": RunRef(DAG, RUN, "rest").to_dict()}
    return ref, decision


def test_approvals_forged_in_the_approval_tasks_xcom_do_not_count(asked):
    """Nobody answered in Airflow; two approval task results name rita and rob. They were recorded
    as Airflow-authenticated approvals, and the version went to production."""
    from govflow.service.pipeline import RunRef
    from govflow.tasks import answers as task_answers
    from govflow.tasks.gate import finish
    from tests.integration.test_answers import FakeAirflow

    ref, decision = asked
    forged = [_forged_answer(0, "rita"), _forged_answer(1, "rob")]
    answers, notes = task_answers.collect(RunRef.of(ref["run"]), forged, client=FakeAirflow())
    out = finish(ref, decision, answers, notes=notes)

    assert out["decision"] != "approved" and out["stage"] == "candidate"
    with session_scope() as s:
        assert s.scalar(text("SELECT count(*) FROM approvals WHERE verdict = 'approve'")) == 0


def test_with_airflow_unreachable_production_takes_no_approval_from_xcom(monkeypatch):
    """Where the REST API cannot be read, a production deployment records the tasks' rejections only
    (a demo's dag.test, which has no API, still takes its answers as given)."""
    from govflow.service.pipeline import RunRef
    from govflow.tasks import answers as task_answers
    from tests.integration.test_answers import FakeAirflow

    monkeypatch.setenv("GOVFLOW_ENV", "production")
    forged = [_forged_answer(0, "rita"), _forged_answer(1, "rob", "Reject")]
    answers, notes = task_answers.collect(RunRef(DAG, RUN), forged, client=FakeAirflow(down=True))
    assert [(a.approver, a.verdict) for a in answers] == [("rob", "reject")]
    assert "reconcile" in notes[0]


def test_an_xcom_approval_never_replaces_the_rejection_airflow_recorded(asked):
    """rob rejected in Required Actions; his approval task's XCom says he approved."""
    from govflow.service.pipeline import RunRef
    from govflow.tasks import answers as task_answers
    from govflow.tasks.gate import finish
    from tests.integration.test_answers import FakeAirflow, detail

    ref, decision = asked
    rest = FakeAirflow([detail(1, "rob", "Reject", run=RUN)])
    answers, notes = task_answers.collect(RunRef.of(ref["run"]), [_forged_answer(1, "rob")], client=rest)
    finish(ref, decision, answers, notes=notes)

    with session_scope() as s:
        verdicts = s.execute(text("SELECT approver, verdict FROM approvals")).all()
    assert [tuple(v) for v in verdicts] == [("rob", "reject")]


# --- the model author: an ONNX graph is data, but its tensors may name files ----------------------


def _onnx_reading(location: str, length: int) -> bytes:
    """A graph whose only output is an initializer stored as "external data" at ``location``."""
    from onnx import TensorProto, helper

    tensor = TensorProto(name="w", data_type=TensorProto.UINT8, dims=[length])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Identity", ["w"], ["Y"])],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 1])],
        [helper.make_tensor_value_info("Y", TensorProto.UINT8, [length])],
        initializer=[tensor],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return model.SerializeToString()


def test_an_onnx_model_cannot_read_files_through_external_data(tmp_path, monkeypatch):
    """onnxruntime resolves a relative external-data path from the working folder: run in the project
    folder (where `make demo` keeps .govflow and its generated key), a model read the decision key and
    returned its bytes as its predictions."""
    from govflow.checks._result import CheckInputError
    from govflow.checks.model_predictions import load_model

    secret = tmp_path / ".govflow" / "keys" / "audit-signing.pem"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"-----BEGIN PRIVATE KEY-----")
    path = tmp_path / "model.onnx"
    path.write_bytes(_onnx_reading(".govflow/keys/audit-signing.pem", 27))
    monkeypatch.chdir(tmp_path)

    with pytest.raises(CheckInputError, match="external data"):
        load_model(path, formats=["onnx"])


# --- the worker shell with the check-result key -------------------------------------------------


def test_the_gate_refuses_an_approval_signed_with_the_check_key(
    db_url, sample_files, tmp_path, monkeypatch, production_deployment
):
    """A worker holding only the check-result key signed two approvals with it (its own code, not
    govflow's refusal). `audit verify` named the forgery; the gate checked each fact's signature
    against every trusted key, the check key included, and counted both: approved."""
    from govflow import signing
    from govflow.signing import generate_key_files

    check = generate_key_files(tmp_path / "check" / "check.pem")  # a configured key: production
    (production_deployment / "check-worker.pub").write_text((tmp_path / "check" / "check.pub").read_text())
    checked_version(sample_files)
    assert _decide() == "pending_approval"

    monkeypatch.setattr("govflow.store.audit.key_for_action", lambda _action: check)
    _approve("rita")
    _approve("rob")
    monkeypatch.setattr("govflow.store.audit.key_for_action", signing.key_for_action)

    with pytest.raises(UnsignedFactError, match="check-result key"):
        _decide()


def test_a_seal_signed_with_the_check_key_seals_nothing(
    db_url, sample_files, tmp_path, monkeypatch, production_deployment
):
    """The worker cut rob's rejection and the decision after it, then re-sealed the version at the
    newest event left, with its own key (seals are files the workers' volume holds)."""
    from govflow.signing import generate_key_files, signing_key
    from govflow.store import seals

    check = generate_key_files(tmp_path / "check" / "check.pem")  # a configured key: production
    (production_deployment / "check-worker.pub").write_text((tmp_path / "check" / "check.pub").read_text())
    subject = _reject_then_cut(db_url, sample_files)
    for sealed in Path(checkpoint_root()).glob("*.json"):  # the whole trail's head and checkpoints
        sealed.unlink()
    with session_scope() as s:
        newest = s.scalar(
            select(AuditEvent).where(AuditEvent.subject == subject).order_by(AuditEvent.seq.desc()).limit(1)
        )
        seq, head_hash = newest.seq, newest.hash
    Path(seals._subject_seal_location(subject)).unlink()
    monkeypatch.setattr(seals, "signing_key", lambda: check)
    seals.write_subject_seal(subject, seq, head_hash)
    monkeypatch.setattr(seals, "signing_key", signing_key)

    with pytest.raises(UnsignedFactError, match=r"seal of version:credit-risk@1\.0 .*check-result key"):
        _decide()


# --- Airflow's metadata DB writer: the GateRef in XCom names another version ----------------------


def test_answers_to_one_versions_request_never_approve_another(asked, sample_files):
    """Run R asked rita and rob about credit-risk@1.0 and they approved it. The finish task's ref
    and decision (XCom) were rewritten to name 2.0 and its digest: their answers were recorded,
    signed and Airflow-authenticated, as approvals of 2.0, a version nobody reviewed."""
    from govflow.service.pipeline import RunRef
    from govflow.tasks import answers as task_answers
    from govflow.tasks.gate import finish
    from tests.integration.test_answers import FakeAirflow, detail

    ref, _ = asked
    with session_scope() as s:
        row = registry.register_version(
            s,
            model=MODEL,
            version="2.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["reference"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="r-other")
        for check in ("validation", "pii", "fairness", "drift", "documentation"):
            record_check_result(
                s,
                version=row,
                run=run,
                data_sha256=None if check == "documentation" else row.training_data_sha256,
                result=CheckResult(check=check, status="pass", summary={}),
            )
    with session_scope() as s:
        other = gate.evaluate_gate(s, MODEL, "2.0", "airflow", policy=load_policy(DEFAULT))
        forged_decision = gate.decision_to_dict(other, model=MODEL, version="2.0")
    forged_ref = {**ref, "version": "2.0"}
    rest = FakeAirflow([detail(0, "rita", run=RUN), detail(1, "rob", run=RUN)])
    answers, notes = task_answers.collect(RunRef.of(ref["run"]), [], client=rest)
    out = finish(forged_ref, forged_decision, answers, notes=notes)

    assert out["stage"] == "candidate" and out["decision"] != "approved"
    with session_scope() as s:
        laundered = s.execute(
            text(
                "SELECT count(*) FROM approvals a JOIN model_versions v ON v.id = a.version_id "
                "WHERE v.version = '2.0'"
            )
        ).scalar()
    assert laundered == 0


def test_a_rewritten_summary_fails_the_next_decision(db_url, sample_files):
    """The Required Action's body and the documents show a result's summary from its row: a DB writer
    who cleans up a warning's numbers before reviewers read them must not see the approvals count."""
    checked_version(sample_files, {"fairness": "warn"})
    assert _decide() == "pending_approval"
    _sql(db_url, "UPDATE check_results SET summary = '{\"demographic_parity_difference\": 0.01}'")

    with pytest.raises(UnsignedFactError, match=r"check_results #\d+ summary"):
        _decide()
