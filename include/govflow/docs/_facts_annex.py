"""Facts per documentation section, part 2: the EU AI Act Annex IV sections (risk management on)."""

from __future__ import annotations

from typing import Any

from govflow.docs._facts import ModelCardFacts
from govflow.docs._numbers import fmt_number, number
from govflow.docs._rows import event_detail, is_version_event
from govflow.docs._scrub import scrub_text
from govflow.docs._sections import Fact, fact
from govflow.machine_paths import file_names_only


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
        return [
            self.reg(
                "data_protection",
                "Data protection notes",
                self.model.get("data_protection_notes"),
                "no data-protection notes registered (govflow model register --data-protection-notes)",
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
        return [
            self.reg(
                "accuracy",
                "Expected accuracy",
                {k: fmt_number(val) for k, val in metrics.items() if number(val) is not None},
                "no numeric offline metrics registered (govflow submit --metrics)",
            ),
            self.note("robustness", "Robustness and cybersecurity measures"),
        ]

    def monitoring(self) -> list[Fact]:
        every = (self.tier.get("recheck") or {}).get("every_days")
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
                file_names_only(str(self.model["batches_uri"])) if self.model.get("batches_uri") else None,
                "no batch location registered for nightly re-checks (govflow model register --batches)",
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
