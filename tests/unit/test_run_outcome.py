"""A rejected gate run is not all green: the final task fails with the decision and top reasons."""

from __future__ import annotations

import pytest

from govflow.tasks.outcome import run_note, verdict

REJECTED = {
    "model": "credit-risk",
    "version": "1.0",
    "decision": "rejected",
    "reasons": ["fairness failed", "pii failed", "drift failed", "documentation missing"],
}


def test_a_rejection_fails_the_final_task_with_its_top_reasons(monkeypatch):
    monkeypatch.delenv("GOVFLOW_FAIL_REJECTED_RUNS", raising=False)  # default: on
    failure = verdict(REJECTED)
    assert failure is not None
    assert failure.startswith(
        "govflow: credit-risk@1.0 rejected: fairness failed; pii failed; drift failed (+1 more)"
    )
    assert "GOVFLOW_FAIL_REJECTED_RUNS=0" in failure


@pytest.mark.parametrize("off", ["0", "false", "off", "No"])
def test_the_setting_turns_it_off(monkeypatch, off):
    monkeypatch.setenv("GOVFLOW_FAIL_REJECTED_RUNS", off)
    assert verdict(REJECTED) is None


@pytest.mark.parametrize("decision", ["approved", "pending_approval"])
def test_approved_and_pending_runs_end_green(decision):
    assert verdict(REJECTED | {"decision": decision, "reasons": []}, fail_rejected=True) is None
    assert (
        run_note(REJECTED | {"decision": decision, "reasons": []})
        == f"govflow: credit-risk@1.0 {decision.replace('_', ' ')}"
    )


def test_the_run_note_is_patched_over_rest_with_the_decision():
    import httpx

    from govflow.airflow_client import AirflowClient

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"note": "ok"})

    client = AirflowClient("http://airflow", "admin", "x", transport=httpx.MockTransport(handler))
    client._token = "t"  # no token round trip in a unit test
    client.set_run_note("governance_gate", "manual__1", run_note(REJECTED))
    (request,) = seen
    assert request.method == "PATCH" and request.url.path == "/api/v2/dags/governance_gate/dagRuns/manual__1"
    assert request.url.params["update_mask"] == "note"
    assert b"credit-risk@1.0 rejected: fairness failed" in request.content
