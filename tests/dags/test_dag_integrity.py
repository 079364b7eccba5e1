"""DAG hygiene: every DAG file imports cleanly, declares its docs, tags and retries,
and keeps heavy libraries out of parsing (they are imported inside tasks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
HEAVY = (
    "pandas",
    "sklearn",
    "great_expectations",
    "presidio_analyzer",
    "spacy",
    "evidently",
    "fairlearn",
    "scipy",
    "govflow.store",
    "sqlalchemy.orm",
)
# The DAG folder holds the two-line file a deployment uses; the definitions live in govflow.dags.
EXPECTED = {"govflow_dags.py": {"governance_gate", "nightly_compliance"}}


def _parse(dag_file: Path, tmp_path: Path) -> dict:
    """Import one DAG file in a fresh interpreter with DagBag.

    Reports the DAGs, the import errors and the heavy modules loaded.
    """
    script = f"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
before = set(sys.modules)
bag = DagBag({str(dag_file)!r})
roots = {{h.split('.')[0] for h in {HEAVY!r}}}
heavy = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in roots
               and any(m == h or m.startswith(h + '.') for h in {HEAVY!r}))
dags = {{d.dag_id: {{"tags": sorted(d.tags), "doc_md": d.doc_md or "",
                     "retries": {{t.task_id: t.retries for t in d.tasks}},
                     "tasks": sorted(t.task_id for t in d.tasks)}} for d in bag.dags.values()}}
print(json.dumps({{"errors": bag.import_errors, "dags": dags, "heavy": heavy}}))
"""
    env = os.environ | {
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "GOVFLOW_HOME": str(tmp_path / "govflow"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, f"{dag_file.name}: parsing crashed:\n{done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    cache: dict[Path, dict] = {}

    def get(dag_file: Path) -> dict:
        if dag_file not in cache:
            cache[dag_file] = _parse(dag_file, tmp_path_factory.mktemp(dag_file.stem))
        return cache[dag_file]

    return get


def test_every_dag_file_is_tested():
    assert {f.name for f in DAG_FILES} == set(EXPECTED), "a new DAG file needs an entry in EXPECTED"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[f.name for f in DAG_FILES])
def test_imports_without_errors_and_defines_its_dags(dag_file, parsed):
    result = parsed(dag_file)
    assert result["errors"] == {}, f"{dag_file.name}: import errors {result['errors']}"
    assert set(result["dags"]) == EXPECTED[dag_file.name], f"{dag_file.name}: DAGs {sorted(result['dags'])}"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[f.name for f in DAG_FILES])
def test_docs_tags_and_retries(dag_file, parsed):
    for dag_id, dag in parsed(dag_file)["dags"].items():
        assert "govflow" in dag["tags"], f"{dag_id} ({dag_file.name}): no 'govflow' tag"
        assert dag["doc_md"].strip().startswith(f"### {dag_id}"), (
            f"{dag_id} ({dag_file.name}): doc_md missing"
        )
        # Every task retries, except the human approval (a retry would ask the reviewers again).
        no_retry = {t for t, r in dag["retries"].items() if not r and t != "approval"}
        assert not no_retry, f"{dag_id} ({dag_file.name}): tasks without retries: {sorted(no_retry)}"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=[f.name for f in DAG_FILES])
def test_parsing_imports_no_heavy_library(dag_file, parsed):
    # What keeps parsing well under a second: checks, DB and data libraries load inside tasks only.
    assert parsed(dag_file)["heavy"] == [], f"{dag_file.name} imports heavy modules while parsing"


def test_governance_gate_shape(parsed):
    dag = parsed(REPO / "dags" / "govflow_dags.py")["dags"]["governance_gate"]
    assert dag["tasks"] == sorted(
        [
            "resolve",
            "validation",
            "pii",
            "fairness",
            "drift",
            "performance",  # the candidate against the production version (skipped when there is none)
            "mitigation",  # when the tier's policy asks (fairness.mitigate) and fairness failed or warned
            "documentation",
            "gate",
            "approval_requests",
            "approval",
            "reviewed",
            "finish",
            "notify",
            "reconcile",
            "verdict",  # fails when the version was rejected (GOVFLOW_FAIL_REJECTED_RUNS, default on)
        ]
    )


def test_nightly_schedule_is_configurable(tmp_path):
    script = (
        "from airflow.dag_processing.dagbag import DagBag;"
        f"d = DagBag({str(REPO / 'dags' / 'govflow_dags.py')!r}).dags['nightly_compliance'];"
        "print(d.timetable.expression)"
    )
    base = os.environ | {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    base.pop("GOVFLOW_NIGHTLY_CRON", None)
    default = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=base, timeout=300
    )
    assert default.stdout.strip().splitlines()[-1] == "0 2 * * *", default.stderr[-1000:]
    variable = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=base | {"AIRFLOW_VAR_GOVFLOW_NIGHTLY_CRON": "30 1 * * *"},
    )
    assert variable.stdout.strip().splitlines()[-1] == "30 1 * * *", variable.stderr[-1000:]
