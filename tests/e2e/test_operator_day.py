"""The operator's day in the Governance view, in a real Airflow, driven by Debian's headless Chromium.

Rita (a reviewer) signs in through Airflow, finds a non-compliant model on the portfolio, reads its
fairness table, follows the link into the Airflow run, approves a pending version from "My
approvals" and sees its state change. Vera (a viewer) gets no form; dana (unknown to govflow) gets
403. axe-core (vendored, MPL-2.0) checks every page for serious accessibility violations.
Screenshots land in tests/e2e/screenshots/ (not committed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_governance_ui import CHROMIUM_ARGS, _files, browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

SHOTS = Path(__file__).parent / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
NONCOMPLIANT, PENDING = ("ui-portfolio", "1.0"), ("ui-pending", "2.0")
GATE_RUN = "ui-day-seed"


@pytest.fixture
def day(monkeypatch, govflow_e2e):
    from govflow.service import registry
    from govflow.store import dispose_engines, session_scope

    for key, value in govflow_e2e.items():
        monkeypatch.setenv(key, value)
    dispose_engines()
    with session_scope() as s:
        seeded = any(m.name == NONCOMPLIANT[0] for m in registry.list_models(s))
    if not seeded:
        _seed()
    yield
    dispose_engines()


def _seed() -> None:
    from govflow.checks import CheckResult
    from govflow.policy import load_policy
    from govflow.service import gate, registry
    from govflow.service.checks import record_check_result
    from govflow.service.runs import ensure_run
    from govflow.store import session_scope

    files = _files()
    fairness = CheckResult(
        check="fairness",
        status="fail",
        summary={"demographic_parity_difference": 0.31},
        details={
            "by_group": {
                "female": {"count": 120, "selection_rate": 0.21},
                "male": {"count": 130, "selection_rate": 0.52},
            },
            "sensitive_features": ["sex"],
        },
    )
    with session_scope() as s:
        run = ensure_run(s, dag_id="governance_gate", run_id=GATE_RUN, trigger_kind="test")
        registry.register_model(s, name=NONCOMPLIANT[0], owner="Olga Owner", risk_tier="high", actor="alice")
        prod = registry.register_version(
            s, model=NONCOMPLIANT[0], version=NONCOMPLIANT[1], artifact=files["artifact"],
            training_data=files["training"], actor="alice",
        )  # fmt: skip
        prod.stage = "production"  # seeded directly: promotion is the gate tests' business
        for result in (fairness, CheckResult(check="drift", status="pass", summary={"share_drifted": 0.0})):
            record_check_result(
                s, version=prod, run=run, data_sha256=prod.training_data_sha256, result=result
            )
        challenger = registry.register_version(
            s, model=NONCOMPLIANT[0], version="1.1", artifact=files["artifact"],
            training_data=files["training"], actor="alice",
        )  # fmt: skip
        record_check_result(
            s, version=challenger, run=run, data_sha256=challenger.training_data_sha256,
            result=CheckResult(check="drift", status="warn", summary={"share_drifted": 0.2}),
        )  # fmt: skip
        registry.register_model(s, name=PENDING[0], owner="Olga Owner", risk_tier="limited", actor="alice")
        pending = registry.register_version(
            s, model=PENDING[0], version=PENDING[1], artifact=files["artifact"],
            training_data=files["training"], actor="alice",
        )  # fmt: skip
        for check in ("validation", "pii", "drift", "documentation"):
            data = None if check == "documentation" else pending.training_data_sha256
            record_check_result(
                s, version=pending, run=run, data_sha256=data, result=CheckResult(check=check, status="pass")
            )
    with session_scope() as s:  # the real gate: all checks pass, one reviewer's approval missing
        decided = gate.evaluate_gate(s, *PENDING, "airflow", auth_method="system", policy=load_policy())
        assert decided.decision == "pending_approval"


def _as(browser, stack, user: str):  # noqa: F811
    context = browser.new_context()
    # The same cookie Airflow's own login sets for its UI.
    context.add_cookies([{"name": "_token", "value": stack.client(user).token(), "url": stack.url}])
    return context, context.new_page()


def _axe(page) -> None:
    """No serious or critical axe-core violation (contrast, labels, names, structure)."""
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}x, e.g. {v['nodes'][0]['target']})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, "\n".join(bad)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_operators_day(airflow_stack, day, browser):  # noqa: F811
    base = f"{airflow_stack.url}/governance"
    context, page = _as(browser, airflow_stack, "rita")

    # Start of the day: the portfolio, reached from Airflow's navigation.
    page.goto(f"{airflow_stack.url}/", wait_until="networkidle")
    page.get_by_text("Governance").first.wait_for(timeout=60_000)
    page.goto(f"{base}/")
    page.keyboard.press("Tab")  # keyboard first: the skip link, then the navigation
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    row = page.locator("#portfolio tr", has_text=NONCOMPLIANT[0])
    assert row.get_attribute("data-state") == "non_compliant"
    assert (
        "Non-compliant" in row.inner_text() and "fairness: fail" in row.inner_text()
    )  # text, not colour only
    _axe(page)
    _shot(page, "portfolio")

    # Filter by state with the keyboard-reachable, labelled form.
    page.get_by_label("State").select_option("non_compliant")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**state=non_compliant**")
    assert page.locator("#portfolio tbody tr").count() >= 1
    assert page.locator("#portfolio tr[data-state=compliant]").count() == 0

    # Open it and read the fairness table.
    page.locator("#portfolio tr", has_text=NONCOMPLIANT[0]).get_by_role("link", name=NONCOMPLIANT[1]).click()
    page.wait_for_selector("#fairness-groups")
    groups = page.locator("#fairness-groups").inner_text()
    assert "female" in groups and "0.210" in groups and "0.520" in groups
    assert page.locator("#check-fairness svg title").first.text_content() == "selection rate per group"
    _axe(page)
    _shot(page, "version")

    # Compare it with the challenger (the model page's labelled compare form).
    page.goto(f"{base}/models/{NONCOMPLIANT[0]}")
    page.get_by_label("Compare").select_option(NONCOMPLIANT[1])
    page.get_by_label("with").select_option("1.1")
    page.get_by_role("button", name="Compare evidence").click()
    page.wait_for_url("**/diff?**")
    assert "female · selection_rate" in page.inner_text("main")
    _axe(page)
    _shot(page, "diff")
    page.go_back()
    page.go_back()

    # Follow the link into Airflow's run.
    page.locator("#airflow-run").click()
    page.wait_for_url(f"**/dags/governance_gate/runs/{GATE_RUN}**", timeout=30_000)
    page.get_by_text("governance_gate").first.wait_for(timeout=60_000)

    # My approvals: approve the pending version, and it no longer waits.
    page.goto(f"{base}/approvals")
    form = page.locator("form.review", has_text=f"{PENDING[0]}@{PENDING[1]}")
    # Airflow's Required Actions were read from Airflow's own DB (none open for a seeded decision).
    assert "none open" in page.locator("#pending").inner_text()
    assert "cannot read Airflow's Required Actions" not in airflow_stack.log_tail("api-server", 400)
    _axe(page)
    _shot(page, "my-approvals")
    form.get_by_label(f"Review comment for {PENDING[0]}@{PENDING[1]}").fill("all checks pass; approved")
    form.get_by_role("button", name="Approve").click()
    # The answer, then the page reloads (the approve call re-decides: limited needs one approval).
    form.locator(".review-result").filter(has_text="recorded: approve (gate now: approved)").wait_for(
        timeout=30_000
    )
    page.goto(f"{base}/approvals")
    assert page.locator("form.review", has_text=f"{PENDING[0]}@{PENDING[1]}").count() == 0
    page.goto(f"{base}/models/{PENDING[0]}/versions/{PENDING[1]}")
    assert "all checks pass; approved" in page.locator("#approvals").inner_text()
    context.close()


def test_viewer_sees_no_form_and_strangers_get_403(airflow_stack, day, browser):  # noqa: F811
    base = f"{airflow_stack.url}/governance"
    context, page = _as(browser, airflow_stack, "vera")
    page.goto(f"{base}/models/{PENDING[0]}/versions/{PENDING[1]}")
    page.wait_for_selector("#checks")
    assert page.locator("form.review").count() == 0
    page.goto(f"{base}/approvals")
    assert page.locator("form.review").count() == 0 and "no reviewer role" in page.inner_text("main")
    context.close()

    context, page = _as(browser, airflow_stack, "dana")
    answer = page.goto(f"{base}/")
    assert answer is not None and answer.status == 403
    context.close()
