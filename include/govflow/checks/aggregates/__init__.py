"""Aggregates behind the checks, computed where the table lives (DuckDB, or SQL in the warehouse).

Fairness and drift decide from small aggregates, not from rows: confusion counts
per group, per-group regression sums, category counts, null counts, ranges and
fine histograms. ``open_table`` gives an ``AggregateTable`` that computes them
with one ``GROUP BY`` query each, through one of two backends:

- ``duckdb``: DuckDB embedded, over a local Parquet or CSV file (streaming, its
  memory capped by ``memory_limit``); the process never holds the rows.
- ``sql``: the warehouse itself, through a SQLAlchemy engine (``SqlTable``;
  the CLI builds one from a ``conn://CONN_ID/SCHEMA.TABLE`` Airflow connection).
  Only portable SQL: ``GROUP BY``, ``COUNT``, ``SUM``, ``CASE``, ``MIN``/``MAX``,
  ``FLOOR``; the rows never leave the database.

PII needs the cells: ``scan_pii_in_engine`` runs Presidio on a seeded sample and pushes
pattern counts of the structured entities and the exact k-anonymity down (``_pii``).

``memory`` is today's path (pandas on one worker); ``choose_engine`` picks
``duckdb`` for a file whose estimated in-memory size exceeds the worker budget
``GOVFLOW_MAX_WORKER_MEMORY`` (``_choice``). What is exact and what is bounded
is said by each check's ``provenance`` (``engine``, ``exactness``).
"""

from govflow.checks.aggregates._backends import open_table
from govflow.checks.aggregates._choice import (
    ENGINES,
    EngineName,
    choose_engine,
    max_worker_memory,
)
from govflow.checks.aggregates._pii import scan_pii_in_engine
from govflow.checks.aggregates._table import (
    AggregateTable,
    ColumnProfile,
    SqlTable,
    engine_provenance,
    sql_literal,
)
from govflow.checks.aggregates._task import aggregated_task

__all__ = [
    "ENGINES",
    "AggregateTable",
    "ColumnProfile",
    "EngineName",
    "SqlTable",
    "aggregated_task",
    "choose_engine",
    "engine_provenance",
    "max_worker_memory",
    "open_table",
    "scan_pii_in_engine",
    "sql_literal",
]
