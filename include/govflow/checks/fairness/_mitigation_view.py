"""What documents and the Governance view show of measured mitigations and a challenger's lineage.

Two sources, neither ever read by a decision:

1. the version's registered params (``params.mitigation``, written by
   ``govflow mitigate --register``): the lineage of a mitigated challenger
   (``derived_from``, method, constraint, parameters, held-out numbers);
2. display-only files in the state volume (``attachments``): the measured
   mitigations of this version (``mitigations/<model>/<version>.evidence.json``,
   saved by the gate's mitigation task or ``govflow mitigate``), and for a
   challenger the frontier it was chosen from
   (``mitigations/<model>/<version>/mitigation.json``), whose sha256 the
   challenger's signed registration carries.

The view whitelists numbers and names (scrubbed) and says where the frontier
came from: verified against the signed registration, or unsigned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from govflow.checks.family import Attachment, ViewContext
from govflow.docs import frontier_chart, interval, number, scrub_text

MEASURED = "mitigation"  # this version's measured mitigations (the attachment key)
CHOSEN_FROM = "mitigation_lineage"  # a challenger's: the frontier it was chosen from
MAX_CANDIDATES = 12
MAX_PARAMETERS = 24


class FrontierView(TypedDict):
    of: str  # the version whose mitigations were measured
    source: str  # where the numbers come from, in words
    signed: bool
    sha256: str
    constraint: str
    disparity_metric: str
    primary_metric: str
    limit: float | None
    rows: int | None
    held_out_rows: int | None
    bootstrap: int | None
    points: list[dict[str, Any]]
    recommendation: dict[str, Any] | None
    findings: list[str]
    legal_note: str | None


class LineageView(TypedDict):
    derived_from: str
    method: str
    constraint: str
    parameters: dict[str, str]
    held_out: dict[str, float | None]
    needs_sensitive_feature_at_prediction: bool
    evidence_sha256: str | None


def attachments(model: str, version: str, params: Mapping[str, Any]) -> list[Attachment]:
    """The files the fairness views show beside ``model@version`` (see the module docstring)."""
    found = [Attachment(MEASURED, f"mitigations/{model}/{version}.evidence.json")]
    if isinstance(params.get("mitigation"), Mapping):
        found.append(
            Attachment(
                CHOSEN_FROM,
                f"mitigations/{model}/{version}/mitigation.json",
                signed_sha256="mitigation.evidence_sha256",
            )
        )
    return found


def mitigation_views(ctx: ViewContext) -> dict[str, Any]:
    """The documents' ``mitigation_frontier`` and ``mitigation_lineage``; None when there is nothing."""
    lineage = lineage_view(ctx.params.get("mitigation"))
    chosen = ctx.attachments.get(CHOSEN_FROM) if lineage is not None else None
    measured = ctx.attachments.get(MEASURED)
    frontier = None
    if chosen is not None and lineage is not None:  # a challenger: the frontier it was chosen from
        signed = bool(chosen.get("signed"))
        source = (
            "verified: its sha256 is the one in the challenger's signed registration"
            if signed
            else "unverified: its sha256 is not the one in the challenger's signed registration"
        )
        frontier = frontier_view(chosen, source=source, signed=signed, of=lineage["derived_from"])
    elif measured is not None:
        data = measured.get("data") or {}
        by = "govflow mitigate" if data.get("measured_by") == "cli" else "the gate's mitigation task"
        frontier = frontier_view(measured, source=f"measured by {by} (unsigned)", signed=False, of="")
    return {"mitigation_frontier": frontier, "mitigation_lineage": lineage}


def frontier_view(
    attachment: Mapping[str, Any], *, source: str, signed: bool, of: str
) -> FrontierView | None:
    data = attachment.get("data")
    if not isinstance(data, Mapping) or not isinstance(data.get("candidates"), list):
        return None
    rec = _mapping(data.get("recommendation"))
    chosen = str(rec.get("candidate") or "")
    points = []
    baseline = data.get("baseline")
    rows = [baseline] if isinstance(baseline, Mapping) else []
    rows += [c for c in data["candidates"][:MAX_CANDIDATES] if isinstance(c, Mapping)]
    for index, row in enumerate(rows):
        intervals = _mapping(row.get("intervals"))
        name = str(row.get("name") or "")
        points.append(
            {
                "name": scrub_text(name),
                "method": scrub_text(str(row.get("method") or "")),
                "primary_metric": number(row.get("primary_metric")),
                "disparity": number(row.get("disparity")),
                "primary_ci": interval(intervals.get("primary")),
                "disparity_ci": interval(intervals.get("disparity")),
                "baseline": index == 0 and rows[0] is baseline,
                "recommended": bool(chosen) and name == chosen,
                "needs_sensitive_feature_at_prediction": bool(
                    row.get("needs_sensitive_feature_at_prediction")
                ),
            }
        )
    version = _mapping(data.get("version"))
    split = _mapping(data.get("split"))
    boot = _mapping(data.get("bootstrap"))
    return {
        "of": scrub_text(of or f"{version.get('model', '')}@{version.get('version', '')}"),
        "source": source,
        "signed": signed,
        "sha256": str(attachment.get("sha256") or ""),
        "constraint": scrub_text(str(data.get("constraint") or "")),
        "disparity_metric": scrub_text(str(data.get("disparity_metric") or "disparity")),
        "primary_metric": scrub_text(str(data.get("primary_metric") or "accuracy")),
        "limit": number(data.get("limit")),
        "rows": _count(split.get("rows")),
        "held_out_rows": _count(split.get("held_out_rows")),
        "bootstrap": _count(boot.get("replicates")),
        "points": points,
        "recommendation": {
            "candidate": scrub_text(chosen),
            "why": scrub_text(str(rec.get("why") or "")),
            "within_limit": bool(rec.get("within_limit")),
            "disparity": number(rec.get("disparity")),
            "disparity_before": number(rec.get("disparity_before")),
            "cost": number(rec.get("cost")),
            "needs_sensitive_feature_at_prediction": bool(rec.get("needs_sensitive_feature_at_prediction")),
        }
        if chosen
        else None,
        "findings": [scrub_text(str(f)) for f in (data.get("findings") or [])[:20]],
        "legal_note": scrub_text(str(data["legal_note"])) if data.get("legal_note") else None,
    }


def lineage_view(lineage: Any) -> LineageView | None:
    """A challenger's registered lineage (``params.mitigation``), scrubbed and flattened."""
    if not isinstance(lineage, Mapping) or not lineage.get("derived_from"):
        return None
    held = _mapping(lineage.get("held_out"))
    parameters = _mapping(lineage.get("parameters"))
    return {
        "derived_from": scrub_text(str(lineage["derived_from"])),
        "method": scrub_text(str(lineage.get("method") or "")),
        "constraint": scrub_text(str(lineage.get("constraint") or "")),
        "parameters": {
            scrub_text(str(k)): scrub_text(_short(v)) for k, v in list(parameters.items())[:MAX_PARAMETERS]
        },
        "held_out": {str(k): number(v) for k, v in held.items() if number(v) is not None},
        "needs_sensitive_feature_at_prediction": bool(lineage.get("needs_sensitive_feature_at_prediction")),
        "evidence_sha256": str(lineage["evidence_sha256"]) if lineage.get("evidence_sha256") else None,
    }


def chart(view: FrontierView | None) -> Any:
    """The frontier as an inline SVG (the policy's limit dashed, the recommendation ringed)."""
    if view is None or not view["points"]:
        return ""
    return frontier_chart(
        view["points"],
        limit=view["limit"],
        x_label=f"{view['disparity_metric'].replace('_', ' ')} (lower is fairer)",
        y_label=f"{view['primary_metric'].replace('_', ' ')} (held-out rows)",
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _count(value: Any) -> int | None:
    out = number(value)
    return int(out) if out is not None else None


def _short(value: Any, limit: int = 160) -> str:
    """A parameter's value in words: numbers rounded, mappings and lists compact, long text cut."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}: {_short(v, 40)}" for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        text = ", ".join(_short(v, 40) for v in value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
