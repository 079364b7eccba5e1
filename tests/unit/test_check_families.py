"""The check-family registry: it matches the vocabulary, nothing outside checks/ branches on a family
name, a toy family shows up in the gate's fixes and both documents, and the documents are unchanged."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from govflow.checks.family import CheckFamily, DocPart, FactPart, families, family, registered
from govflow.docs import Fact, build_context, render_document
from govflow.gate._fixes import attach_fix
from govflow.gate._types import Reason
from govflow.policy import TierPolicy
from govflow.vocab import CHECK_NAMES
from tests.unit.test_docs import full_inputs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "include" / "govflow"
GOLDEN = Path(__file__).resolve().parent / "fixtures" / "docs_golden"


def test_the_registry_matches_the_vocabulary():
    assert tuple(f.name for f in families()) == CHECK_NAMES
    for declared in families():
        assert declared.thresholds is None or declared.thresholds in TierPolicy.model_fields
        for part in declared.parts:
            for fmt in ("md", "html"):
                assert declared.partial(f"{part.template}.{fmt}.j2"), (declared.name, part, fmt)


def test_every_row_of_the_check_table_is_a_family():
    from govflow.service.check_table import CHECKS

    assert [name for name in CHECKS if family(name) is None] == []


def _family_comparisons(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        for operand in [node.left, *node.comparators]:
            values = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
            for value in values:
                if isinstance(value, ast.Constant) and value.value in CHECK_NAMES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} compares with {value.value!r}")
    return found


def test_no_module_outside_checks_compares_against_a_family_name():
    files = [p for p in PACKAGE.rglob("*.py") if "checks" not in p.relative_to(PACKAGE).parts[:1]]
    files += list((ROOT / "dags").glob("*.py"))
    found = [hit for path in files for hit in _family_comparisons(path)]
    assert found == []


def test_no_template_outside_checks_compares_against_a_family_name():
    templates = [*PACKAGE.joinpath("docs", "templates").glob("*.j2"), PACKAGE / "web/templates/version.html"]
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for name in CHECK_NAMES:
            assert f'== "{name}"' not in text, (path, name)


@pytest.mark.parametrize("kind", ["model_card", "annex_iv"])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_documents_are_byte_identical_to_before_the_registry(kind, fmt):
    # The goldens were rendered from the same inputs by the code before check families existed.
    text = render_document(build_context(full_inputs()), kind=kind, fmt=fmt)
    assert text == (GOLDEN / f"full-{kind}.{fmt}").read_text(encoding="utf-8")


@pytest.fixture
def toy(tmp_path):
    """A family declared the way a new one is: its own folder (views, facts, partials) and a name."""
    templates = tmp_path / "toy" / "templates"
    templates.mkdir(parents=True)
    for fmt in ("md", "html"):
        (templates / f"model_card.quantitative.{fmt}.j2").write_text("Toy wobble: {{ toy.wobble }}\n")
        (templates / f"annex_iv.groups.{fmt}.j2").write_text("Toy wobble in Annex IV: {{ toy.wobble }}\n")
    (templates / "version.html").write_text(
        "<p id=toy>Toy wobble on the page: {{ w.wobble }} {{ pct(0.5) }}</p>\n"
    )

    def views(result, ctx):
        return {"toy": {"wobble": (result or {}).get("summary", {}).get("wobble")}}

    def facts(doc):
        return [Fact(key="toy_check", label="Toy check", value="toy measured", source="evidence")]

    declared = CheckFamily(
        name="toy",
        summary_sentence=lambda summary: f"wobble {summary.get('wobble')}",
        fix_inputs="register the toy's wobble data",
        fix_failed="steady the wobble",
        views=views,
        page_view=lambda result, ctx: views(result, ctx)["toy"],
        caveats=lambda v: [f"Toy wobble is {v['toy']['wobble']}."] if v.get("toy") else [],
        facts=(FactPart(section="accuracy_robustness", build=facts, before="robustness"),),
        parts=(
            DocPart("model_card.quantitative", 50, "model_card.quantitative"),
            DocPart("annex_iv.groups", 30, "annex_iv.groups"),
        ),
        templates=templates,
    )
    with registered(declared):
        yield declared
    assert family("toy") is None


def test_a_toy_family_shows_in_the_gate_fixes(toy):
    failed = attach_fix(Reason(code="check_failed", message="toy failed", check="toy"), {})
    assert failed.fix.startswith("steady the wobble, or a reviewer accepts it")
    missing = attach_fix(Reason(code="check_missing", message="no toy", check="toy"), {})
    assert missing.fix.startswith("register the toy's wobble data; then re-run the checks")
    assert toy.summary_text({"wobble": 3}) == "wobble 3"


def test_a_toy_family_shows_in_the_model_card_and_the_annex_iv(toy):
    inputs = full_inputs()
    result = {
        "id": 99,
        "check": "toy",
        "status": "warn",
        "summary": {"wobble": 7},
        "errors": [],
        "created_at": "2026-11-28T10:00:00+00:00",
        "evidence": {},
        "evidence_problem": None,
        "run": {"dag_id": "governance_gate", "run_id": "r9"},
    }
    context = build_context(
        type(inputs)(**{**inputs.__dict__, "check_results": [*inputs.check_results, result]})
    )
    assert "Toy wobble is 7." in context["caveats"]
    assert context["facts"]["accuracy_robustness"]["toy_check"].value == "toy measured"
    for fmt in ("md", "html"):
        card = render_document(context, kind="model_card", fmt=fmt)
        annex = render_document(context, kind="annex_iv", fmt=fmt)
        assert "Toy wobble: 7" in card
        assert "Toy wobble in Annex IV: 7" in annex
        assert "toy measured" in annex


def test_a_toy_family_shows_in_the_governance_view(toy):
    import jinja2

    from govflow.checks.family import template_loader

    # The loader the web app gives its templates (web/app.py): its own folder, then the families'.
    web = PACKAGE / "web" / "templates"
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(web)), template_loader()]),
        autoescape=jinja2.select_autoescape(),
    )
    env.globals["url_for"] = lambda route, **params: f"/{route}"
    result = {"check": "toy", "status": "warn", "summary": {"wobble": "<b>7</b>"}}
    check = {
        **result,
        "summary_text": toy.summary_text(result["summary"]),
        "links": {"run": "/run", "task": "/task"},
        "view": toy.page_view(result, None),
    }
    v = {"model": "m", "version": "1", "checks": [check], "decisions": [], "approvals": [], "waivers": []}
    v |= {"documents": [], "older_documents": [], "audit": {"events": [], "total": 0}, "required_checks": []}
    page = env.get_template("version.html").render(v=v, can_review=False)
    assert "<p id=toy>Toy wobble on the page: &lt;b&gt;7&lt;/b&gt; 0.500</p>" in page
    assert "wobble <b>7</b>" not in page  # the summary sentence is escaped too
