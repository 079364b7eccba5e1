"""governance_gate under Airflow's dag.test(): a conf naming files registers nothing unless a
data scientist triggered the run (before, anyone who could trigger the DAG submitted a version:
the run registered the files as the triggering user, whatever their role)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from govflow.demo import run_dag
from govflow.service import registry
from govflow.store import ModelVersion, session_scope
from tests.integration import conftest as integration

# The Airflow home (migrated once per module) and governance DB fixtures of the dag.test() tests.
airflow_home, sqlite_db = integration.airflow_home, integration.sqlite_db

pytestmark = pytest.mark.slow


def test_triggering_the_gate_with_files_needs_the_registrar_role(
    sqlite_db,
    airflow_home,
    sample_files,
    tmp_path,
):
    with session_scope() as s:
        registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
    conf = {
        "model": "credit-risk",
        "version": "9.9",
        "artifact": str(sample_files["artifact"]),
        "training_data": str(sample_files["training"]),
    }
    env = {**airflow_home, "GOVFLOW_HOME": os.environ["GOVFLOW_HOME"], "GOVFLOW_DB_URL": sqlite_db}
    run_dag("governance_gate", conf, tmp_path, env=env)
    # dag.test() runs as Airflow's "dag_test" user: not a govflow registrar, so resolve refuses.
    log = (tmp_path / "governance_gate.log").read_text()
    refused = [line for line in log.splitlines() if line.startswith("govflow.errors.PermissionDeniedError")]
    assert refused and "dag_test" in refused[-1], log[-3000:]
    # A user's mistake fails resolve and the all_done tasks after it at once, never retried.
    assert "new_state=failed" in log and "up_for_retry" not in log, log[-3000:]
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []
