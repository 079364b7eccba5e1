"""Everything a document shows, built from plain registry, evidence, gate and policy records.

``build_context`` is a pure function: the service layer gathers rows into a
``DocInputs`` of plain dicts, and the same inputs always give the same
context (and so the same rendered bytes). Every fact is either documented
with its source or an explicit gap saying what is missing and how to add it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govflow.docs._facts_annex import DocumentFacts
from govflow.docs._numbers import fmt_number, number
from govflow.docs._rows import (
    approval_row,
    check_row,
    decision_row,
    event_row,
    is_version_event,
    latest_by_check,
    library_versions,
    recorders_of,
    version_row,
    waiver_row,
)
from govflow.docs._scrub import scrub
from govflow.docs._sections import SECTIONS, completeness
from govflow.docs._views import (
    champion_view,
    drift_view,
    explanation_view,
    fairness_view,
    pii_view,
    validation_view,
)
from govflow.vocab import POLICY_CHECKS

CHECKS = POLICY_CHECKS
# Audit actions about the documents themselves: they do not change what a document says.
_SELF_ACTIONS = ("docs.", "evidence.")
_MODEL_FREE_TEXT = (
    "owner",
    "team",
    "use_case",
    "business_goals",
    "stakeholders",
    "sector",
    "data_protection_notes",
)


@dataclass(frozen=True)
class DocInputs:
    """Plain records for one model version (see ``service.docs.gather_inputs``)."""

    model: Mapping[str, Any]
    version: Mapping[str, Any]
    policy: Mapping[str, Any]  # name, version, sha256, tier (dict), allowed_pii_entities (list|None)
    check_results: Sequence[Mapping[str, Any]] = ()  # oldest first; each with run, evidence, evidence_problem
    decisions: Sequence[Mapping[str, Any]] = ()  # oldest first
    approvals: Sequence[Mapping[str, Any]] = ()
    waivers: Sequence[Mapping[str, Any]] = ()
    versions: Sequence[Mapping[str, Any]] = ()  # every version of the model
    events: Sequence[Mapping[str, Any]] = ()  # audit events of the model and this version, by seq
    notes: Mapping[str, Any] = field(default_factory=dict)
    notes_source: str | None = None  # the version the notes were written for, when not this one
    renderer: Mapping[str, str] = field(default_factory=dict)  # library versions used to render


def build_context(inputs: DocInputs) -> dict[str, Any]:
    model, version, policy = inputs.model, inputs.version, inputs.policy
    tier = dict(policy.get("tier") or {})
    required = list((tier.get("documentation") or {}).get("required_sections") or ())
    results = [dict(r) for r in inputs.check_results]
    latest = latest_by_check(results)
    events = [e for e in inputs.events if not str(e.get("action", "")).startswith(_SELF_ACTIONS)]

    fairness_rules = tier.get("fairness") or {}
    governance = (version.get("params") or {}).get("governance") or {}
    hint = governance.get("sensitive") if isinstance(governance, Mapping) else None
    drift_rules = tier.get("drift") or {}
    views = {
        "fairness": fairness_view(
            latest.get("fairness"),
            min_group_size=fairness_rules.get("min_group_size"),
            thresholds={k: v for k, v in fairness_rules.items() if k.startswith("max_")},
            sensitive_hint=[hint] if isinstance(hint, str) else list(hint or ()),
        ),
        "explanation": explanation_view(latest.get("fairness")),
        "champion": champion_view(latest.get("performance")),
        "drift": drift_view(latest.get("drift"), max_share_drifted=drift_rules.get("max_share_drifted")),
        "validation": validation_view(latest.get("validation")),
        "pii": pii_view(latest.get("pii"), allowed=policy.get("allowed_pii_entities")),
    }
    recorders = recorders_of(events)
    history = [check_row(r, recorders) for r in results]
    decision = decision_row(inputs.decisions[-1]) if inputs.decisions else None
    approvals = [approval_row(a) for a in inputs.approvals]
    waivers = [waiver_row(w) for w in inputs.waivers]
    caveats = caveats_of(latest, views, tier) if results else []
    notes = {k: scrub(v) for k, v in inputs.notes.items()}

    ctx = DocumentFacts(
        model=model,
        version=version,
        policy=policy,
        tier=tier,
        latest=latest,
        results=results,
        views=views,
        decision=decision,
        approvals=approvals,
        waivers=waivers,
        notes=notes,
        notes_source=inputs.notes_source,
        caveats=caveats,
        events=events,
        versions=inputs.versions,
    )
    facts = ctx.all()
    statuses = completeness(facts, required)
    as_of = events[-1] if events else None
    return {
        "title": f"{model['name']} {version['version']}",
        "model": {**model, **{k: scrub(model.get(k)) for k in _MODEL_FREE_TEXT}},
        "version": dict(version),
        "tier": model.get("risk_tier"),
        "policy": {k: policy.get(k) for k in ("name", "version", "sha256", "source")},
        "as_of": {"seq": as_of.get("seq"), "ts": as_of.get("ts"), "hash": as_of.get("hash")}
        if as_of
        else None,
        "facts": facts,
        "sections": statuses,
        "section_titles": dict(SECTIONS),
        "required_sections": required,
        "checks": {name: check_row(latest[name], recorders) for name in CHECKS if name in latest},
        "required_checks": list(tier.get("required_checks") or ()),
        "history": history,
        "decision": decision,
        "decisions": [decision_row(d) for d in inputs.decisions],
        "approvals": approvals,
        "waivers": waivers,
        "caveats": caveats,
        "lifecycle": {
            "versions": [version_row(v) for v in inputs.versions],
            "events": [event_row(e) for e in events if is_version_event(e, model, version)],
        },
        "notes": notes,
        "library_versions": library_versions(results),
        "renderer": dict(inputs.renderer),
        **views,
    }


# --- caveats -------------------------------------------------------------------


def caveats_of(
    latest: Mapping[str, Mapping[str, Any]], views: Mapping[str, Any], tier: Mapping[str, Any]
) -> list[str]:
    caveats = []
    for check in tier.get("required_checks") or ():
        # The documentation check judges these documents, so its absence is no caveat about the model.
        if check not in latest and check != "documentation":
            caveats.append(f"No {check} evidence: this aspect is unassessed.")
    for check, r in latest.items():
        if r.get("evidence_problem"):
            caveats.append(f"The {check} evidence failed its integrity check.")
        elif r.get("status") == "error":
            caveats.append(f"The {check} check errored, so this aspect is unassessed.")
        elif r.get("status") in ("fail", "warn"):
            caveats.append(f"The {check} check ended {r['status']} on {r.get('created_at')}.")
    fairness = views.get("fairness")
    if fairness:
        for key, limit in fairness["thresholds"].items():
            metric = key.removeprefix("max_")
            value = fairness["summary"].get(metric)
            if value is not None and number(limit) is not None and value > float(limit):
                caveats.append(
                    f"{metric.replace('_', ' ').capitalize()} is {fmt_number(value)}, "
                    f"above the policy maximum {fmt_number(limit)}."
                )
        for sensitive, features in fairness["proxies"].items():
            caveats.append(
                f"{', '.join(features)} can stand in for {sensitive}: the model may use {sensitive} "
                "indirectly."
            )
        for group in fairness["groups"]:
            if group["small"]:
                caveats.append(
                    f"Group {group['group']} has only {group['count']} rows (minimum "
                    f"{fairness['min_group_size']}): its rates are uncertain."
                )
    drift = views.get("drift")
    if drift and drift["drifted_columns"]:
        caveats.append(f"Drift against the reference data in: {', '.join(drift['drifted_columns'])}.")
    validation = views.get("validation")
    if validation:
        for item in validation["expectations"]:
            if not item["success"]:
                where = f" on {item['column']}" if item["column"] else ""
                caveats.append(f"Data expectation {item['type']}{where} failed.")
    pii = views.get("pii")
    if pii and pii["allowed"] is not None:
        for column in pii["columns"]:
            for entity in column["entities"]:
                if not entity["allowed"]:
                    caveats.append(
                        f"Column {column['column']} holds {entity['entity']} (rate "
                        f"{fmt_number(entity['rate'])}), not allowed for the model's regions."
                    )
    return caveats
