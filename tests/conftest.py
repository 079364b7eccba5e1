"""Shared fixtures: an isolated GOVFLOW_HOME for every test, and governance DBs on SQLite and PostgreSQL.

PostgreSQL comes from GOVFLOW_TEST_PG_URL (default postgres@127.0.0.1:5432, trust auth).
Each test gets its own throwaway database cloned from a migrated template, dropped afterwards.
Without a reachable server the PostgreSQL cases are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("GOVFLOW_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def govflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "govflow-home"
    monkeypatch.setenv("GOVFLOW_HOME", str(home))
    monkeypatch.delenv("GOVFLOW_DB_URL", raising=False)
    monkeypatch.delenv("GOVFLOW_USER", raising=False)
    monkeypatch.delenv("GOVFLOW_ROLES_FILE", raising=False)
    # Dev mode: tests act as the demo users (--as), who hold roles from the bundled users file.
    # tests/security turn it off where they test what production refuses.
    monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")
    # Nothing declares production away: with PostgreSQL (the `db_url` fixture's postgres case) or
    # a configured key a test runs as a production deployment (`production_deployment` below).
    monkeypatch.delenv("GOVFLOW_ENV", raising=False)
    yield home
    from govflow import sealing
    from govflow.store import dispose_engines

    dispose_engines()
    sealing.reset()  # a key a sandboxed load took out of os.environ belongs to that test only


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    from sqlalchemy import text

    from govflow import store

    try:
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any connection failure means "no server"
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_ADMIN_URL}: {err}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"govflow_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = store.make_engine(_pg_url(name))
    store.upgrade_schema(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from govflow import store

    path = tmp_path_factory.mktemp("sqlite-template") / "govflow.db"
    engine = store.make_engine(f"sqlite:///{path}")
    store.upgrade_schema(engine)
    engine.dispose()  # closing the last connection folds the WAL into the file, so a plain copy is complete
    return path


@contextmanager
def _throwaway_pg(prefix: str, template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (cloned from ``template`` if given), dropped afterwards."""
    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clone}'))
    try:
        yield _pg_url(name)
    finally:
        from govflow.store import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, govflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated, empty governance DB (SQLite, then PostgreSQL), set as GOVFLOW_DB_URL."""
    if request.param == "sqlite":
        govflow_home.mkdir(parents=True, exist_ok=True)
        target = govflow_home / "govflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
        monkeypatch.setenv("GOVFLOW_DB_URL", url)
        yield url
        return
    with _throwaway_pg("govflow_test", template=request.getfixturevalue("pg_template")) as url:
        monkeypatch.setenv("GOVFLOW_DB_URL", url)
        request.getfixturevalue("production_deployment")
        yield url


@pytest.fixture
def empty_db_url(govflow_home: Path) -> Iterator[str]:
    """An empty (unmigrated) SQLite DB URL; PostgreSQL variants use `empty_pg_url`."""
    govflow_home.mkdir(parents=True, exist_ok=True)
    yield f"sqlite:///{govflow_home / 'empty.db'}"


@pytest.fixture
def empty_pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    request.getfixturevalue("pg_template")  # skips/fails the same way when there is no server
    with _throwaway_pg("govflow_empty") as url:
        yield url


@pytest.fixture
def sample_files(tmp_path: Path) -> dict[str, Path]:
    """Small artifact and data files to register versions with."""
    folder = tmp_path / "files"
    folder.mkdir()
    files = {
        # .skops: the format the default policy accepts for every tier (high refuses pickles).
        "artifact": folder / "model.skops",
        "training": folder / "train.csv",
        "reference": folder / "reference.csv",
        "eval": folder / "eval.csv",
    }
    files["artifact"].write_bytes(b"not really a model, but bytes to hash")
    files["training"].write_text("x,y\n1,0\n2,1\n")
    files["reference"].write_text("x,y\n1,0\n3,1\n")
    files["eval"].write_text("x,y\n4,0\n5,1\n")
    return files


@pytest.fixture
def production_deployment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Make this test's deployment a production one, as a PostgreSQL governance DB always is.

    The decision key and the trusted public keys live in an operator-owned folder outside the
    state volume, roles come from an operator-owned file (the bundled demo users), and dev mode is
    off: nothing declares a production signal away (``GOVFLOW_ENV=development`` no longer does).
    A CLI ``--as NAME`` then means "run as the OS account NAME" (``sudo -u NAME govflow ...``), an
    ``os`` identity, which the test double below stands in for. Returns the keys folder.
    """
    from govflow import data, signing
    from govflow.access import Identity, os_user
    from govflow.cli import _identity

    keys = tmp_path_factory.mktemp("operator-keys")
    signing.generate_key_files(keys / "decision.pem")
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", str(keys / "decision.pem"))
    monkeypatch.setenv("GOVFLOW_TRUSTED_KEYS_DIR", str(keys))
    monkeypatch.setenv("GOVFLOW_ROLES_FILE", str(data.demo_users()))
    monkeypatch.delenv("GOVFLOW_DEV_MODE", raising=False)

    def run_as_os_account(explicit: str | None = None) -> Identity:
        return Identity(explicit or os.environ.get("GOVFLOW_USER") or os_user(), "os")

    monkeypatch.setattr(_identity, "cli_identity", run_as_os_account)
    return keys
