"""Facts per documentation section, part 2: the EU AI Act Annex IV sections (risk management on)."""

from __future__ import annotations

from typing import Any

from govflow.docs._facts import (
    ModelCardFacts,
    describe_drift,
    describe_pii,
    describe_reidentification,
)
from govflow.docs._numbers import fmt_number, number
from govflow.docs._rows import event_detail, is_version_event
from govflow.docs._scrub import scrub_text
from govflow.docs._sections import Fact, fact


class DocumentFacts(ModelCardFacts):
    """Every section's facts: the model card's (inherited) and Annex IV's."""

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
        if not v.get("reference_data_sha256") and v.get("training_data_sha256"):
            hashes["reference_data"] = "the training data's (the default reference)"
        allowed = self.policy.get("allowed_pii_entities")
        regions = ", ".join(self.model.get("regions") or ()) or "(none)"
        error = self.policy.get("pii_policy_error")
        policy_error = f": {error}" if error else ""
        return [
            self.reg(
                "data_protection",
                "Data protection notes",
                self.model.get("data_protection_notes"),
                "no data-protection notes registered (govflow model register --data-protection-notes)",
            ),
            self.check_fact("pii", "Personal data scan", describe_pii),
            self.reidentification(),
            fact(
                "allowed_pii",
                "PII entities the policy allows",
                ", ".join(allowed) if allowed else ("none" if allowed is not None else None),
                source="policy",
                gap=f"the policy has no PII rule for regions {regions}{policy_error}",
            ),
            Fact(key="data_hashes", label="Data sha256", value=hashes, source="registry"),
        ]

    def reidentification(self) -> Fact:
        """The PII check's k-anonymity and unique share. Never a gap of its own: a missing or
        failed scan is the personal-data scan fact's gap, and older scans did not measure it."""
        result = self.latest.get("pii") or {}
        summary = result.get("summary") or {}
        if result.get("status") in (None, "error") or result.get("evidence_problem"):
            value = "not measured: no usable personal-data scan"
        elif "k_anonymity" not in summary:
            value = "not measured: the recorded scan predates k-anonymity (re-run the pii check)"
        else:
            value = describe_reidentification(summary, (self.tier.get("pii") or {}).get("min_k_anonymity"))
        return Fact(key="reidentification", label="Re-identification risk", source="evidence", value=value)

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
            # Regression has no accuracy: its per-group error is the accuracy measure (Art. 15).
            measure = "mean_absolute_error" if view.get("task") == "regression" else "accuracy"
            per_group = {
                g["group"]: f"{measure.replace('_', ' ')} {fmt_number(g.get(measure))}, n={g['count']}"
                for g in view["groups"]
            }
        return [
            self.reg(
                "accuracy",
                "Expected accuracy",
                {k: fmt_number(val) for k, val in metrics.items() if number(val) is not None},
                "no numeric offline metrics registered (govflow submit --metrics)",
            ),
            fact(
                "per_group_accuracy",
                "Accuracy per group",
                per_group,
                source="evidence",
                gap="no per-group results recorded (fairness check)",
            ),
            self.check_fact("drift", "Drift against the reference data", describe_drift),
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
            f"{e.get('ts')}: {event_detail(e)}"
            for e in self.events
            if e.get("action") == "version.stage_changed" and is_version_event(e, self.model, self.version)
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
