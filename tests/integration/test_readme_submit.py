"""The README's submit example for each risk tier does what the README promises.

Each ``<!-- submit-example tier=T expect=D [approvals=N] -->`` block in README.md
is run as written through govflow's CLI (files replaced by the bundled
sample's, ``--trigger --wait`` left to the pipeline), then governance_gate's
task bodies run on it (the service path the DAG calls: resolve, the four
checks, documentation, the gate), and the decision must be the promised one.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from govflow.cli import main as govflow
from govflow.service.pipeline import RunRef
from govflow.tasks import gate as tasks

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"<!-- submit-example (?P<attrs>[^>]*) -->\s*```bash\n(?P<body>.*?)```", re.S)


def readme_examples() -> dict[str, tuple[dict[str, str], list[list[str]]]]:
    """tier -> (the promise, the govflow commands of its block as argv lists)."""
    out = {}
    for match in EXAMPLE.finditer((REPO / "README.md").read_text(encoding="utf-8")):
        attrs = dict(pair.split("=", 1) for pair in match["attrs"].split())
        text = match["body"].replace("\\\n", " ")
        commands = [shlex.split(line)[1:] for line in text.splitlines() if line.startswith("govflow ")]
        out[attrs["tier"]] = (attrs, commands)
    return out


EXAMPLES = readme_examples()


def test_the_readme_has_an_example_per_tier_a_version_can_pass():
    assert sorted(EXAMPLES) == ["high", "limited", "minimal"]
    for _, commands in EXAMPLES.values():
        assert [c[:2] for c in commands] == [["model", "register"], ["submit", "--model"]]
        assert {"--trigger", "--wait"} <= set(commands[1])  # the training job's form


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    sys.path.insert(0, str(REPO / "include" / "sample"))
    try:
        from train_model import train
    finally:
        sys.path.pop(0)
    job = tmp_path_factory.mktemp("job")
    trained = train(job, mitigate=True)
    (job / "params.json").write_text(json.dumps(trained["params"]))
    (job / "metrics.json").write_text(json.dumps(trained["metrics"]))
    return {
        "model.skops": trained["artifact"],
        "train.csv": trained["training_data"],
        "reference.csv": trained["reference_data"],
        "eval.csv": trained["eval_data"],
        "suite.yaml": trained["suite"],
        "notes.yaml": trained["notes"],
        "@params.json": f"@{job / 'params.json'}",
        "@metrics.json": f"@{job / 'metrics.json'}",
        "batches/": trained["batches"],
    }


@pytest.mark.parametrize("tier", sorted(EXAMPLES))
def test_readme_submit_example_gives_the_promised_outcome(tier, sample, db_url, monkeypatch, capsys):
    # --as alice, a data scientist: dev mode on SQLite; on PostgreSQL (a production deployment) the
    # command runs as the OS account alice (tests/conftest.py: production_deployment).
    promise, commands = EXAMPLES[tier]
    for argv in commands:
        argv = [sample.get(arg, arg) for arg in argv if arg not in ("--trigger", "--wait")]
        code = govflow([*argv, "--as", "alice"])
        assert code == 0, f"govflow {' '.join(argv)} -> {code}: {capsys.readouterr().err}"
    model = commands[1][commands[1].index("--model") + 1]
    version = commands[1][commands[1].index("--version") + 1]

    ref = tasks.resolve(
        RunRef("governance_gate", f"readme__{tier}", "rest"), {"model": model, "version": version}
    )
    results = {
        check: tasks.check(ref, check)["status"] for check in ("validation", "pii", "fairness", "drift")
    }
    results["documentation"] = tasks.document(ref)["status"]
    decision = tasks.evaluate(ref)

    why = json.dumps({"checks": results, "reasons": decision["reasons"]}, indent=1)
    assert decision["decision"] == promise["expect"], why
    if promise["expect"] == "pending_approval":
        assert [r["code"] for r in decision["reasons"]] == ["approvals_missing"], why
        assert decision["approvals"]["required"] == int(promise["approvals"])
        assert "Required Actions" in decision["reasons"][0]["fix"]
