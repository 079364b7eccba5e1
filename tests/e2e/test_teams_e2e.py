"""Issue 27's "Done when" in a real Airflow 3.3.2 (PostgreSQL for both databases) and Chromium.

A hiring tool of the talent team (high tier, EU, sector employment) goes through the gate:

1. its two approval requests are assigned to reviewers covering the talent team only: carl (a
   reviewer of the card-fraud team) is no assignee, Airflow's own HITL API refuses his answer,
   and the Governance view neither lists, shows nor lets him approve the model (API and page),
   while his own team's model is there for him; tess (talent) sees hers and not his;
2. tess approves in the Governance view (her Required Action answered), a second covering
   reviewer through the API; the run promotes the version;
3. the fairness check's impact ratio (``summary.impact_ratio``, the lowest) and the hiring pack's
   published audit summary (selection rate per category) match a hand computation from the
   scored eval data; the version's packs are listed per article (the EU AI Act's, and the hiring
   audit's, which misses race/ethnicity and the intersection: the model audits sex alone);
4. each stakeholder's page: the auditor's (trail verified, the version listed; no DPO or admin
   page for them), the DPO's (PII per model), the data scientist's (their submissions only);
   masked PII examples only for the DPO;
5. the admin pastes a tightened policy (three approvals for the high tier) on the policy page:
   its impact lists the hiring tool approved -> pending approval before anything is applied;
   the admin applies it there; the version is flagged non-compliant since that policy, with a
   grace period, and its owner alerted. The bundled default is applied again at the end (the
   session's other tests decide under it).
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from govflow import data
from govflow.access import load_users
from govflow.errors import PermissionDeniedError
from govflow.service.policy_impact import NONCOMPLIANT_KEY
from tests.e2e._flow import GATE, submit_high_risk, wait_for_two_requests, wait_until, web
from tests.e2e.conftest import CARD_FRAUD, TALENT, govflow
from tests.e2e.test_governance_ui import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

MODEL, VERSION = "hiring-screen", "1.0"
OTHER = "card-fraud-score"  # the card-fraud team's model (registered only)
OWNER = "hana.hiring@corp.example"
TIGHTER = "2026.12.1-talent"  # the tightened policy's version


def test_team_scopes_packs_stakeholder_views_and_a_policy_change(
    airflow_stack,
    govflow_env,
    trained,
    browser,  # noqa: F811
):
    admin = airflow_stack.client("admin")
    admin.wait_for_dag(GATE, timeout=180)
    govflow(
        govflow_env,
        *("model", "register", "--name", OTHER, "--owner", "cf@corp.example", "--risk-tier", "minimal"),
        *("--team", CARD_FRAUD, "--json"),
    )
    run_id = submit_high_risk(
        govflow_env, trained, MODEL, VERSION, team=TALENT, sector="employment", owner=OWNER,
        use_case="ranks applicants for a recruiter's first screen",
    )  # fmt: skip
    wait_for_two_requests(admin, run_id)

    # 1. Requests go to reviewers covering the talent team; carl is refused by Airflow and the view.
    requests = admin.required_actions(GATE, run_id)
    assigned = {r["task_instance"]["map_index"]: {u["id"] for u in r["assigned_users"]} for r in requests}
    everyone = set().union(*assigned.values())
    assert "tess" in everyone and "carl" not in everyone, assigned
    roles = load_users(govflow_env["GOVFLOW_ROLES_FILE"])
    assert all(roles.get(name).covers(TALENT) for name in everyone), assigned
    carl_airflow = airflow_stack.client("carl")
    for index in assigned:
        with pytest.raises(PermissionDeniedError, match=r"HTTP 403: User=carl .* not a respondent"):
            carl_airflow.approve(GATE, run_id, "approval", map_index=index, comment="not my team")
    _carl_neither_sees_nor_approves(airflow_stack, browser)

    # 2. tess approves in the Governance view; a second covering reviewer through its API.
    tess_index = next(i for i, users in assigned.items() if "tess" in users)
    said = _approve_in_the_view(airflow_stack, browser, "tess")
    assert said.startswith("recorded: approve") and "answered Airflow's request" in said, said
    other_index = next(i for i in assigned if i != tess_index)
    second = sorted(assigned[other_index] - {"tess", "admin"})[0]
    with web(airflow_stack, second) as session:
        answer = session.post(
            f"/governance/api/models/{MODEL}/versions/{VERSION}/approvals",
            json={"verdict": "approve", "comment": f"{second}: evidence read"},
        )
    assert answer.status_code == 200, answer.text
    run = admin.wait_for_run(GATE, run_id, timeout=900, poll=2)
    assert run["state"] == "success", admin.task_instances(GATE, run_id)
    assert admin.xcom(GATE, run_id, "finish")["stage"] == "production"

    # 3. The impact ratio, by hand from the scored eval data; the packs per article.
    with web(airflow_stack, "tess") as session:
        detail = session.get(f"/governance/api/models/{MODEL}/versions/{VERSION}").json()
    fairness = next(c for c in detail["checks"] if c["check"] == "fairness" and c["kind"] == "gate")
    scored = pd.read_csv(trained["eval_data"])
    rates = (scored["prediction"] == trained["positive_label"]).groupby(scored["sex"]).mean()
    assert fairness["summary"]["impact_ratio"] == pytest.approx(rates.min() / rates.max(), abs=1e-9)
    packs = {p["id"]: p for p in detail["packs"]}
    assert {"eu-ai-act-high-risk", "hiring-bias-audit"} <= set(packs), sorted(packs)
    articles = {o["article"] for o in packs["eu-ai-act-high-risk"]["obligations"]}
    assert {"Art. 9", "Art. 10", "Art. 12", "Art. 14", "Art. 72"} <= articles, articles
    # The audit summary to publish holds the same numbers; sex alone does not cover the pack's categories.
    published = packs["hiring-bias-audit"]["published_summary"]
    assert published["impact_ratio"] == pytest.approx(rates.min() / rates.max(), abs=1e-9)
    shown = {c["category"]: c["selection_rate"] for c in published["categories"]}
    assert shown == pytest.approx(rates.to_dict(), abs=1e-9)
    audit = next(o for o in packs["hiring-bias-audit"]["obligations"] if o["id"] == "bias_audit")
    assert "intersectional categories (sex x race_ethnicity)" in audit["missing"], audit

    # 4. Each stakeholder's own pages; masked PII examples for the DPO only.
    _stakeholder_pages(airflow_stack, browser)

    # 5. A tightened policy: impact listed before, enforced after (flagged, owner alerted).
    try:
        _tightened_policy_impact_then_apply(airflow_stack, browser)
    finally:
        with web(airflow_stack, "admin") as session:
            restored = session.post(
                "/governance/api/policy", json={"text": data.default_policy().read_text()}
            )
        assert restored.status_code == 200, restored.text


def _carl_neither_sees_nor_approves(stack, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with web(stack, "carl") as carl, web(stack, "tess") as tess:
        mine = {m["name"] for m in carl.get("/governance/api/models").json()["models"]}
        assert OTHER in mine and MODEL not in mine, mine
        listed = {m["name"] for m in carl.get("/governance/api/portfolio").json()["models"]}
        assert OTHER in listed and MODEL not in listed, listed
        theirs = {m["name"] for m in tess.get("/governance/api/models").json()["models"]}
        assert MODEL in theirs and OTHER not in theirs, theirs
        for path in (f"/api/models/{MODEL}", f"/api/models/{MODEL}/versions/{VERSION}"):
            refused = carl.get(f"/governance{path}")
            assert refused.status_code == 403, (path, refused.status_code, refused.text[:200])
            assert "permission denied" in refused.json()["detail"]
        waiting = carl.get("/governance/api/approvals").json()
        assert all(i["model"] != MODEL for i in waiting["items"]), waiting["items"]
        assert all(a.get("model") != MODEL for a in waiting["other_required_actions"]), waiting
        tried = carl.post(
            f"/governance/api/models/{MODEL}/versions/{VERSION}/approvals",
            json={"verdict": "approve", "comment": "not my team"},
        )
        assert tried.status_code == 403, tried.text
        audit = tess.get(f"/governance/api/models/{MODEL}/versions/{VERSION}").json()
        assert not [a for a in audit["approvals"] if a["approver"] == "carl"], audit["approvals"]
    context = _signed_in(stack, browser, "carl")
    page = context.new_page()
    answer = page.goto(f"{stack.url}/governance/models/{MODEL}/versions/{VERSION}")
    assert answer is not None and answer.status == 403
    page.goto(f"{stack.url}/governance/")
    shown = page.locator("#portfolio").inner_text()
    assert OTHER in shown and MODEL not in shown
    context.close()


def _signed_in(stack, browser, user: str):  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context()
    context.add_cookies([{"name": "_token", "value": stack.client(user).token(), "url": stack.url}])
    return context


def _approve_in_the_view(stack, browser, reviewer: str) -> str:  # type: ignore[no-untyped-def]  # noqa: F811
    context = _signed_in(stack, browser, reviewer)
    page = context.new_page()
    page.goto(f"{stack.url}/governance/models/{MODEL}/versions/{VERSION}")
    page.fill("#comment", f"{reviewer}: selection rates and impact ratios read")
    page.get_by_role("button", name="Approve").click()
    said = page.locator("#review-result").filter(has_text="recorded:")
    said.wait_for(timeout=60_000)
    text = said.inner_text()
    context.close()
    return text


def _stakeholder_pages(stack, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    auditor = _signed_in(stack, browser, "audrey")
    page = auditor.new_page()
    assert page.goto(f"{stack.url}/governance/views/auditor").status == 200
    assert "intact" in page.locator("#chain").inner_text()
    row = page.locator("#audit-versions tbody tr").filter(has_text=f"{MODEL}@{VERSION}")
    assert TALENT in row.inner_text() and "approved" in row.inner_text()
    for path in ("/views/dpo", "/admin/policy"):
        assert page.goto(f"{stack.url}/governance{path}").status == 403, path
    auditor.close()

    dpo = _signed_in(stack, browser, "priya")
    page = dpo.new_page()
    assert page.goto(f"{stack.url}/governance/views/dpo").status == 200
    assert page.locator("#pii tbody tr").filter(has_text=f"{MODEL}@{VERSION}").count() == 1
    assert page.goto(f"{stack.url}/governance/views/auditor").status == 403
    dpo.close()

    # The data scientist's own page (the training job submits as the OS account: none are alice's).
    scientist = _signed_in(stack, browser, "alice")
    page = scientist.new_page()
    assert page.goto(f"{stack.url}/governance/views/data-scientist").status == 200
    assert page.locator("h1").inner_text() == "My submissions"
    assert f"{MODEL}@{VERSION}" not in page.locator("#submissions").inner_text()
    for path in ("/views/auditor", "/views/dpo", "/admin/policy"):
        assert page.goto(f"{stack.url}/governance{path}").status == 403, path
    scientist.close()

    # The DPO reads the PII findings with their masked examples; a reviewer the findings only.
    with web(stack, "priya") as priya, web(stack, "tess") as tess:
        seen = {
            who: next(
                c["view"]
                for c in session.get(f"/governance/api/models/{MODEL}/versions/{VERSION}").json()["checks"]
                if c["check"] == "pii" and c["kind"] == "gate"
            )
            for who, session in (("priya", priya), ("tess", tess))
        }
    found = [(c["column"], e["entity"]) for c in seen["priya"]["columns"] for e in c["entities"]]
    assert found == [(c["column"], e["entity"]) for c in seen["tess"]["columns"] for e in c["entities"]]
    assert seen["tess"]["examples_shown"] is False and seen["priya"]["examples_shown"] is True
    assert all(e.get("examples") is None for c in seen["tess"]["columns"] for e in c["entities"])
    assert all(isinstance(e["examples"], list) for c in seen["priya"]["columns"] for e in c["entities"])


def _tightened_policy_impact_then_apply(stack, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tightened = yaml.safe_load(data.default_policy().read_text())
    tightened["version"] = TIGHTER
    tightened["tiers"]["high"]["approvals"]["count"] = 3  # a third approval for high-risk systems
    text = yaml.safe_dump(tightened, sort_keys=False)
    context = _signed_in(stack, browser, "admin")
    page = context.new_page()
    assert page.goto(f"{stack.url}/governance/admin/policy").status == 200
    page.fill("#policy-text", text)
    page.get_by_role("button", name="Show impact").click()
    summary = page.locator("#impact-summary").filter(has_text="policy")
    summary.wait_for(timeout=60_000)
    assert summary.inner_text().startswith(f"policy {TIGHTER} would change"), summary.inner_text()
    row = page.locator("#impact-table tbody tr").filter(has_text=f"{MODEL}@{VERSION}")
    assert row.count() == 1, page.locator("#impact-table").inner_text()
    cells = row.locator("td").all_inner_texts()
    assert cells[1:4] == ["production", "approved", "pending_approval"], cells
    assert "newly approvals_missing" in cells[4], cells
    # Listed before, not applied: the version is still compliant, the active policy unchanged.
    with web(stack, "admin") as session:
        state = session.get("/governance/api/admin/policy").json()
        assert state["active"]["version"] != TIGHTER
        assert all(n["model"] != MODEL for n in state["non_compliant"]), state["non_compliant"]

    page.once("dialog", lambda dialog: dialog.accept())  # "Apply policy ...?" confirmation
    page.get_by_role("button", name="Apply this policy").click()
    page.locator("#apply-result").filter(has_text="applied").wait_for(timeout=60_000)
    page.reload()
    assert TIGHTER in page.locator("#active-policy").inner_text()
    flagged = page.locator("#non-compliant tbody tr").filter(has_text=f"{MODEL}@{VERSION}")
    assert flagged.count() == 1 and OWNER in flagged.inner_text()
    context.close()

    with web(stack, "admin") as session:
        state = session.get("/governance/api/admin/policy").json()
        mine = next(n for n in state["non_compliant"] if n["model"] == MODEL)
        assert mine["since_policy"] == TIGHTER and mine["grace_until"], mine

        def alerted() -> bool:
            alerts = session.get("/governance/api/alerts", params={"model": MODEL}).json()["problems"]
            return any(
                p["problem"] == NONCOMPLIANT_KEY
                and TIGHTER in p["message"]
                and any(OWNER in c["recipients"] for c in p["channels"])
                for p in alerts
            )

        wait_until(alerted, f"an alert to {OWNER} about policy {TIGHTER}", timeout=60)
