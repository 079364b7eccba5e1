"""ORM-level guards: registered version fields never change once written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event, inspect
from sqlalchemy.orm import Mapper

from govflow.errors import ConflictError
from govflow.store._models import AuditEvent, Model, ModelVersion

_MODEL_IMMUTABLE = ("name", "created_by", "created_at")


def _changed(target: object, fields: tuple[str, ...]) -> list[str]:
    state = inspect(target)
    return [name for name in fields if state.attrs[name].history.has_changes()]


@event.listens_for(ModelVersion, "before_update")
def _freeze_version(_mapper: Mapper[Any], _connection: Connection, target: ModelVersion) -> None:
    changed = _changed(target, ModelVersion.IMMUTABLE_FIELDS)
    if changed:
        raise ConflictError(f"registered fields of a model version are immutable: {', '.join(changed)}")


@event.listens_for(Model, "before_update")
def _freeze_model(_mapper: Mapper[Any], _connection: Connection, target: Model) -> None:
    changed = _changed(target, _MODEL_IMMUTABLE)
    if changed:
        raise ConflictError(f"model identity fields are immutable: {', '.join(changed)}")


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(_mapper: Mapper[Any], _connection: Connection, _target: AuditEvent) -> None:
    raise ConflictError("audit events are append-only")
