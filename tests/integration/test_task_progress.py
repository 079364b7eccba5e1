"""In an Airflow task, a check's progress goes to the task log (a line per interval and one per
finished stage), not to a terminal."""

from __future__ import annotations

import logging

from govflow.cli import main
from govflow.progress import NO_PROGRESS, current
from govflow.tasks import gate as gate_tasks


def test_the_gate_check_task_logs_its_progress(db_url, sample_files, capsys, caplog):
    assert (
        main(
            ["model", "register", "--name", "m1", "--owner", "Ana", "--risk-tier", "minimal", "--as", "alice"]
        )
        == 0
    )
    argv = ["version", "register", "--model", "m1", "--version", "1.0", "--as", "alice"]
    argv += ["--artifact", str(sample_files["artifact"]), "--training-data", str(sample_files["training"])]
    assert main(argv) == 0
    capsys.readouterr()
    ref = {
        "model": "m1",
        "version": "1.0",
        "tier": "minimal",
        "run": {"dag_id": "governance_gate", "run_id": "r1"},
    }
    with caplog.at_level(logging.INFO, logger="govflow.progress"):
        result = gate_tasks.check(ref, "pii")
    assert result["status"] in ("pass", "warn")
    lines = [r.getMessage() for r in caplog.records if r.name == "govflow.progress"]
    assert any(line.startswith("done pii: scanning train.csv: 2 rows, 100%") for line in lines), lines
    assert any(line.startswith("done pii: Presidio on the sampled candidates") for line in lines), lines
    assert current() is NO_PROGRESS  # the task's reporter is gone when the task body returns
