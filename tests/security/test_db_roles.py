"""The governance DB's roles (scripts/govflow-db-roles.sql, govflow-db-grants.sql), as compose applies them.

Before, the governance DB was owned by Airflow's own account, which the services
used: any of them could drop the append-only triggers. Now a migration role owns
everything, and the service role can write rows (and audit events) but cannot
DROP TRIGGER, ALTER TABLE, DISABLE TRIGGER or UPDATE/DELETE audit rows.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from govflow import store
from govflow.store import session_scope
from govflow.store.audit import append_event, verify_chain

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PG_ADMIN_URL = os.environ.get("GOVFLOW_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
pytestmark = pytest.mark.postgres


def _psql(url: str, script: Path, **variables: str) -> None:
    u = make_url(url)
    args = ["psql", "-X", "-q", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U", u.username]
    args += ["-d", u.database or "postgres", "-f", str(script)]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def roles(pg_template, production_deployment, monkeypatch):  # pg_template: skips without a server
    suffix = uuid.uuid4().hex[:8]
    owner, app, db = f"gf_owner_{suffix}", f"gf_app_{suffix}", f"gf_roles_{suffix}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    _psql(
        PG_ADMIN_URL,
        SCRIPTS / "govflow-db-roles.sql",
        owner=owner,
        owner_password="o",
        app=app,
        app_password="a",
        dbname=db,
    )
    base = make_url(PG_ADMIN_URL).set(database=db)
    urls = {
        "owner": base.set(username=owner, password="o").render_as_string(hide_password=False),
        "app": base.set(username=app, password="a").render_as_string(hide_password=False),
    }
    # What airflow-init does: migrations as the owner, then the service role's grants.
    engine = store.make_engine(urls["owner"])
    store.upgrade_schema(engine)
    engine.dispose()
    _psql(urls["owner"], SCRIPTS / "govflow-db-grants.sql", app=app)
    monkeypatch.setenv("GOVFLOW_DB_URL", urls["app"])
    yield {**urls, "app_role": app}
    store.dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
    admin.dispose()


def _as_app(url: str, statement: str) -> str:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except DBAPIError as err:
        return str(err.orig).splitlines()[0]
    finally:
        engine.dispose()
    return "ALLOWED"


def test_the_service_role_writes_rows_and_audit_events(roles):
    from govflow.service import registry

    with session_scope() as s:  # GOVFLOW_DB_URL is the service role's
        registry.register_model(s, name="m", owner="Ana", risk_tier="minimal", actor="alice")
        append_event(s, actor="alice", action="test.event", subject="thing:1")
    with session_scope() as s:
        assert verify_chain(s).ok


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TRIGGER audit_events_append_only ON audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER USER",
        "ALTER TABLE audit_events ADD COLUMN note text",
        "DROP FUNCTION govflow_audit_append_only() CASCADE",
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DROP INDEX uq_model_versions_one_production",
        "CREATE TABLE shadow (id int)",
        "UPDATE govflow_alembic_version SET version_num = 'x'",
    ],
)
def test_the_service_role_cannot_change_the_schema_or_the_audit_trail(roles, statement):
    with session_scope() as s:
        append_event(s, actor="alice", action="test.event", subject="thing:1")
    outcome = _as_app(roles["app"], statement)
    assert outcome != "ALLOWED"
    assert "permission denied" in outcome or "must be owner" in outcome, outcome
    with session_scope() as s:
        report = verify_chain(s)
    assert report.ok and report.events == 1


def test_the_owner_role_still_can_run_migrations(roles):
    engine = store.make_engine(roles["owner"])
    store.downgrade_schema(engine, "20261127_0002")
    store.upgrade_schema(engine)
    assert store.current_revision(engine) == store.head_revision()
    engine.dispose()
