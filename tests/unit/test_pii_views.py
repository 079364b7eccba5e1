"""What the model card, the Annex IV and the Governance view show of a PII scan (#25): the table's
subject with its reasons, the person identifiers and the dates of birth made of several columns,
by column name and reason only; a scan recorded before #25 says it predates them. Real Presidio +
spaCy on a table built here (seeded Faker); no raw cell value reaches any output."""

from __future__ import annotations

import json
import random
import re
from datetime import date, timedelta

import jinja2
import pandas as pd
import pytest
from faker import Faker

from govflow.checks.family import template_loader
from govflow.checks.pii import scan_pii
from govflow.checks.pii._view import page_view, pii_view
from govflow.docs import build_context, render_document
from tests.unit.test_docs import full_inputs

ROWS = 150
DAY = date(2026, 11, 30)
PREDATES = "predates the table's subject, person identifiers and split dates of birth"


@pytest.fixture(scope="module")
def register():
    """A register of people: a name-derived key, names, a birth date in three columns, a debut."""
    fake, rng = Faker("en_US"), random.Random(11)
    fake.seed_instance(11)
    rows = []
    for i in range(ROWS):
        first, last = fake.first_name(), fake.last_name()
        born = DAY - timedelta(days=rng.randint(20 * 365, 80 * 365))
        rows.append(
            {
                "memberID": f"{last[:5].lower()}{first[:2].lower()}{i % 3 + 1:02d}",
                "nameFirst": first,
                "nameLast": last,
                "birthYear": born.year,
                "birthMonth": born.month,
                "birthDay": born.day,
                "debut": (born + timedelta(days=rng.randint(19 * 365, 25 * 365))).isoformat(),
                "team": rng.choice(["BOS", "NYA", "CHN", "SFN"]),
            }
        )
    frame = pd.DataFrame(rows)
    result = scan_pii(frame)
    stored = json.loads(  # what the store hands back: JSON, evidence = the check's details
        json.dumps(
            {
                "id": 2,
                "check": "pii",
                "status": result.status,
                "summary": result.summary,
                "evidence": result.details,
                "errors": [],
                "created_at": "2026-12-06T10:00:00+00:00",
                "evidence_problem": None,
                "run": {"dag_id": "governance_gate", "run_id": "r1"},
            },
            default=str,
        )
    )
    personal = ("memberID", "nameFirst", "nameLast", "debut")
    raw = {v for c in personal for v in frame[c].astype(str) if len(v) >= 4}
    return stored, raw


def _leaked(raw, text: str) -> list[str]:
    """Raw cell values found as whole words in ``text`` (a surname may be a prefix of a word)."""
    return sorted(v for v in raw if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text))


def _with_pii(stored):
    inputs = full_inputs()
    results = [stored if r["check"] == "pii" else r for r in inputs.check_results]
    return build_context(type(inputs)(**{**inputs.__dict__, "check_results": results}))


def _page(view) -> str:
    env = jinja2.Environment(loader=template_loader(), autoescape=True)
    macro = '{% macro pct(x) %}{{ "%.3f"|format(x) }}{% endmacro %}'
    return env.from_string(macro + '{% include "pii/version.html" %}').render(w=view)


class TestTheView:
    def test_it_carries_the_subject_reasons_keys_and_birth_groups_with_their_evidence(self, register):
        stored, _ = register
        view = pii_view(stored, allowed=["PERSON_ID"])
        assert view is not None
        assert view["subject"] == "person"
        assert "names of people in nameFirst" in view["subject_reasons"]
        assert [k["column"] for k in view["person_identifiers"]] == ["memberID"]
        assert "distinct" in (view["person_identifiers"][0]["evidence"] or "")
        assert [g["columns"] for g in view["birth_date_groups"]] == [["birthYear", "birthMonth", "birthDay"]]
        assert view["birth_date_groups"][0]["precision"] == "day"
        assert "names say birth" in (view["birth_date_groups"][0]["evidence"] or "")

    def test_a_scan_from_before_the_subject_has_none_and_empty_lists(self):
        summary = {"rows": 5, "columns_with_pii": []}
        old = {"check": "pii", "status": "pass", "summary": summary, "evidence": {}}
        view = pii_view(old, allowed=None)
        assert view is not None
        assert (view["subject"], view["subject_reasons"], view["person_identifiers"]) == (None, [], [])
        assert view["birth_date_groups"] == []

    def test_a_subject_outside_the_vocabulary_is_not_shown(self):
        odd = {"check": "pii", "status": "pass", "summary": {"subject": "<b>cats</b>"}, "evidence": {}}
        assert pii_view(odd, allowed=None)["subject"] is None

    def test_column_names_in_it_are_scrubbed_like_free_text(self):
        summary = {"subject": "person", "subject_reasons": ["names of people in jane.doe@example.com"]}
        summary |= {"person_identifiers": ["jane.doe@example.com"], "birth_date_groups": []}
        view = pii_view({"check": "pii", "status": "pass", "summary": summary, "evidence": {}}, allowed=None)
        assert "jane.doe@example.com" not in json.dumps(view)


@pytest.mark.parametrize("fmt", ["md", "html"])
class TestTheDocuments:
    def test_the_model_card_and_the_annex_show_subject_keys_and_split_dates(self, register, fmt):
        stored, _ = register
        context = _with_pii(stored)
        for kind in ("model_card", "annex_iv"):
            text = render_document(context, kind=kind, fmt=fmt)
            assert "Rows are about: " in text
            assert ("(<code>person</code>)" if fmt == "html" else "(`person`)") in text
            assert "names of people in nameFirst" in text
            assert "memberID" in text and "person identifier" in text
            assert "birthYear + birthMonth + birthDay" in text
            assert PREDATES not in text.replace("&#39;", "'")

    def test_the_model_card_has_its_own_personal_data_section(self, register, fmt):
        stored, _ = register
        text = render_document(_with_pii(stored), kind="model_card", fmt=fmt)
        title = "Personal data in the training data"
        heading = f"### {title}" if fmt == "md" else f"<h3>{title}</h3>"
        section = text.split(heading, 1)[1]
        assert "nameLast" in section.split("Rows are about", 1)[0]  # the per-column table comes first

    def test_no_raw_cell_value_reaches_a_document(self, register, fmt):
        stored, raw = register
        context = _with_pii(stored)
        for kind in ("model_card", "annex_iv"):
            text = render_document(context, kind=kind, fmt=fmt)
            assert _leaked(raw, text) == []

    def test_a_scan_from_before_the_subject_says_so(self, fmt):
        older = {"subject", "subject_reasons", "person_identifiers", "birth_date_groups", "table"}
        current = next(r for r in full_inputs().check_results if r["check"] == "pii")
        assert current["summary"]["subject"] == "person"  # the documents' usual scan has them
        summary = {k: v for k, v in current["summary"].items() if k not in older}
        evidence = {k: v for k, v in current["evidence"].items() if k not in older}
        context = _with_pii({**current, "summary": summary, "evidence": {**evidence, "summary": summary}})
        for kind in ("model_card", "annex_iv"):
            text = render_document(context, kind=kind, fmt=fmt)
            assert PREDATES in text.replace("&#39;", "'")
            assert PREDATES not in render_document(build_context(full_inputs()), kind=kind, fmt=fmt)


def test_markdown_tables_of_keys_and_birth_groups_stay_apart(register):
    stored, _ = register
    text = render_document(_with_pii(stored), kind="model_card", fmt="md")
    assert "|\n\n| date of birth from columns | precision | why |\n| --- | --- | --- |\n" in text


class TestTheGovernanceView:
    def test_the_version_page_shows_subject_reasons_keys_and_split_dates(self, register):
        stored, raw = register
        html = _page(page_view(stored, _Ctx()))
        table = html.split('<dl id="pii-table">', 1)[1].split("</dl>", 1)[0]
        assert "<code>person</code>" in table and "<li>names of people in nameLast</li>" in table
        assert "<strong>memberID</strong>" in table
        assert "<strong>birthYear + birthMonth + birthDay</strong> (to the day)" in table
        assert _leaked(raw, html) == []  # examples on the page are masked

    def test_a_scan_from_before_the_subject_asks_for_a_re_run(self):
        old = {"check": "pii", "status": "pass", "summary": {"rows": 5}, "evidence": {"columns": {}}}
        html = _page(page_view(old, _Ctx()))
        assert "pii-table" not in html and "re-run the pii check" in html


class _Ctx:
    """The ViewContext a version page gives: the policy's allowed entities for the model's regions."""

    def allowed_pii(self):
        return ["PERSON_ID"]
