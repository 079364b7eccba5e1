"""The Governance view shows per model which partitions last night's run checked and the label coverage,
from the signed partition claims and the stored results."""

from __future__ import annotations

import secrets

from govflow import store
from govflow.tasks import nightly
from tests.integration.test_nightly_partitions import _night, _production, _put, _rows
from tests.integration.test_pipeline_retries import counts, files, policy  # noqa: F401  (fixtures)
from tests.integration.test_web_views import client_as, portfolio_db  # noqa: F401  (fixture)

TARGET = {"model": "scorer", "version": "1.0", "tier": "minimal"}


def _night_of(n: int, *checks: str) -> None:
    for check in checks:
        nightly.check_group(_night(n), [TARGET], check)
    nightly.document_group(_night(n), [TARGET])


def test_portfolio_and_model_page_show_last_nights_partitions_and_label_coverage(db_url, files):  # noqa: F811
    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=1))
    _night_of(1, "drift", "fairness")  # day 1 lands, unlabeled: fairness waits

    row = client_as("vera").get("/api/portfolio").json()["models"][0]
    read = row["nightly_partitions"]
    assert read["run"]["run_id"] == "scheduled__1"
    assert read["checked"] == ["2026-12-01"] and read["labeled"] == [] and read["label_coverage"] is None
    model = client_as("vera").get("/api/models/scorer").json()["nightly_partitions"]
    assert model["waiting_for_labels"] == ["2026-12-01"]
    page = client_as("vera").get("/models/scorer").text
    assert "Waiting for labels: 2026-12-01 (1 partition(s))" in page

    # Night 2: day 2 lands, day 1's labels arrive: drift reads day 2 only, fairness day 1 at 100 %.
    _put(f"{root}/ds=2026-12-02/part-0000.csv", _rows("2026-12-02", labeled=False, seed=2))
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=1))
    _night_of(2, "drift", "fairness")
    read = client_as("vera").get("/api/portfolio").json()["models"][0]["nightly_partitions"]
    assert read["run"]["run_id"] == "scheduled__2"
    assert read["checked"] == ["2026-12-02"] and read["labeled"] == ["2026-12-01"]
    assert read["label_coverage"] == 1.0 and read["label_window"] == {
        "from": "2026-12-01",
        "to": "2026-12-01",
    }
    assert read["checks"] == {"drift": ["2026-12-02"], "fairness": ["2026-12-01"]}
    assert read["unconfirmed"] == []
    portfolio = client_as("vera").get("/").text
    cell = portfolio.split('<td class="partitions">', 1)[1].split("</td>", 1)[0]
    assert "2026-12-02" in cell and "labels 2026-12-01: <strong>100 %</strong> coverage" in cell
    page = client_as("vera").get("/models/scorer").text
    assert 'id="nightly-partitions"' in page and "drift: 2026-12-02" in page
    assert "Waiting for labels: 2026-12-02 (1 partition(s))" in page  # day 1 is labeled now


def test_a_claim_without_its_signed_event_is_not_shown_as_checked(db_url, files):  # noqa: F811
    root = f"memory://nightly-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", seed=3))
    _night_of(1, "drift")
    engine = store.make_engine(db_url)
    with engine.begin() as conn:  # a DB writer (around govflow's triggers) strips the claim's signature
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.exec_driver_sql("UPDATE audit_events SET signature = NULL WHERE action = 'partition.claimed'")
    engine.dispose()
    read = client_as("vera").get("/api/portfolio").json()["models"][0]["nightly_partitions"]
    assert read["checked"] == [] and read["unconfirmed"] == ["2026-12-01"]
    assert "unconfirmed</span> 2026-12-01 (no signed claim)" in client_as("vera").get("/").text


def test_a_model_reading_its_newest_batch_shows_no_partitions(portfolio_db):  # noqa: F811
    rows = {m["name"]: m for m in client_as("vera").get("/api/portfolio").json()["models"]}
    assert rows["credit-risk"]["nightly_partitions"] is None
    assert ">newest batch</span>" in client_as("vera").get("/").text
