"""What documents and the Governance view may show of validation evidence: each expectation's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

from govflow.checks.family import DocumentRecords, StoredResult, ViewContext
from govflow.docs import BaseView, Fact, base_view, merged_summary, number, scrub_text


class ValidationView(BaseView):
    expectations: list[dict[str, Any]]  # type, column, success, severity, unexpected_percent
    evaluated: int
    failed: int


@overload
def validation_view(result: None) -> None: ...
@overload
def validation_view(result: StoredResult) -> ValidationView: ...
def validation_view(result: StoredResult | None) -> ValidationView | None:
    if result is None:
        return None
    evidence = result.get("evidence") or {}
    summary = merged_summary(result)
    expectations = []
    for item in evidence.get("expectations") or ():
        if isinstance(item, Mapping):
            column = item.get("column")
            expectations.append(
                {
                    "type": scrub_text(str(item.get("type") or item.get("expectation_type") or "n/a")),
                    "column": scrub_text(str(column)) if column is not None else None,
                    "success": bool(item.get("success")),
                    "severity": scrub_text(str(item.get("severity") or "")) or None,
                    "unexpected_percent": number(item.get("unexpected_percent")),
                }
            )
    evaluated = number(summary.get("evaluated"))
    failed = number(summary.get("failed"))
    return {
        **base_view(result),
        "expectations": expectations,
        "evaluated": int(evaluated) if evaluated is not None else len(expectations),
        "failed": int(failed) if failed is not None else sum(not e["success"] for e in expectations),
    }


def document_views(result: StoredResult | None, ctx: ViewContext) -> dict[str, Any]:
    return {"validation": validation_view(result)}


def page_view(result: StoredResult, ctx: ViewContext) -> ValidationView | None:
    return validation_view(result)


def summary_sentence(summary: Mapping[str, Any]) -> str | None:
    if "failed" not in summary:
        return None
    return f"{summary.get('failed')} of {summary.get('evaluated', '?')} expectations failed"


def caveats(views: Mapping[str, Any]) -> list[str]:
    out = []
    for item in (views.get("validation") or {}).get("expectations") or ():
        if not item["success"]:
            where = f" on {item['column']}" if item["column"] else ""
            out.append(f"Data expectation {item['type']}{where} failed.")
    return out


def describe_validation(r: Mapping[str, Any]) -> str:
    view = validation_view(r)
    return (
        f"{r['status']} on {r.get('created_at')}: {view['evaluated']} expectation(s), {view['failed']} failed"
    )


def validation_fact(doc: DocumentRecords) -> list[Fact]:
    return [doc.check_fact("validation", "Data validation", describe_validation)]
