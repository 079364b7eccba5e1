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

from govflow.docs._notes import NOTE_KEYS
from govflow.docs._numbers import fmt_number, number
from govflow.docs._scrub import scrub, scrub_text
from govflow.docs._sections import SECTIONS, Fact, completeness, fact
from govflow.docs._views import (
    FAIRNESS_SUMMARY_KEYS,
    drift_view,
    explanation_view,
    fairness_view,
    pii_view,
    validation_view,
)
from govflow.hashing import canonical_json

CHECKS = ("validation", "pii", "fairness", "drift", "documentation")
# Params keys read as the algorithm and the training infrastructure of a version.
ALGORITHM_KEYS = ("algorithm", "estimator", "model_type", "model_class")
INFRASTRUCTURE_KEYS = ("infrastructure", "hardware", "compute", "environment")
# Audit actions about the documents themselves: they do not change what a document says.
_SELF_ACTIONS = ("docs.", "evidence.")
# Registry fields typed by people, scrubbed before they reach a document.
_FREE_TEXT = frozenset(
    {
        "team",
        "people",
        "use_case",
        "business_goals",
        "stakeholders",
        "sector",
        "purpose",
        "data_protection",
        "owner",
    }
)
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
    latest = _latest_by_check(results)
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
        "drift": drift_view(latest.get("drift"), max_share_drifted=drift_rules.get("max_share_drifted")),
        "validation": validation_view(latest.get("validation")),
        "pii": pii_view(latest.get("pii"), allowed=policy.get("allowed_pii_entities")),
    }
    recorders = _recorders(events)
    history = [_check_row(r, recorders) for r in results]
    decision = _decision_view(inputs.decisions[-1]) if inputs.decisions else None
    approvals = [_approval_view(a) for a in inputs.approvals]
    waivers = [_waiver_view(w) for w in inputs.waivers]
    caveats = _caveats(latest, views, tier) if results else []
    notes = {k: scrub(v) for k, v in inputs.notes.items()}

    ctx = _Facts(
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
        "checks": {name: _check_row(latest[name], recorders) for name in CHECKS if name in latest},
        "required_checks": list(tier.get("required_checks") or ()),
        "history": history,
        "decision": decision,
        "decisions": [_decision_view(d) for d in inputs.decisions],
        "approvals": approvals,
        "waivers": waivers,
        "caveats": caveats,
        "lifecycle": {
            "versions": [_version_row(v) for v in inputs.versions],
            "events": [_event_row(e) for e in events if _is_version_event(e, model, version)],
        },
        "notes": notes,
        "library_versions": _library_versions(results),
        "renderer": dict(inputs.renderer),
        **views,
    }


# --- facts per section ------------------------------------------------------


@dataclass
class _Facts:
    model: Mapping[str, Any]
    version: Mapping[str, Any]
    policy: Mapping[str, Any]
    tier: Mapping[str, Any]
    latest: Mapping[str, Mapping[str, Any]]
    results: Sequence[Mapping[str, Any]]
    views: Mapping[str, Any]
    decision: Mapping[str, Any] | None
    approvals: Sequence[Mapping[str, Any]]
    waivers: Sequence[Mapping[str, Any]]
    notes: Mapping[str, Any]
    notes_source: str | None
    caveats: Sequence[str]
    events: Sequence[Mapping[str, Any]]
    versions: Sequence[Mapping[str, Any]]

    def all(self) -> dict[str, dict[str, Fact]]:
        builders = {sid: getattr(self, sid) for sid in SECTIONS}
        return {sid: {f.key: f for f in build()} for sid, build in builders.items()}

    # helpers ---------------------------------------------------------------

    def note(self, key: str, label: str) -> Fact:
        source = f"notes (written for {self.notes_source})" if self.notes_source else "notes"
        return fact(
            key,
            label,
            self.notes.get(key),
            source=source,
            gap=f"not stated ({NOTE_KEYS[key]}); add '{key}' with govflow docs notes",
        )

    def reg(self, key: str, label: str, value: Any, gap: str) -> Fact:
        # Identifiers, paths and hashes are shown as registered; people's free text is scrubbed.
        return fact(key, label, scrub(value) if key in _FREE_TEXT else value, source="registry", gap=gap)

    def check_fact(self, check: str, label: str, describe) -> Fact:  # type: ignore[no-untyped-def]
        result = self.latest.get(check)
        if result is None:
            return Fact(
                key=f"{check}_check",
                label=label,
                source="evidence",
                gap=f"no {check} check recorded for this version",
            )
        if result.get("evidence_problem"):
            return Fact(
                key=f"{check}_check",
                label=label,
                source="evidence",
                gap=f"{check} evidence {result['id']} failed its integrity check: {result['evidence_problem']}",
            )
        if result.get("status") == "error":
            errors = "; ".join(scrub_text(str(e)) for e in result.get("errors") or ()) or "no message"
            return Fact(
                key=f"{check}_check",
                label=label,
                source="evidence",
                gap=f"the {check} check errored on {result.get('created_at')}: {errors}",
            )
        return Fact(key=f"{check}_check", label=label, source="evidence", value=describe(result))

    def _people(self) -> list[str]:
        people = [f"{self.model['owner']} (owner)"]
        people += [f"{s.get('name')} ({s.get('role')})" for s in self.model.get("stakeholders") or ()]
        return scrub(people)

    # sections --------------------------------------------------------------

    def model_details(self) -> list[Fact]:
        m, v = self.model, self.version
        params = dict(v.get("params") or {})
        params.pop("governance", None)  # how checks read the data: shown with the fairness and data facts
        algorithm = next((params.pop(k) for k in ALGORITHM_KEYS if k in params), None)
        infra = {k: params.pop(k) for k in INFRASTRUCTURE_KEYS if k in params}
        runs = sorted(
            {
                f"{r['run']['dag_id']}/{r['run']['run_id']} ({r['run'].get('trigger_kind', 'n/a')})"
                for r in self.results
                if r.get("run")
            }
        )
        infrastructure = [
            _text(val) if k == "infrastructure" else f"{k}: {_text(val)}" for k, val in infra.items()
        ]
        infrastructure += [f"pipeline run {r}" for r in runs]
        return [
            self.reg("name", "Model", m["name"], "no model name"),
            self.reg("version", "Version", f"{v['version']} (stage {v.get('stage')})", "no version"),
            self.reg("owner", "Owner", m.get("owner"), "no owner registered"),
            self.reg("team", "Team", m.get("team"), "no team registered (govflow model register --team)"),
            self.reg("people", "Responsible people", self._people(), "no responsible people registered"),
            self.reg(
                "framework",
                "Framework",
                v.get("framework"),
                "no framework registered (govflow version register --framework)",
            ),
            self.reg(
                "algorithm",
                "Algorithm",
                _text(algorithm) if algorithm is not None else None,
                "no algorithm in the registered params (add an 'algorithm' param)",
            ),
            self.reg(
                "params",
                "Training parameters",
                {k: _text(val) for k, val in params.items()},
                "no training parameters registered (govflow version register --params)",
            ),
            self.reg(
                "code_version",
                "Code version",
                v.get("code_version"),
                "no code version registered (govflow version register --code-version)",
            ),
            self.reg(
                "artifact",
                "Artifact",
                _file(v.get("artifact_uri"), v.get("artifact_sha256")),
                "no artifact registered",
            ),
            self.reg(
                "registered",
                "Registered",
                f"by {v.get('created_by')} on {v.get('created_at')}",
                "no registration record",
            ),
            fact(
                "infrastructure",
                "Infrastructure",
                infrastructure,
                source="evidence",
                gap="no pipeline run or infrastructure recorded for this version",
            ),
            fact(
                "library_versions",
                "Library versions",
                _library_versions(self.results),
                source="evidence",
                gap="no check evidence with library versions recorded",
            ),
        ]

    def intended_use(self) -> list[Fact]:
        m = self.model
        stakeholders = [f"{s.get('name')} ({s.get('role')})" for s in m.get("stakeholders") or ()]
        return [
            self.reg(
                "use_case",
                "Intended purpose",
                m.get("use_case"),
                "no use case registered (govflow model register --use-case)",
            ),
            self.reg(
                "business_goals",
                "Business goals",
                m.get("business_goals"),
                "no business goals registered (govflow model register --goal)",
            ),
            self.reg(
                "stakeholders",
                "Stakeholders",
                stakeholders,
                "no stakeholders registered (govflow model register --stakeholder)",
            ),
            self.reg(
                "regions",
                "Regions of use",
                m.get("regions"),
                "no regions registered (govflow model register --region)",
            ),
            self.reg(
                "sector", "Sector", m.get("sector"), "no sector registered (govflow model register --sector)"
            ),
            self.reg("risk_tier", "Risk tier", m.get("risk_tier"), "no risk tier registered"),
            self.note("out_of_scope_uses", "Out-of-scope uses"),
        ]

    def training_data(self) -> list[Fact]:
        v = self.version
        return [
            self.reg(
                "training_file",
                "Training data",
                _file(v.get("training_data_uri"), v.get("training_data_sha256")),
                "no training data registered",
            ),
            self.reg(
                "reference_data",
                "Reference data (drift baseline)",
                _file(v.get("reference_data_uri"), v.get("reference_data_sha256")),
                "no reference data registered (govflow version register --reference-data)",
            ),
            self.check_fact("validation", "Data validation", _describe_validation),
            self.note("training_data", "Provenance, selection and preparation"),
        ]

    def evaluation(self) -> list[Fact]:
        v = self.version
        checks = [f"{name}: {r.get('status')} on {r.get('created_at')}" for name, r in self.latest.items()]
        return [
            self.reg(
                "eval_data",
                "Evaluation data",
                _file(v.get("eval_data_uri"), v.get("eval_data_sha256")),
                "no evaluation data registered (govflow version register --eval-data)",
            ),
            self.reg(
                "metrics",
                "Offline metrics",
                {
                    k: fmt_number(val) if number(val) is not None else _text(val)
                    for k, val in (v.get("metrics") or {}).items()
                },
                "no offline metrics registered (govflow version register --metrics)",
            ),
            fact(
                "checks",
                "Checks run (latest of each)",
                checks,
                source="evidence",
                gap="no check results recorded for this version",
            ),
            self.note("metrics_rationale", "Why these metrics"),
        ]

    def fairness(self) -> list[Fact]:
        view = self.views.get("fairness")
        rules = self.tier.get("fairness") or {}
        groups = [f"{g['group']} (n={g['count']})" for g in (view or {}).get("groups", ())]
        small = [g["group"] for g in (view or {}).get("groups", ()) if g["small"]]
        facts = [
            self.check_fact("fairness", "Fairness check", _describe_fairness),
            fact(
                "groups",
                "Groups evaluated",
                groups,
                source="evidence",
                gap="no per-group results in the fairness evidence",
            ),
            fact(
                "thresholds",
                "Policy thresholds",
                {k: fmt_number(val) for k, val in rules.items()},
                source="policy",
                gap=f"the policy sets no fairness thresholds for tier {self.model.get('risk_tier')}",
            ),
        ]
        if view is not None and view["proxies"]:
            facts.append(
                Fact(
                    key="proxies",
                    label="Proxies for sensitive features",
                    source="evidence",
                    value={k: ", ".join(v) for k, v in view["proxies"].items()},
                )
            )
        if view is not None and view["groups"]:
            facts.append(
                Fact(
                    key="small_groups",
                    label=f"Groups below {rules.get('min_group_size', 'the minimum')} rows",
                    value=small or "none",
                    source="evidence",
                )
            )
        return facts

    def limitations(self) -> list[Fact]:
        return [
            self.note("limitations", "Known limitations"),
            self.note("recommendations", "Recommendations"),
            fact(
                "caveats",
                "Caveats found in the evidence",
                list(self.caveats) or ("none found in the recorded evidence" if self.results else None),
                source="evidence",
                gap="no check evidence recorded to derive caveats from",
            ),
        ]

    def risk_management(self) -> list[Fact]:
        policy, tier = self.policy, self.tier
        rule = (
            f"tier {self.model.get('risk_tier')} under policy {policy.get('name')} {policy.get('version')} "
            f"(sha256 {str(policy.get('sha256'))[:12]}...): required checks "
            f"{', '.join(tier.get('required_checks') or ()) or 'none'}"
        )
        decision = None
        if self.decision:
            d = self.decision
            decision = [f"{d['decision']} for {d['target_stage']} by {d['decided_by']} on {d['decided_at']}"]
            decision += [f"reason: {r}" for r in d["reasons"]]
        waivers = [
            f"{w['check']} waived by {w['waived_by']} ({w['role']}) on {w['created_at']}: {w['reason']}"
            for w in self.waivers
        ]
        return [
            fact("policy", "Risk tier and policy", rule, source="policy", gap="no policy"),
            fact(
                "decision",
                "Latest gate decision",
                decision,
                source="gate",
                counted=False,
                gap="no gate decision recorded yet; the gate decides after the checks (govflow gate)",
            ),
            Fact(key="waivers", label="Waivers", value=waivers or "none", source="gate"),
            self.note("risks", "Identified risks and mitigations"),
        ]

    def data_governance(self) -> list[Fact]:
        v = self.version
        hashes = {
            name: v.get(f"{name}_sha256") or "not registered"
            for name in ("training_data", "reference_data", "eval_data")
        }
        allowed = self.policy.get("allowed_pii_entities")
        return [
            self.reg(
                "data_protection",
                "Data protection notes",
                self.model.get("data_protection_notes"),
                "no data-protection notes registered (govflow model register --data-protection-notes)",
            ),
            self.check_fact("pii", "Personal data scan", _describe_pii),
            fact(
                "allowed_pii",
                "PII entities the policy allows",
                ", ".join(allowed) if allowed else ("none" if allowed is not None else None),
                source="policy",
                gap=f"the policy has no PII rule for regions {', '.join(self.model.get('regions') or ()) or '(none)'}"
                f"{': ' + str(self.policy.get('pii_policy_error')) if self.policy.get('pii_policy_error') else ''}",
            ),
            Fact(key="data_hashes", label="Data sha256", value=hashes, source="registry"),
        ]

    def human_oversight(self) -> list[Fact]:
        rule = self.tier.get("approvals") or {}
        count = int(rule.get("count") or 0)
        roles = ", ".join(rule.get("roles") or ())
        approvals = [
            f"{a['verdict']} by {a['approver']} ({a['role']}) on {a['created_at']}"
            + (f": {a['comment']}" if a.get("comment") else "")
            for a in self.approvals
        ]
        if not approvals and count == 0:
            approvals_value: Any = "not required by the policy for this tier"
        else:
            approvals_value = approvals
        return [
            fact(
                "approval_rule",
                "Approval rule",
                f"{count} approval(s) from {roles}" if count else "no human approval required",
                source="policy",
                gap="no approval rule",
            ),
            fact(
                "approvals",
                "Approvals recorded",
                approvals_value,
                source="gate",
                counted=False,
                gap=f"no approvals recorded yet ({count} required from {roles})",
            ),
            Fact(
                key="separation_of_duties",
                label="Separation of duties",
                value=f"submitted by {self.version.get('created_by')}, who may not approve it",
                source="registry",
            ),
            self.note("human_oversight", "Oversight measures"),
        ]

    def accuracy_robustness(self) -> list[Fact]:
        metrics = self.version.get("metrics") or {}
        view = self.views.get("fairness")
        per_group = None
        if view and view["groups"]:
            per_group = {
                g["group"]: f"accuracy {fmt_number(g['accuracy'])}, n={g['count']}" for g in view["groups"]
            }
        return [
            self.reg(
                "accuracy",
                "Expected accuracy",
                {k: fmt_number(val) for k, val in metrics.items() if number(val) is not None},
                "no numeric offline metrics registered (govflow version register --metrics)",
            ),
            fact(
                "per_group_accuracy",
                "Accuracy per group",
                per_group,
                source="evidence",
                gap="no per-group results recorded (fairness check)",
            ),
            self.check_fact("drift", "Drift against the reference data", _describe_drift),
            self.note("robustness", "Robustness and cybersecurity measures"),
        ]

    def monitoring(self) -> list[Fact]:
        every = (self.tier.get("recheck") or {}).get("every_days")
        drift_runs = [r for r in self.results if r.get("check") == "drift"]
        recipients = self._people()
        return [
            fact(
                "recheck",
                "Re-check schedule",
                f"every {every} day(s) while in production" if every else None,
                source="policy",
                gap=f"the policy schedules no re-check for tier {self.model.get('risk_tier')}",
            ),
            self.reg(
                "batches",
                "Production data batches",
                self.model.get("batches_uri"),
                "no batch location registered for nightly re-checks (govflow model register --batches)",
            ),
            fact(
                "drift_history",
                "Drift checks recorded",
                f"{len(drift_runs)} result(s), latest {drift_runs[-1].get('status')} on "
                f"{drift_runs[-1].get('created_at')}"
                if drift_runs
                else None,
                source="evidence",
                gap="no drift check recorded for this version",
            ),
            Fact(key="recipients", label="Alert recipients", value=recipients, source="registry"),
            self.note("monitoring", "Post-market monitoring plan"),
        ]

    def transparency(self) -> list[Fact]:
        m = self.model
        contact = f"{m.get('owner')}" + (f", team {m.get('team')}" if m.get("team") else "")
        return [
            self.reg(
                "purpose",
                "Purpose disclosed",
                m.get("use_case"),
                "no use case registered (govflow model register --use-case)",
            ),
            self.note("transparency", "Information for deployers and affected people"),
            Fact(key="contact", label="Point of contact", value=scrub_text(contact), source="registry"),
        ]

    def lifecycle(self) -> list[Fact]:
        moves = [
            f"{e.get('ts')}: {_event_detail(e)}"
            for e in self.events
            if e.get("action") == "version.stage_changed" and _is_version_event(e, self.model, self.version)
        ]
        return [
            Fact(
                key="versions",
                label="Versions of the model",
                value=[f"{v.get('version')} ({v.get('stage')}, {v.get('created_at')})" for v in self.versions]
                or [self.version["version"]],
                source="registry",
            ),
            Fact(
                key="stage_moves",
                label="Stage changes of this version",
                value=moves or f"none; {self.version.get('stage')} since registration",
                source="audit",
            ),
            self.note("changes", "Predetermined changes"),
        ]

    def conformity(self) -> list[Fact]:
        return [
            self.note("standards", "Standards applied"),
            self.note("declaration_of_conformity", "EU declaration of conformity"),
        ]


# --- describing evidence ----------------------------------------------------


def _describe_validation(r: Mapping[str, Any]) -> str:
    view = validation_view(r)
    return (
        f"{r['status']} on {r.get('created_at')}: {view['evaluated']} expectation(s), {view['failed']} failed"
    )


def _describe_fairness(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    parts = [
        f"{k.replace('_', ' ')} {fmt_number(summary[k])}"
        for k in (*FAIRNESS_SUMMARY_KEYS, "rows")
        if number(summary.get(k)) is not None
    ]
    return f"{r['status']} on {r.get('created_at')}" + (f": {', '.join(parts)}" if parts else "")


def _describe_drift(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    drifted = summary.get("drifted_columns") or []
    return (
        f"{r['status']} on {r.get('created_at')}: share of drifted columns {fmt_number(summary.get('share_drifted'))}"
        + (f" ({', '.join(scrub_text(str(c)) for c in drifted)})" if drifted else "")
    )


def _describe_pii(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    columns = summary.get("columns_with_pii") or []
    found = ", ".join(scrub_text(str(c)) for c in columns) if columns else "no column"
    return f"{r['status']} on {r.get('created_at')}: personal data found in {found}"


def _caveats(
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


# --- rows for tables --------------------------------------------------------


def _latest_by_check(results: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    latest: dict[str, Mapping[str, Any]] = {}
    for r in results:  # oldest first, so the newest wins
        latest[r["check"]] = r
    return latest


def _recorders(events: Sequence[Mapping[str, Any]]) -> dict[Any, str]:
    """Who recorded each check result (result id -> actor), from the audit trail."""
    return {
        (e.get("payload") or {}).get("result_id"): str(e.get("actor"))
        for e in events
        if e.get("action") == "check.recorded"
    }


def _check_row(result: Mapping[str, Any], recorders: Mapping[Any, str]) -> dict[str, Any]:
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


# The summary keys a test log shows per check (other checks: their first few keys).
_LOG_KEYS = {
    "validation": ("evaluated", "failed", "rows"),
    "pii": ("rows", "columns_with_pii", "entities_not_allowed"),
    "fairness": (
        "demographic_parity_difference",
        "equalized_odds_difference",
        "insufficient_groups",
        "strong_proxies",
        "rows",
    ),
    "drift": ("share_drifted", "drifted_columns"),
    "documentation": ("complete", "required", "incomplete_sections"),
}


def _summary_text(result: Mapping[str, Any]) -> str:
    if result.get("status") == "error":
        return "error: " + "; ".join(scrub_text(str(e)) for e in result.get("errors") or ())
    summary = result.get("summary") or {}
    keys = _LOG_KEYS.get(str(result.get("check"))) or tuple(summary)[:4]
    parts = []
    for key, value in ((k, summary[k]) for k in keys if k in summary):
        if isinstance(value, (list, tuple)):
            shown = ", ".join(scrub_text(str(v)) for v in value[:8]) + (" ..." if len(value) > 8 else "")
            parts.append(f"{key}: [{shown}]")
        elif isinstance(value, Mapping):
            parts.append(
                f"{key}: "
                + ", ".join(f"{scrub_text(str(k))}: {_text(v)}" for k, v in list(value.items())[:8])
            )
        else:
            parts.append(
                f"{key}: {fmt_number(value) if number(value) is not None else scrub_text(str(value))}"
            )
    return "; ".join(parts)


def _run_text(result: Mapping[str, Any]) -> str:
    run = result.get("run") or {}
    return f"{run.get('dag_id')}/{run.get('run_id')}" if run else "n/a"


def _decision_view(d: Mapping[str, Any]) -> dict[str, Any]:
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


def _approval_view(a: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "approver": scrub_text(str(a.get("approver"))),
        "role": a.get("role"),
        "verdict": a.get("verdict"),
        "comment": scrub_text(str(a.get("comment"))) if a.get("comment") else None,
        "created_at": a.get("created_at"),
        "evidence_digest": a.get("evidence_digest"),
    }


def _waiver_view(w: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "check": w.get("check"),
        "waived_by": scrub_text(str(w.get("waived_by"))),
        "role": w.get("role"),
        "reason": scrub_text(str(w.get("reason"))),
        "created_at": w.get("created_at"),
    }


def _version_row(v: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": v.get("version"),
        "stage": v.get("stage"),
        "created_at": v.get("created_at"),
        "created_by": scrub_text(str(v.get("created_by"))),
    }


def _is_version_event(e: Mapping[str, Any], model: Mapping[str, Any], version: Mapping[str, Any]) -> bool:
    return e.get("subject") == f"version:{model['name']}@{version['version']}"


def _event_row(e: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "seq": e.get("seq"),
        "ts": e.get("ts"),
        "actor": scrub_text(str(e.get("actor"))),
        "action": e.get("action"),
        "detail": _event_detail(e),
        "hash": e.get("hash"),
    }


def _event_detail(e: Mapping[str, Any]) -> str:
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


def _library_versions(results: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    versions: dict[str, str] = {}
    for r in results:  # oldest first: the newest result's versions win
        versions.update({str(k): str(v) for k, v in (r.get("library_versions") or {}).items()})
    return dict(sorted(versions.items()))


def _file(uri: Any, sha256: Any) -> str | None:
    if not uri:
        return None
    return f"{uri} (sha256 {sha256})"


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return canonical_json(value)
    return str(value)
