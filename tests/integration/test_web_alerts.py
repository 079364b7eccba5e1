"""The alerts page behind the portfolio's "N open alerts": one row per problem, channels side by side."""

from __future__ import annotations

import pytest

from govflow.alerts import Problem
from govflow.machine_paths import file_names_only
from govflow.service import registry
from govflow.service.alerts import raise_alerts
from govflow.store import session_scope

MACHINE_PATH = "/home/ci/.govflow/demo/model-1/batches/2026-12-01.csv"


@pytest.fixture
def alerted(db_url, sample_files, monkeypatch):
    # No SMTP/Slack settings: the default channels are unconfigured, as after `make demo`.
    for name in (
        "GOVFLOW_SMTP_CONN_ID",
        "GOVFLOW_SLACK_CONN_ID",
        "GOVFLOW_SMTP_HOST",
        "GOVFLOW_SLACK_WEBHOOK",
    ):
        monkeypatch.delenv(name, raising=False)
    with session_scope() as s:
        registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
        registry.register_version(
            s,
            model="credit-risk",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
    problems = [
        Problem(
            key=f"nightly:{check}",
            severity="critical",
            subject=f"credit-risk@1.0: {check} failed",
            body=f"{check} failed on batch {MACHINE_PATH}",
        )
        for check in ("drift", "fairness")
    ]
    raise_alerts("credit-risk", problems, actor="pipeline:nightly_compliance", version="1.0")


def client_as(user: str):
    from fastapi.testclient import TestClient

    from govflow.web.app import create_app

    return TestClient(create_app(user_dependency=lambda: user))


def test_alerts_page_lists_each_problem_once_with_its_channels(alerted):
    client = client_as("vera")
    data = client.get("/api/alerts").json()
    problems = {p["problem"]: p for p in data["problems"]}
    assert set(problems) == {"nightly:drift", "nightly:fairness"}
    assert data["open"] == sum(len(p["channels"]) for p in data["problems"])
    drift = problems["nightly:drift"]
    assert (drift["model"], drift["version"]) == ("credit-risk", "1.0")
    assert drift["channels"] and all(c["delivery"] for c in drift["channels"])

    page = client.get("/alerts")
    assert page.status_code == 200
    assert page.text.count('/models/credit-risk/versions/1.0"') == 2
    assert "nightly:fairness" in page.text
    # The nav links every page to it.
    assert '/alerts">Alerts</a>' in client.get("/").text


def test_alert_messages_show_file_names_not_machine_paths(alerted):
    client = client_as("vera")
    text = client.get("/alerts").text + str(client.get("/api/alerts").json())
    assert "2026-12-01.csv" in text
    for root in ("/home/", "/tmp/", "/work/", "/root/"):
        assert root not in text


def test_file_names_only_keeps_uris_and_url_paths():
    assert file_names_only(f"batch {MACHINE_PATH}: 0.4") == "batch 2026-12-01.csv: 0.4"
    assert file_names_only("file:///tmp/x/eval.csv") == "eval.csv"
    assert file_names_only("s3://bucket/a/b.csv and http://h:8080/api/v2/x") == (
        "s3://bucket/a/b.csv and http://h:8080/api/v2/x"
    )
    assert file_names_only("1/2 and a/b") == "1/2 and a/b"
