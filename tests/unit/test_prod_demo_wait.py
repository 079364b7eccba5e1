"""prod-demo's wait: an api-server restart mid-wait is retried, a stack that never answers is one line."""

from __future__ import annotations

import pytest

from govflow.airflow_client import AirflowUnavailableError
from govflow.prodstack import demo


class FlakyAirflow:
    def __init__(self, outages: int):
        self.outages, self.calls = outages, 0

    def get_run(self, dag_id, run_id):
        self.calls += 1
        if self.calls <= self.outages:
            raise AirflowUnavailableError("cannot reach Airflow at http://127.0.0.1:8180 (ConnectError)")
        return {"state": "success", "dag_run_id": run_id}


def test_an_api_server_restart_does_not_end_the_wait(monkeypatch, capsys):
    monkeypatch.setattr(demo.time, "sleep", lambda s: None)
    admin = FlakyAirflow(outages=2)
    runs = demo.wait_for_runs(admin, {"r1"}, None, timeout=60, dag_id="nightly_compliance")
    assert runs == {"r1": {"state": "success", "dag_run_id": "r1"}}
    assert capsys.readouterr().out.count("retrying") == 2


def test_a_stack_that_stays_down_is_one_line_and_exit_1(monkeypatch, capsys, tmp_path):
    def down(argv):
        raise AirflowUnavailableError("cannot reach Airflow at http://127.0.0.1:8180 (ConnectError)")

    monkeypatch.setattr(demo, "_demo", down)
    assert demo.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("prod-demo: error: cannot reach Airflow") and err.count("\n") == 1
    assert "Traceback" not in err


def test_zero_models_is_a_usage_error(capsys):
    assert demo.main(["--models", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_the_wait_gives_up_after_its_timeout(monkeypatch):
    monkeypatch.setattr(demo.time, "sleep", lambda s: None)
    with pytest.raises(AirflowUnavailableError):
        demo.wait_for_runs(FlakyAirflow(outages=10**6), {"r1"}, None, timeout=0, dag_id="d")
