"""Nightly on the production stack where production data lives: one model reads a day-partitioned
PostgreSQL table (through the Airflow connection govflow_warehouse), one a ds= partitioned s3 prefix.
Each night reads only the partitions no run has checked; fairness runs on a day once its labels land;
the Governance view's data names what last night read. The demo's own helpers land the data."""

from __future__ import annotations

import secrets
from pathlib import Path

import pandas as pd
import pytest

from govflow.prodstack._partitioned import ensure_warehouse, land, prefix_source, table_source
from govflow.prodstack._seed import seed_production_models
from tests.prod._stackops import audit_ok, client, duplicates, wait_run

pytestmark = [pytest.mark.prod, pytest.mark.slow]
NIGHTLY = "nightly_compliance"


def _results(stack, run_id: str, names: list[str]) -> dict[tuple[str, str], dict]:
    from sqlalchemy import text

    from govflow.store import session_scope

    with session_scope(stack.client_env()["GOVFLOW_DB_URL"]) as session:
        rows = session.execute(
            text(
                "SELECT m.name, c.check, c.status, c.summary FROM check_results c "
                "JOIN runs r ON r.id = c.run_id JOIN model_versions v ON v.id = c.version_id "
                "JOIN models m ON m.id = v.model_id WHERE r.dag_id = :dag AND r.run_id = :run"
            ),
            {"dag": NIGHTLY, "run": run_id},
        ).all()
    return {(m, c): {"status": s, **(summary or {})} for m, c, s, summary in rows if m in names}


def _night(stack, conf: dict) -> str:
    admin = client(stack)
    run_id = admin.trigger(NIGHTLY, conf, note="partitioned sources")["dag_run_id"]
    assert wait_run(admin, NIGHTLY, run_id, timeout=900)["state"] == "success"
    return run_id


def test_nightly_reads_only_new_partitions_and_runs_fairness_when_labels_land(stack_env, trained):
    stack = stack_env
    tag = secrets.token_hex(3)
    table, prefix = f"part-{tag}-table", f"part-{tag}-prefix"
    sources = {table: table_source(table), prefix: prefix_source(stack.bucket, prefix)}
    url = stack.warehouse_url()
    ensure_warehouse(url)
    batches = sorted(Path(trained["batches"]).glob("*.csv"))
    days = {"2026-12-01": pd.read_csv(batches[0]), "2026-12-02": pd.read_csv(batches[1])}
    label = trained["label"]
    for uri, _ in sources.values():  # day 1's predictions land; its labels are not known yet
        land(uri, "2026-12-01", days["2026-12-01"], label=label, labeled=False, url=url)
    seed_production_models(trained, [table, prefix], bucket=stack.bucket, tag=tag, sources=sources)

    first = _night(stack, {})
    results = _results(stack, first, [table, prefix])
    for name in (table, prefix):
        for check in ("drift", "pii"):
            assert results[(name, check)]["partitions"] == ["2026-12-01"], (name, check, results)
        assert (name, "fairness") not in results  # skipped: waiting for labels

    for uri, _ in sources.values():  # day 2 lands; day 1's labels arrive in its rows
        land(uri, "2026-12-02", days["2026-12-02"], label=label, labeled=False, url=url)
        land(uri, "2026-12-01", days["2026-12-01"], label=label, labeled=True, url=url)
    second = _night(stack, {"recheck": "all"})  # both were checked minutes ago: re-check them now
    results = _results(stack, second, [table, prefix])
    for name in (table, prefix):
        assert results[(name, "drift")]["partitions"] == ["2026-12-02"]  # only the new day
        fairness = results[(name, "fairness")]
        assert fairness["partitions"] == ["2026-12-01"] and fairness["label_coverage"] == 1.0, fairness
        assert fairness["window"] == {"from": "2026-12-01", "to": "2026-12-01"}

    from govflow.service.partition_view import nightly_partitions
    from govflow.store import Model, session_scope

    with session_scope(stack.client_env()["GOVFLOW_DB_URL"]) as session:
        ids = {m.name: m.id for m in session.query(Model).filter(Model.name.in_([table, prefix]))}
        shown = nightly_partitions(session, list(ids.values()))
    for model_id in ids.values():
        assert shown[model_id]["checked"] == ["2026-12-02"] and shown[model_id]["labeled"] == ["2026-12-01"]
        assert shown[model_id]["label_coverage"] == 1.0
    rows = [(m, c) for m, c in _results(stack, second, [table, prefix])]
    assert not duplicates(rows)
    assert audit_ok(stack)["ok"]
