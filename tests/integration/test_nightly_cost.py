"""What a nightly task costs is measured where it runs (the benchmark's ledger): the runners' CPU, the
task's CPU, its SQL statements and object-store requests; each Airflow connection is looked up once
per task."""

from __future__ import annotations

import json
import secrets

from govflow import settings
from govflow.tasks import nightly
from govflow.tasks._cost import LEDGER_ENV, task_cost
from tests.integration.test_nightly_partitions import _night, _production, _put, _rows
from tests.integration.test_pipeline_retries import counts, files, policy  # noqa: F401  (fixtures)

TARGET = {"model": "scorer", "version": "1.0", "tier": "minimal"}


def test_each_group_task_appends_its_cost_and_the_checks_cpu(db_url, files, tmp_path, monkeypatch):  # noqa: F811
    ledger = tmp_path / "cost.jsonl"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=1))
    nightly.check_group(_night(1), [TARGET], "drift")
    nightly.check_group(_night(1), [TARGET], "drift")  # a retry: found, not run again
    nightly.document_group(_night(1), [TARGET])
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [(r["task"], r["run"], r["models"]) for r in lines] == [
        ("drift", "scheduled__1", 1),
        ("drift", "scheduled__1", 1),
        ("documentation", "scheduled__1", 1),
    ]
    first, retry, docs = lines
    # The runner's own CPU (beside its wall-time duration), part of the task's.
    assert 0 < first["checks_cpu_s"] <= first["cpu_s"]
    assert retry["checks_cpu_s"] == 0 and 0 < retry["db"] < first["db"]  # the retry only finds it
    assert docs["checks_cpu_s"] > 0 and first["object"] == 0  # memory://, not an s3 request


def test_a_task_looks_each_airflow_connection_up_once(monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr(settings, "_look_up", lambda conn_id: asked.append(conn_id) or None)
    with task_cost("drift"):
        for _ in range(3):
            settings.object_store_connection()
    settings.object_store_connection()  # outside a task: asked again (a connection may change)
    assert asked == [settings.OBJECT_STORE_CONN_ID] * 2


def test_one_task_runs_a_models_checks_and_documents_reading_what_they_share_once(db_url, files, monkeypatch):  # noqa: F811
    from govflow import storage
    from govflow.artifacts import ArtifactStore
    from govflow.service import signed_facts

    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=1))
    verified, listed, fetched = [], [], []
    real_verify, real_glob, real_get = (
        signed_facts.require_signed_registration,
        storage.glob,
        ArtifactStore.get_bytes,
    )
    monkeypatch.setattr(
        signed_facts,
        "require_signed_registration",
        lambda s, row: verified.append(row.id) or real_verify(s, row),
    )
    monkeypatch.setattr(storage, "glob", lambda uri, pattern: listed.append(uri) or real_glob(uri, pattern))
    monkeypatch.setattr(
        ArtifactStore, "get_bytes", lambda self, uri: fetched.append(uri) or real_get(self, uri)
    )
    checks = ("pii", "fairness", "drift", "performance")
    results = nightly.check_group(_night(1), [TARGET], checks, documents=True, task="checks")
    assert [r["check"] for r in results] == [*checks, "documentation"]
    assert {r["status"] for r in results} <= {"pass", "warn", "fail"}, results
    assert len(verified) == 1  # the registration checked against its signed events once, not per check
    assert listed == [root]  # the partitions listed once for all four checks
    evidence = {r["evidence_uri"] for r in results}
    assert not evidence & set(fetched)  # the documentation did not fetch back what the task recorded
