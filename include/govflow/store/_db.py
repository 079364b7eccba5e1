"""Engines, sessions and schema upgrades for the governance DB.

SQLite (embedded default) runs in WAL mode and opens every transaction with
BEGIN IMMEDIATE, so concurrent writers queue instead of failing half-way
and the audit chain cannot fork. PostgreSQL is used as is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from govflow import config
from govflow.errors import BadInputError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "govflow_alembic_version"

_engines: dict[str, Engine] = {}
_upgraded: set[str] = set()
_lock = threading.Lock()


# user:password@ in anything URL-shaped: what error messages must never show.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@\s]*@")


def redact_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", text)


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` with govflow's SQLite settings applied."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any parse failure is the same bad input
        # From None: the parser's own message would carry the URL, password and all.
        raise BadInputError(f"invalid database URL: {redact_url(url)!r}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            if config.EXISTING_STATE_ONLY.get() and not Path(parsed.database).is_file():
                # A read must not leave an empty DB (and its folder) behind to be mistaken for state.
                raise BadInputError(config.ERR_NO_STATE.format(path=parsed.database))
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:  # a DB-API connection: untyped
        # Let SQLAlchemy (below) issue BEGIN itself instead of pysqlite's deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """The process-wide engine for ``url`` (default: config), upgraded to head on first use."""
    url = url or config.db_url()
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        if upgrade and url not in _upgraded:
            upgrade_schema(engine)
            _upgraded.add(url)
    return engine


def dispose_engines() -> None:
    """Forget cached engines (tests, forked workers)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _upgraded.clear()


def _alembic_config(engine: Engine | None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("version_table", VERSION_TABLE)
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def downgrade_schema(engine: Engine, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    if head is None:  # only a broken install ships no migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error."""
    factory = sessionmaker(bind=get_engine(url), expire_on_commit=False)
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
