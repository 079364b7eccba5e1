"""Registry use cases: models, versions and their stage moves, each audited in its transaction."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from govflow.artifacts import is_remote, sha256_uri, uri_is_file
from govflow.errors import BadInputError, ConflictError, NotFoundError
from govflow.hashing import sha256_file
from govflow.policy import Policy, load_policy
from govflow.service.model_artifacts import ingest_artifact
from govflow.store import RISK_TIERS, STAGES, Model, ModelVersion, utcnow
from govflow.store.audit import append_event
from govflow.timeutil import iso_utc

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")

# Legal stage moves. Reaching production is the gate's job (service.gate.promote),
# which calls `promote_to_production`; `transition_stage` refuses it.
TRANSITIONS: dict[str, frozenset[str]] = {
    "candidate": frozenset({"staging", "production", "rejected", "archived"}),
    "staging": frozenset({"production", "rejected", "archived"}),
    "production": frozenset({"archived"}),
    "archived": frozenset({"staging"}),  # a rollback goes through staging and the gate again
    "rejected": frozenset(),
}

ERR_SLUG = "invalid model name {name!r}: use a slug of lowercase letters, digits and '-' (1-64 chars)"
ERR_TIER = "unknown risk tier {tier!r}: choose one of " + ", ".join(RISK_TIERS)
ERR_STAKEHOLDER = 'invalid stakeholder {text!r}: use "name:role:contact"'


@dataclass(frozen=True)
class Stakeholder:
    name: str
    role: str
    contact: str

    @classmethod
    def parse(cls, text: str) -> Stakeholder:
        parts = [p.strip() for p in text.split(":", 2)]
        if len(parts) != 3 or not all(parts):
            raise BadInputError(ERR_STAKEHOLDER.format(text=text))
        return cls(*parts)

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "contact": self.contact}


def parse_json_object(text: str | None, *, what: str) -> dict[str, Any]:
    """Parse a JSON object given on the command line (params, metrics)."""
    if text is None or text == "":
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInputError(f"malformed JSON for {what}: {err.msg} at position {err.pos}") from err
    if not isinstance(value, dict):
        raise BadInputError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def register_model(
    session: Session,
    *,
    name: str,
    owner: str,
    risk_tier: str,
    actor: str,
    team: str | None = None,
    use_case: str | None = None,
    business_goals: Sequence[str] = (),
    stakeholders: Sequence[Stakeholder | str] = (),
    regions: Sequence[str] = (),
    sector: str | None = None,
    data_protection_notes: str | None = None,
    batches_uri: str | None = None,
) -> Model:
    if not SLUG_RE.match(name or ""):
        raise BadInputError(ERR_SLUG.format(name=name))
    if risk_tier not in RISK_TIERS:
        raise BadInputError(ERR_TIER.format(tier=risk_tier))
    if not (owner or "").strip():
        raise BadInputError("a model needs an owner")
    parsed = [s if isinstance(s, Stakeholder) else Stakeholder.parse(s) for s in stakeholders]
    if session.scalar(select(Model.id).where(Model.name == name)) is not None:
        raise ConflictError(f"model {name!r} is already registered")
    model = Model(
        name=name,
        owner=owner.strip(),
        team=(team or "").strip() or None,
        use_case=use_case,
        business_goals=list(business_goals),
        stakeholders=[s.to_dict() for s in parsed],
        risk_tier=risk_tier,
        regions=sorted(set(regions)),
        sector=sector,
        data_protection_notes=data_protection_notes,
        batches_uri=batches_uri,
        created_by=actor,
    )
    session.add(model)
    session.flush()
    append_event(
        session, actor=actor, action="model.registered", subject=f"model:{name}", payload=model_to_dict(model)
    )
    return model


@dataclass(frozen=True)
class _FileRef:
    uri: str
    sha256: str


def _file_ref(path: str | Path | None, *, what: str, required: bool) -> _FileRef | None:
    if path is None or str(path) == "":
        if required:
            raise BadInputError(f"{what} is required")
        return None
    if is_remote(path):  # object storage: the URI is kept, the bytes are hashed as they stream by
        if not uri_is_file(path):
            raise BadInputError(f"{what} not found: {path}")
        return _FileRef(uri=str(path), sha256=sha256_uri(path))
    p = Path(path).expanduser()
    if not p.is_file():
        raise BadInputError(f"{what} not found: {p}")
    return _FileRef(uri=str(p.resolve()), sha256=sha256_file(p))


def register_version(
    session: Session,
    *,
    model: str,
    version: str,
    artifact: str | Path,
    training_data: str | Path,
    actor: str,
    reference_data: str | Path | None = None,
    eval_data: str | Path | None = None,
    code_version: str | None = None,
    framework: str | None = None,
    params: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    policy: Policy | None = None,
) -> ModelVersion:
    """Register a version: govflow hashes the files itself; everything but the stage is then fixed."""
    if not VERSION_RE.match(version or ""):
        raise BadInputError(f"invalid version {version!r}: use letters, digits and . _ + - (1-64 chars)")
    owner = get_model(session, model)
    # The governed bytes: copied into the artifact store (format checked against the tier's policy).
    stored = ingest_artifact(artifact, policy=policy or load_policy(), tier=owner.risk_tier)
    artifact_ref = _FileRef(uri=stored.uri, sha256=stored.sha256)
    training_ref = _file_ref(training_data, what="training data", required=True)
    reference_ref = _file_ref(reference_data, what="reference data", required=False)
    eval_ref = _file_ref(eval_data, what="eval data", required=False)
    if (
        session.scalar(
            select(ModelVersion.id).where(ModelVersion.model_id == owner.id, ModelVersion.version == version)
        )
        is not None
    ):
        raise ConflictError(f"version {version!r} of model {model!r} is already registered")
    assert training_ref is not None  # required=True: _file_ref raised otherwise
    row = ModelVersion(
        model_id=owner.id,
        version=version,
        artifact_uri=artifact_ref.uri,
        artifact_sha256=artifact_ref.sha256,
        training_data_uri=training_ref.uri,
        training_data_sha256=training_ref.sha256,
        reference_data_uri=reference_ref.uri if reference_ref else None,
        reference_data_sha256=reference_ref.sha256 if reference_ref else None,
        eval_data_uri=eval_ref.uri if eval_ref else None,
        eval_data_sha256=eval_ref.sha256 if eval_ref else None,
        code_version=code_version,
        framework=framework or _guess_framework(artifact_ref.uri),
        params=dict(params or {}),
        metrics=dict(metrics or {}),
        created_by=actor,
        stage="candidate",
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="version.registered",
        subject=version_subject(model, version),
        payload=version_to_dict(row, model_name=model),
    )
    return row


def find_or_register_version(
    session: Session,
    *,
    model: str,
    version: str,
    actor: str,
    artifact: str | Path | None = None,
    training_data: str | Path | None = None,
    **fields: Any,
) -> tuple[ModelVersion, bool]:
    """The one rule for a submitted version (``govflow submit``, a gate run's conf or asset event).

    (row, registered): a version registered before is found, so a retried training
    job or a re-triggered run governs the same version, but an artifact whose bytes
    differ from the registered one is refused (a new model needs a new version). A
    version not registered yet is registered from the files given (``fields`` are
    ``register_version``'s other arguments); without an artifact and training data
    it is unknown.
    """
    try:
        existing = get_version(session, model, version)
    except NotFoundError:
        if not artifact or not training_data:
            raise
        row = register_version(
            session,
            model=model,
            version=version,
            artifact=artifact,
            training_data=training_data,
            actor=actor,
            **fields,
        )
        return row, True
    if artifact and (not uri_is_file(str(artifact)) or existing.artifact_sha256 != sha256_uri(str(artifact))):
        raise BadInputError(
            f"version {version!r} of model {model!r} is already registered "
            "with a different artifact: give the new model a new version"
        )
    return existing, False


def _guess_framework(artifact_uri: str) -> str | None:
    suffix = Path(artifact_uri).suffix.lower()
    return {".joblib": "scikit-learn", ".skops": "scikit-learn", ".pkl": None, ".onnx": "onnx"}.get(suffix)


def version_subject(model: str, version: str) -> str:
    return f"version:{model}@{version}"


def get_model(session: Session, name: str) -> Model:
    model = session.scalar(select(Model).where(Model.name == name))
    if model is None:
        raise NotFoundError(f"unknown model {name!r}")
    return model


def get_version(session: Session, model: str, version: str) -> ModelVersion:
    row = session.scalar(
        select(ModelVersion).join(Model).where(Model.name == model, ModelVersion.version == version)
    )
    if row is None:
        get_model(session, model)  # names the model when that is what is missing
        raise NotFoundError(f"unknown version {version!r} of model {model!r}")
    return row


def list_models(session: Session) -> list[Model]:
    return list(session.scalars(select(Model).order_by(Model.name)))


def list_versions(
    session: Session, model: str | None = None, *, stage: str | None = None
) -> list[ModelVersion]:
    # Each row's model comes with it (the join is there anyway), not one query per row later.
    query = (
        select(ModelVersion)
        .join(Model)
        .options(contains_eager(ModelVersion.model))
        .order_by(Model.name, ModelVersion.id)
    )
    if model is not None:
        get_model(session, model)
        query = query.where(Model.name == model)
    if stage is not None:
        query = query.where(ModelVersion.stage == stage)
    return list(session.scalars(query))


def production_version(session: Session, model: str) -> ModelVersion | None:
    return session.scalar(
        select(ModelVersion).join(Model).where(Model.name == model, ModelVersion.stage == "production")
    )


def transition_stage(
    session: Session, *, model: str, version: str, to: str, actor: str, reason: str | None = None
) -> ModelVersion:
    """Move a version along a legal, non-production transition (staging, rejected, archived)."""
    if to == "production":
        raise ConflictError("promotion to production goes through the gate: use `govflow promote`")
    row = get_version(session, model, version)
    return _move(session, row, model=model, to=to, actor=actor, reason=reason)


def lock_model(session: Session, model: str) -> Model:
    """Take the model's row lock for the rest of the transaction (stage moves serialise on it).

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: every govflow transaction already
    holds the database write lock (BEGIN IMMEDIATE, store._db), so the plain read is enough.
    Rows read earlier in the session are re-read, so the caller sees the winner's commit.
    """
    locked = session.scalar(
        select(Model).where(Model.name == model).with_for_update().execution_options(populate_existing=True)
    )
    if locked is None:
        raise NotFoundError(f"unknown model {model!r}")
    return locked


_UNCHECKED: Any = object()


def promote_to_production(
    session: Session,
    *,
    model: str,
    version: str,
    actor: str,
    decision_id: int,
    expected_current: str | None = _UNCHECKED,
) -> ModelVersion:
    """Make ``version`` the model's one production version, archiving the previous one.

    Only the gate service calls this, after checking that ``decision_id`` approves it.
    Under the model's row lock, the production version must still be
    ``expected_current`` (what the caller decided against): a concurrent promotion
    that won makes this one fail instead of silently superseding it. The partial
    unique index (one production row per model) backs the lock up in the database.
    """
    lock_model(session, model)
    row = session.scalar(
        select(ModelVersion)
        .join(Model)
        .where(Model.name == model, ModelVersion.version == version)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFoundError(f"unknown version {model}@{version}")
    if "production" not in TRANSITIONS[row.stage]:
        raise ConflictError(f"{model}@{version} is {row.stage}: it cannot move to production")
    current = session.scalar(
        select(ModelVersion)
        .join(Model)
        .where(Model.name == model, ModelVersion.stage == "production")
        .execution_options(populate_existing=True)
    )
    current_label = current.version if current else None
    if expected_current is not _UNCHECKED and current_label != expected_current:
        raise ConflictError(
            f"{model}: the production version changed during this promotion "
            f"(expected {expected_current or 'none'}, now {current_label or 'none'}); "
            "another promotion won: check `govflow version list` and promote again if still wanted"
        )
    if current is not None and current.id != row.id:
        _move(
            session,
            current,
            model=model,
            to="archived",
            actor=actor,
            reason=f"superseded by {version}",
            extra={"superseded_by": version},
        )
    return _move(
        session,
        row,
        model=model,
        to="production",
        actor=actor,
        reason=None,
        extra={"decision_id": decision_id, "previous": current.version if current else None},
    )


def _move(
    session: Session,
    row: ModelVersion,
    *,
    model: str,
    to: str,
    actor: str,
    reason: str | None,
    extra: dict[str, Any] | None = None,
) -> ModelVersion:
    if to not in STAGES:
        raise BadInputError(f"unknown stage {to!r}: choose one of {', '.join(STAGES)}")
    if to not in TRANSITIONS[row.stage]:
        raise ConflictError(f"illegal stage move for {model}@{row.version}: {row.stage} -> {to}")
    previous = row.stage
    row.stage = to
    row.stage_changed_at = utcnow()
    session.flush()
    append_event(
        session,
        actor=actor,
        action="version.stage_changed",
        subject=version_subject(model, row.version),
        payload={"from": previous, "to": to, "reason": reason, **(extra or {})},
    )
    return row


def model_to_dict(model: Model) -> dict[str, Any]:
    return {
        "name": model.name,
        "owner": model.owner,
        "team": model.team,
        "stakeholders": model.stakeholders,
        "use_case": model.use_case,
        "business_goals": model.business_goals,
        "risk_tier": model.risk_tier,
        "regions": model.regions,
        "sector": model.sector,
        "data_protection_notes": model.data_protection_notes,
        "batches_uri": model.batches_uri,
        "created_by": model.created_by,
        "created_at": iso_utc(model.created_at),
    }


def version_to_dict(row: ModelVersion, *, model_name: str | None = None) -> dict[str, Any]:
    return {
        "model": model_name or row.model.name,
        "version": row.version,
        "stage": row.stage,
        "artifact_uri": row.artifact_uri,
        "artifact_sha256": row.artifact_sha256,
        "training_data_uri": row.training_data_uri,
        "training_data_sha256": row.training_data_sha256,
        "reference_data_uri": row.reference_data_uri,
        "reference_data_sha256": row.reference_data_sha256,
        "eval_data_uri": row.eval_data_uri,
        "eval_data_sha256": row.eval_data_sha256,
        "code_version": row.code_version,
        "framework": row.framework,
        "params": row.params,
        "metrics": row.metrics,
        "created_by": row.created_by,
        "created_at": iso_utc(row.created_at),
    }
