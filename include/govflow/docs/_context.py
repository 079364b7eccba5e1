"""Everything a document shows, built from plain registry, evidence, gate and policy records.

``build_context`` is a pure function: the service layer gathers rows into a
``DocInputs`` of plain dicts and the policy, and the same inputs always give
the same context (and so the same rendered bytes). Every fact is either
documented with its source or an explicit gap saying what is missing and how
to add it. What a check family shows (its views, caveats and facts) is declared
by the family (``govflow.checks.family``); this module loops over the families.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govflow.checks.family import ViewContext, families, family
from govflow.docs._facts_annex import DocumentFacts
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
from govflow.policy import Policy
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
    policy: Policy  # the tier is the model's risk tier
    check_results: Sequence[Mapping[str, Any]] = ()  # oldest first; each with run, evidence, evidence_problem
    decisions: Sequence[Mapping[str, Any]] = ()  # oldest first
    approvals: Sequence[Mapping[str, Any]] = ()
    waivers: Sequence[Mapping[str, Any]] = ()
    versions: Sequence[Mapping[str, Any]] = ()  # every version of the model
    events: Sequence[Mapping[str, Any]] = ()  # audit events of the model and this version, by seq
    notes: Mapping[str, Any] = field(default_factory=dict)
    notes_source: str | None = None  # the version the notes were written for, when not this one
    renderer: Mapping[str, str] = field(default_factory=dict)  # library versions used to render
    # Display-only files beside the version (``service.attachments``): views show them, labelled.
    attachments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def build_context(inputs: DocInputs) -> dict[str, Any]:
    model, version = inputs.model, inputs.version
    view_context = ViewContext(
        policy=inputs.policy,
        tier=inputs.policy.tier(str(model.get("risk_tier"))),
        regions=tuple(model.get("regions") or ()),
        sector=model.get("sector"),
        params=version.get("params") or {},
        attachments=inputs.attachments,
    )
    policy = policy_record(view_context)
    tier = dict(policy["tier"])
    required = list((tier.get("documentation") or {}).get("required_sections") or ())
    results = [dict(r) for r in inputs.check_results]
    latest = latest_by_check(results)
    events = [e for e in inputs.events if not str(e.get("action", "")).startswith(_SELF_ACTIONS)]

    views: dict[str, Any] = {}
    for declared in families():
        views.update(declared.views(latest.get(declared.name), view_context))
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


def policy_record(view_context: ViewContext) -> dict[str, Any]:
    """What documents state of the policy: its identity, the tier's rules and the PII rule."""
    policy = view_context.policy
    return {
        "name": policy.name,
        "version": policy.version,
        "sha256": policy.sha256,
        "source": policy.source,
        "tier": view_context.tier.model_dump(mode="json"),
        "allowed_pii_entities": view_context.allowed_pii(),
        # An unknown region: the document shows the gap and why.
        "pii_policy_error": view_context.pii_policy_error(),
    }


def caveats_of(
    latest: Mapping[str, Mapping[str, Any]], views: Mapping[str, Any], tier: Mapping[str, Any]
) -> list[str]:
    caveats = []
    for check in tier.get("required_checks") or ():
        declared = family(check)
        if check not in latest and (declared is None or declared.missing_is_caveat):
            caveats.append(f"No {check} evidence: this aspect is unassessed.")
    for check, r in latest.items():
        if r.get("evidence_problem"):
            caveats.append(f"The {check} evidence failed its integrity check.")
        elif r.get("status") == "error":
            caveats.append(f"The {check} check errored, so this aspect is unassessed.")
        elif r.get("status") in ("fail", "warn"):
            caveats.append(f"The {check} check ended {r['status']} on {r.get('created_at')}.")
    for declared in sorted(families(), key=lambda f: f.caveat_rank):
        caveats += declared.caveats(views)
    return caveats
