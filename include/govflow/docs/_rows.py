"""Rows for the documents' tables: check results, decisions, approvals, waivers, versions, audit events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govflow.checks.family import family
from govflow.docs._numbers import fmt_number, number
from govflow.docs._scrub import scrub_text
from govflow.hashing import canonical_json
from govflow.machine_paths import file_names_only


def latest_by_check(results: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    latest: dict[str, Mapping[str, Any]] = {}
    for r in results:  # oldest first, so the newest wins
        latest[r["check"]] = r
    return latest


def recorders_of(events: Sequence[Mapping[str, Any]]) -> dict[Any, str]:
    """Who recorded each check result (result id -> actor), from the audit trail."""
    return {
        (e.get("payload") or {}).get("result_id"): str(e.get("actor"))
        for e in events
        if e.get("action") == "check.recorded"
    }


def check_row(result: Mapping[str, Any], recorders: Mapping[Any, str]) -> dict[str, Any]:
    run = result.get("run") or {}
    responsible = recorders.get(result.get("id")) or (f"pipeline:{run.get('dag_id')}" if run else "unknown")
    return {
        "id": result.get("id"),
        "check": result.get("check"),
        "status": result.get("status"),
        "date": result.get("created_at"),
        "summary": _summary_text(result),
        "run": _run_text(result),
        "responsible": scrub_text(responsible),
        "evidence_sha256": result.get("evidence_sha256"),
        "problem": result.get("evidence_problem"),
        "policy_sha256": result.get("policy_sha256"),
        "duration_s": result.get("duration_s"),
    }


def _summary_text(result: Mapping[str, Any]) -> str:
    if result.get("status") == "error":
        return "error: " + "; ".join(scrub_text(str(e)) for e in result.get("errors") or ())
    summary = result.get("summary") or {}
    # The keys its family names for a test log, else the summary's first few.
    declared = family(str(result.get("check")))
    keys = (declared.log_keys if declared else ()) or tuple(summary)[:4]
    parts = []
    for key, value in ((k, summary[k]) for k in keys if k in summary):
        if isinstance(value, (list, tuple)):
            shown = ", ".join(scrub_text(str(v)) for v in value[:8]) + (" ..." if len(value) > 8 else "")
            parts.append(f"{key}: [{shown}]")
        elif isinstance(value, Mapping):
            parts.append(
                f"{key}: "
                + ", ".join(f"{scrub_text(str(k))}: {as_text(v)}" for k, v in list(value.items())[:8])
            )
        else:
            parts.append(
                f"{key}: {fmt_number(value) if number(value) is not None else scrub_text(str(value))}"
            )
    return "; ".join(parts)


def _run_text(result: Mapping[str, Any]) -> str:
    run = result.get("run") or {}
    return f"{run.get('dag_id')}/{run.get('run_id')}" if run else "n/a"


def decision_row(d: Mapping[str, Any]) -> dict[str, Any]:
    reasons = []
    for r in d.get("reasons") or ():
        reasons.append(scrub_text(str(r.get("message") if isinstance(r, Mapping) else r)))
    return {
        "id": d.get("id"),
        "decision": d.get("decision"),
        "target_stage": d.get("target_stage"),
        "reasons": reasons,
        "decided_by": scrub_text(str(d.get("decided_by"))),
        "decided_at": d.get("decided_at"),
        "policy_version": d.get("policy_version"),
        "policy_sha256": d.get("policy_sha256"),
        "evidence_digest": d.get("evidence_digest"),
    }


def approval_row(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "approver": scrub_text(str(a.get("approver"))),
        "role": a.get("role"),
        "verdict": a.get("verdict"),
        "comment": scrub_text(str(a.get("comment"))) if a.get("comment") else None,
        "created_at": a.get("created_at"),
        "evidence_digest": a.get("evidence_digest"),
    }


def waiver_row(w: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "check": w.get("check"),
        "waived_by": scrub_text(str(w.get("waived_by"))),
        "role": w.get("role"),
        "reason": scrub_text(str(w.get("reason"))),
        "created_at": w.get("created_at"),
    }


def version_row(v: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": v.get("version"),
        "stage": v.get("stage"),
        "created_at": v.get("created_at"),
        "created_by": scrub_text(str(v.get("created_by"))),
    }


def is_version_event(e: Mapping[str, Any], model: Mapping[str, Any], version: Mapping[str, Any]) -> bool:
    return e.get("subject") == f"version:{model['name']}@{version['version']}"


def event_row(e: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": e.get("seq"),
        "ts": e.get("ts"),
        "actor": scrub_text(str(e.get("actor"))),
        "action": e.get("action"),
        "detail": event_detail(e),
        "hash": e.get("hash"),
    }


def event_detail(e: Mapping[str, Any]) -> str:
    payload = e.get("payload") or {}
    action = e.get("action")
    if action == "version.stage_changed":
        text = f"{payload.get('from')} -> {payload.get('to')}"
        return scrub_text(text + (f" ({payload['reason']})" if payload.get("reason") else ""))
    if action == "check.recorded":
        return f"{payload.get('check')}: {payload.get('status')} (result {payload.get('result_id')})"
    if action == "version.registered":
        return f"registered, artifact sha256 {str(payload.get('artifact_sha256'))[:12]}..."
    keys = [k for k in ("decision", "verdict", "check", "status", "target_stage") if k in payload]
    return scrub_text(", ".join(f"{k} {payload[k]}" for k in keys)) or str(action)


def library_versions(results: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The software behind the evidence: libraries that ran, and those the numbers are tested against."""
    versions: dict[str, str] = {}
    for r in results:  # oldest first: the newest result's versions win
        versions.update({str(k): str(v) for k, v in (r.get("library_versions") or {}).items()})
        origin = (r.get("evidence") or {}).get("provenance") or {}
        for oracle in origin.get("oracle") or []:  # "fairlearn 0.15.0"
            name, _, version = str(oracle.get("library", "")).rpartition(" ")
            if name:
                versions[name] = version
    return dict(sorted(versions.items()))


def file_ref(uri: Any, sha256: Any) -> str | None:
    if not uri:
        return None
    # The file name and its hash identify the file; the folder it had on the submitting machine does
    # not, and tells every reader of the document how that machine is laid out. URIs (s3://) stay.
    return f"{file_names_only(str(uri))} (sha256 {sha256})"


def as_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return canonical_json(value)
    return str(value)
