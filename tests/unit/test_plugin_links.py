"""The plugin's task-instance extra link leads from a governance DAG run back to the Governance view."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


def test_governance_runs_link_back_and_other_dags_get_no_link():
    pytest.importorskip("airflow")
    # The plugin lives in the package (its airflow.plugins entry point); plugins/ only re-exports it.
    from govflow import airflow_plugin as plugin

    link = plugin.GovernanceEvidenceLink()
    key = SimpleNamespace(dag_id="governance_gate", run_id="manual__2026-12-01T09:00:00+00:00")
    assert link.get_link(None, ti_key=key) == (
        "/governance/runs/governance_gate/manual__2026-12-01T09%3A00%3A00%2B00%3A00"
    )
    assert link.get_link(None, ti_key=SimpleNamespace(dag_id="etl", run_id="r")) == ""
    assert any(
        isinstance(x, plugin.GovernanceEvidenceLink) for x in plugin.GovflowPlugin.global_operator_extra_links
    )
