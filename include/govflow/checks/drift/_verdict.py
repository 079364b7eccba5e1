"""The drift verdict from per-column results, computed in memory or by an aggregate engine."""

from __future__ import annotations

from typing import Any

from govflow.checks._result import CheckInputError, CheckStatus

CHECK = "drift"
# A column whose current batch is mostly missing fails, when the reference was not.
MAX_MISSING_SHARE = 0.5
MISSING_SHARE_MARGIN = 0.2


def drift_verdict(
    per_column: dict[str, dict[str, Any]],
    skipped: dict[str, str],
    *,
    key_columns: list[str],
    max_share_drifted: float,
    rows: tuple[int, int],
) -> tuple[CheckStatus, dict[str, Any]]:
    """The status and summary from the per-column results (computed in memory or by an engine)."""
    if not per_column:
        raise CheckInputError(
            f"no column could be tested for drift ({'; '.join(f'{k}: {v}' for k, v in skipped.items())})"
        )

    drifted = [name for name, entry in per_column.items() if entry["drifted"]]
    share = len(drifted) / len(per_column)
    too_many = share > max_share_drifted
    keys_drifted = [k for k in key_columns if k in drifted]
    broken = [name for name, entry in per_column.items() if entry["mostly_missing"]]
    status: CheckStatus
    if too_many or keys_drifted or broken:
        status = "fail"
    elif drifted or skipped:
        status = "warn"
    else:
        status = "pass"

    summary = {
        "share_drifted": share,
        "drifted_columns": drifted,
        "number_of_columns": len(per_column),
        "number_of_drifted_columns": len(drifted),
        "max_share_drifted": max_share_drifted,
        "key_columns_drifted": keys_drifted,
        "mostly_missing_columns": broken,
        "max_missing_share": MAX_MISSING_SHARE,
        "missing_share_margin": MISSING_SHARE_MARGIN,
        "rows_reference": rows[0],
        "rows_current": rows[1],
    }
    return status, summary


def mostly_missing(reference_share: float, current_share: float) -> bool:
    return current_share > MAX_MISSING_SHARE and current_share - reference_share > MISSING_SHARE_MARGIN
