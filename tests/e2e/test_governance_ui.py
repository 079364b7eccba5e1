"""The Governance view inside a real Airflow, driven by headless Chromium (Debian's, never a download).

Airflow's auth decides who the user is (its JWT cookie); govflow maps the name to its roles. A reviewer
opens the view from Airflow's navigation, reads the evidence and approves in the browser; the
approval lands in the governance DB under the reviewer's Airflow identity.
"""

from __future__ import annotations

import os
import shutil

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

# Debian's package, by its path: never another `chromium` on PATH nor a Playwright browser download.
# (A Browser's repr shows BrowserType.executable_path, Playwright's default download location, even
# when it was launched from this path: the running binary is /usr/lib/chromium/chromium.)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def seeded_version(monkeypatch, govflow_e2e):
    """A candidate version submitted by alice with one recorded check, in the DB Airflow's plugin reads."""
    from govflow.service import registry
    from govflow.store import dispose_engines, session_scope

    for key, value in govflow_e2e.items():
        monkeypatch.setenv(key, value)
    dispose_engines()
    with session_scope() as s:  # the e2e DB lives for the whole session: seed once
        seeded = any(m.name == "ui-review" for m in registry.list_models(s))
    if not seeded:
        _seed()
    yield "ui-review", "1.0"
    dispose_engines()


def _seed() -> None:
    from govflow.checks import CheckResult
    from govflow.service import registry
    from govflow.service.checks import record_check_result
    from govflow.service.runs import ensure_run
    from govflow.store import session_scope

    files = _files()
    with session_scope() as s:
        registry.register_model(
            s,
            name="ui-review",
            owner="Olga Owner",
            risk_tier="high",
            actor="alice",
            regions=["EU"],
            stakeholders=["Rita:reviewer:rita@example.org"],
        )
        version = registry.register_version(
            s,
            model="ui-review",
            version="1.0",
            artifact=files["artifact"],
            training_data=files["training"],
            actor="alice",
        )
        run = ensure_run(s, dag_id="governance_gate", run_id="ui-seed", trigger_kind="test")
        record_check_result(
            s,
            version=version,
            run=run,
            data_sha256=version.training_data_sha256,
            result=CheckResult(
                check="drift", status="pass", summary={"share_drifted": 0.0, "drifted_columns": []}
            ),
        )


def _files() -> dict[str, object]:
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="govflow-ui-"))
    (folder / "model.skops").write_bytes(b"ui review artifact")
    (folder / "train.csv").write_text("x,y\n1,0\n2,1\n")
    return {"artifact": folder / "model.skops", "training": folder / "train.csv"}


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        message = "Debian chromium is not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_governance_api_refuses_anonymous_requests(airflow_stack):
    response = httpx.get(f"{airflow_stack.url}/governance/api/models", timeout=30)
    assert response.status_code == 401


def test_reviewer_approves_in_the_governance_view(airflow_stack, seeded_version, browser, tmp_path):
    from sqlalchemy import select

    from govflow.store import Approval, session_scope

    model, version = seeded_version
    token = airflow_stack.client("rita").token()
    context = browser.new_context()
    # The same cookie Airflow's own login sets for its UI.
    context.add_cookies([{"name": "_token", "value": token, "url": airflow_stack.url}])
    page = context.new_page()

    # Airflow's navigation carries the plugin's entry.
    page.goto(f"{airflow_stack.url}/", wait_until="networkidle")
    page.get_by_text("Governance").first.wait_for(timeout=60_000)

    page.goto(f"{airflow_stack.url}/governance/")
    assert "rita" in page.locator("header").inner_text()
    page.get_by_role("link", name=model).click()
    page.get_by_role("link", name=version).first.click()
    page.wait_for_selector("#checks")
    assert "drift" in page.locator("#checks").inner_text()
    assert "version.registered" in page.locator("#audit").inner_text()

    page.fill("#comment", "evidence reviewed in the UI")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_selector("#review-result:has-text('recorded: approve')", timeout=30_000)
    page.screenshot(path=str(tmp_path / "governance-version.png"), full_page=True)
    context.close()

    with session_scope() as s:
        approvals = s.scalars(select(Approval)).all()
        mine = [a for a in approvals if a.comment == "evidence reviewed in the UI"]
    assert len(mine) == 1 and mine[0].approver == "rita" and mine[0].verdict == "approve"
    assert mine[0].auth_method == "airflow"  # proven by Airflow's auth manager (the UI session)


def test_viewer_cannot_approve_through_the_view(airflow_stack, seeded_version):
    model, version = seeded_version
    token = airflow_stack.client("vic").token()  # an Airflow viewer unknown to govflow's roles
    response = httpx.post(
        f"{airflow_stack.url}/governance/api/models/{model}/versions/{version}/approvals",
        json={"verdict": "approve"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 403
    assert "permission denied" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/", "/api/models", "/docs", "/redoc", "/openapi.json"])
def test_users_unknown_to_govflow_see_nothing_api_docs_included(airflow_stack, path):
    stranger = airflow_stack.client("dana").token()  # an Airflow user govflow has no roles for
    reviewer = airflow_stack.client("rita").token()
    url = f"{airflow_stack.url}/governance{path}"
    assert httpx.get(url, headers={"Authorization": f"Bearer {stranger}"}, timeout=30).status_code == 403
    assert httpx.get(url, headers={"Authorization": f"Bearer {reviewer}"}, timeout=30).status_code == 200
    assert httpx.get(url, timeout=30).status_code == 401


def test_cli_acts_for_a_person_through_the_api_after_login(airflow_stack, seeded_version, tmp_path):
    import json
    import stat
    import subprocess
    import sys

    from sqlalchemy import select

    from govflow.store import Approval, session_scope

    model, version = seeded_version
    token_file = tmp_path / "config" / "token.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVFLOW_", "AIRFLOW"))}
    env |= {"GOVFLOW_TOKEN_FILE": str(token_file)}  # no DB URL: the CLI only talks to Airflow

    def govflow(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "govflow", *args], input=stdin, capture_output=True, text=True, env=env
        )

    login = govflow(
        "login",
        "--user",
        "rob",
        "--url",
        airflow_stack.url,
        "--password-stdin",
        stdin=airflow_stack.users["rob"],
    )
    assert login.returncode == 0, login.stderr
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    answer = govflow(
        "approve", "--model", model, "--version", version, "--comment", "via the CLI", "--api", "--json"
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["approver"] == "rob"
    with session_scope() as s:
        mine = s.scalars(select(Approval).where(Approval.comment == "via the CLI")).all()
        assert [(a.approver, a.auth_method) for a in mine] == [("rob", "airflow")]
