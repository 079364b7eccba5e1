"""Each stakeholder's own page: the auditor's, the data protection officer's, the data scientist's;
each for its role only and within the viewer's teams."""

from __future__ import annotations

import pytest

from govflow.checks import CheckResult
from govflow.service import gate, registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import session_scope
from tests._helpers import dev_mode_unless_production
from tests.integration.test_web_teams import _pending, client_as

ROLES = """
users:
  alice: {roles: [data_scientist]}
  rita: {roles: [reviewer], teams: [retail]}
  audrey: {roles: [auditor]}
  dana: {roles: [dpo], teams: [retail]}
  vera: {roles: [viewer]}
"""
MASKED = "j***@e***.com"  # what the PII check stores: a masked example, never the raw value
FOUND = {"rate": 0.9, "examples": [MASKED]}


@pytest.fixture
def stakeholders(db_url, sample_files, tmp_path, monkeypatch):
    dev_mode_unless_production(monkeypatch)
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(roles))
    _pending("basket", "retail", sample_files)
    _pending("limits", "cards", sample_files)
    with session_scope() as s:  # basket's PII scan finds e-mail addresses; rita waives it
        row = registry.get_version(s, "basket", "1")
        record_check_result(
            s,
            version=row,
            run=ensure_run(s, dag_id="governance_gate", run_id="run-basket-2"),
            result=CheckResult(
                check="pii",
                status="fail",
                summary={"rows": 10, "columns_with_pii": ["email"]},
                details={
                    "columns": {"email": {"entities": {"EMAIL_ADDRESS": {"rate": 0.9, "examples": [MASKED]}}}}
                },
            ),
            data_sha256=row.eval_data_sha256,
        )
    with session_scope() as s:
        gate.waive(s, "basket", "1", "pii", "rita", reason="hashed before use", auth_method="airflow")
    with session_scope() as s:
        gate.evaluate_gate(s, "basket", "1", "airflow")
    return db_url


def test_the_auditor_sees_every_team_and_the_verified_trail(stakeholders):
    view = client_as("audrey").get("/api/views/auditor").json()
    assert view["chain"]["ok"] is True and view["chain"]["events"] > 0
    rows = {v["model"]: v for v in view["versions"]}
    assert set(rows) == {"basket", "limits"}  # no `teams`: every team
    assert rows["basket"]["decisions"] == 2 and rows["basket"]["waivers"] == 1
    assert rows["basket"]["bundle_command"].startswith("govflow evidence export --model basket --version 1")
    page = client_as("audrey").get("/views/auditor").text
    assert "intact" in page and 'id="nav-audit"' in page and 'id="nav-dpo"' not in page


def test_the_dpo_sees_pii_findings_and_waivers_of_their_team(stakeholders):
    view = client_as("dana").get("/api/views/dpo").json()
    [basket] = view["models"]  # dana is the DPO of team retail
    assert basket["model"] == "basket" and basket["pii_status"] == "fail"
    assert basket["columns_with_pii"] == ["email"] and basket["rows"] == 10
    assert [(w["waived_by"], w["reason"]) for w in basket["pii_waivers"]] == [("rita", "hashed before use")]
    assert isinstance(basket["allowed_entities"], list)
    page = client_as("dana").get("/views/dpo").text
    assert "rita (reviewer): hashed before use" in page and "limits" not in page


def test_the_data_scientist_sees_their_submissions_and_what_to_fix(stakeholders):
    view = client_as("alice").get("/api/views/data-scientist").json()
    assert {(v["model"], v["version"]) for v in view["versions"]} == {("basket", "1"), ("limits", "1")}
    limits = next(v for v in view["versions"] if v["model"] == "limits")
    assert limits["decision"] == "pending_approval"
    assert any("approvals" in r["message"] for r in limits["reasons"])
    assert client_as("rita").get("/api/views/data-scientist").status_code == 403


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("vera", "/api/views/auditor"),
        ("rita", "/views/auditor"),
        ("vera", "/api/views/dpo"),
        ("audrey", "/views/dpo"),
    ],
)
def test_each_view_is_for_its_role_only(stakeholders, who, path):
    refused = client_as(who).get(path)
    assert refused.status_code == 403 and "may not open the" in refused.json()["detail"]


def test_the_auditor_downloads_a_versions_evidence_bundle_and_the_export_is_audited(stakeholders):
    import io
    import zipfile

    from sqlalchemy import select

    from govflow.store import AuditEvent

    got = client_as("audrey").get("/api/models/basket/versions/1/bundle")
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == 'attachment; filename="basket-1-evidence.zip"'
    names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
    assert "manifest.json" in names and any(n.startswith("documents/") for n in names)
    with session_scope() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.exported")).one()
    assert (event.actor, event.subject) == ("audrey", "version:basket@1")
    assert (
        '/api/models/basket/versions/1/bundle">download (zip)</a>'
        in client_as("audrey").get("/views/auditor").text
    )
    for who in ("rita", "dana", "vera"):
        assert client_as(who).get("/api/models/basket/versions/1/bundle").status_code == 403


def test_pii_examples_are_for_the_dpo_the_finding_for_everyone(stakeholders):
    """The DPO reads a PII finding's masked examples; a reviewer of the same team the finding alone
    (column, entity, rate, verdict), on the page, its API and the diff alike."""

    def pii(who: str) -> dict:
        detail = client_as(who).get("/api/models/basket/versions/1").json()
        return next(c["view"] for c in detail["checks"] if c["check"] == "pii")

    dpo, reviewer = pii("dana"), pii("rita")
    assert dpo["examples_shown"] is True and reviewer["examples_shown"] is False
    assert [(c["column"], e["entity"], e["rate"]) for c in reviewer["columns"] for e in c["entities"]] == [
        ("email", "EMAIL_ADDRESS", 0.9)
    ]
    assert [e["examples"] for c in dpo["columns"] for e in c["entities"]] == [[MASKED]]
    assert [e["examples"] for c in reviewer["columns"] for e in c["entities"]] == [None]
    page = client_as("rita").get("/models/basket/versions/1").text
    assert "EMAIL_ADDRESS" in page and MASKED not in page and "shown to the data protection officer" in page
    assert MASKED in client_as("dana").get("/models/basket/versions/1").text
    assert MASKED not in client_as("rita").get("/api/models/basket/diff", params={"a": "1", "b": "1"}).text
