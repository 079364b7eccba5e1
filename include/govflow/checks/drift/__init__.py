"""Drift check: current vs. reference data, per column, with Evidently 0.7's tests.

Each column gets the test Evidently's ``Report([DataDriftPreset()])`` would
give it (chosen by column type, reference size and number of distinct values;
overridable), with Evidently's thresholds, so the drifted-column set equals the
preset's on the same frames. The check fails when the share of drifted columns
exceeds ``max_share_drifted`` (the policy's maximum; note that Evidently's own
preset calls a dataset drifted already at ``share >= drift_share``) or when a
key column drifts; it warns when some columns drift within that limit or a
column could not be tested.

It also fails when a column's current values are mostly missing: more than
``MAX_MISSING_SHARE`` of them null, and ``MISSING_SHARE_MARGIN`` more than in the
reference (297 of 300 missing is a broken feed, and a test on the 3 left says
nothing). The thresholds are stated in the summary.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govflow.checks._io import as_frame, dictionary_string_columns
from govflow.checks._result import (
    CheckInputError,
    CheckResult,
    Oracle,
    library_versions,
    provenance,
    timed_check,
)
from govflow.checks.aggregates import ENGINES, choose_engine
from govflow.checks.drift._columns import SkippedColumn, as_plain_strings, prepare_column
from govflow.checks.drift._stattests import FAST_METHODS, choose_stattest, run_stattest
from govflow.checks.drift._verdict import (
    CHECK,
    drift_verdict,
    mostly_missing,
)
from govflow.progress import Progress, resolve

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["detect_drift"]

# What always runs; Evidently (and the SciPy it calls) are added when one of their tests ran.
LIBRARIES = ("numpy", "pandas")
# The distances govflow computes are tested against Evidently's (rel. 1e-12) and SciPy's (==).
ORACLES = (Oracle("evidently", 1e-12), Oracle("scipy", 0.0))
# The optional HTML report runs Evidently's full Report, which is slow on large
# frames: it gets a seeded random sample of at most this many rows per frame.
HTML_REPORT_MAX_ROWS = 100_000


@timed_check(CHECK, LIBRARIES)
def detect_drift(
    reference: pd.DataFrame | str | Path,
    current: pd.DataFrame | str | Path,
    *,
    columns: Sequence[str] | None = None,
    max_share_drifted: float = 0.5,
    key_columns: Sequence[str] = (),
    stattest: str | None = None,
    stattest_threshold: float | None = None,
    html_report: bool | str | Path = False,
    progress: Progress | None = None,
    engine: str | None = None,
) -> CheckResult:
    """Compare ``current`` with ``reference`` column by column.

    Parameters
    ----------
    reference, current : DataFrame or path of a CSV/Parquet file
    columns : columns to test (default: every column; both frames must then have the same columns)
    max_share_drifted : the check fails when ``share_drifted > max_share_drifted``
    key_columns : the check also fails when any of these columns drifts
    stattest : an Evidently stattest name (``"ks"``, ``"psi"``...) for every column instead of
        Evidently's default choice
    stattest_threshold : threshold for every column instead of each test's default
    html_report : also render Evidently's HTML report (on a sample of at most
        ``HTML_REPORT_MAX_ROWS`` rows per frame): ``True`` puts the HTML in
        ``details["html_report"]["html"]``, a path writes it to that file
    progress : hears the tables read and the columns tested (``govflow.progress``; default: the
        context's reporter)
    engine : ``memory`` (pandas), ``duckdb`` (files aggregated by DuckDB) or ``sql`` (``SqlTable``s,
        aggregated in the warehouse); None: chosen from the larger table's size
        (``govflow.checks.aggregates``): categorical distances exact, numeric ones bounded

    Returns
    -------
    CheckResult
        ``summary``: ``share_drifted``, ``drifted_columns``, counts, ``key_columns_drifted``;
        ``details["columns"]``: ``{col: {drifted, method, score, threshold, ...}}``.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = pd.DataFrame({"x": range(2000)})
    >>> detect_drift(ref, ref + 1000).summary["drifted_columns"]
    ['x']
    """
    _check_options(max_share_drifted, stattest_threshold)
    chosen_engine = max((choose_engine(reference, engine), choose_engine(current, engine)), key=ENGINES.index)
    if chosen_engine != "memory":
        from govflow.checks.drift._aggregated import aggregated_drift

        if html_report:
            raise CheckInputError(f"engine {chosen_engine}: Evidently's HTML report needs the rows in memory")
        return aggregated_drift(
            reference,
            current,
            chosen_engine,
            columns=columns,
            max_share_drifted=max_share_drifted,
            key_columns=list(key_columns),
            stattest=stattest,
            stattest_threshold=stattest_threshold,
        )
    report = resolve(progress)
    # A Parquet file's string columns come as categoricals (codes and distinct strings, no Python
    # str per value): tested exactly as the strings they hold (``prepare_column``'s ``strings``).
    reference_frame = as_frame(reference, what="the reference data", progress=report, dictionary_strings=True)
    current_frame = as_frame(current, what="the current data", progress=report, dictionary_strings=True)
    ref_strings = dictionary_string_columns(reference_frame)
    cur_strings = dictionary_string_columns(current_frame)
    names = _columns_to_test(reference_frame, current_frame, columns)
    key_columns = list(key_columns)
    unknown_keys = [k for k in key_columns if k not in names]
    if unknown_keys:
        raise CheckInputError(f"key column(s) not among the tested columns: {', '.join(unknown_keys)}")

    per_column: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for done, name in enumerate(names):
        report("drift: testing columns", done, len(names), unit="columns")
        try:
            column = prepare_column(
                name,
                reference_frame[name],
                current_frame[name],
                strings=(name in ref_strings, name in cur_strings),
            )
        except SkippedColumn as reason:
            skipped[name] = str(reason)
            continue
        drift = run_stattest(column, choose_stattest(column, stattest), stattest_threshold)
        entry: dict[str, Any] = {
            "drifted": drift.drifted,
            "method": drift.method,
            "score": drift.score,
            "threshold": drift.threshold,
            "type": column.kind,
            "missing_reference": column.missing_reference,
            "missing_current": column.missing_current,
        }
        if column.note:
            entry["note"] = column.note
        entry["mostly_missing"] = mostly_missing(
            column.missing_reference / max(len(reference_frame), 1),
            column.missing_current / max(len(current_frame), 1),
        )
        per_column[name] = entry
        del column  # keep at most one column pair alive
    report("drift: testing columns", len(names), len(names), unit="columns")

    status, summary = drift_verdict(
        per_column,
        skipped,
        key_columns=key_columns,
        max_share_drifted=max_share_drifted,
        rows=(len(reference_frame), len(current_frame)),
    )
    details: dict[str, Any] = {"columns": per_column}
    if skipped:
        details["skipped_columns"] = skipped
    if html_report:
        details["html_report"] = _html_report(
            reference_frame,
            current_frame,
            [n for n, e in per_column.items() if e["type"] in _HTML_REPORT_TYPES and "note" not in e],
            stattest,
            stattest_threshold,
            max_share_drifted,
            html_report,
        )
    by_evidently = sorted({str(e["method"]) for e in per_column.values()} - FAST_METHODS)
    details["provenance"] = provenance(oracles=ORACLES)
    if by_evidently:  # Evidently's own implementation computed these columns' scores
        details["provenance"]["evidently_methods"] = by_evidently
    ran = library_versions("evidently", "scipy") if by_evidently or html_report else {}
    return CheckResult(check=CHECK, status=status, summary=summary, details=details, library_versions=ran)


# Evidently's HTML shows typical raw examples of text columns (possible PII): they stay out of it,
# and so do the columns Evidently itself would not test (the ones with a govflow note).
_HTML_REPORT_TYPES = ("numeric", "categorical", "boolean")


def _check_options(max_share_drifted: float, stattest_threshold: float | None) -> None:
    if not 0 <= max_share_drifted <= 1:
        raise CheckInputError(f"max_share_drifted must be between 0 and 1, got {max_share_drifted}")
    if stattest_threshold is not None and not stattest_threshold > 0:
        raise CheckInputError(f"stattest_threshold must be positive, got {stattest_threshold}")


def _columns_to_test(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[str] | None
) -> list[str]:
    ref_names = [str(c) for c in reference.columns]
    cur_names = {str(c) for c in current.columns}
    names = list(columns) if columns is not None else ref_names
    if not names:
        raise CheckInputError("no columns to test")
    missing_current = [c for c in names if c not in cur_names]
    if missing_current:
        raise CheckInputError(f"column(s) missing from the current data: {', '.join(missing_current)}")
    missing_reference = [c for c in names if c not in set(ref_names)]
    if columns is None:
        missing_reference = [c for c in current.columns if str(c) not in set(ref_names)]
    if missing_reference:
        raise CheckInputError(
            f"column(s) missing from the reference data: {', '.join(map(str, missing_reference))}"
        )
    return names


def _html_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    stattest: str | None,
    stattest_threshold: float | None,
    max_share_drifted: float,
    target: bool | str | Path,
) -> dict[str, Any]:
    if not columns:
        return {
            "error": "no column for Evidently's HTML report (text and govflow-only column types are left out)"
        }
    from evidently import Report
    from evidently.presets import DataDriftPreset

    ref_sample, cur_sample = _sample(reference[columns]), _sample(current[columns])
    # Evidently sees the strings a dictionary-read column holds, as it would from a plain read.
    ref_sample = as_plain_strings(ref_sample, dictionary_string_columns(reference))
    cur_sample = as_plain_strings(cur_sample, dictionary_string_columns(current))
    preset = DataDriftPreset(
        columns=columns,
        drift_share=max_share_drifted,
        method=stattest,
        threshold=stattest_threshold,
    )
    try:
        html = Report([preset]).run(cur_sample, ref_sample).get_html_str(as_iframe=False)
    # Evidence is optional: whatever Evidently raises while rendering must not hide the check result.
    except Exception as err:  # noqa: BLE001
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        return {"error": f"Evidently could not render the HTML report: {reason}"}
    info: dict[str, Any] = {
        "rows_reference": len(ref_sample),
        "rows_current": len(cur_sample),
        "sampled": len(ref_sample) < len(reference) or len(cur_sample) < len(current),
        "sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
    }
    if isinstance(target, (str, Path)):
        path = Path(target)
        path.write_text(html, encoding="utf-8")
        info["path"] = str(path)
    else:
        info["html"] = html
    return info


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= HTML_REPORT_MAX_ROWS:
        return frame
    return frame.sample(n=HTML_REPORT_MAX_ROWS, random_state=0)
