"""Each pack's own rules in the per-article report (``service.packs.pack_status``), over a real DB:
a hiring tool's bias audit must cover the pack's categories and their intersection and be no older
than its cadence; the version page shows what is missing in words."""

from __future__ import annotations

import datetime as dt

from govflow.checks import CheckResult
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.packs import pack_status
from govflow.service.runs import ensure_run
from govflow.store import session_scope
from tests.integration.test_web import client_as


def _hiring_tool(sample_files, features: list[str]) -> None:
    with session_scope() as s:
        registry.register_model(
            s,
            name="screen",
            owner="Hana",
            risk_tier="high",
            actor="alice",
            regions=["EU"],
            sector="employment",
        )
        row = registry.register_version(
            s,
            model="screen",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        result = CheckResult(
            check="fairness",
            status="pass",
            summary={"sensitive_features": features, "impact_ratio": 0.91, "rows": 400},
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="screen-1")
        record_check_result(s, version=row, run=run, data_sha256=row.training_data_sha256, result=result)


def _bias_audit(now: dt.datetime | None = None) -> dict:
    with session_scope() as s:
        report = pack_status(s, "screen", "1.0", now=now)
    hiring = next(p for p in report["packs"] if p["id"] == "hiring-bias-audit")
    return next(o for o in hiring["obligations"] if o["id"] == "bias_audit")


def test_a_hiring_audit_on_sex_alone_misses_race_ethnicity_and_the_intersection(db_url, sample_files):
    _hiring_tool(sample_files, ["sex"])
    audit = _bias_audit()
    assert not audit["evidenced"]
    assert audit["missing"] == [
        "section fairness",  # no document rendered yet
        "category race_ethnicity (no sensitive feature ethnicity/race/race_ethnicity)",
        "intersectional categories (sex x race_ethnicity)",
    ]
    page = client_as("vera").get("/models/screen/versions/1.0").text
    assert "intersectional categories (sex x race_ethnicity)" in page


def test_a_hiring_audit_older_than_a_year_is_overdue(db_url, sample_files):
    _hiring_tool(sample_files, ["sex", "race"])
    assert _bias_audit()["missing"] == ["section fairness"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=366)
    overdue = _bias_audit(later)["missing"]
    assert overdue[0] == "section fairness" and overdue[1].startswith("an audit within 365 days (last on ")


def test_the_published_audit_summary_lists_each_category_and_excludes_the_small_ones(db_url, sample_files):
    """6 RCNY § 5-303: per category rows, selection rate and impact ratio; a category under 2% of
    the rows is reported and excluded from the ratio (5-301(d)); the numbers are the evidence's."""
    _hiring_tool(sample_files, ["sex", "race"])
    by_group = {  # 1,000 rows: 'Other' is 1.5% of them
        "female|white": {"count": 400, "selection_rate": 0.30, "share": 0.4, "impact_ratio": 0.75},
        "male|white": {"count": 585, "selection_rate": 0.40, "share": 0.585, "impact_ratio": 1.0},
        "male|other": {"count": 15, "selection_rate": 0.9, "share": 0.015, "impact_ratio_excluded": True},
    }
    with session_scope() as s:
        row = registry.get_version(s, "screen", "1.0")
        result = CheckResult(
            check="fairness",
            status="pass",
            summary={
                "sensitive_features": ["sex", "race"],
                "impact_ratio": 0.75,
                "rows": 1000,
                "rows_excluded": 3,
            },
            details={"by_group": by_group},
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="screen-2")
        record_check_result(s, version=row, run=run, data_sha256=row.training_data_sha256, result=result)
    with session_scope() as s:
        packs = {p["id"]: p for p in pack_status(s, "screen", "1.0")["packs"]}
    published = packs["hiring-bias-audit"]["published_summary"]
    assert "published_summary" not in packs["eu-ai-act-high-risk"]
    assert (published["rows"], published["unknown_category_rows"], published["impact_ratio"]) == (
        1000,
        3,
        0.75,
    )
    assert published["data_source"].startswith("registered data, sha256 ")
    assert published["distribution_date"] is None and published["min_share"] == 0.02
    rows = {c["category"]: c for c in published["categories"]}
    assert rows, published
    assert (rows["female|white"]["selection_rate"], rows["female|white"]["impact_ratio"]) == (0.30, 0.75)
    assert rows["male|other"]["excluded"] is True and rows["male|other"]["impact_ratio"] is None
    page = client_as("vera").get("/models/screen/versions/1.0").text
    assert 'id="bias-audit-hiring-bias-audit"' in page and "lowest impact ratio 0.750" in page
    assert "excluded (under 2% of the rows)" in page


def test_a_health_models_safe_harbor_names_the_identifiers_no_scan_sees(db_url, sample_files):
    with session_scope() as s:
        registry.register_model(
            s, name="triage", owner="Hal", risk_tier="minimal", actor="alice", sector="health"
        )
        row = registry.register_version(
            s,
            model="triage",
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="triage-1")
        result = CheckResult(check="pii", status="pass", summary={"rows": 10, "columns_with_pii": []})
        record_check_result(s, version=row, run=run, data_sha256=row.training_data_sha256, result=result)
    with session_scope() as s:
        [health] = pack_status(s, "triage", "1")["packs"]
    safe_harbor = next(o for o in health["obligations"] if o["id"] == "safe_harbor")
    [gap] = [m for m in safe_harbor["missing"] if m.startswith("a recognizer for ")]
    assert "FAX_NUMBER" in gap and "EMAIL_ADDRESS" not in gap and not safe_harbor["evidenced"]
    assert "add custom_recognizers" in client_as("vera").get("/models/triage/versions/1").text
