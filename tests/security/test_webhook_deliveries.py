"""MLflow webhook deliveries: one run per delivery id across workers, and the submitter is MLflow's user.

Before, the replay guard was a set in each process's memory, filled only after the delivery was
acted on: two copies of one delivery arriving together both started a run, and a replay sent to
another worker was accepted. The version's submitter was ``mlflow:webhook``, so a reviewer who
pushed a model through MLflow could approve it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from govflow.errors import PermissionDeniedError
from govflow.service import deliveries, gate
from govflow.store import ModelVersion, WebhookDelivery, session_scope
from tests.integration.test_mlflow_registry import (  # noqa: F401  (fixtures)
    SECRET,
    _delivery,
    governed_model,
    tracking,
)

mlflow = pytest.importorskip("mlflow")
REPO = Path(__file__).resolve().parents[2]
WEBHOOK = "/api/integrations/mlflow/webhook"


def _set_mlflow_user(tracking_uri: str, version: str, user: str | None) -> None:
    """The user MLflow recorded as the version's creator (its auth layer sets it on a real server)."""
    engine = create_engine(tracking_uri)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE model_versions SET user_id = :u WHERE name = 'credit' AND version = :v"),
            {"u": user, "v": int(version)},
        )
    engine.dispose()


@pytest.fixture
def workers(governed_model, monkeypatch):  # noqa: F811
    """Two app instances (two workers of one deployment) sharing one governance DB."""
    from fastapi.testclient import TestClient

    from govflow.web.app import create_app

    monkeypatch.setenv("GOVFLOW_MLFLOW_WEBHOOK_SECRET", SECRET)
    _set_mlflow_user(governed_model["uri"], "2", "rob")
    triggered: list[dict] = []
    lock = threading.Lock()

    def trigger(conf):
        with lock:
            triggered.append(conf)
            return {"dag_run_id": f"mlflow-{len(triggered)}"}

    apps = [TestClient(create_app(user_dependency=lambda: "nobody", trigger_gate=trigger)) for _ in range(2)]
    yield apps, triggered
    _set_mlflow_user(governed_model["uri"], "2", None)


def test_two_copies_of_one_delivery_at_once_start_one_run(workers):
    apps, triggered = workers
    body, headers = _delivery(delivery="twice-at-once")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def deliver(client):
        barrier.wait()
        statuses.append(client.post(WEBHOOK, content=body, headers=headers).status_code)

    threads = [threading.Thread(target=deliver, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(statuses) == [200, 403]
    assert len(triggered) == 1
    with session_scope() as s:
        (row,) = s.scalars(select(WebhookDelivery)).all()
        assert (row.delivery_id, row.state, row.run_id) == ("twice-at-once", "done", "mlflow-1")


def test_a_replay_to_another_worker_process_is_refused(workers, db_url):
    apps, triggered = workers
    body, headers = _delivery(delivery="replayed-elsewhere")
    assert apps[0].post(WEBHOOK, content=body, headers=headers).status_code == 200
    # A fresh process: nothing in its memory, only the governance DB knows the delivery.
    script = (
        "import json, sys\n"
        "from fastapi.testclient import TestClient\n"
        "from govflow.web.app import create_app\n"
        "calls = []\n"
        "app = create_app(user_dependency=lambda: 'nobody', trigger_gate=lambda c: calls.append(c) or {})\n"
        "headers = json.loads(sys.argv[3])\n"
        "r = TestClient(app).post(sys.argv[1], content=sys.argv[2].encode(), headers=headers)\n"
        "print(r.status_code, len(calls))\n"
    )
    import json

    env = os.environ | {"PYTHONPATH": str(REPO / "include") + os.pathsep + str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", script, WEBHOOK, body, json.dumps(headers)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split() == ["403", "0"], out.stderr[-2000:]
    assert len(triggered) == 1


def test_a_failed_delivery_can_be_retried_with_the_same_id(workers):
    apps, _ = workers
    body, headers = _delivery(name="unknown-model", delivery="retry-me")
    assert apps[0].post(WEBHOOK, content=body, headers=headers).status_code == 404
    with session_scope() as s:
        assert s.scalars(select(WebhookDelivery)).all() == []  # released: MLflow's retry gets through
    assert apps[1].post(WEBHOOK, content=body, headers=headers).status_code == 404


def test_claims_are_unique_under_concurrency(db_url):
    wins: list[str] = []
    barrier = threading.Barrier(6)

    def claim(i: int) -> None:
        barrier.wait()
        try:
            deliveries.claim("mlflow", "same-id", body_sha256="0" * 64, db_url=db_url)
            wins.append(f"w{i}")
        except PermissionDeniedError:
            pass

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(wins) == 1


def test_the_mlflow_user_is_the_submitter_and_cannot_approve_their_own_model(workers):
    apps, triggered = workers
    body, headers = _delivery(delivery="rob-pushes")
    response = apps[0].post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert triggered[0]["submitted_by"] == "rob"
    with session_scope() as s:
        row = s.scalars(select(ModelVersion)).one()
        assert row.created_by == "rob"
        with pytest.raises(PermissionDeniedError, match="separation of duties"):
            gate.approve(s, "credit", "2", "rob", verdict="approve", auth_method="airflow")


def test_a_version_mlflow_names_no_user_for_is_not_registered(workers, governed_model):  # noqa: F811
    apps, triggered = workers
    _set_mlflow_user(governed_model["uri"], "2", None)
    body, headers = _delivery(delivery="nobody-named")
    response = apps[0].post(WEBHOOK, content=body, headers=headers)
    assert response.status_code == 400 and "user_id" in response.text
    assert triggered == []
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []
