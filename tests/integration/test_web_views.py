"""Portfolio, readable version page, diff, My approvals and the way back from Airflow, over a real DB."""

from __future__ import annotations

import datetime as dt

import pytest

from govflow.checks import CheckResult
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import GateDecision, session_scope

FAIRNESS = CheckResult(
    check="fairness",
    status="fail",
    summary={"demographic_parity_difference": 0.31, "sensitive_features": ["sex"]},
    details={
        "by_group": {
            "female": {"count": 120, "selection_rate": 0.21, "accuracy": 0.8},
            "male": {"count": 130, "selection_rate": 0.52, "accuracy": 0.82},
        },
        "sensitive_features": ["sex"],
    },
)
PII = CheckResult(
    check="pii",
    status="fail",
    summary={"rows": 50},
    details={
        "columns": {"contact": {"entities": {"EMAIL_ADDRESS": {"rate": 0.9, "examples": ["a***@x.org"]}}}}
    },
)


def _version(s, files, model: str, version: str):
    return registry.register_version(
        s,
        model=model,
        version=version,
        artifact=files["artifact"],
        training_data=files["training"],
        actor="alice",
    )


@pytest.fixture
def portfolio_db(db_url, sample_files):
    """credit-risk: production 1.0 failing fairness, 2.0 pending approval; churn: no production version."""
    with session_scope() as s:
        registry.register_model(
            s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice", regions=["EU"]
        )
        registry.register_model(s, name="churn", owner="Bo", risk_tier="minimal", actor="alice")
        one = _version(s, sample_files, "credit-risk", "1.0")
        two = _version(s, sample_files, "credit-risk", "2.0")
        _version(s, sample_files, "churn", "0.1")
        one.stage = "production"  # seeded directly: the promotion path is the gate's own tests' business
        run = ensure_run(s, dag_id="governance_gate", run_id="gate-1")
        for result in (
            FAIRNESS,
            PII,
            CheckResult(check="drift", status="pass", summary={"share_drifted": 0.0}),
        ):
            record_check_result(s, version=one, run=run, data_sha256=one.training_data_sha256, result=result)
        nightly = ensure_run(s, dag_id="nightly_compliance", run_id="scheduled__1")
        record_check_result(
            s,
            version=one,
            run=nightly,
            data_sha256=one.training_data_sha256,
            result=CheckResult(check="validation", status="pass", summary={"evaluated": 3, "failed": 0}),
        )
        s.flush()
        s.add(
            GateDecision(
                version_id=two.id,
                target_stage="production",
                decision="pending_approval",
                reasons=[{"code": "approvals", "message": "needs 2 approvals from reviewer, admin"}],
                policy_sha256="0" * 64,
                evidence_digest="d" * 64,
                decided_by="system",
            )
        )
    return db_url


def client_as(user: str):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    return TestClient(create_app(user_dependency=lambda: user))


def test_portfolio_names_what_makes_a_model_non_compliant(portfolio_db):
    data = client_as("vera").get("/api/portfolio").json()
    rows = {m["name"]: m for m in data["models"]}
    credit = rows["credit-risk"]
    assert credit["state"] == "non_compliant" and credit["production_version"] == "1.0"
    kinds = {(p["check"], p["kind"]) for p in credit["problems"]}
    assert {("fairness", "failed"), ("pii", "failed"), ("documentation", "missing")} <= kinds
    assert ("drift", "failed") not in kinds
    assert credit["pending_approvals"] == 1
    assert credit["last_nightly_run"]["run_id"] == "scheduled__1"
    assert credit["last_nightly_run"]["url"] == "/dags/nightly_compliance/runs/scheduled__1"
    assert rows["churn"]["state"] == "no_production"
    expected = {"models": 2, "non_compliant": 1, "no_production": 1, "compliant": 0, "pending_approvals": 1}
    assert {k: data["counts"][k] for k in expected} == expected

    only = client_as("vera").get("/api/portfolio", params={"state": "no_production"}).json()["models"]
    assert [m["name"] for m in only] == ["churn"]
    assert client_as("vera").get("/api/portfolio", params={"tier": "high"}).json()["counts"]["models"] == 1
    assert client_as("vera").get("/api/portfolio", params={"tier": "huge"}).status_code == 400
    page = client_as("vera").get("/", params={"owner": "Ana"})
    assert page.status_code == 200 and "Non-compliant" in page.text and "churn" not in page.text
    assert '<label for="f-tier">' in page.text


def test_staleness_and_overdue_rechecks_follow_the_tier(portfolio_db):
    from govflow.policy import load_policy
    from govflow.service.portfolio import portfolio

    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)  # high: re-check every day, stale after 7
    with session_scope() as s:
        row = portfolio(s, load_policy(), now=later)["models"][1]
    assert row["name"] == "credit-risk"
    assert {p["kind"] for p in row["problems"] if p["check"] == "drift"} == {"overdue"}
    with session_scope() as s:
        row = portfolio(s, load_policy(), now=later + dt.timedelta(days=10))["models"][1]
    assert {p["kind"] for p in row["problems"] if p["check"] == "drift"} == {"stale"}


def test_version_page_renders_evidence_for_people(portfolio_db):
    client = client_as("vera")
    page = client.get("/models/credit-risk/versions/1.0")
    assert page.status_code == 200
    text = page.text
    assert 'id="fairness-groups"' in text and "female" in text and "0.210" in text
    assert "<svg" in text and "selection rate per group" in text
    # The finding and the policy's verdict for everyone; its masked examples for the DPO (and admin).
    assert "EMAIL_ADDRESS" in text and "not allowed" in text
    assert "a***@x.org" not in text and "shown to the data protection officer" in text
    assert "a***@x.org" in client_as("admin").get("/models/credit-risk/versions/1.0").text
    assert "{&#34;demographic_parity_difference" not in text and '{"demographic' not in text
    assert 'href="/dags/governance_gate/runs/gate-1/tasks/fairness"' in text
    assert "true positive rate" not in text  # no empty metric columns
    assert (
        'id="review"' not in client_as("rita").get("/models/credit-risk/versions/1.0").text
    )  # in production
    assert 'href="/dags/nightly_compliance/runs/scheduled__1/tasks/recheck.checks"' in text
    detail = client.get("/api/models/credit-risk/versions/1.0", params={"audit_limit": 2}).json()
    fairness = next(c for c in detail["checks"] if c["check"] == "fairness")
    assert [g["group"] for g in fairness["view"]["groups"]] == ["female", "male"]
    assert "evidence" not in fairness  # only the whitelisted view leaves
    audit = detail["audit"]
    assert len(audit["events"]) == 2 and audit["total"] == 5 and audit["next_before"]
    older = client.get(
        "/api/models/credit-risk/versions/1.0",
        params={"audit_limit": 2, "audit_before": audit["next_before"]},
    ).json()["audit"]
    assert older["events"][0]["seq"] < audit["events"][-1]["seq"]


def test_diff_shows_two_versions_side_by_side(portfolio_db):
    diff = client_as("vera").get("/api/models/credit-risk/diff", params={"a": "1.0", "b": "2.0"}).json()
    fairness = {r["key"]: r for r in diff["fairness"]}
    assert (
        fairness["female · selection_rate"]["a"] == 0.21 and fairness["female · selection_rate"]["b"] is None
    )
    assert diff["decision"]["b"]["decision"] == "pending_approval" and diff["decision"]["a"] is None
    page = client_as("vera").get("/models/credit-risk/diff", params={"a": "1.0", "b": "2.0"})
    assert page.status_code == 200 and "changed" in page.text


def test_my_approvals_lists_what_waits_for_a_reviewer_only(portfolio_db):
    mine = client_as("rita").get("/api/approvals").json()["items"]
    assert [(i["model"], i["version"], i["evidence_digest"]) for i in mine] == [
        ("credit-risk", "2.0", "d" * 64)
    ]
    page = client_as("rita").get("/approvals")
    assert 'id="review-1"' in page.text and "required_actions" in page.text
    assert client_as("vera").get("/api/approvals").json()["items"] == []
    assert 'id="review' not in client_as("vera").get("/approvals").text
    assert client_as("alice").get("/api/approvals").json()["items"] == []  # alice submitted it


def test_my_approvals_joins_airflow_required_actions(portfolio_db):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    asked = [
        {"subject": "Approve credit-risk@2.0 (high risk) for production", "model": "credit-risk",
         "version": "2.0", "url": "/dags/governance_gate/runs/g/tasks/approval/mapped/0/required_actions"},
        {"subject": "Approve other@1 (limited risk) for production", "model": "other", "version": "1",
         "url": "/dags/governance_gate/runs/h/tasks/approval/mapped/0/required_actions"},
    ]  # fmt: skip
    seen: list[str] = []

    def required_actions(user: str) -> list[dict]:
        seen.append(user)
        return asked

    client = TestClient(create_app(user_dependency=lambda: "rita", required_actions=required_actions))
    data = client.get("/api/approvals").json()
    assert data["items"][0]["required_actions"][0]["url"].endswith("/mapped/0/required_actions")
    assert [a["model"] for a in data["other_required_actions"]] == ["other"]
    assert 'class="required-action"' in client.get("/approvals").text and seen == ["rita", "rita"]


def test_airflow_extra_link_lands_on_the_version(portfolio_db):
    client = client_as("vera")
    answer = client.get("/runs/governance_gate/gate-1", follow_redirects=False)
    assert answer.status_code == 307 and answer.headers["location"].endswith(
        "/models/credit-risk/versions/1.0"
    )
    assert client.get("/runs/governance_gate/nope", follow_redirects=False).status_code == 404


def test_every_page_and_api_refuses_unknown_users(portfolio_db):
    stranger = client_as("mallory")
    for path in (
        "/",
        "/api/portfolio",
        "/approvals",
        "/api/approvals",
        "/models/credit-risk/diff?a=1.0&b=2.0",
    ):
        assert stranger.get(path).status_code == 403, path


def test_my_approvals_never_says_nothing_waits_while_listing_a_request(portfolio_db):
    from fastapi.testclient import TestClient

    from govflow.store import Approval
    from govflow.web import create_app

    with (
        session_scope() as s
    ):  # rob already answered credit-risk@2.0 on its evidence: nothing of govflow's waits
        two = registry.get_version(s, "credit-risk", "2.0")
        s.add(
            Approval(
                version_id=two.id,
                approver="rob",
                role="reviewer",
                verdict="approve",
                evidence_digest="d" * 64,
            )
        )
    asked = [{"subject": "Approve other@1 (limited risk) for production", "model": "other", "version": "1",
              "url": "/dags/governance_gate/runs/h/tasks/approval/mapped/0/required_actions"}]  # fmt: skip
    client = TestClient(create_app(user_dependency=lambda: "rob", required_actions=lambda user: asked))
    assert client.get("/api/approvals").json()["items"] == []
    page = client.get("/approvals").text
    assert "Nothing waits for you" not in page and 'id="other-required-actions"' in page
    assert "Airflow still asks you 1 Required Action(s)" in page


def test_diff_labels_monitoring_rows_and_rounds_numbers_with_deltas(portfolio_db):
    from govflow.service.diff import _pairs

    diff = client_as("vera").get("/api/models/credit-risk/diff", params={"a": "1.0", "b": "2.0"}).json()
    checks = {r["key"]: r for r in diff["checks"]}
    # 1.0's nightly validation is monitoring: its own row, never standing in for the gate's evidence
    assert checks["validation (monitoring)"]["a"].startswith("pass")
    assert "[registered data (sha256" in checks["validation (monitoring)"]["a"]
    (row,) = _pairs({"auc": 0.81234567890123}, {"auc": 0.7901234567890123})
    assert (row["a"], row["b"], row["delta"], row["changed"]) == (0.8123, 0.7901, -0.0222, True)


def test_version_page_shows_performance_tables_with_thresholds_and_what_exceeded(portfolio_db):
    """The gate's comparison with production per group and metric, and monitoring's metrics against the
    registered ones: rounded, with the policy's maximum, exceeded rows marked (not a raw summary)."""
    comparison = CheckResult(
        check="performance",
        status="fail",
        summary={
            "task": "binary",
            "production_version": "1.0",
            "metrics": {"accuracy": 0.8},
            "production_metrics": {"accuracy": 0.85},
            "drops": {"accuracy": 0.05},
            "worst_group_drop": 0.12345678901234567,
            "exceeded": ["accuracy@female"],
            "max_metric_drop_vs_production": 0.1,
            "rows": 500,
        },
        details={
            "comparison": {
                "overall": {"accuracy": {"candidate": 0.8, "production": 0.85, "drop": 0.05}},
                "by_group": {
                    "female": {
                        "count": 200,
                        "insufficient": False,
                        "accuracy": {
                            "candidate": 0.7,
                            "production": 0.8234567890123,
                            "drop": 0.12345678901234567,
                        },
                    },
                    "male": {
                        "count": 12,
                        "insufficient": True,
                        "accuracy": {"candidate": 0.5, "production": 0.9, "drop": 0.4},
                    },
                },
            }
        },
    )
    monitored = CheckResult(
        check="performance",
        status="fail",
        summary={
            "rows": 1666,
            "task": "binary",
            "metrics": {"accuracy": 0.81, "f1": 0.6},
            "dropped": ["accuracy"],
            "max_drop": 0.05,
        },
        details={
            "comparisons": {"accuracy": {"registered": 0.9, "now": 0.81, "drop": 0.09, "ok": False}},
            "not_computable": [],
        },
    )
    with session_scope() as s:
        two = registry.get_version(s, "credit-risk", "2.0")
        one = registry.get_version(s, "credit-risk", "1.0")
        gate_run = ensure_run(s, dag_id="governance_gate", run_id="gate-2")
        record_check_result(
            s, version=two, run=gate_run, data_sha256=two.training_data_sha256, result=comparison
        )
        nightly = ensure_run(s, dag_id="nightly_compliance", run_id="scheduled__2")
        record_check_result(s, version=one, run=nightly, data_sha256="b" * 64, result=monitored)

    client = client_as("vera")
    text = client.get("/models/credit-risk/versions/2.0").text
    assert 'id="performance-comparison"' in text and "worst_group_drop" not in text
    assert (
        "production version <strong>1.0</strong>" in text and "policy maximum <strong>0.100</strong>" in text
    )
    # Rounded; the exceeded group row is marked, the small group is said to be too small to judge.
    assert "0.12345678901234567" not in text and "<strong>0.123</strong>" in text
    female = text[text.index('<th scope="row">female</th>') : text.index('<th scope="row">male</th>')]
    assert "exceeded" in female and "0.823" in female
    male = text[text.index('<th scope="row">male</th>') :]
    assert (
        "too small to judge" in male[: male.index("</tr>")] and "exceeded" not in male[: male.index("</tr>")]
    )
    detail = client.get("/api/models/credit-risk/versions/2.0").json()
    view = next(c for c in detail["checks"] if c["check"] == "performance")["view"]["champion"]
    assert [(r["group"], r["exceeded"]) for r in view["rows"]] == [
        ("all rows", False),
        ("female", True),
        ("male", False),
    ]

    text = client.get("/models/credit-risk/versions/1.0").text
    assert (
        'id="performance-metrics"' in text
        and "at most <strong>0.050</strong> below its registered value" in text
    )
    accuracy = text[text.index('<th scope="row">accuracy</th>') :]
    accuracy = accuracy[: accuracy.index("</tr>")]
    assert (
        "0.810" in accuracy
        and "0.900" in accuracy
        and "<strong>0.090</strong>" in accuracy
        and "exceeded" in accuracy
    )
    f1 = text[text.index('<th scope="row">f1</th>') :]
    assert "none registered" in f1[: f1.index("</tr>")]
