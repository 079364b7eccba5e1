"""Dev mode cannot change governance, count as an approval, or run on a production deployment.

Before: `GOVFLOW_DEV_MODE=1 govflow policy apply lax.yaml --as admin` worked on any
machine (dev mode fell back to the bundled demo users and `policy apply` never
looked at how the actor was authenticated), after which the gate approved with
0 approvals; and the default limited tier counted a dev-mode approval.
"""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy import select

from govflow import config
from govflow import data as bundled
from govflow.cli import main
from govflow.errors import BadInputError
from govflow.service import gate
from govflow.service.policy import active_policy
from govflow.store import Approval, session_scope
from tests._helpers import passed_limited_version, sqlite_only


@pytest.fixture
def limited_version(db_url, sample_files):
    """A limited-tier version with every required check passed and no approval yet."""
    passed_limited_version(sample_files, "chat")
    return db_url


def _lax(tmp_path):
    policy = yaml.safe_load(bundled.default_policy().read_text())
    policy["version"] = "lax"
    for tier in ("minimal", "limited", "high"):
        policy["tiers"][tier]["approvals"] = {"count": 0}
    path = tmp_path / "lax.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


@sqlite_only
def test_dev_mode_cannot_apply_a_policy(limited_version, tmp_path, capsys, monkeypatch):
    lax = _lax(tmp_path)
    capsys.readouterr()
    assert main(["policy", "apply", str(lax), "--as", "admin"]) == 1
    assert "needs an identity proven by Airflow" in capsys.readouterr().err
    monkeypatch.delenv("GOVFLOW_DEV_MODE")  # nor the OS user of the direct-DB CLI
    assert main(["policy", "apply", str(lax)]) == 1
    with session_scope() as s:
        assert active_policy(s) is None
    monkeypatch.setenv("GOVFLOW_POLICY", str(lax))
    with pytest.raises(Exception, match="no policy has been applied"), session_scope() as s:
        gate.evaluate_gate(s, "chat", "1", "airflow")


@sqlite_only
def test_the_default_limited_tier_does_not_count_a_dev_mode_approval(limited_version, capsys):
    # Refused up front (exit 2), never recorded as an approval that silently does not count.
    assert main(["approve", "--model", "chat", "--version", "1", "--as", "rita", "--comment", "ok"]) == 2
    assert "the limited tier counts approvals authenticated by airflow or api-token, not dev" in (
        capsys.readouterr().err
    )
    with session_scope() as s:
        decision = gate.evaluate_gate(s, "chat", "1", "airflow")
        assert s.scalars(select(Approval)).all() == []
    assert decision.decision == "pending_approval"


@pytest.mark.parametrize(
    ("setting", "value", "why"),
    [
        ("GOVFLOW_ENV", "production", "GOVFLOW_ENV=production"),
        ("GOVFLOW_SIGNING_KEY_FILE", "/etc/govflow/decision.pem", "a signing key is configured"),
        ("GOVFLOW_DB_URL", "postgresql+psycopg2://govflow@db/govflow", "the governance DB is PostgreSQL"),
    ],
)
def test_dev_mode_is_refused_outright_on_a_production_deployment(monkeypatch, capsys, setting, value, why):
    monkeypatch.setenv(setting, value)
    with pytest.raises(
        BadInputError, match=f"GOVFLOW_DEV_MODE=1 is refused on a production deployment \\({why}"
    ):
        config.dev_mode()
    assert (
        main(["model", "register", "--name", "m", "--owner", "A", "--risk-tier", "minimal", "--as", "alice"])
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GOVFLOW_DEV_MODE=1 is refused" in err[0]


@pytest.mark.parametrize(
    ("setting", "value", "why"),
    [
        ("GOVFLOW_SIGNING_KEY_FILE", "/etc/govflow/decision.pem", "a signing key is configured"),
        ("GOVFLOW_SIGNING_KEY", "c2VlZA==", "a signing key is configured"),
        ("GOVFLOW_DB_URL", "postgresql+psycopg2://govflow@db/govflow", "the governance DB is PostgreSQL"),
        ("AIRFLOW__GOVFLOW__SIGNING_KEY_FILE", "/etc/govflow/decision.pem", "[govflow] signing_key_file"),
        ("GOVFLOW_DB_URL", "PostgreSQL+psycopg2://govflow@db/govflow", "the governance DB is PostgreSQL"),
        ("GOVFLOW_DB_URL", "mysql+pymysql://govflow@db/govflow", "the governance DB is a server"),
    ],
)
def test_declaring_a_development_machine_overrides_no_production_signal(
    monkeypatch, capsys, setting, value, why
):
    """Anyone with a shell can set GOVFLOW_ENV=development: it must not turn dev mode back on where
    a key is configured or the governance DB is PostgreSQL (it used to override both)."""
    monkeypatch.setenv("GOVFLOW_ENV", "development")
    monkeypatch.setenv(setting, value)
    assert config.production_reason() is not None and why in config.production_reason()
    with pytest.raises(BadInputError, match="GOVFLOW_DEV_MODE=1 is refused on a production deployment"):
        config.dev_mode()
    assert main(["approve", "--model", "m", "--version", "1", "--as", "rita", "--comment", "ok"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GOVFLOW_DEV_MODE=1 is refused" in err[0]
