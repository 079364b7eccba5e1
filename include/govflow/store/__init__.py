"""The governance metadata database: models, sessions, migrations, audit trail."""

from govflow.store import guards as _guards  # noqa: F401  (registers the ORM guards)
from govflow.store import seals as _seals  # noqa: F401  (seals the trail after governance commits)
from govflow.store._db import (
    current_revision,
    dispose_engines,
    downgrade_schema,
    get_engine,
    head_revision,
    make_engine,
    redact_url,
    session_scope,
    table_names,
    upgrade_schema,
)
from govflow.store._models import (
    Alert,
    Approval,
    AuditEvent,
    Base,
    CheckResultRow,
    Document,
    GateDecision,
    Model,
    ModelVersion,
    MonitoredPartition,
    Policy,
    Run,
    Waiver,
    WebhookDelivery,
    utcnow,
)

# The vocabulary lives in govflow.vocab; re-exported here for callers not yet switched to it.
from govflow.vocab import DECISIONS, RISK_TIERS, STAGES

__all__ = [
    "DECISIONS",
    "RISK_TIERS",
    "STAGES",
    "Alert",
    "Approval",
    "AuditEvent",
    "Base",
    "CheckResultRow",
    "Document",
    "GateDecision",
    "Model",
    "ModelVersion",
    "MonitoredPartition",
    "Policy",
    "Run",
    "Waiver",
    "WebhookDelivery",
    "current_revision",
    "dispose_engines",
    "downgrade_schema",
    "get_engine",
    "head_revision",
    "make_engine",
    "redact_url",
    "session_scope",
    "table_names",
    "upgrade_schema",
    "utcnow",
]
