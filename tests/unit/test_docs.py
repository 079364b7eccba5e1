"""Documentation context, completeness, the documentation check and rendering (pure: no DB)."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from govflow.docs import (
    SECTIONS,
    DocInputs,
    build_context,
    documentation_check,
    parse_notes,
    render_document,
    render_documents,
    scrub_text,
)
from govflow.errors import BadInputError
from govflow.policy import load_policy

HIGH_REQUIRED = [
    "model_details",
    "intended_use",
    "training_data",
    "evaluation",
    "fairness",
    "limitations",
    "risk_management",
    "data_governance",
    "human_oversight",
    "accuracy_robustness",
    "monitoring",
]
# Raw values planted where a careless renderer could pick them up; none may reach a document.
PLANTED = (
    "jane.roe@example.com",
    "+44 20 7946 0958",
    "4111 1111 1111 1111",
    "DE89370400440532013000",
    "Jane Roe lives at 12 Baker Street",
)
# What the scan says of the demo's Adult table (scan_pii on include/sample/adult/train.csv).
ADULT_SUBJECT_REASONS = [
    "marital-status is said only of people (marital_status)",
    "native-country is said only of people (nationality)",
    "sex and age together (sex, age)",
]
FULL_NOTES = {
    "out_of_scope_uses": ["Decisions about individuals without human review"],
    "training_data": "UCI Adult census extract (1994), 10,000 rows; labels from the census income field.",
    "metrics_rationale": "Accuracy and ROC AUC on held-out census data; "
    "recall matters for the positive class.",
    "limitations": ["Trained on 1994 US data"],
    "recommendations": ["Re-train on current data before any EU deployment"],
    "risks": ["Disparate selection rates between sexes; mitigated by post-processing"],
    "human_oversight": "A credit officer reviews every refusal.",
    "robustness": "Inputs validated against the expectation suite before scoring.",
    "monitoring": "Nightly drift and fairness re-checks on production batches.",
    "transparency": "Applicants are told a model assists the decision and how to contest it.",
    "changes": "None predetermined.",
    "standards": "ISO/IEC 42001 (management system).",
    "declaration_of_conformity": "Not yet issued.",
    "ethical_considerations": "Uses sex and race only to measure fairness.",
}


def _policy():
    """The default policy, its source named the way documents show a portable path."""
    policy = load_policy().model_copy()
    policy._source = "default.yaml"
    return policy


def _in_tier(tier: str, **overrides) -> DocInputs:
    """``full_inputs`` for a model of risk tier ``tier`` (the policy's rules for that tier apply)."""
    inputs = full_inputs(**overrides)
    return dataclasses.replace(inputs, model={**inputs.model, "risk_tier": tier})


def _result(rid, check, status, summary, evidence, date, *, errors=()):
    return {
        "id": rid,
        "check": check,
        "status": status,
        "summary": summary,
        "errors": list(errors),
        "evidence_sha256": f"{rid:064x}",
        "created_at": date,
        "policy_sha256": "p" * 64,
        "duration_s": 1.0,
        "library_versions": {f"{check}-lib": "1.0"},
        "run": {"dag_id": "governance_gate", "run_id": "manual__1", "trigger_kind": "rest"},
        "evidence": {**evidence, "summary": summary},
        "evidence_problem": None,
    }


FAIRNESS_GROUPS = {
    "Female": {
        "count": 1650,
        "selection_rate": 0.081,
        "accuracy": 0.925,
        "true_positive_rate": 0.52,
        "false_positive_rate": 0.021,
        "false_negative_rate": 0.48,
    },
    "Male": {
        "count": 3350,
        "selection_rate": 0.271,
        "accuracy": 0.802,
        "true_positive_rate": 0.61,
        "false_positive_rate": 0.098,
        "false_negative_rate": 0.39,
    },
    "Other": {
        "count": 12,
        "selection_rate": 0.5,
        "accuracy": 0.75,
        "true_positive_rate": 1.0,
        "false_positive_rate": 0.0,
        "false_negative_rate": 0.0,
    },
}


def _results():
    return [
        _result(
            1,
            "validation",
            "pass",
            {"evaluated": 2, "failed": 0},
            {
                "expectations": [
                    {
                        "type": "expect_column_values_to_not_be_null",
                        "column": "age",
                        "success": True,
                        "partial_unexpected_values": [PLANTED[0]],
                    },
                    {
                        "type": "expect_column_values_to_match_regex",
                        "column": "email",
                        "success": True,
                        "observed_value": PLANTED[1],
                    },
                ]
            },
            "2026-11-27T10:01:00+00:00",
        ),
        _result(
            2,
            "pii",
            "pass",
            # Shaped as a scan of the demo's Adult table by the #25 scanner (subject, keys, split
            # birth dates, k-anonymity), so the documents show those sections rather than a gap.
            {
                "rows": 5000,
                "columns_with_pii": ["native-country"],
                "quasi_identifiers": ["age", "marital-status", "race", "sex", "native-country"],
                "k_anonymity": 1,
                "unique_share": 0.1218,
                "subject": "person",
                "subject_reasons": ADULT_SUBJECT_REASONS,
                "person_identifiers": [],
                "birth_date_groups": [],
            },
            {
                "columns": {
                    "native-country": {"entities": {"LOCATION": {"rate": 0.97, "examples": [PLANTED[4]]}}},
                    "age": {"entities": {}},
                },
                "table": {
                    "subject": {"subject": "person", "reasons": ADULT_SUBJECT_REASONS},
                    "person_identifiers": [],
                    "birth_date_groups": [],
                },
            },
            "2026-11-27T10:02:00+00:00",
        ),
        _result(
            3,
            "fairness",
            "warn",
            {
                "demographic_parity_difference": 0.19,
                "equalized_odds_difference": 0.09,
                "insufficient_groups": ["Other"],
                "sensitive_features": ["sex"],
                "strong_proxies": {"sex": ["relationship"], "race": []},
            },
            {"by_group": FAIRNESS_GROUPS, "raw_rows": [PLANTED[2]]},
            "2026-11-27T10:03:00+00:00",
        ),
        _result(
            4,
            "drift",
            "pass",
            {"share_drifted": 0.25, "drifted_columns": ["age"]},
            {
                "columns": {
                    "age": {"drifted": True, "method": "ks", "score": 0.001},
                    "hours-per-week": {"drifted": False, "method": "ks", "score": 0.61},
                    "education": {"drifted": False, "method": "chisquare", "score": 0.33},
                    "sex": {"drifted": False, "method": "chisquare", "score": 0.8},
                }
            },
            "2026-11-28T10:03:00+00:00",
        ),
        _result(
            5,
            "drift",
            "fail",
            {"share_drifted": 0.5, "drifted_columns": ["age", "sex"]},
            {
                "columns": {
                    "age": {"drifted": True, "method": "ks", "score": 0.0001},
                    "sex": {"drifted": True, "method": "chisquare", "score": 0.01},
                }
            },
            "2026-11-29T10:03:00+00:00",
        ),
        _result(
            6,
            "drift",
            "pass",
            {"share_drifted": 0.25, "drifted_columns": ["age"]},
            {
                "columns": {
                    "age": {"drifted": True, "method": "ks", "score": 0.001},
                    "sex": {"drifted": False, "method": "chisquare", "score": 0.8},
                }
            },
            "2026-11-30T10:03:00+00:00",
        ),
    ]


def full_inputs(**overrides) -> DocInputs:
    model = {
        "name": "adult-income",
        "owner": "Dana Scientist",
        "team": "credit-ml",
        "stakeholders": [{"name": "Rita Kowalski", "role": "reviewer", "contact": PLANTED[0]}],
        "use_case": "Income band screening for loan pre-qualification",
        "business_goals": ["Faster review"],
        "risk_tier": "high",
        "regions": ["EU"],
        "sector": "finance",
        "data_protection_notes": "Pseudonymised extract; no direct identifiers.",
        "batches_uri": "s3://bank/batches/adult-income/",
        "created_by": "alice",
        "created_at": "2026-11-27T09:00:00+00:00",
    }
    version = {
        "model": "adult-income",
        "version": "1.4.0",
        "stage": "staging",
        "artifact_uri": "/models/adult-income/1.4.0/model.joblib",
        "artifact_sha256": "a" * 64,
        "training_data_uri": "/data/train.csv",
        "training_data_sha256": "b" * 64,
        "reference_data_uri": "/data/reference.csv",
        "reference_data_sha256": "c" * 64,
        "eval_data_uri": "/data/eval.csv",
        "eval_data_sha256": "d" * 64,
        "code_version": "git:4f2a9c1",
        "framework": "scikit-learn",
        "params": {
            "algorithm": "LogisticRegression",
            "C": 1.0,
            "max_iter": 2000,
            "infrastructure": "Airflow 3 CeleryExecutor, 4 vCPU workers",
            "governance": {"label": "income", "sensitive": ["sex"]},
        },
        "metrics": {"accuracy": 0.8512, "roc_auc": 0.9034},
        "created_by": "alice",
        "created_at": "2026-11-27T09:30:00+00:00",
    }
    events = [
        {
            "seq": 1,
            "ts": "2026-11-27T09:00:00.000001+00:00",
            "actor": "alice",
            "action": "model.registered",
            "subject": "model:adult-income",
            "payload": {},
            "prev_hash": "0" * 64,
            "hash": "1" * 64,
        },
        {
            "seq": 2,
            "ts": "2026-11-27T09:30:00.000001+00:00",
            "actor": "alice",
            "action": "version.registered",
            "subject": "version:adult-income@1.4.0",
            "payload": {"artifact_sha256": "a" * 64},
            "prev_hash": "1" * 64,
            "hash": "2" * 64,
        },
        {
            "seq": 3,
            "ts": "2026-11-27T09:31:00.000001+00:00",
            "actor": "alice",
            "action": "version.stage_changed",
            "subject": "version:adult-income@1.4.0",
            "payload": {"from": "candidate", "to": "staging", "reason": None},
            "prev_hash": "2" * 64,
            "hash": "3" * 64,
        },
        {
            "seq": 4,
            "ts": "2026-11-30T11:00:00.000001+00:00",
            "actor": "pipeline:governance_gate",
            "action": "gate.evaluated",
            "subject": "version:adult-income@1.4.0",
            "payload": {"decision": "approved"},
            "prev_hash": "3" * 64,
            "hash": "4" * 64,
        },
        {
            "seq": 5,
            "ts": "2026-11-30T12:00:00.000001+00:00",
            "actor": "bob",
            "action": "docs.rendered",
            "subject": "version:adult-income@1.4.0",
            "payload": {},
            "prev_hash": "4" * 64,
            "hash": "5" * 64,
        },
    ]
    values = dict(
        model=model,
        version=version,
        policy=_policy(),
        check_results=_results(),
        decisions=[
            {
                "id": 7,
                "target_stage": "production",
                "decision": "approved",
                "reasons": [],
                "decided_by": "pipeline:governance_gate",
                "decided_at": "2026-11-30T11:00:00+00:00",
                "policy_version": "2026.11.1",
                "policy_sha256": "p" * 64,
                "evidence_digest": "e" * 64,
            }
        ],
        approvals=[
            {
                "approver": "rita",
                "role": "reviewer",
                "verdict": "approve",
                "comment": "checked the fairness",
                "created_at": "2026-11-30T10:00:00+00:00",
                "evidence_digest": "e" * 64,
            },
            {
                "approver": "rob",
                "role": "reviewer",
                "verdict": "approve",
                "comment": None,
                "created_at": "2026-11-30T10:30:00+00:00",
                "evidence_digest": "e" * 64,
            },
        ],
        waivers=[],
        versions=[
            {
                "version": "1.3.0",
                "stage": "archived",
                "created_at": "2026-10-01T00:00:00+00:00",
                "created_by": "alice",
            },
            {
                "version": "1.4.0",
                "stage": "staging",
                "created_at": "2026-11-27T09:30:00+00:00",
                "created_by": "alice",
            },
        ],
        events=events,
        notes=FULL_NOTES,
        renderer={"govflow": "0.1.0", "jinja2": "3.1.6"},
    )
    values.update(overrides)
    return DocInputs(**values)


def sparse_inputs(tier: str = "high") -> DocInputs:
    """What a bare registration gives: the required registry fields and nothing else."""
    model = {
        "name": "bare",
        "owner": "Sam",
        "team": None,
        "stakeholders": [],
        "use_case": None,
        "business_goals": [],
        "risk_tier": tier,
        "regions": [],
        "sector": None,
        "data_protection_notes": None,
        "batches_uri": None,
        "created_by": "sam",
        "created_at": "2026-11-27",
    }
    version = {
        "model": "bare",
        "version": "0.1",
        "stage": "candidate",
        "artifact_uri": "/m.bin",
        "artifact_sha256": "a" * 64,
        "training_data_uri": "/t.csv",
        "training_data_sha256": "b" * 64,
        "reference_data_uri": None,
        "reference_data_sha256": None,
        "eval_data_uri": None,
        "eval_data_sha256": None,
        "code_version": None,
        "framework": None,
        "params": {},
        "metrics": {},
        "created_by": "sam",
        "created_at": "2026-11-27T00:00:00+00:00",
    }
    return DocInputs(model=model, version=version, policy=_policy())


# --- completeness and the documentation check ------------------------------------------------


def test_fully_documented_version_passes_the_documentation_check():
    context = build_context(full_inputs())
    incomplete = {sid: s.missing for sid, s in context["sections"].items() if not s.complete}
    assert incomplete == {}
    result = documentation_check(context, HIGH_REQUIRED)
    assert result.status == "pass"
    assert result.summary == {
        "required": 11,
        "complete": 11,
        "incomplete_sections": [],
        "score": 1.0,
        "fixes": [],
    }


def test_a_reference_defaulting_to_the_training_data_is_documented_as_such():
    version = dict(full_inputs().version, reference_data_uri=None, reference_data_sha256=None)
    context = build_context(full_inputs(version=version))
    fact = context["facts"]["training_data"]["reference_data"]
    assert fact.documented and fact.value.startswith("the training data (the default")
    assert f"train.csv (sha256 {'b' * 64})" in fact.value and "/data/" not in fact.value
    assert context["sections"]["training_data"].complete
    assert documentation_check(context, HIGH_REQUIRED).status == "pass"


def test_sparse_version_fails_naming_every_incomplete_section_and_what_is_missing():
    context = build_context(sparse_inputs())
    result = documentation_check(context, HIGH_REQUIRED)
    assert result.status == "fail"
    assert result.summary["incomplete_sections"] == HIGH_REQUIRED
    assert result.details["missing"]["intended_use"] == [
        "Intended purpose",
        "Business goals",
        "Stakeholders",
        "Regions of use",
        "Sector",
        "Out-of-scope uses",
    ]
    # Each missing fact says how to give it: the gate's documentation reason repeats these fixes.
    fixes = result.summary["fixes"]
    assert any(f.startswith("Out-of-scope uses: ") and "govflow docs notes" in f for f in fixes)
    assert any(f.startswith("Framework: ") and "--framework" in f for f in fixes)
    # 13 model-detail facts; the registry alone documents name, version, owner, people, artifact,
    # registration.
    details = context["sections"]["model_details"]
    assert (details.documented, details.total, details.score) == (6, 13, round(6 / 13, 4))


def test_every_unknown_fact_is_an_explicit_gap_with_a_reason():
    context = build_context(sparse_inputs())
    for sid, facts in context["facts"].items():
        for fact in facts.values():
            assert fact.documented or (fact.gap and fact.gap.strip()), (sid, fact.key)
            assert not fact.documented or fact.value not in (None, "", [], {}), (sid, fact.key)
    gap = context["facts"]["intended_use"]["use_case"].gap
    assert gap == "no use case registered (govflow model register --use-case)"


def test_only_the_missing_piece_makes_a_section_incomplete():
    notes = {k: v for k, v in FULL_NOTES.items() if k != "human_oversight"}
    result = documentation_check(build_context(full_inputs(notes=notes)), HIGH_REQUIRED)
    assert result.status == "fail"
    assert result.summary["incomplete_sections"] == ["human_oversight"]
    assert result.details["missing"] == {"human_oversight": ["Oversight measures"]}


def test_the_gate_decision_and_approvals_are_pending_not_missing():
    # The documentation check runs before the gate, and approvals bind to its result:
    # counting them would make high-tier documentation impossible to complete.
    context = build_context(full_inputs(approvals=[], decisions=[]))
    assert documentation_check(context, HIGH_REQUIRED).status == "pass"
    approvals = context["facts"]["human_oversight"]["approvals"]
    assert (approvals.gap, approvals.counted) == (
        "no approvals recorded yet (2 required from reviewer, admin)",
        False,
    )
    md = render_document(context, kind="annex_iv", fmt="md")
    assert "_Pending: no approvals recorded yet (2 required from reviewer, admin)_" in md
    assert "Pending: no gate decision recorded yet" in render_document(context, kind="annex_iv", fmt="html")
    minimal = build_context(_in_tier("minimal", approvals=[]))
    assert (
        minimal["facts"]["human_oversight"]["approvals"].value == "not required by the policy for this tier"
    )


def test_a_required_section_the_catalogue_does_not_know_is_an_error():
    result = documentation_check(build_context(full_inputs()), ["model_details", "carbon_footprint"])
    assert result.status == "error"
    assert "unknown documentation section(s) carbon_footprint" in result.errors[0]


def test_minimal_tier_needs_only_its_sections():
    context = build_context(_in_tier("minimal", notes={}))
    assert documentation_check(context, ["model_details", "intended_use"]).status == "fail"
    notes = {"out_of_scope_uses": "Anything automated"}
    context = build_context(full_inputs(notes=notes))
    assert documentation_check(context, ["model_details", "intended_use"]).status == "pass"


def test_errored_or_tampered_evidence_is_a_gap_not_a_fact():
    results = _results()
    results[2] = _result(
        3, "fairness", "error", {}, {}, "2026-11-27T10:03:00+00:00", errors=["column 'sex' not found"]
    )
    results[1] = {
        **results[1],
        "evidence": None,
        "evidence_problem": "evidence of check result 2 does not match its sha256",
    }
    context = build_context(full_inputs(check_results=results))
    assert context["facts"]["fairness"]["fairness_check"].gap.startswith("the fairness check errored")
    assert "failed its integrity check" in context["facts"]["data_governance"]["pii_check"].gap
    assert documentation_check(context, HIGH_REQUIRED).summary["incomplete_sections"] == [
        "fairness",
        "data_governance",
        "accuracy_robustness",
    ]


def test_caveats_come_from_the_evidence():
    caveats = build_context(full_inputs())["caveats"]
    assert "Demographic parity difference is 0.190, above the policy maximum 0.100." in caveats
    assert "Group Other has only 12 rows (minimum 50): its rates are uncertain." in caveats
    assert (
        "Drift against the reference data in: age." in caveats
    )  # the latest drift result, not the failed one
    assert "relationship can stand in for sex: the model may use sex indirectly." in caveats
    proxies = build_context(full_inputs())["facts"]["fairness"]["proxies"]
    assert proxies.value == {"sex": "relationship"}


def test_as_of_is_the_latest_audit_event_that_is_not_about_the_documents():
    context = build_context(full_inputs())
    assert context["as_of"] == {"seq": 4, "ts": "2026-11-30T11:00:00.000001+00:00", "hash": "4" * 64}


# --- notes and scrubbing -------------------------------------------------------------------


def test_notes_reject_unknown_keys_and_bad_values():
    assert parse_notes("limitations: [a, b]\nrisks: c\n") == {"limitations": ["a", "b"], "risks": "c"}
    with pytest.raises(BadInputError, match=r"unknown key.s. limitaions"):
        parse_notes("limitaions: typo\n")
    with pytest.raises(BadInputError, match="risks must be text or a list of text"):
        parse_notes("risks: {a: 1}\n")
    with pytest.raises(BadInputError, match="expected a mapping"):
        parse_notes("- a\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.roe@example.com now", "mail j***@e***.com now"),
        ("call +44 20 7946 0958", "call +***"),
        ("card 4111-1111-1111-1111.", "card 4***."),
        ("iban DE89370400440532013000", "iban DE******"),
        (
            "version 2026.11.1 on 2026-11-27T10:00:00, 10000 rows",
            "version 2026.11.1 on 2026-11-27T10:00:00, 10000 rows",
        ),
    ],
)
def test_scrub_masks_contact_details_but_not_versions_or_dates(text, expected):
    assert scrub_text(text) == expected


# --- rendering -------------------------------------------------------------------------------


class StrictHTML(HTMLParser):
    """Parses a document, checking that every non-void element is closed in order."""

    VOID = frozenset(
        {
            "meta",
            "br",
            "img",
            "input",
            "hr",
            "link",
            "area",
            "base",
            "col",
            "embed",
            "source",
            "track",
            "wbr",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.sections: dict[str, set[str]] = {}
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "section":
            self.sections[attributes["id"]] = set((attributes.get("data-sections") or "").split())
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> StrictHTML:
    parser = StrictHTML()
    parser.feed(html)
    parser.close()
    assert parser.problems == [] and parser.stack == []
    return parser


@pytest.mark.parametrize("kind", ["model_card", "annex_iv"])
@pytest.mark.parametrize("inputs", [full_inputs, sparse_inputs], ids=["full", "sparse"])
def test_html_parses_and_holds_every_required_section(kind, inputs):
    html = render_document(build_context(inputs()), kind=kind, fmt="html")
    page = parse(html)
    covered = set().union(*page.sections.values())
    assert set(HIGH_REQUIRED) <= covered
    # Self-contained: no scripts, no external resources.
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe", "object")]
    assert not [a for _, a in page.tags if any(k in a for k in ("src", "href", "onload", "onclick"))]
    assert "url(" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_annex_iv_follows_points_1_to_9_and_the_model_card_mitchell_sections():
    annex = render_document(build_context(full_inputs()), kind="annex_iv", fmt="html")
    assert re.findall(r"<h2>(\d)\. ", annex) == [str(n) for n in range(1, 10)]
    card = render_document(build_context(full_inputs()), kind="model_card", fmt="md")
    titles = re.findall(r"^## \d+\. (.+)$", card, flags=re.M)
    assert titles == [
        "Model details",
        "Intended use",
        "Factors",
        "Metrics",
        "Evaluation data",
        "Training data",
        "Quantitative analyses",
        "Ethical considerations",
        "Caveats and recommendations",
        "Governance and oversight",
    ]


def test_full_html_has_the_three_charts_and_the_per_group_table():
    html = render_document(build_context(full_inputs()), kind="annex_iv", fmt="html")
    titles = re.findall(r"<svg[^>]*><title>([^<]+)</title>", html)
    assert titles == ["History of check results", "Metrics per group", "Drift score per column"]
    assert '<td>Other <em>(small)</em></td><td class="num">12</td><td class="num">0.500</td>' in html
    assert 'data-fact="approvals"' in html and "checked the fairness" in html


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_sparse_documents_say_not_documented_instead_of_blanks(fmt):
    texts = render_documents(build_context(sparse_inputs()), fmt=fmt)
    for text in texts.values():
        assert "Not documented: no use case registered (govflow model register --use-case)" in text
        assert "Not documented: no fairness check recorded for this version" in text
        if fmt == "md":
            assert not re.search(r"(?<!\\)\|[ \t]*\|", text), "an empty table cell"
            assert not re.search(r"^\| ---:? .*\|\n\n", text, flags=re.M), "a table without rows"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_no_raw_pii_reaches_any_document(fmt):
    model = {**full_inputs().model, "use_case": f"Screening; contact {PLANTED[0]} or {PLANTED[1]}"}
    notes = {**FULL_NOTES, "limitations": [f"Account {PLANTED[3]} was used in testing", f"card {PLANTED[2]}"]}
    texts = render_documents(build_context(full_inputs(model=model, notes=notes)), fmt=fmt)
    for kind, text in texts.items():
        for raw in PLANTED:
            assert raw not in text, (kind, raw)
        assert "j***@e***.com" in text  # the masked form is what a reader sees


def test_markup_in_registry_text_is_escaped():
    model = {**full_inputs().model, "use_case": "<script>alert(1)</script> | pipes"}
    context = build_context(full_inputs(model=model))
    html = render_document(context, kind="model_card", fmt="html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = render_document(context, kind="model_card", fmt="md")
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt; \\| pipes" in md


def test_rendering_is_deterministic():
    first = render_documents(build_context(full_inputs()), fmt="html")
    second = render_documents(build_context(full_inputs()), fmt="html")
    assert first == second


def test_markdown_tables_keep_their_shape():
    md = render_document(build_context(full_inputs()), kind="annex_iv", fmt="md")
    assert (
        "| group | count | selection rate | accuracy | true positive rate | false positive rate | "
        "false negative rate |"
    ) in md
    assert "| Male | 3350 | 0.271 | 0.802 | 0.610 | 0.098 | 0.390 |" in md
    assert "| age | **yes** | ks | 0.001 |" in md
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        widths = {line.count("|") - line.count("\\|") for line in block.splitlines()}
        assert len(widths) == 1, block


def test_every_section_of_the_catalogue_is_in_both_documents():
    context = build_context(full_inputs())
    for kind in ("model_card", "annex_iv"):
        page = parse(render_document(context, kind=kind, fmt="html"))
        covered = set().union(*page.sections.values())
        expected = set(SECTIONS) - ({"lifecycle", "conformity"} if kind == "model_card" else set())
        assert expected <= covered, kind


def test_scrub_leaves_markup_built_by_code_alone():
    from markupsafe import Markup

    from govflow.docs import scrub

    chart = Markup('<svg viewBox="0 0 640 1234"><text>a</text></svg>')
    assert scrub({"chart": chart, "note": "call 020 7946 0958 1"}) == {"chart": chart, "note": "call 0***"}


def test_the_test_log_names_who_recorded_each_result():
    recorded = {
        "seq": 9,
        "ts": "2026-11-27T10:01:00.1+00:00",
        "actor": "pipeline:governance_gate:manual__1:validate",
        "action": "check.recorded",
        "subject": "version:adult-income@1.4.0",
        "payload": {"result_id": 1},
        "prev_hash": "8" * 64,
        "hash": "9" * 64,
    }
    context = build_context(full_inputs(events=[*full_inputs().events, recorded]))
    assert [row["responsible"] for row in context["history"][:2]] == [
        "pipeline:governance_gate:manual__1:validate",
        "pipeline:governance_gate",
    ]


def test_markdown_documents_pass_no_links_or_images_from_typed_text():
    from markdown_it import MarkdownIt

    hostile = (
        "[click](javascript:alert(1)) ![pixel](https://tracker.example/p.png) "
        "\\[escaped](javascript:x) [ref][1]\n\n[1]: javascript:alert(2)"
    )
    model = {**full_inputs().model, "use_case": hostile}
    notes = {**FULL_NOTES, "limitations": [hostile]}
    for kind, md in render_documents(build_context(full_inputs(model=model, notes=notes)), fmt="md").items():
        tokens = MarkdownIt("commonmark").parse(md)
        inline = [child for token in tokens for child in (token.children or [])]
        links = [t.attrs.get("href") for t in inline if t.type == "link_open"]
        images = [t.attrs.get("src") for t in inline if t.type == "image"]
        assert not [h for h in links if "javascript" in str(h) or "tracker" in str(h)], (kind, links)
        assert not images, (kind, images)
        assert "javascript" in md  # the text itself is kept, as text
