"""Who may start a governance_gate run that registers a version, and who answers its approval requests.

Before, a reviewer without the data-scientist role registered and submitted a version by
triggering governance_gate with a conf naming files (the triggering user's role was never
checked), and every approval request of a run went to every reviewer, so one reviewer could
answer both (counted once: the run then never finished approved).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from govflow.errors import PermissionDeniedError
from govflow.service import registry
from govflow.service.run_roles import reviewer_groups
from govflow.store import ModelVersion, session_scope
from govflow.tasks.gate import approval_requests, eligible_reviewers, resolve

RUN = {"dag_id": "governance_gate", "run_id": "manual__1", "trigger_kind": "rest"}


@pytest.fixture
def high_model(db_url):
    with session_scope() as s:
        registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
    return db_url


def _conf(sample_files):
    return {
        "model": "credit-risk",
        "version": "2.0",
        "artifact": str(sample_files["artifact"]),
        "training_data": str(sample_files["training"]),
    }


@pytest.mark.parametrize("who", ["rita", "vera", None])  # a reviewer, a viewer, nobody (no triggering user)
def test_a_conf_naming_files_needs_a_registrar_as_triggering_user(high_model, sample_files, who):
    with pytest.raises(PermissionDeniedError, match="data_scientist") as raised:
        resolve(RUN, _conf(sample_files), triggering_user=who)
    assert "\n" not in str(raised.value)
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []


def test_a_data_scientist_still_registers_by_triggering(high_model, sample_files):
    ref = resolve(RUN, _conf(sample_files), triggering_user="dave")
    assert ref["submitted_by"] == "dave"


def test_a_conf_naming_only_the_version_needs_no_role(high_model, sample_files):
    with session_scope() as s:
        registry.register_version(
            s,
            model="credit-risk",
            version="2.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
    ref = resolve(RUN, {"model": "credit-risk", "version": "2.0"}, triggering_user="rita")
    assert ref["submitted_by"] == "alice"


def test_each_approval_request_goes_to_distinct_reviewers(high_model, sample_files):
    with session_scope() as s:
        registry.register_version(
            s,
            model="credit-risk",
            version="2.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )
    ref = {"model": "credit-risk", "version": "2.0", "tier": "high", "run": RUN, "submitted_by": "alice"}
    decision = {
        "decision": "pending_approval",
        "approvals": {"required": 2, "approved_by": []},
        "evidence_digest": "0" * 64,
        "policy_version": "1",
        "reasons": [],
        "notes": [],
    }
    requests = approval_requests(ref, decision)
    assert len(requests) == 2
    assigned = [{u["name"] for u in r["assigned_users"]} for r in requests]
    assert all(assigned) and not (assigned[0] & assigned[1])  # nobody can answer both
    assert assigned[0] | assigned[1] == set(eligible_reviewers(ref)) >= {"rita", "rob"}


def test_reviewer_groups_deal_everyone_once():
    assert reviewer_groups(["rob", "rita", "ann", "rob"], 2) == [["ann", "rita"], ["rob"]]
    assert reviewer_groups(["admin", "rita", "rob"], 2) == [["admin", "rita"], ["rob"]]
    assert reviewer_groups(["rita"], 2) == [["rita"]]  # too few: one request, the run stays pending
    assert reviewer_groups([], 2) == []


# --- versions registered from an asset event ---------------------------------------------------


@pytest.fixture
def source_runs(monkeypatch):
    """Who triggered each run that emits asset events (Airflow's REST API in a real run)."""
    from govflow.service import run_roles

    runs = {("train", "by_dave"): "dave", ("train", "by_rob"): "rob"}
    monkeypatch.setattr(run_roles, "_airflow_source_user", lambda dag_id, run_id: runs.get((dag_id, run_id)))
    return run_roles.SOURCE_RUN


def _event(sample_files, source):
    return _conf(sample_files) | {"submitted_by": "dave", source[0]: source[1]}


ASSET_RUN = RUN | {"run_id": "asset_triggered__1", "trigger_kind": "asset"}


def test_an_asset_event_registers_as_the_person_who_triggered_its_run(high_model, sample_files, source_runs):
    ref = resolve(ASSET_RUN, {}, [_event(sample_files, (source_runs, ["train", "by_dave"]))])
    assert ref["submitted_by"] == "dave"
    with session_scope() as s:
        assert registry.get_version(s, "credit-risk", "2.0").created_by == "dave"


@pytest.mark.parametrize(
    "source",
    [
        ["train", "by_rob"],  # a reviewer's run: rob may not register (and would approve his own model)
        [None, None],  # posted through the REST API: Airflow names nobody
        ["train", "scheduled"],  # no triggering user
    ],
)
def test_an_asset_event_nobody_or_a_reviewer_stands_behind_registers_nothing(
    high_model, sample_files, source_runs, source
):
    with pytest.raises(PermissionDeniedError, match="permission denied"):
        resolve(ASSET_RUN, {}, [_event(sample_files, (source_runs, source))])
    with session_scope() as s:
        assert s.scalars(select(ModelVersion)).all() == []
