"""What documents and the Governance view may show of drift evidence: per-column tests and the share.

Column names and methods are scrubbed like free text; the threshold the check
applied wins over the current policy's (they differ after a policy change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govflow.checks.family import DocumentRecords, StoredResult, ViewContext
from govflow.docs import (
    BaseView,
    Fact,
    base_view,
    drift_chart,
    fact,
    fmt_number,
    merged_summary,
    number,
    scrub_text,
)


class DriftView(BaseView):
    share_drifted: float | None
    drifted_columns: list[str]
    columns: list[dict[str, Any]]  # column, drifted, method, score, threshold
    max_share_drifted: float | None


def drift_view(result: StoredResult | None, *, max_share_drifted: float | None) -> DriftView | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = merged_summary(result)
    columns = []
    raw = evidence.get("columns") or {}
    for name, values in raw.items() if isinstance(raw, Mapping) else ():
        values = values if isinstance(values, Mapping) else {}
        columns.append(
            {
                "column": scrub_text(str(name)),
                "drifted": bool(values.get("drifted")),
                "method": scrub_text(str(values.get("method") or "n/a")),
                "score": number(values.get("score")),
                "threshold": number(values.get("threshold")),
            }
        )
    drifted = summary.get("drifted_columns")
    if not isinstance(drifted, Sequence) or isinstance(drifted, str):
        drifted = [c["column"] for c in columns if c["drifted"]]
    applied = number(summary.get("max_share_drifted"))
    return {
        **base_view(result),
        "share_drifted": number(summary.get("share_drifted")),
        "drifted_columns": [scrub_text(str(c)) for c in drifted],
        "columns": columns,
        "max_share_drifted": applied if applied is not None else max_share_drifted,
    }


def document_views(result: StoredResult | None, ctx: ViewContext) -> dict[str, Any]:
    return {"drift": page_view(result, ctx) if result is not None else None}


def page_view(result: StoredResult, ctx: ViewContext) -> DriftView | None:
    return drift_view(result, max_share_drifted=ctx.tier.drift.max_share_drifted)


def summary_sentence(summary: Mapping[str, Any]) -> str | None:
    if "share_drifted" not in summary:
        return None
    cols = summary.get("drifted_columns") or []
    return f"{float(summary['share_drifted']):.0%} of columns drifted" + (
        f" ({', '.join(map(str, cols[:5]))})" if cols else ""
    )


def caveats(views: Mapping[str, Any]) -> list[str]:
    drift = views.get("drift")
    if drift and drift["drifted_columns"]:
        return [f"Drift against the reference data in: {', '.join(drift['drifted_columns'])}."]
    return []


def describe_drift(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    drifted = summary.get("drifted_columns") or []
    share = fmt_number(summary.get("share_drifted"))
    listed = f" ({', '.join(scrub_text(str(c)) for c in drifted)})" if drifted else ""
    return f"{r['status']} on {r.get('created_at')}: share of drifted columns {share}{listed}"


def drift_check_fact(doc: DocumentRecords) -> list[Fact]:
    return [doc.check_fact("drift", "Drift against the reference data", describe_drift)]


def drift_history(doc: DocumentRecords) -> list[Fact]:
    runs = [r for r in doc.results if r.get("check") == "drift"]
    return [
        fact(
            "drift_history",
            "Drift checks recorded",
            f"{len(runs)} result(s), latest {runs[-1].get('status')} on {runs[-1].get('created_at')}"
            if runs
            else None,
            source="evidence",
            gap="no drift check recorded for this version",
        )
    ]


def diff_rows(view: Mapping[str, Any]) -> dict[str, Any]:
    return {c["column"]: c.get("score") for c in view.get("columns") or () if isinstance(c, dict)}


def charts(context: Mapping[str, Any]) -> dict[str, Any]:
    """The HTML documents' chart of the drift score per column against its threshold."""
    drift = context.get("drift")
    return {"drift": drift_chart(drift["columns"]) if drift and drift["columns"] else ""}
