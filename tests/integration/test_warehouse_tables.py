"""Warehouse tables as data: conn://CONN_ID/SCHEMA.TABLE read through an Airflow connection on PostgreSQL."""

from __future__ import annotations

import json
import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from govflow import datasources
from govflow.artifacts import local_copy
from govflow.checks._io import read_table
from govflow.cli import main
from govflow.errors import ConflictError
from govflow.hashing import sha256_file
from govflow.store import AuditEvent, ModelVersion, session_scope
from tests._helpers import register_model

pytestmark = pytest.mark.postgres

ROWS = [(3, "c", 0.5, None), (1, "a", 1.25, "x"), (2, "b", -2.0, "y,z")]


@pytest.fixture
def warehouse(pg_template, monkeypatch):
    """A schema of its own on the local server, reachable as Airflow connection `wh` (env var)."""
    admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    schema = f"wh_{secrets.token_hex(4)}"
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
        c.execute(sa.text(f"CREATE TABLE {schema}.applicants (id int, name text, score float8, note text)"))
        c.execute(sa.text(f"CREATE TABLE {schema}.shuffled (id int, name text, score float8, note text)"))
        insert = "INSERT INTO {} VALUES (:i, :n, :s, :o)"
        for table, rows in (("applicants", ROWS), ("shuffled", ROWS[::-1])):
            for i, n, s, o in rows:
                c.execute(sa.text(insert.format(f"{schema}.{table}")), {"i": i, "n": n, "s": s, "o": o})
    monkeypatch.setenv("AIRFLOW_CONN_WH", "postgresql://postgres@127.0.0.1:5432/postgres")
    yield admin, schema
    with admin.begin() as c:
        c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _register_version(sample_files, capsys, training_data: str, *flags: str) -> int:
    """Register the model, then a version whose training data is ``training_data``; the exit code."""
    register_model(capsys)
    artifact = str(sample_files["artifact"])
    return main(
        ["version", "register", "--model", "credit", "--version", "1", "--artifact", artifact,
         "--training-data", training_data, "--as", "alice", *flags]
    )  # fmt: skip


def test_a_table_hashes_the_same_whatever_the_row_order_and_chunk_size(warehouse, monkeypatch):
    _, schema = warehouse
    first = datasources.table_sha256(f"conn://wh/{schema}.applicants")
    assert datasources.table_sha256(f"conn://wh/{schema}.shuffled") == first  # ordered read
    monkeypatch.setattr(datasources, "CHUNK_ROWS", 1)  # one row per fetch: same canonical bytes
    assert datasources.table_sha256(f"conn://wh/{schema}.applicants") == first
    copy = local_copy(f"conn://wh/{schema}.applicants", sha256=first)
    assert sha256_file(copy) == first and copy.suffix == ".csv"
    frame = read_table(copy)
    assert list(frame.columns) == ["id", "name", "score", "note"]
    assert frame["id"].tolist() == [1, 2, 3] and frame["note"].tolist()[1] == "y,z"


def test_registered_table_binds_the_version_to_its_rows_and_a_changed_table_is_refused(
    warehouse, db_url, sample_files, capsys
):
    admin, schema = warehouse
    uri = f"conn://wh/{schema}.applicants"
    code = _register_version(sample_files, capsys, uri, "--json")
    assert code == 0, capsys.readouterr().err
    payload = json.loads(capsys.readouterr().out)
    assert payload["training_data_uri"] == uri
    assert payload["training_data_sha256"] == datasources.table_sha256(uri)
    assert "postgres@" not in json.dumps(payload)  # the URI names the connection, never its credentials
    with admin.begin() as c:
        c.execute(sa.text(f"UPDATE {schema}.applicants SET score = 9 WHERE id = 1"))
    with pytest.raises(ConflictError, match="changed since it was registered"):
        local_copy(uri, sha256=payload["training_data_sha256"])


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("conn://nope/public.t", "Airflow connection 'nope' is not defined (set AIRFLOW_CONN_NOPE"),
        ("conn://wh/{schema}.missing", "cannot read table"),
        ("conn://wh/public.x;drop", "is not a plain SQL name"),
    ],
)
def test_bad_table_uris_are_one_line_errors_and_register_nothing(
    warehouse, db_url, sample_files, capsys, uri, says
):
    _, schema = warehouse
    code = _register_version(sample_files, capsys, uri.format(schema=schema))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and says in err, err
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []
        assert s.scalars(select(AuditEvent).where(AuditEvent.action.like("version.%"))).all() == []
