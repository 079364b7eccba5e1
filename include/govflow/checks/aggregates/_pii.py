"""The PII scan of a table bigger than a worker: Presidio on a seeded sample, patterns over every row.

Presidio (``checks.pii.scan_pii``) needs the cells, so on an engine the scan is:

1. A seeded sample of ``sample_rows`` rows (default 20,000; ``AggregateTable.sample``: the rows
   with the smallest hash of their row-order key and the seed, the same rows for the same table
   and seed), scanned by ``scan_pii`` as a DataFrame. The evidence says how many rows were
   sampled and, per column, how many non-empty cells that gave. A table with no more rows than
   that is read whole, in table order: the scan is the in-memory one.
2. Full-table pattern counts, pushed down (one scan, ``regexp_matches`` in DuckDB, ``~`` in
   PostgreSQL) for the structured entities whose format says what they are: e-mail
   addresses, phone numbers written with separators, US social security numbers and IBANs.
   They count candidate cells (no checksum or context, unlike Presidio), per text column.
3. k-anonymity and the share of unique rows on the quasi-identifiers the sample scan found,
   exact, in the engine (``GROUP BY`` the columns; nulls a value of their own, as in memory).

Decision: the sample scan's, with k-anonymity judged on the exact value; and, when the sample
is not the whole table, a not-allowed structured entity whose pattern matches cells in a
column the sample did not flag fails the check too (the sample missed rare values).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

from govflow.checks._result import CheckResult, timed_check
from govflow.checks.aggregates._backends import open_table
from govflow.checks.aggregates._table import AggregateTable, _q, engine_provenance

SAMPLE_ROWS = 20_000
# Formats both RE2 (DuckDB) and POSIX ERE (PostgreSQL) read the same way.
PATTERNS: dict[str, str] = {
    "EMAIL_ADDRESS": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z][A-Za-z]+",
    "PHONE_NUMBER": r"(^|[^0-9])(\+[0-9]{1,3}[ .-]?)?\(?[0-9]{3}\)?[ .-][0-9]{3}[ .-][0-9]{4}([^0-9]|$)",
    "US_SSN": r"(^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}([^0-9]|$)",
    "IBAN_CODE": r"(^|[^A-Z0-9])[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}([^A-Z0-9]|$)",
}


@timed_check("pii", libraries=("presidio-analyzer", "duckdb", "sqlalchemy"))
def scan_pii_in_engine(
    data: Any,
    engine: str,
    *,
    allowed_entities: Collection[str] = (),
    custom_recognizers: Sequence[Any] = (),
    sample_rows: int = SAMPLE_ROWS,
    seed: int = 0,
    min_k_anonymity: int | None = None,
) -> CheckResult:
    from govflow.checks.pii import scan_pii

    with open_table(data, engine) as table:
        rows = table.rows()
        sample = table.sample(sample_rows, seed)
        whole = len(sample) == rows
        scanned = scan_pii(
            sample, allowed_entities=allowed_entities, custom_recognizers=custom_recognizers, seed=seed
        )
        if scanned.status == "error":
            return scanned
        texts = [c for c, kind in table.columns().items() if kind == "string"]
        counts = _pattern_counts(table, texts)
        quasi = [c for c in scanned.summary.get("quasi_identifiers") or [] if c in table.columns()]
        risk = _k_anonymity(table, quasi, rows)
        provenance = engine_provenance(
            table,
            "exact" if whole else "sampled",
            sample_rows=len(sample),
            sample_seed=seed,
            table_rows=rows,
            full_table_patterns=sorted(PATTERNS),
        )
    return _judge(scanned, rows, whole, counts, risk, set(allowed_entities), min_k_anonymity, provenance)


def _pattern_counts(table: AggregateTable, columns: list[str]) -> dict[str, dict[str, int]]:
    """Per text column and structured entity, the cells matching its pattern (one scan)."""
    if not columns:
        return {}
    pairs = [(c, e) for c in columns for e in PATTERNS]
    parts = ", ".join(f"SUM(CASE WHEN {table.matches(c, PATTERNS[e])} THEN 1 ELSE 0 END)" for c, e in pairs)
    row = table.query(f"SELECT {parts} FROM {table.source}")[0]
    out: dict[str, dict[str, int]] = {c: {} for c in columns}
    for (column, entity), n in zip(pairs, row, strict=True):
        if n:
            out[column][entity] = int(n)
    return out


def _k_anonymity(table: AggregateTable, columns: list[str], rows: int) -> dict[str, Any]:
    if not columns or not rows:
        return {"k_anonymity": None, "unique_share": None}
    names = ", ".join(_q(c) for c in columns)
    k, unique = table.query(
        f"SELECT MIN(n), SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END) "
        f"FROM (SELECT COUNT(*) AS n FROM {table.source} GROUP BY {names}) t"
    )[0]
    return {"k_anonymity": int(k), "unique_share": round(int(unique) / rows, 4)}


def _judge(
    scanned: CheckResult,
    rows: int,
    whole: bool,
    counts: dict[str, dict[str, int]],
    risk: dict[str, Any],
    allowed: set[str],
    min_k: int | None,
    provenance: dict[str, Any],
) -> CheckResult:
    summary = {**scanned.summary, "rows": rows, **risk}
    columns = {name: dict(entry) for name, entry in scanned.details.get("columns", {}).items()}
    missed: list[str] = []
    for name, found in counts.items():
        entry = columns.setdefault(name, {"entities": {}})
        entry["full_table_pattern_counts"] = found
        entry["sampled_cells"] = entry.get("non_empty")
        seen = set(entry.get("entities") or {})
        missed += [f"{e} in {name}" for e in found if e not in allowed and e not in seen]
    status = scanned.status
    if not whole and missed:
        status = "fail"
        summary["missed_by_the_sample"] = sorted(missed)
    if min_k is not None:
        below = risk["k_anonymity"] is not None and risk["k_anonymity"] < min_k
        summary.update(min_k_anonymity=min_k, below_min_k_anonymity=below)
        status = "fail" if below else status
    details = {**scanned.details, "columns": columns, "provenance": provenance}
    return replace(scanned, status=status, summary=summary, details=details)
