"""Nightly on partitioned sources (a memory:// prefix, a PostgreSQL partitioned table, a SQLite table):
only partitions not yet checked are read, a retry reads the same ones, each result names what it covers;
fairness and performance wait for late labels (same rows later, or a label source joined by key)."""

from __future__ import annotations

import io
import secrets

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from govflow import storage
from govflow.service import registry
from govflow.store import MonitoredPartition, session_scope
from govflow.tasks import gate, nightly
from tests.integration.test_pipeline_retries import RUN, counts, files, policy  # noqa: F401  (fixtures)

GOVERNANCE = {"label": "label", "prediction": "prediction", "positive_label": 1, "sensitive": ["group"]}


def _night(n: int) -> dict:
    return {"dag_id": "nightly_compliance", "run_id": f"scheduled__{n}", "trigger_kind": "schedule"}


def _rows(day: str, n: int = 300, *, labeled: bool = True, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = np.arange(n) % 2
    frame = pd.DataFrame(
        {
            "id": [f"{day}-{i}" for i in range(n)],
            "age": rng.normal(40, 8, n).round().astype(int),
            "hours": rng.integers(20, 60, size=n),
            "group": np.where(np.arange(n) % 4 < 2, "a", "b"),
            "prediction": label,
            "label": label if labeled else np.full(n, np.nan),
        }
    )
    return frame


def _production(files, batches_uri: str, monitoring: dict) -> None:  # noqa: F811
    with session_scope() as s:
        registry.register_model(
            s, name="scorer", owner="olga@bank.example", risk_tier="minimal", actor="alice",
            regions=["EU"], batches_uri=batches_uri,
        )  # fmt: skip
        registry.register_version(
            s, model="scorer", version="1.0", artifact=files["artifact"], training_data=files["training"],
            reference_data=files["training"], eval_data=files["eval"], actor="alice",
            metrics={"accuracy": 0.9}, params={"governance": GOVERNANCE, "monitoring": monitoring},
        )  # fmt: skip
    ref = gate.resolve(RUN, {"model": "scorer", "version": "1.0"})
    for check in ("validation", "pii"):
        gate.check(ref, check)
    gate.finish(ref, gate.evaluate(ref), [])


def _put(uri: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    storage.write_bytes(uri, buffer.getvalue().encode())


def _run(night: dict, check: str) -> dict:
    target = {"model": "scorer", "version": "1.0", "tier": "minimal"}
    first = nightly.check_group(night, [target], check)
    before = counts()
    again = nightly.check_group(night, [target], check)  # a retry: same partitions, nothing new stored
    assert counts() == before and again[0].get("summary") == first[0].get("summary")
    return first[0]


def _claims() -> list[tuple[str, str]]:
    with session_scope() as s:
        rows = s.scalars(select(MonitoredPartition).order_by(MonitoredPartition.id))
        return [(r.stage, r.partition) for r in rows]


def test_a_prefix_is_read_once_per_partition_and_labels_in_the_same_rows_arrive_later(db_url, files):  # noqa: F811
    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=1)[:150])
    _put(f"{root}/ds=2026-12-01/part-0001.csv", _rows("2026-12-01", labeled=False, seed=1)[150:])
    _put(f"{root}/ds=2026-12-01/_SUCCESS", pd.DataFrame())  # not data: ignored

    drift = _run(_night(1), "drift")
    assert drift["summary"]["partitions"] == ["2026-12-01"] and drift["summary"]["rows"] == 300
    assert _run(_night(1), "pii")["summary"]["partitions"] == ["2026-12-01"]
    waiting = _run(_night(1), "fairness")
    assert waiting["status"] == "skipped" and "labels" in waiting["reason"]

    _put(f"{root}/ds=2026-12-02/part-0000.csv", _rows("2026-12-02", labeled=False, seed=2))
    assert _run(_night(2), "drift")["summary"]["partitions"] == ["2026-12-02"]  # only the new one
    # The first day's labels land in its rows: fairness runs on that day only, with its coverage.
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=1)[:150])
    _put(f"{root}/ds=2026-12-01/part-0001.csv", _rows("2026-12-01", seed=1)[150:])
    fairness = _run(_night(2), "fairness")
    assert fairness["status"] == "pass", fairness
    assert fairness["summary"]["window"] == {"from": "2026-12-01", "to": "2026-12-01"}
    assert fairness["summary"]["label_coverage"] == 1.0
    assert _run(_night(3), "drift")["status"] == "skipped"  # nothing new landed
    assert _claims() == [
        ("predictions", "2026-12-01"),
        ("predictions", "2026-12-02"),
        ("labels", "2026-12-01"),
    ]


def test_labels_joined_by_key_from_their_own_prefix(db_url, files):  # noqa: F811
    root = f"memory://nightly-{secrets.token_hex(4)}/scorer"
    _production(files, f"{root}/preds", {"partition": "ds", "labels": f"{root}/labels", "key": "id"})
    day = _rows("2026-12-01", labeled=False, seed=3).drop(columns=["label"])
    _put(f"{root}/preds/ds=2026-12-01/part-0000.csv", day)
    assert _run(_night(1), "drift")["summary"]["partitions"] == ["2026-12-01"]
    labels = _rows("2026-12-01", seed=3)[["id", "label"]]
    _put(f"{root}/labels/batch-1.csv", labels[:100])  # a third of them: not enough yet
    assert _run(_night(2), "fairness")["status"] == "skipped"
    _put(f"{root}/labels/batch-2.csv", labels[100:])
    fairness = _run(_night(3), "fairness")
    assert fairness["status"] == "pass" and fairness["summary"]["label_coverage"] == 1.0


@pytest.mark.postgres
def test_a_table_partitioned_by_a_timestamp_column_is_read_by_day(db_url, files, pg_template, monkeypatch):  # noqa: F811
    # (SQLite tables cannot be read through an Airflow connection here: no sqlite provider in the lock.)
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    schema = f"wh_{secrets.token_hex(4)}"
    frame = pd.concat([_rows("2026-12-01", seed=4), _rows("2026-12-02", seed=5)], ignore_index=True)
    frame["ts"] = pd.to_datetime(
        ["2026-12-01 10:00:00"] * 150 + ["2026-12-01 23:59:00"] * 150 + ["2026-12-02 08:30:00"] * 300
    )
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    frame.to_sql("preds", admin, schema=schema, index=False)
    monkeypatch.setenv("AIRFLOW_CONN_WH", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        _production(files, f"conn://wh/{schema}.preds", {"partition": "ts"})
        drift = _run(_night(1), "drift")
        assert drift["status"] == "pass", drift
        assert drift["summary"]["partitions"] == ["2026-12-01", "2026-12-02"]
        assert drift["summary"]["rows"] == 600
        window = _run(_night(1), "fairness")["summary"]["window"]
        assert window == {"from": "2026-12-01", "to": "2026-12-02"}
        assert _run(_night(2), "drift")["status"] == "skipped"
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.mark.postgres
def test_a_postgresql_partitioned_table_reads_only_new_days(db_url, files, pg_template, monkeypatch):  # noqa: F811
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    schema = f"wh_{secrets.token_hex(4)}"
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        c.execute(
            sa.text(
                f'CREATE TABLE {schema}.preds (id text, age int, hours int, "group" text, prediction int, '
                "label int, ds date) PARTITION BY RANGE (ds)"
            )
        )
        for day, nxt in (("2026-12-01", "2026-12-02"), ("2026-12-02", "2026-12-03")):
            name = f"{schema}.preds_{day.replace('-', '')}"
            c.execute(
                sa.text(
                    f"CREATE TABLE {name} PARTITION OF {schema}.preds FOR VALUES FROM ('{day}') TO ('{nxt}')"
                )
            )
    monkeypatch.setenv("AIRFLOW_CONN_WH", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        day1 = _rows("2026-12-01", seed=6).assign(ds=pd.Timestamp("2026-12-01").date())
        day1.to_sql("preds", admin, schema=schema, if_exists="append", index=False)
        _production(files, f"conn://wh/{schema}.preds", {"partition": "ds"})
        assert _run(_night(1), "drift")["summary"]["partitions"] == ["2026-12-01"]
        day2 = _rows("2026-12-02", seed=7).assign(ds=pd.Timestamp("2026-12-02").date())
        day2.to_sql("preds", admin, schema=schema, if_exists="append", index=False)
        drift = _run(_night(2), "drift")
        assert drift["status"] in ("pass", "warn") and drift["summary"]["partitions"] == ["2026-12-02"]
        assert drift["summary"]["rows"] == 300
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_a_model_whose_labels_stop_arriving_is_alerted_once_and_cleared_when_they_land(db_url, files):  # noqa: F811
    import datetime as dt

    from govflow.store import Alert

    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds", "labels_stale_days": 3})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=8))
    _run(_night(1), "drift")
    targets = [{"model": "scorer", "version": "1.0", "tier": "minimal"}]
    soon = nightly.summarize(_night(1), targets, {"ok": True})
    assert "nightly:labels-stale" not in soon["models"][0]["problems"]  # landed today: not late yet
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=4)
    late = nightly.summarize(_night(2), targets, {"ok": True}, now=later)
    assert "nightly:labels-stale" in late["models"][0]["problems"]

    def stale() -> list:
        with session_scope() as s:
            rows = s.scalars(select(Alert).where(Alert.problem_key == "nightly:labels-stale")).all()
            return [(r.id, r.resolved_at is None, "2026-12-01" in r.message) for r in rows]

    raised = stale()  # one per channel
    assert raised and all(is_open and names for _, is_open, names in raised)
    nightly.summarize(_night(3), targets, {"ok": True}, now=later)
    assert stale() == raised  # still open: not raised again
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=8))
    assert _run(_night(4), "fairness")["summary"]["label_coverage"] == 1.0
    cleared = nightly.summarize(_night(4), targets, {"ok": True}, now=later)
    assert "nightly:labels-stale" not in cleared["models"][0]["problems"]
    assert [is_open for _, is_open, _ in stale()] == [False] * len(raised)


def test_the_last_task_level_verifies_the_chain_and_summarizes_in_one_task(db_url, files):  # noqa: F811
    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=9))
    _run(_night(1), "drift")
    summary = nightly.verify_and_summarize(
        _night(1), [{"model": "scorer", "version": "1.0", "tier": "minimal"}]
    )
    assert summary["audit"]["ok"] and summary["audit"]["checkpoint"]["seq"] > 0
    assert summary["models"][0]["checks"]["drift"] in ("pass", "warn")


def test_the_portfolio_shows_the_nightly_run_ended_once_its_summary_is_made(db_url, files):  # noqa: F811
    from govflow.policy import load_policy
    from govflow.service.portfolio import portfolio
    from govflow.tasks.nightly import AuditChainBrokenError

    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=9))
    targets = [{"model": "scorer", "version": "1.0", "tier": "minimal"}]

    def last_nightly() -> tuple[str, str]:
        with session_scope() as s:
            row = portfolio(s, load_policy())["models"][0]["last_nightly_run"]
        return row["run_id"], row["status"]

    _run(_night(1), "drift")
    assert last_nightly() == ("scheduled__1", "running")  # its checks ran, its summary not yet
    nightly.verify_and_summarize(_night(1), targets)
    assert last_nightly() == ("scheduled__1", "success")  # was "running" for ever
    _put(f"{root}/ds=2026-12-02/part-0000.csv", _rows("2026-12-02", seed=10))
    _run(_night(2), "drift")
    with pytest.raises(AuditChainBrokenError):
        nightly.summarize(_night(2), targets, {"ok": False, "first_broken_seq": 3, "problem": "gone"})
    assert last_nightly() == ("scheduled__2", "failed")
