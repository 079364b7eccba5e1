"""Facts per documentation section, part 1: the records, the helpers, and the model card's sections.

Each section is a method named by its section id (``SECTIONS``) returning its facts;
``DocumentFacts`` (``_facts_annex``) adds the Annex IV sections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govflow.docs._notes import NOTE_KEYS
from govflow.docs._numbers import fmt_number, number
from govflow.docs._rows import as_text, file_ref, library_versions
from govflow.docs._scrub import scrub, scrub_text
from govflow.docs._sections import SECTIONS, Fact, fact
from govflow.docs._views import (
    FAIRNESS_SUMMARY_KEYS,
    pii_about,
    validation_view,
)

# Params keys read as the algorithm and the training infrastructure of a version.
ALGORITHM_KEYS = ("algorithm", "estimator", "model_type", "model_class")
INFRASTRUCTURE_KEYS = ("infrastructure", "hardware", "compute", "environment")
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


@dataclass
class ModelCardFacts:
    """The records a document is built from, and the model card's sections (Annex IV's: a subclass)."""

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

    def check_fact(self, check: str, label: str, describe: Callable[[Mapping[str, Any]], str]) -> Fact:
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
                gap=f"{check} evidence {result['id']} failed its integrity check: "
                f"{result['evidence_problem']}",
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
                + dag_version_text(r["run"].get("dag_version"))
                for r in self.results
                if r.get("run")
            }
        )
        infrastructure = [
            as_text(val) if k == "infrastructure" else f"{k}: {as_text(val)}" for k, val in infra.items()
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
                "no framework registered (govflow submit --framework)",
            ),
            self.reg(
                "algorithm",
                "Algorithm",
                as_text(algorithm) if algorithm is not None else None,
                "no algorithm in the registered params (add an 'algorithm' param)",
            ),
            self.reg(
                "params",
                "Training parameters",
                {k: as_text(val) for k, val in params.items()},
                "no training parameters registered (govflow submit --params)",
            ),
            self.reg(
                "code_version",
                "Code version",
                v.get("code_version"),
                "no code version registered (govflow submit --code-version)",
            ),
            self.reg(
                "artifact",
                "Artifact",
                file_ref(v.get("artifact_uri"), v.get("artifact_sha256")),
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
                library_versions(self.results),
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
                file_ref(v.get("training_data_uri"), v.get("training_data_sha256")),
                "no training data registered",
            ),
            self.reg(
                "reference_data",
                "Reference data (drift baseline)",
                # No --reference-data: drift compares with the training data, and the documents say so.
                file_ref(v.get("reference_data_uri"), v.get("reference_data_sha256"))
                or _training_as_reference(v),
                "no reference data registered (govflow submit --reference-data)",
            ),
            self.check_fact("validation", "Data validation", describe_validation),
            self.note("training_data", "Provenance, selection and preparation"),
        ]

    def evaluation(self) -> list[Fact]:
        v = self.version
        checks = [f"{name}: {r.get('status')} on {r.get('created_at')}" for name, r in self.latest.items()]
        return [
            self.reg(
                "eval_data",
                "Evaluation data",
                file_ref(v.get("eval_data_uri"), v.get("eval_data_sha256")),
                "no evaluation data registered (govflow submit --eval-data)",
            ),
            self.reg(
                "metrics",
                "Offline metrics",
                {
                    k: fmt_number(val) if number(val) is not None else as_text(val)
                    for k, val in (v.get("metrics") or {}).items()
                },
                "no offline metrics registered (govflow submit --metrics)",
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
            self.check_fact("fairness", "Fairness check", describe_fairness),
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


# --- describing evidence ----------------------------------------------------


def describe_validation(r: Mapping[str, Any]) -> str:
    view = validation_view(r)
    return (
        f"{r['status']} on {r.get('created_at')}: {view['evaluated']} expectation(s), {view['failed']} failed"
    )


def describe_fairness(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    parts = [
        f"{k.replace('_', ' ')} {fmt_number(summary[k])}"
        for k in (*FAIRNESS_SUMMARY_KEYS, "rows")
        if number(summary.get(k)) is not None
    ]
    return f"{r['status']} on {r.get('created_at')}" + (f": {', '.join(parts)}" if parts else "")


def describe_drift(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    drifted = summary.get("drifted_columns") or []
    share = fmt_number(summary.get("share_drifted"))
    listed = f" ({', '.join(scrub_text(str(c)) for c in drifted)})" if drifted else ""
    return f"{r['status']} on {r.get('created_at')}: share of drifted columns {share}{listed}"


def describe_reidentification(summary: Mapping[str, Any], policy_minimum: Any) -> str:
    """k-anonymity and unique rows on the quasi-identifiers the PII check found (no values)."""
    quasi = ", ".join(scrub_text(str(c)) for c in summary.get("quasi_identifiers") or ())
    if not quasi:
        return "no quasi-identifier column found (date of birth, age, sex, postcode, race...)"
    minimum = summary.get("min_k_anonymity", policy_minimum)
    judged = (
        f"policy minimum {minimum}: {'below' if summary.get('below_min_k_anonymity') else 'met'}"
        if minimum is not None
        else "no policy minimum (reported, not judged)"
    )
    share = number(summary.get("unique_share"))
    unique = f"{share:.1%}" if share is not None else "an unknown share"
    return (
        f"k-anonymity {summary.get('k_anonymity')} on quasi-identifiers {quasi}; "
        f"{unique} of rows are unique on them; {judged}"
    )


def describe_pii(r: Mapping[str, Any]) -> str:
    summary = r.get("summary") or {}
    columns = summary.get("columns_with_pii") or []
    found = ", ".join(scrub_text(str(c)) for c in columns) if columns else "no column"
    about = pii_about(summary)
    return f"{r['status']} on {r.get('created_at')}: personal data found in {found}" + (
        f". {about}" if about else ""
    )


def _training_as_reference(version: Mapping[str, Any]) -> str | None:
    training = file_ref(version.get("training_data_uri"), version.get("training_data_sha256"))
    return f"the training data (the default: no separate --reference-data): {training}" if training else None


def dag_version_text(version: Mapping[str, Any] | None) -> str:
    """ ", DAG version <id> (bundle <name>@<version>)": the pipeline code behind a result."""
    if not version or not version.get("dag_version_id"):
        return ""
    bundle = version.get("bundle_name")
    at = f"@{version['bundle_version']}" if version.get("bundle_version") else " (unversioned)"
    return f", DAG version {version['dag_version_id']}" + (f", bundle {bundle}{at}" if bundle else "")
