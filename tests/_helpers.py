"""Setup steps several test modules share (fixtures stay in the conftest files).

- ``cli``: run ``govflow`` in-process, return ``(exit code, stdout, stderr)``;
- ``register_model``: ``govflow model register`` through the CLI, asserted to succeed;
- ``checked_version``: a registered high-risk ``credit-risk@1.0`` with a result for each
  check the tier requires, recorded by the gate's run (what an approval is about);
- ``sample_trainer``: ``train`` of a sample training script in include/sample;
- ``run_gate``: governance_gate for one version through Airflow's dag.test() (with the
  ``airflow_home`` fixture of tests/integration/conftest.py).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.inputs import CheckConfig, VersionInputs
from govflow.service.runs import ensure_run
from govflow.store import session_scope

# Dev mode (``--as`` anyone, recorded as ``dev``) exists only on a machine that is not a production
# deployment; a PostgreSQL governance DB always is one (config.production_reason). Tests of dev mode
# itself and of impersonation therefore run on SQLite alone; on PostgreSQL, ``--as NAME`` is the OS
# account NAME (tests/conftest.py: production_deployment).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

REPO = Path(__file__).resolve().parents[1]

# The version ``checked_version`` registers, as CLI flags, and the checks it records.
VERSION = ("--model", "credit-risk", "--version", "1.0")
CHECKS = ("validation", "pii", "fairness", "drift", "documentation")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``govflow ARGV`` in this process: the exit code and what it printed."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def register_model(
    capsys: pytest.CaptureFixture[str],
    name: str = "credit",
    *,
    owner: str = "d",
    risk_tier: str = "minimal",
    actor: str = "alice",
) -> None:
    """``govflow model register`` for ``name``; it must succeed. What it printed is discarded."""
    argv = ("model", "register", "--name", name, "--owner", owner, "--risk-tier", risk_tier, "--as", actor)
    code, _, err = cli(capsys, *argv)
    assert code == 0, err


def checked_version(sample_files: Mapping[str, Path], statuses: Mapping[str, str] | None = None) -> None:
    """``credit-risk`` (high risk, owner Ana) at 1.0, registered by alice, with one result per check
    in ``CHECKS`` from the gate's run ``r1``: ``pass`` unless ``statuses`` says otherwise."""
    statuses = statuses or {}
    with session_scope() as s:
        registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
        row = registry.register_version(
            s,
            model="credit-risk",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="r1")
        for check in CHECKS:
            record_check_result(
                s,
                version=row,
                run=run,
                data_sha256=None if check == "documentation" else row.training_data_sha256,
                result=CheckResult(check=check, status=statuses.get(check, "pass"), summary={}),
            )


def sample_trainer(script: str) -> Callable[..., dict[str, Any]]:
    """``train`` of ``include/sample/<script>.py`` (the sample scripts are not a package)."""
    sys.path.insert(0, str(REPO / "include" / "sample"))
    try:
        module = importlib.import_module(script)
    finally:
        sys.path.pop(0)
    return module.train  # type: ignore[no-any-return]


def run_gate(
    airflow_env: Mapping[str, str],
    work: Path,
    model: str,
    version: str,
    *,
    answers: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run governance_gate for ``model@version`` to its end in ``airflow_env`` with this test's
    GOVFLOW_HOME and DB (plus ``env``); reviewers in ``answers`` answer over REST. A run that
    raises fails the test with the tail of its log."""
    from govflow.demo import run_dag

    run_env = {
        **airflow_env,
        "GOVFLOW_HOME": os.environ["GOVFLOW_HOME"],
        "GOVFLOW_DB_URL": os.environ["GOVFLOW_DB_URL"],
        # Tests about other things read a rejection from the DB; the red run has its own test.
        "GOVFLOW_FAIL_REJECTED_RUNS": "0",
        **(env or {}),
    }
    conf = {"model": model, "version": version}
    try:
        return run_dag(
            "governance_gate", conf, work, answers=None if answers is None else dict(answers), env=run_env
        )
    except RuntimeError:
        pytest.fail((work / "governance_gate.log").read_text()[-5000:])


def version_inputs(reference: str, *, tier: str = "minimal", label: str | None = None) -> VersionInputs:
    """What a check runner gets for a version: ``reference`` as its training and reference data."""
    return VersionInputs(
        model="m",
        version="1",
        version_id=1,
        tier=tier,
        regions=(),
        sector=None,
        artifact="",
        artifact_sha256="",
        training_data=reference,
        reference_data=reference,
        eval_data=None,
        metrics={},
        config=CheckConfig(label=label),
    )


def dev_mode_unless_production(monkeypatch: Any) -> None:
    """Let tests act as the bundled users by name (dev mode) where the deployment allows it. A
    PostgreSQL governance DB makes the test a production deployment (``production_deployment``
    in tests/conftest.py), where dev mode is refused and a CLI ``--as`` is the OS account."""
    from govflow import config

    if not config.production():
        monkeypatch.setenv("GOVFLOW_DEV_MODE", "1")


def passed_limited_version(sample_files: Mapping[str, Path], model: str, *, team: str | None = None) -> None:
    """``model`` at version 1, limited tier (one approval needed), registered by alice, with every
    required check passed in the gate's run ``run-1`` and no approval yet."""
    with session_scope() as s:
        registry.register_model(s, name=model, owner="Ana", risk_tier="limited", actor="alice", team=team)
        row = registry.register_version(
            s,
            model=model,
            version="1",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            eval_data=sample_files["eval"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="run-1")
        for check in ("validation", "pii", "drift", "documentation"):
            record_check_result(
                s,
                version=row,
                run=run,
                result=CheckResult(check=check, status="pass"),
                data_sha256=None if check == "documentation" else row.eval_data_sha256,
            )
