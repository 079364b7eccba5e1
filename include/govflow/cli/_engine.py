"""``--engine memory|duckdb|sql`` of ``govflow check fairness|drift``, and warehouse tables as data.

A ``conn://CONN_ID/SCHEMA.TABLE`` argument is a table in the warehouse the Airflow
connection reaches: it becomes a ``SqlTable`` on the connection's SQLAlchemy engine,
and the check runs its aggregates there (engine ``sql``); no row leaves the database.
"""

from __future__ import annotations

import argparse
from typing import Any

from govflow.checks.aggregates import ENGINES, SqlTable
from govflow.datasources import is_table_uri, parse_table_uri
from govflow.errors import BadInputError


def add_engine_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        help="where the aggregates are computed: memory (pandas), duckdb (the file, streamed) or sql "
        "(a conn:// table, in the warehouse); default: from the table's size and GOVFLOW_MAX_WORKER_MEMORY",
    )


def table_data(value: str) -> Any:
    """A file path as given, or the ``SqlTable`` of a ``conn://`` warehouse table."""
    if not is_table_uri(value):
        return value
    ref = parse_table_uri(value)
    try:
        from airflow.providers.common.sql.hooks.sql import DbApiHook
        from airflow.sdk import BaseHook

        hook = BaseHook.get_connection(ref.conn_id).get_hook()
    except Exception as err:
        raise BadInputError(f"cannot use connection {ref.conn_id!r}: {str(err).splitlines()[0]}") from err
    if not isinstance(hook, DbApiHook):
        raise BadInputError(f"connection {ref.conn_id!r} is not a SQL database")
    return SqlTable(hook.get_sqlalchemy_engine(), ref.table, ref.schema)


def collect_at_exit_if_duckdb() -> None:
    """Let the exit collect as usual when DuckDB ran: the CLI freezes the collector at exit (fast
    exits), and DuckDB's nanobind bindings then report every still-live object as a leak on stderr."""
    import atexit
    import gc
    import sys

    if "duckdb" in sys.modules:
        atexit.unregister(gc.freeze)
