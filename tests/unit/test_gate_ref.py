"""GateRef: what governance_gate's tasks pass on, typed, and the dict it travels as through XCom."""

from __future__ import annotations

import json

from govflow.service.runs import RunRef
from govflow.tasks.gate import GateRef

REF = GateRef(
    model="credit-risk",
    version="1.0",
    tier="high",
    run=RunRef(dag_id="governance_gate", run_id="manual__1", trigger_kind="rest"),
    submitted_by="alice",
)


def test_a_gate_ref_travels_as_json_and_comes_back_equal():
    travelled = json.loads(json.dumps(REF.to_dict()))
    assert travelled == {
        "model": "credit-risk",
        "version": "1.0",
        "tier": "high",
        "run": {
            "dag_id": "governance_gate",
            "run_id": "manual__1",
            "trigger_kind": "rest",
            "dag_version": None,
        },
        "submitted_by": "alice",
        "team": None,
        "sector": None,
        "regions": [],
    }
    assert GateRef.of(travelled) == REF
    assert GateRef.of(REF) is REF


def test_a_ref_without_a_submitter_reads_as_none():
    plain = {k: v for k, v in REF.to_dict().items() if k != "submitted_by"}
    assert GateRef.of(plain).submitted_by is None
    assert isinstance(GateRef.of(plain).run, RunRef)
