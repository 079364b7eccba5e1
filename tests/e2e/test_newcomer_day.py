"""A newcomer's day in a real Airflow 3.3.2, in Debian's headless Chromium (issue 31's "Done when").

The training job submits two versions of one high-risk model with ``govflow submit --trigger``
over REST: the plain sample model (fairness fails: rejected, its run ends red with the decision in
the run note) and the fairness-mitigated one (every check passes: two reviewers are asked). Rita
and rob approve in the Governance view, each in their own browser session; the run goes on by
itself and promotes the version; then nightly_compliance re-checks it on its production batches.

After every step one helper reads the version's state from the five places a person or a script
reads it (portfolio page, model page, version page, JSON API, ``govflow version show --json``)
and asserts they say the same; no page or API answer shows a machine path; and the API docs
(Swagger UI) render with every request served by the stack itself (other hosts are blocked).
Screenshots land in tests/e2e/screenshots/ (not committed). The README's blocks in a fresh shell
are tests/integration/test_readme_commands.py and test_readme_demo.py.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e._airflow import REPO
from tests.e2e._flow import GATE, wait_until, web
from tests.e2e.conftest import govflow
from tests.e2e.test_governance_ui import browser  # noqa: F401  (fixture)
from tests.e2e.test_operator_day import SHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

MODEL = "newcomer-day"
FAILING, PASSING = "1.0", "1.1"
NIGHTLY = "nightly_compliance"
# An absolute path into a machine's folders, not preceded by what makes it part of a URL or a
# relative path (host:port/..., a/b/..., ./...).
MACHINE_PATH = re.compile(r"(?<![\w.:/~-])/(?:tmp|work|root|home|var|usr|opt|srv|mnt|Users|private)/\S")


@pytest.fixture
def plain(tmp_path):
    """The sample model without fairness mitigation: the high tier's fairness check fails it."""
    sys.path.insert(0, str(REPO / "include" / "sample"))
    try:
        from train_model import train
    finally:
        sys.path.pop(0)
    return train(tmp_path / "plain", mitigate=False, batches=1)


def _register(env, batches: str) -> None:  # type: ignore[no-untyped-def]
    govflow(
        env,
        *("model", "register", "--name", MODEL, "--owner", "olga.owner@bank.example", "--risk-tier", "high"),
        *("--team", "Retail credit analytics", "--use-case", "pre-sorts credit applications"),
        *("--goal", "shorter queues", "--stakeholder", "Dana Privacy:dpo:dana.dpo@bank.example"),
        *("--region", "EU", "--sector", "finance", "--data-protection-notes", "no direct identifiers"),
        *("--batches", batches, "--json"),
    )


def _submit(env, trained: dict[str, Any], version: str) -> str:  # type: ignore[no-untyped-def]
    """`govflow submit --trigger` (the training job's one call); the gate run's id."""
    submitted = govflow(
        env,
        *("submit", "--model", MODEL, "--version", version, "--artifact", trained["artifact"]),
        *("--training-data", trained["training_data"], "--reference-data", trained["reference_data"]),
        *("--eval-data", trained["eval_data"], "--suite", trained["suite"], "--notes", trained["notes"]),
        *("--code-version", "git:abc1234", "--framework", "scikit-learn"),
        *("--params", json.dumps(trained["params"]), "--metrics", json.dumps(trained["metrics"])),
        *("--label", "income", "--prediction", "prediction", "--score", "score"),
        *("--positive-label", ">50K", "--sensitive", "sex", "--trigger", "--json"),
    )
    return str(submitted["run_id"])


class Day:
    """The views one step is checked in: a reviewer's browser, their API session, the CLI."""

    def __init__(self, stack, browser, env, machine_roots: Iterable[str]):  # type: ignore[no-untyped-def]  # noqa: F811
        self.stack, self.env, self.base = stack, env, f"{stack.url}/governance"
        self.roots = sorted({r.rstrip("/") for r in machine_roots if r and r.startswith("/")}, key=len)
        self.context = browser.new_context()
        self.context.add_cookies(
            [{"name": "_token", "value": stack.client("rita").token(), "url": stack.url}]
        )
        self.page = self.context.new_page()
        self.api = web(stack, "rita")
        self.leaks: set[str] = set()

    def close(self) -> None:
        self.api.close()
        self.context.close()

    # --- no machine path anywhere a person or a client reads -----------------------------------
    def no_machine_path(self, where: str, text: str) -> None:
        """Collects each machine path shown (with some context); ``clean`` asserts there is none."""
        spans = [m.span() for m in MACHINE_PATH.finditer(text)]
        spans += [(i, i + len(root)) for root in self.roots if (i := text.find(root)) >= 0]
        for start, end in spans:
            self.leaks.add(f"{where}: ...{text[max(0, start - 60) : end + 40]}...")

    def clean(self) -> None:
        leaks, self.leaks = sorted(self.leaks), set()
        assert not leaks, f"{len(leaks)} machine path(s) shown:\n" + "\n".join(leaks[:20])

    def _get_json(self, path: str) -> Any:
        answer = self.api.get(f"/governance{path}")
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
        self.no_machine_path(f"GET {path}", answer.text)
        return answer.json()

    def _open(self, path: str) -> None:
        answer = self.page.goto(f"{self.base}{path}")
        assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
        self.no_machine_path(f"page {path}", self.page.content())

    # --- the five views of one version ---------------------------------------------------------
    def states(self, versions: Iterable[str], *, whole_model: bool) -> dict[str, dict[str, dict[str, Any]]]:
        """Per version, what each view says: state, label, stage (the portfolio: what it can say)."""
        out: dict[str, dict[str, dict[str, Any]]] = {v: {} for v in versions}
        portfolio_api = self._get_json("/api/portfolio")
        row = next(m for m in portfolio_api["models"] if m["name"] == MODEL)
        self._open("/")
        tr = self.page.locator("#portfolio tbody tr").filter(
            has=self.page.get_by_role("link", name=MODEL, exact=True)
        )
        versions_cell = tr.locator("td").nth(3)
        page_row = {
            "state": tr.get_attribute("data-state"),
            # "1.1 / 1.2" (production / newest), or "— / 1.2" without a production version.
            "production_version": None
            if versions_cell.inner_text().strip().startswith("—")
            else versions_cell.locator("a").first.inner_text(),
            "pending_approvals": int(tr.locator("td").nth(5).inner_text()),
            "nightly": tr.locator("td").nth(6).inner_text(),
        }
        assert page_row["state"] == row["state"], (page_row, row)
        assert page_row["production_version"] == row["production_version"], (page_row, row)
        if whole_model:  # else another version's run may change the count between the two reads
            assert page_row["pending_approvals"] == row["pending_approvals"], (page_row, row)
        self._open(f"/models/{MODEL}")
        model_api = self._get_json(f"/api/models/{MODEL}")
        for version in out:
            views = out[version]
            detail = self._get_json(f"/api/models/{MODEL}/versions/{version}")
            views["api"] = {
                "state": detail["state"]["state"],
                "label": detail["state"]["label"],
                "stage": detail["stage"],
            }
            shown = govflow(self.env, "version", "show", "--model", MODEL, "--version", version, "--json")
            views["cli"] = {
                "state": shown["state"]["state"],
                "label": shown["state"]["label"],
                "stage": shown["stage"],
            }
            listed = next(v for v in model_api["versions"] if v["version"] == version)
            views["model api"] = {
                "state": listed["state"]["state"],
                "label": listed["state"]["label"],
                "stage": listed["stage"],
            }
        self._open(f"/models/{MODEL}")
        for version in out:
            tr = self.page.locator("#versions tbody tr").filter(
                has=self.page.get_by_role("link", name=version, exact=True)
            )
            badge = tr.locator("td.state .badge")
            out[version]["model page"] = {
                "state": (badge.get_attribute("class") or "").split()[-1],
                "label": badge.inner_text().strip(),
                "stage": tr.locator("td").nth(1).inner_text().strip(),
            }
        for version in out:
            self._open(f"/models/{MODEL}/versions/{version}")
            badge = self.page.locator("#state .badge")
            out[version]["version page"] = {
                "state": (badge.get_attribute("class") or "").split()[-1],
                "label": badge.inner_text().strip(),
                "stage": self.page.locator("#stage").inner_text().removeprefix("stage: ").strip(),
            }
            # The portfolio speaks of the production version only; of the others, that they are not.
            prod = row["production_version"] == version
            out[version]["portfolio"] = {"production": prod, "state": row["state"] if prod else None}
        out[""] = {"portfolio": page_row | {"pending": row["pending_approvals"]}}
        return out

    def agree(self, expected: dict[str, str], *, whole_model: bool = True) -> dict[str, Any]:
        """The five views agree on each version's state, and it is the ``expected`` one.

        ``whole_model``: every version of the model is settled, so the portfolio's per-model counts
        can be checked too (not while another version's run is still moving).
        """
        seen = self.states(expected, whole_model=whole_model)
        portfolio = seen.pop("")["portfolio"]
        for version, views in seen.items():
            one = views.pop("api")
            for name in ("cli", "model api", "model page", "version page"):
                assert views[name] == one, f"{MODEL}@{version}: {name} says {views[name]}, the API {one}"
            assert one["state"] == expected[version], (
                f"{MODEL}@{version}: {one}, expected {expected[version]}"
            )
            in_production = one["stage"] == "production"
            assert views["portfolio"]["production"] == in_production, (version, views["portfolio"], one)
            if in_production:
                assert views["portfolio"]["state"] == one["state"], (version, views["portfolio"], one)
        if whole_model:
            pending = sum(s == "pending_approval" for s in expected.values())
            assert portfolio["pending"] == pending, (portfolio, expected)
            if not any(s in ("compliant", "non_compliant") for s in expected.values()):
                assert portfolio["state"] == "no_production", portfolio
        return portfolio

    # --- the rest of what a person reads on the way ------------------------------------------------
    def other_pages_clean(self) -> None:
        for path in ("/approvals", "/alerts"):
            self._open(path)
        for path in ("/api/approvals", "/api/alerts", f"/api/models/{MODEL}/diff?a={FAILING}&b={PASSING}"):
            self._get_json(path)
        self._open(f"/models/{MODEL}/diff?a={FAILING}&b={PASSING}")

    def docs_render_offline(self) -> None:
        """Swagger UI renders the API's operations with every request answered by the stack itself."""
        own = urlsplit(self.stack.url).netloc
        elsewhere: list[str] = []
        failed: list[str] = []

        def only_here(route) -> None:  # type: ignore[no-untyped-def]
            url = route.request.url
            if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own:
                elsewhere.append(url)
                route.abort()
            else:
                route.continue_()

        context = self.context.browser.new_context()
        context.add_cookies(
            [{"name": "_token", "value": self.stack.client("rita").token(), "url": self.stack.url}]
        )
        context.route("**/*", only_here)
        page = context.new_page()
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{self.base}/docs")
        page.locator("#swagger-ui .opblock").first.wait_for(timeout=60_000)
        operations = page.locator("#swagger-ui .opblock-summary-path").all_inner_texts()
        assert any("/api/portfolio" in o for o in operations), operations
        assert elsewhere == [] and failed == [], (elsewhere, failed)
        self.no_machine_path(
            "GET /openapi.json", page.evaluate("async () => (await fetch('./openapi.json')).text()")
        )
        context.close()

    def step(self, expected: dict[str, str], *, whole_model: bool = True, shots=()) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        """After a step of the day: the five views agree, the other pages and the API docs are
        fine, nothing shows a machine path; screenshots of ``shots`` ((path, name) pairs)."""
        portfolio = self.agree(expected, whole_model=whole_model)
        self.other_pages_clean()
        self.docs_render_offline()
        for path, name in shots:
            self.shot(path, name)
        self.clean()
        return portfolio

    def shot(self, path: str, name: str) -> None:
        self.page.goto(f"{self.base}{path}")
        SHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"newcomer-{name}.png"), full_page=True)
        # The top of the page as the README shows it (docs/governance-*.png come from these).
        top = {"x": 0, "y": 0, "width": 1280, "height": 1500}
        self.page.screenshot(path=str(SHOTS / f"newcomer-{name}-top.png"), full_page=True, clip=top)


def _task_states(admin, run_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {t["task_id"]: t["state"] for t in admin.task_instances(GATE, run_id)}


def _approve_in_the_view(stack, browser, reviewer: str, version: str) -> str:  # type: ignore[no-untyped-def]  # noqa: F811
    context = browser.new_context()
    context.add_cookies([{"name": "_token", "value": stack.client(reviewer).token(), "url": stack.url}])
    page = context.new_page()
    page.goto(f"{stack.url}/governance/models/{MODEL}/versions/{version}")
    page.fill("#comment", f"{reviewer}: evidence read in the Governance view")
    page.get_by_role("button", name="Approve").click()
    said = page.locator("#review-result").filter(has_text="answered Airflow's request")
    said.wait_for(timeout=60_000)
    text = said.inner_text()
    context.close()
    return text


def test_a_newcomers_day_every_view_agrees(
    airflow_stack,
    govflow_env,
    govflow_e2e,
    trained,
    plain,
    browser,  # noqa: F811
):
    admin = airflow_stack.client("admin")
    admin.wait_for_dag(GATE, timeout=180)
    admin.wait_for_dag(NIGHTLY, timeout=180)
    roots = [str(REPO), str(Path(trained["artifact"]).parent), str(Path(plain["artifact"]).parent)]
    roots += [str(airflow_stack.home), govflow_e2e["GOVFLOW_HOME"]]
    day = Day(airflow_stack, browser, govflow_env, roots)
    try:
        day.docs_render_offline()

        # The training job: the model once, then a failing and a passing version, each with --trigger.
        _register(govflow_env, trained["batches"])
        failing_run = _submit(govflow_env, plain, FAILING)
        passing_run = _submit(govflow_env, trained, PASSING)

        # The failing version: rejected, and the run says so (red, the decision in its note).
        run = admin.wait_for_run(GATE, failing_run, timeout=900, poll=2)
        tasks = _task_states(admin, failing_run)
        assert run["state"] == "failed", tasks
        assert tasks["verdict"] == "failed", tasks
        assert (run.get("note") or "").startswith(f"govflow: {MODEL}@{FAILING} rejected: "), run.get("note")
        assert "fairness" in run["note"], run["note"]
        day.no_machine_path("the failing run's note", run["note"])
        # The passing run is still moving: the portfolio's per-model counts are not checked yet.
        day.step(
            {FAILING: "rejected"},
            whole_model=False,
            shots=[(f"/models/{MODEL}/versions/{FAILING}", "rejected")],
        )

        # The passing version waits for its two reviewers.
        def asked() -> bool:
            if len(admin.required_actions(GATE, passing_run)) == 2:
                return True
            state = admin.get_run(GATE, passing_run)["state"]
            assert state not in ("success", "failed"), _task_states(admin, passing_run)
            return False

        wait_until(asked, "two approval requests", timeout=900)
        day.step({FAILING: "rejected", PASSING: "pending_approval"}, shots=[("/", "portfolio-pending")])

        # Rita and rob approve in the Governance view; the run continues by itself and promotes.
        said = [_approve_in_the_view(airflow_stack, browser, who, PASSING) for who in ("rita", "rob")]
        assert all(s.startswith("recorded: approve") for s in said), said
        run = admin.wait_for_run(GATE, passing_run, timeout=900, poll=2)
        assert run["state"] == "success", _task_states(admin, passing_run)
        assert (run.get("note") or "").startswith(f"govflow: {MODEL}@{PASSING} approved"), run.get("note")
        outcome = admin.xcom(GATE, passing_run, "finish")
        assert (outcome["decision"], outcome["stage"]) == ("approved", "production"), outcome
        promoted = [(f"/models/{MODEL}/versions/{PASSING}", "promoted")]
        portfolio = day.step({FAILING: "rejected", PASSING: "compliant"}, shots=promoted)
        assert portfolio["production_version"] == PASSING

        # Nightly: the production version is re-checked on its batches; every view still agrees.
        nightly = admin.trigger(NIGHTLY, {})
        final = admin.wait_for_run(NIGHTLY, nightly["dag_run_id"], timeout=900, poll=2)
        assert final["state"] == "success", final
        shots = [("/", "portfolio-after-nightly"), (f"/models/{MODEL}/versions/{PASSING}", "after-nightly")]
        portfolio = day.step({FAILING: "rejected", PASSING: "compliant"}, shots=shots)
        assert portfolio["nightly"].endswith("success"), portfolio  # Airflow finished it: not "running"
        detail = day._get_json(f"/api/models/{MODEL}/versions/{PASSING}")
        kinds = {c["kind"] for c in detail["checks"]}
        assert {"gate", "monitoring"} <= kinds, kinds  # both kinds shown, each labelled
        day.clean()
    finally:
        day.close()
