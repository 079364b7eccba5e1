"""Two kinds of evidence: the gate's (pre-deployment, on the registered data) and monitoring's
(post-deployment, the nightly re-check on a production batch).

The kind follows from the run that recorded a result: results of the nightly DAG are monitoring,
everything else (the gate DAG, `govflow check`) is gate evidence. The gate decides on gate evidence
alone, so a nightly batch never replaces the evidence the approvers saw nor voids their approvals.
"""

from __future__ import annotations

from typing import Literal

from govflow.service.airflow_links import NIGHTLY_DAG

EvidenceKind = Literal["gate", "monitoring"]
MONITORING_DAGS: frozenset[str] = frozenset({NIGHTLY_DAG})
KIND_LABELS: dict[EvidenceKind, str] = {
    "gate": "gate evidence (pre-deployment, registered data)",
    "monitoring": "monitoring (post-deployment, production batch)",
}


def evidence_kind(dag_id: str) -> EvidenceKind:
    """The kind of a result recorded by a run of ``dag_id``."""
    return "monitoring" if dag_id in MONITORING_DAGS else "gate"


__all__ = ["KIND_LABELS", "MONITORING_DAGS", "EvidenceKind", "evidence_kind"]
