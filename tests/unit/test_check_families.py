"""The check-family registry: it matches the vocabulary, nothing outside checks/ branches on a family
name, the documents are unchanged, and a toy family declared only in its own folder (``registered``) runs
in both DAGs through the service's dispatch and shows up in the gate's decision and fixes, both
documents and the Governance view."""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from govflow.checks import CheckResult
from govflow.checks.family import CheckFamily, DocPart, FactPart, families, family, registered
from govflow.checks.running import Missing, Pipeline, RunContext
from govflow.docs import Fact, build_context, render_document
from govflow.gate import Evidence, VersionRef, decide
from govflow.gate._fixes import attach_fix
from govflow.gate._types import Reason
from govflow.policy import TierPolicy, load_policy
from govflow.service import check_table
from govflow.service.pipeline import check_on_data, newest_batch_data, registered_data
from govflow.service.version_view import summary_text
from govflow.vocab import CHECK_NAMES
from tests._helpers import version_inputs
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


def test_the_check_table_is_the_families_with_a_pipeline():
    # Both DAGs' check tasks, in the registry's order; documentation is rendered, not run as a check.
    assert check_table.gate_checks() == ("validation", "pii", "fairness", "drift", "performance")
    assert check_table.nightly_checks() == ("pii", "fairness", "drift", "performance")
    for name, spec in check_table.checks().items():
        declared = family(name)
        assert declared is not None and declared.pipeline is not None
        assert (spec.registered, spec.also_reads, spec.on_batch) == (
            declared.pipeline.registered,
            declared.pipeline.also_reads,
            declared.pipeline.on_batch,
        )


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
    # The goldens were rendered from the same inputs by the code before check families existed;
    # since then only the PII sections were re-rendered, when full_inputs' scan took the #25 shape.
    text = render_document(build_context(full_inputs()), kind=kind, fmt=fmt)
    assert text == (GOLDEN / f"full-{kind}.{fmt}").read_text(encoding="utf-8")


TOY_RUNS: list[RunContext] = []


def toy_run(ctx: RunContext) -> CheckResult:
    """The toy's runner: what the service gives it is kept, and the wobble is too high."""
    TOY_RUNS.append(ctx)
    return CheckResult("toy", "fail", summary={"wobble": 9, "rows": 2})


def toy_data(inputs) -> str | Missing:
    return inputs.training_data


def toy_batch(inputs, columns, batch) -> Missing | None:
    return None if "wobble" in columns else Missing(f"the newest batch {batch} has no wobble column")


TOY_PIPELINE = Pipeline(
    run=toy_run, registered=toy_data, gate=True, nightly=True, on_batch=toy_batch, heavy=True
)


@pytest.fixture
def toy(tmp_path):
    """A family declared the way a new one is: its own folder (runner, views, facts, partials) and a name."""
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
        pipeline=TOY_PIPELINE,
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
    TOY_RUNS.clear()
    with registered(declared):
        yield declared
    assert family("toy") is None
    assert "toy" not in check_table.checks() and "toy" not in check_table.gate_checks()


def test_a_toy_family_is_a_row_of_both_check_tables(toy):
    assert check_table.gate_checks() == ("validation", "pii", "fairness", "drift", "performance", "toy")
    assert check_table.nightly_checks() == ("pii", "fairness", "drift", "performance", "toy")
    spec = check_table.check_spec("toy", among=check_table.nightly_checks())
    assert (spec.gate, spec.nightly, spec.also_reads) == (True, True, ())


def test_a_toy_family_reads_what_its_pipeline_declares(toy, tmp_path):
    inputs = version_inputs(str(tmp_path / "train.csv"))
    spec = check_table.check_spec("toy")
    # The gate: the registered file the family picks. Nightly: the newest batch, if it has what the toy needs.
    assert registered_data(spec, inputs).path == inputs.training_data
    batches = tmp_path / "batches"
    batches.mkdir()
    (batches / "2026-12-01.csv").write_text("a,b\n1,2\n")
    nightly = replace(inputs, batches_uri=str(batches))
    assert newest_batch_data(spec, nightly) == Missing("the newest batch 2026-12-01.csv has no wobble column")
    (batches / "2026-12-02.csv").write_text("a,wobble\n1,2\n")
    assert newest_batch_data(spec, nightly).path == str(batches / "2026-12-02.csv")


def test_the_service_dispatch_calls_a_toy_familys_runner(toy, tmp_path):
    data = tmp_path / "train.csv"
    data.write_text("a,wobble\n1,2\n3,4\n")
    inputs = version_inputs(str(data))
    policy = load_policy()
    # What run_check calls for the gate's and the nightly's toy task, once the data file is chosen.
    result, data_sha = check_on_data("toy", inputs, data=str(data), policy=policy)
    assert (result.check, result.status, result.summary) == ("toy", "fail", {"wobble": 9, "rows": 2})
    assert data_sha and result.duration_s is not None
    (ctx,) = TOY_RUNS
    # The runner reads a private copy of the data made while hashing it (same name, gone afterwards).
    assert Path(ctx.data).name == data.name and ctx.data != str(data) and not Path(ctx.data).exists()
    assert (ctx.inputs, ctx.policy) == (inputs, policy)
    assert ctx.rules == policy.tier(inputs.tier)


def test_a_failing_toy_result_is_a_reason_of_the_gate_decision(toy):
    # The policy's vocabulary does not know "toy": a tier that requires it is made here, not parsed.
    policy = load_policy()
    minimal = policy.tier("minimal")
    tiers = policy.tiers.model_copy(
        update={"minimal": minimal.model_copy(update={"required_checks": [*minimal.required_checks, "toy"]})}
    )
    policy = policy.model_copy(update={"tiers": tiers})
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    evidence = [
        Evidence(
            id=str(i),
            check=check,
            status="fail" if check == "toy" else "pass",
            model_version_id="7",
            data_sha256="a" * 64,
            created_at=now - dt.timedelta(hours=1),
            summary={"wobble": 9} if check == "toy" else {},
        )
        for i, check in enumerate(policy.tier("minimal").required_checks, start=1)
    ]
    decision = decide(
        policy, "minimal", evidence, [], version_ref=VersionRef(7, ["a" * 64], "alice"), now=now
    )
    assert decision.decision == "rejected"
    (reason,) = decision.reasons
    assert (reason.code, reason.check) == ("check_failed", "toy")
    assert reason.fix is not None and reason.fix.startswith("steady the wobble")


DAG_TASKS = """
import json
from govflow.checks.family import CheckFamily, registered
from tests.unit.test_check_families import TOY_PIPELINE

with registered(CheckFamily(name="toy", pipeline=TOY_PIPELINE)):
    from govflow.dags.governance_gate import governance_gate
    from govflow.dags.nightly_compliance import nightly_compliance

    dags = (governance_gate(), nightly_compliance())
    tasks = {d.dag_id: [t.task_id for t in d.tasks] for d in dags}
    queues = {f"{d.dag_id}.{t.task_id}": t.queue for d in dags for t in d.tasks}
    from govflow.service.check_table import nightly_tasks

    plan = {t.task_id: list(t.checks) for t in nightly_tasks()}
    print(json.dumps({"tasks": tasks, "queues": queues, "plan": plan}))
"""


def test_a_toy_family_is_a_task_of_both_dags(tmp_path):
    # A fresh interpreter: the DAG files name their tasks when they are parsed.
    env = os.environ | {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "GOVFLOW_HEAVY_QUEUE": "heavy",
    }
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DAG_TASKS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    tasks, queues = parsed["tasks"], parsed["queues"]
    # A family that declares itself heavy (as the toy does, like pii and fairness) runs on the heavy queue.
    heavy = {task for task, queue in queues.items() if queue == "heavy"}
    assert heavy == {
        *(f"governance_gate.{check}" for check in ("pii", "fairness", "toy")),
        "nightly_compliance.recheck.heavy_checks",
    }, queues
    gate = tasks["governance_gate"]
    assert gate[gate.index("resolve") + 1 : gate.index("documentation")] == [
        "validation",
        "pii",
        "fairness",
        "drift",
        "performance",
        "toy",
    ]
    # Nightly runs a group's checks several to a task: the heavy ones (the toy's too) on the heavy queue.
    assert [t for t in tasks["nightly_compliance"] if t.startswith("recheck.")] == [
        "recheck.checks",
        "recheck.heavy_checks",
        "recheck.documentation",
    ]
    assert parsed["plan"] == {
        "checks": ["drift", "performance"],
        "heavy_checks": ["pii", "fairness", "toy"],
        "documentation": [],
    }


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
        "summary_text": summary_text("toy", result["summary"]),  # the service's page context
        "links": {"run": "/run", "task": "/task"},
        "view": toy.page_view(result, None),
    }
    v = {"model": "m", "version": "1", "checks": [check], "decisions": [], "approvals": [], "waivers": []}
    v |= {"documents": [], "older_documents": [], "audit": {"events": [], "total": 0}, "required_checks": []}
    page = env.get_template("version.html").render(v=v, can_review=False)
    assert "<p id=toy>Toy wobble on the page: &lt;b&gt;7&lt;/b&gt; 0.500</p>" in page
    assert "wobble <b>7</b>" not in page  # the summary sentence is escaped too
