"""One state per version (#31 item 1): gate evidence and monitoring evidence are separate kinds, the
gate decides on its own evidence only, a production version's state comes from monitoring, and the
portfolio, model page, version page, API and CLI all say the same."""

from __future__ import annotations

import json

import pytest

from govflow.checks import CheckResult
from govflow.errors import ConflictError
from govflow.policy import load_policy
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.gate_inputs import gather_inputs
from govflow.service.runs import ensure_run
from govflow.service.version_state import derive_state, version_state
from govflow.store import session_scope
from tests._helpers import cli
from tests.integration.test_promotion import approve_all, evaluate, promote, record_all, register

BATCH_SHA = "b" * 64  # a production batch: not the data the version was registered with


def nightly(status: str, check: str = "fairness", run_id: str = "scheduled__1") -> None:
    with session_scope() as s:
        row = registry.get_version(s, "credit-risk", "1.0")
        record_check_result(
            s,
            version=row,
            run=ensure_run(s, dag_id="nightly_compliance", run_id=run_id, trigger_kind="schedule"),
            result=CheckResult(check=check, status=status, summary={"rows": 1666}),
            data_sha256=BATCH_SHA,
        )


@pytest.fixture
def in_production(db_url, sample_files):
    register(sample_files, "1.0")
    record_all("1.0")
    approve_all("1.0", "rita", "rob")
    assert evaluate("1.0") == "approved"
    assert promote("1.0", actor="alice")[0] == "production"
    return db_url


def states() -> dict[str, str]:
    from tests.integration.test_web_views import client_as

    client = client_as("vera")
    portfolio = {m["name"]: m for m in client.get("/api/portfolio").json()["models"]}
    model = {v["version"]: v for v in client.get("/api/models/credit-risk").json()["versions"]}
    version = client.get("/api/models/credit-risk/versions/1.0").json()
    with session_scope() as s:
        direct = version_state(s, registry.get_version(s, "credit-risk", "1.0"), policy=load_policy())
    return {
        "portfolio": portfolio["credit-risk"]["state"],
        "model": model["1.0"]["state"]["state"],
        "version": version["state"]["state"],
        "service": direct.state,
    }


def test_monitoring_evidence_never_reaches_the_gate(in_production):
    nightly("fail")
    with session_scope() as s:
        inputs = gather_inputs(s, registry.get_version(s, "credit-risk", "1.0"))
    assert all(e.data_sha256 != BATCH_SHA for e in inputs.evidence)
    assert {e.check for e in inputs.evidence} == {"validation", "pii", "fairness", "drift", "documentation"}


def test_regating_a_production_version_is_refused_in_one_line(in_production, capsys):
    nightly("pass")
    with pytest.raises(ConflictError, match=r"credit-risk@1.0 is in production: the nightly re-check judges"):
        evaluate("1.0")
    code, _, err = cli(capsys, "gate", "--model", "credit-risk", "--version", "1.0", "--as", "rita")
    assert code == 2 and "is in production" in err and len(err.strip().splitlines()) == 1
    with session_scope() as s:  # the approvals stand: nothing voided them
        row = registry.get_version(s, "credit-risk", "1.0")
        assert row.stage == "production"
        assert gate.latest_decision(s, row.id).decision == "approved"


def test_every_view_says_the_same_state(in_production, capsys):
    nightly("pass")
    assert set(states().values()) == {"compliant"}
    nightly("fail", run_id="scheduled__2")  # monitoring decides a production version's compliance
    assert set(states().values()) == {"non_compliant"}
    code, out, _ = cli(capsys, "version", "show", "--model", "credit-risk", "--version", "1.0", "--json")
    assert code == 0 and json.loads(out)["state"]["state"] == "non_compliant"
    assert "fairness: fail" in json.loads(out)["state"]["reason"]
    code, out, _ = cli(capsys, "version", "show", "--model", "credit-risk", "--version", "1.0")
    assert "state: in production, not compliant (fairness: fail)" in out


def test_version_page_labels_each_kind_with_its_data_and_rows(in_production):
    from tests.integration.test_web_views import client_as

    nightly("warn")
    checks = client_as("vera").get("/api/models/credit-risk/versions/1.0").json()["checks"]
    fairness = {c["kind"]: c for c in checks if c["check"] == "fairness"}
    assert set(fairness) == {"gate", "monitoring"}  # the nightly batch sits beside, not over, the gate's
    assert fairness["gate"]["status"] == "pass" and fairness["gate"]["data_set"].startswith("registered data")
    assert fairness["monitoring"]["data_set"].startswith("production batch (sha256 bbbbbbbbbbbb")
    assert fairness["monitoring"]["rows"] == 1666
    page = client_as("vera").get("/models/credit-risk/versions/1.0").text
    assert 'id="check-fairness-monitoring"' in page and "1,666 rows" in page
    assert "in production, compliant" in page  # a warn that the tier does not block on


@pytest.mark.parametrize(
    ("stage", "decision", "problems", "state"),
    [
        ("production", "approved", [{"text": "drift: fail"}], "non_compliant"),
        ("production", "rejected", [], "compliant"),  # an old decision does not judge production
        ("candidate", None, [], "not_gated"),
        ("candidate", "pending_approval", [], "pending_approval"),
        ("staging", "rejected", [], "rejected"),
        ("archived", "approved", [], "archived"),
    ],
)
def test_derive_state_is_the_one_rule(stage, decision, problems, state):
    assert derive_state(stage=stage, decision=decision, problems=problems).state == state
