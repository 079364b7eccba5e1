"""Setup steps several test modules share (fixtures stay in the conftest files).

- ``cli``: run ``govflow`` in-process, return ``(exit code, stdout, stderr)``;
- ``register_model``: ``govflow model register`` through the CLI, asserted to succeed;
- ``checked_version``: a registered high-risk ``credit-risk@1.0`` with a result for each
  check the tier requires, recorded by the gate's run (what an approval is about).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from govflow.checks import CheckResult
from govflow.cli import main
from govflow.service import registry
from govflow.service.checks import record_check_result
from govflow.service.runs import ensure_run
from govflow.store import session_scope

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
