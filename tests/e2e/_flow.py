"""Steps several e2e tests share: submit a high-risk version with --trigger, wait for its two
approval requests, sign a user in over HTTP, wait for a condition."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

import httpx

from tests.e2e.conftest import govflow

GATE = "governance_gate"


def submit_high_risk(
    env: Mapping[str, str],
    trained: Mapping[str, str],
    model: str,
    version: str,
    *,
    team: str = "Retail credit analytics",
    sector: str = "finance",
    owner: str = "olga.owner@bank.example",
    use_case: str = "pre-sorts credit applications",
) -> str:
    """Register ``model`` (high tier, EU) and submit ``version`` with --trigger; the gate run's id."""
    govflow(
        env,
        *("model", "register", "--name", model, "--owner", owner, "--risk-tier", "high"),
        *("--team", team, "--use-case", use_case),
        *("--goal", "shorter queues", "--stakeholder", "Dana Privacy:dpo:dana.dpo@bank.example"),
        *("--region", "EU", "--sector", sector, "--data-protection-notes", "no direct identifiers"),
        *("--batches", trained["batches"], "--json"),
    )
    submitted = govflow(
        env,
        *("submit", "--model", model, "--version", version, "--artifact", trained["artifact"]),
        *("--training-data", trained["training_data"], "--reference-data", trained["reference_data"]),
        *("--eval-data", trained["eval_data"], "--suite", trained["suite"], "--notes", trained["notes"]),
        *("--code-version", "git:abc1234", "--framework", "scikit-learn"),
        *("--params", json.dumps(trained["params"]), "--metrics", json.dumps(trained["metrics"])),
        *("--label", "income", "--prediction", "prediction", "--score", "score"),
        *("--positive-label", ">50K", "--sensitive", "sex", "--trigger", "--json"),
    )
    return str(submitted["run_id"])


def wait_for_two_requests(admin, run_id: str) -> None:  # type: ignore[no-untyped-def]
    """Until the run's two approval requests are open; a run that ends first fails the test."""

    def asked() -> bool:
        if len(admin.required_actions(GATE, run_id)) == 2:
            return True
        if admin.get_run(GATE, run_id)["state"] in ("success", "failed"):
            states = {t["task_id"]: t["state"] for t in admin.task_instances(GATE, run_id)}
            raise AssertionError(f"the run ended without asking reviewers: {states}")
        return False

    wait_until(asked, "two approval requests")


def web(stack, user: str) -> httpx.Client:  # type: ignore[no-untyped-def]
    """A signed-in user's HTTP session on the api-server (the UI's own ``_token`` cookie)."""
    return httpx.Client(base_url=stack.url, cookies={"_token": stack.client(user).token()}, timeout=60)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout:.0f}s")
