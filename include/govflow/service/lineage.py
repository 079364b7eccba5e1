"""The lineage of a gate outcome: what the decision read and wrote, sent as an OpenLineage event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govflow import lineage
from govflow.service.checks import latest_check_results
from govflow.store import GateDecision, ModelVersion
from govflow.timeutil import iso_utc

__all__ = ["emit_gate_lineage", "gate_lineage_event"]


def gate_lineage_event(
    session: Session, row: ModelVersion, run: dict[str, Any], decision: GateDecision
) -> Any:
    inputs = [lineage.LineageDataset("artifact", row.artifact_uri, row.artifact_sha256)]
    for role in ("training_data", "reference_data", "eval_data"):
        uri = getattr(row, f"{role}_uri")
        if uri:
            inputs.append(lineage.LineageDataset(role, uri, getattr(row, f"{role}_sha256")))
    if row.model.batches_uri:
        inputs.append(lineage.LineageDataset("batch_data", row.model.batches_uri))
    outputs = [
        lineage.LineageDataset(f"evidence:{r.check}", r.evidence_uri, r.evidence_sha256)
        for r in latest_check_results(session, row.id).values()
        if r.evidence_uri
    ]
    name = f"govflow/{row.model.name}/{row.version}/decisions/{decision.id}"
    outputs.append(
        lineage.LineageDataset("gate_decision", f"govflow://decisions/{name}", decision.evidence_digest)
    )
    return lineage.gate_event(
        namespace=lineage.namespace(),
        run=run,
        model_version={
            "model": row.model.name,
            "version": row.version,
            "stage": row.stage,
            "decision": decision.decision,
            "decision_id": decision.id,
            "policy_sha256": decision.policy_sha256,
        },
        inputs=inputs,
        outputs=outputs,
        event_time=iso_utc(decision.decided_at) or "",
    )


def emit_gate_lineage(
    session: Session, row: ModelVersion, run: dict[str, Any], decision: GateDecision
) -> bool:
    """Emit the gate outcome's lineage (False when OpenLineage is not configured or failed)."""
    try:
        event = gate_lineage_event(session, row, run, decision)
    except ImportError:  # the provider is an optional part of a deployment
        return False
    return lineage.emit(event)
