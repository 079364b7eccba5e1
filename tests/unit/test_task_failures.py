"""How govflow's errors end an Airflow task: final errors fail without retries, outages retry."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from govflow.airflow_client import AirflowUnavailableError
from govflow.errors import BadInputError, PermissionDeniedError
from govflow.service.signed_facts import UnsignedFactError
from govflow.storage import ObjectStoreError
from govflow.tasks.failures import require_upstream, task_outcome
from govflow.tasks.nightly import AuditChainBrokenError


@pytest.mark.parametrize(
    "error",
    [
        BadInputError("bad slug"),
        PermissionDeniedError("not a registrar"),
        UnsignedFactError("edited"),
        AuditChainBrokenError("event 7 rewritten"),  # a broken chain does not heal between retries
    ],
)
def test_a_final_error_fails_the_task_for_good_with_its_line(error):
    with pytest.raises(AirflowFailException, match=f"{type(error).__name__}: {error}"), task_outcome():
        raise error


@pytest.mark.parametrize(
    "error", [AirflowUnavailableError("api down"), ObjectStoreError("store down"), ConnectionError("db")]
)
def test_an_outage_is_raised_unchanged_so_airflow_retries_it(error):
    with pytest.raises(type(error)), task_outcome():
        raise error


def test_a_missing_upstream_value_fails_at_once():
    with pytest.raises(AirflowFailException, match="an upstream task failed"), task_outcome():
        require_upstream(None)
    with task_outcome():
        require_upstream({"model": "m"})


def test_the_retry_delay_is_the_dags_default_unless_the_deployment_sets_it(monkeypatch):
    from datetime import timedelta

    from govflow.config import task_retry_delay
    from govflow.errors import BadInputError

    monkeypatch.delenv("GOVFLOW_TASK_RETRY_DELAY_SECONDS", raising=False)
    assert task_retry_delay(30) == timedelta(seconds=30)
    monkeypatch.setenv("GOVFLOW_TASK_RETRY_DELAY_SECONDS", "5")
    assert task_retry_delay(30) == timedelta(seconds=5)
    monkeypatch.setenv("GOVFLOW_TASK_RETRY_DELAY_SECONDS", "soon")
    with pytest.raises(BadInputError, match="GOVFLOW_TASK_RETRY_DELAY_SECONDS must be"):
        task_retry_delay(30)
