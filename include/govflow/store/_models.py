"""Typed SQLAlchemy 2 models of the governance metadata database.

Changes to these go with an Alembic migration in ``migrations/versions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: DateTime(timezone=True),
    }


class Model(Base):
    __tablename__ = "models"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    stakeholders: Mapped[list[Any]] = mapped_column(default=list)  # [{name, role, contact}]
    use_case: Mapped[str | None] = mapped_column(Text)
    business_goals: Mapped[list[Any]] = mapped_column(default=list)
    risk_tier: Mapped[str] = mapped_column(String(16))
    regions: Mapped[list[Any]] = mapped_column(default=list)
    sector: Mapped[str | None] = mapped_column(String(100))
    data_protection_notes: Mapped[str | None] = mapped_column(Text)
    # Where new production data batches land (folder or fsspec URL), for nightly re-checks.
    batches_uri: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[ModelVersion]] = relationship(back_populates="model", order_by="ModelVersion.id")


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("model_id", "version"),
        # One production version per model, enforced by the database itself.
        Index(
            "uq_model_versions_one_production",
            "model_id",
            unique=True,
            sqlite_where=sql_text("stage = 'production'"),
            postgresql_where=sql_text("stage = 'production'"),
        ),
    )

    # Everything but `stage` is fixed at registration (enforced in store.guards).
    IMMUTABLE_FIELDS = (
        "model_id",
        "version",
        "artifact_uri",
        "artifact_sha256",
        "training_data_uri",
        "training_data_sha256",
        "reference_data_uri",
        "reference_data_sha256",
        "eval_data_uri",
        "eval_data_sha256",
        "code_version",
        "framework",
        "params",
        "metrics",
        "created_by",
        "created_at",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    artifact_uri: Mapped[str] = mapped_column(Text)
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    training_data_uri: Mapped[str] = mapped_column(Text)
    training_data_sha256: Mapped[str] = mapped_column(String(64))
    reference_data_uri: Mapped[str | None] = mapped_column(Text)
    reference_data_sha256: Mapped[str | None] = mapped_column(String(64))
    eval_data_uri: Mapped[str | None] = mapped_column(Text)
    eval_data_sha256: Mapped[str | None] = mapped_column(String(64))
    code_version: Mapped[str | None] = mapped_column(String(200))
    framework: Mapped[str | None] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    stage: Mapped[str] = mapped_column(String(16), default="candidate")
    stage_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    model: Mapped[Model] = relationship(back_populates="versions")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("dag_id", "run_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dag_id: Mapped[str] = mapped_column(String(250))
    run_id: Mapped[str] = mapped_column(String(250))
    trigger_kind: Mapped[str] = mapped_column(String(32))  # rest|asset|ui|schedule|cli|manual
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    # The Airflow DAG version (and bundle version) the run executed: evidence names what produced it.
    dag_version: Mapped[dict[str, Any] | None]


class CheckResultRow(Base):
    __tablename__ = "check_results"
    # A retried task finds its own row instead of adding one.
    __table_args__ = (UniqueConstraint("run_id", "version_id", "check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    check: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(8))
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    evidence_uri: Mapped[str | None] = mapped_column(Text)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    # The hash of the data the check actually read: the gate compares it with the registered one.
    data_sha256: Mapped[str | None] = mapped_column(String(64))
    policy_sha256: Mapped[str | None] = mapped_column(String(64))
    library_versions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GateDecision(Base):
    __tablename__ = "gate_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    target_stage: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(20))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    policy_sha256: Mapped[str] = mapped_column(String(64))
    policy_version: Mapped[str | None] = mapped_column(String(64))
    evidence_ids: Mapped[list[Any]] = mapped_column(default=list)
    evidence_digest: Mapped[str | None] = mapped_column(String(64))
    # Everything the pure gate function saw, so the decision can be replayed.
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    documents: Mapped[list[Any]] = mapped_column(default=list)  # [{kind, format, uri, sha256}]
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("gate_decisions.id"))
    approver: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    verdict: Mapped[str] = mapped_column(String(16))  # approve|reject
    comment: Mapped[str | None] = mapped_column(Text)
    evidence_digest: Mapped[str] = mapped_column(String(64))
    # How the approver was authenticated (the policy decides which methods count); NULL on old rows.
    auth_method: Mapped[str | None] = mapped_column(String(32))
    # Answers collected from Airflow: the pipeline run that asked and the Required Action
    # ("<dag_id>/<run_id>/<task_id>/<map_index>/<try_number>"), unique so an answer is recorded once.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    required_action: Mapped[str | None] = mapped_column(String(400), unique=True)
    # The teams the approver's roles covered when they gave it (signed); NULL: every team.
    scope_teams: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Waiver(Base):
    __tablename__ = "waivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    check: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    waived_by: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    evidence_digest: Mapped[str | None] = mapped_column(String(64))
    # The failed result this waiver accepts: a re-run of the check (a new result) is not waived.
    check_result_id: Mapped[int | None] = mapped_column(ForeignKey("check_results.id"))
    auth_method: Mapped[str | None] = mapped_column(String(32))
    # As on approvals: the waiver's giver's team scope (signed); NULL: every team.
    scope_teams: Mapped[list[Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # model_card|annex_iv
    format: Mapped[str] = mapped_column(String(8))  # md|html
    uri: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    completeness: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only, hash-chained. ``ts`` and ``payload`` are stored as the exact
    strings that were hashed, so verification never depends on DB type round-trips."""

    __tablename__ = "audit_events"
    # The newest event of an action (the active policy's policy.applied) without a walk of the trail.
    __table_args__ = (Index("ix_audit_events_action_seq", "action", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How the actor was authenticated; NULL on rows written before it was recorded.
    auth_method: Mapped[str | None] = mapped_column(String(32))
    # Signature over ``hash`` with a key kept outside this database (see govflow.signing).
    signature: Mapped[str | None] = mapped_column(String(256))
    key_id: Mapped[str | None] = mapped_column(String(64))


class Policy(Base):
    """The policy the gate decides with: stored by ``govflow policy apply`` (audited).
    At most one row is active; the gate refuses a policy file whose sha256 differs."""

    __tablename__ = "policies"
    __table_args__ = (
        Index(
            "uq_policies_one_active",
            "active",
            unique=True,
            sqlite_where=sql_text("active"),
            postgresql_where=sql_text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    applied_by: Mapped[str] = mapped_column(String(200))
    applied_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_problem_open", "problem_key", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("models.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id"))
    # Identifies "the same open problem" so nightly runs don't re-alert it.
    problem_key: Mapped[str] = mapped_column(String(300))
    severity: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    message: Mapped[str] = mapped_column(Text)
    delivery_status: Mapped[str] = mapped_column(String(16), default="pending")
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]


class WebhookDelivery(Base):
    """A webhook delivery govflow acted on (or is acting on): claimed under a unique key before
    anything is registered or triggered, so one delivery starts one run across processes and
    workers, and a replay to another worker finds the claim and is refused."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32))  # "mlflow"
    delivery_id: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="acting")  # acting|done
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    run_id: Mapped[str | None] = mapped_column(String(250))


class MonitoredPartition(Base):
    """A partition of a model's monitoring source that a nightly run claimed for a stage
    (``predictions``: drift and PII when it lands; ``labels``: fairness and performance once its
    labels arrived). Claimed once: a retry of the run finds its claims, a later run skips them."""

    __tablename__ = "monitored_partitions"
    __table_args__ = (
        UniqueConstraint("model_id", "source", "stage", "partition"),
        Index("ix_monitored_partitions_run", "run_id", "model_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    source: Mapped[str] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(16))
    partition: Mapped[str] = mapped_column(String(200))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    rows: Mapped[int | None]
    labeled_rows: Mapped[int | None]
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
