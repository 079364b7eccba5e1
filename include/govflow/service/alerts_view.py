"""The alerts page: open alerts, one row per problem, with each channel's delivery.

A problem is delivered once per configured channel and stored once per channel (service.alerts), so
"4 open alerts" can be 2 problems x 2 channels: grouped here by (model, version, problem key), oldest
first, with the channels and their delivery status side by side. Messages lose machine paths
(govflow.machine_paths) and are cut at a word boundary for the table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.access import User
from govflow.machine_paths import file_names_only
from govflow.service import team_scope
from govflow.store import Alert, Model, ModelVersion

MESSAGE_CHARS = 400


def alerts_view(session: Session, *, model: str | None = None, viewer: User | None = None) -> dict[str, Any]:
    """``{"open": N stored alerts, "problems": [...]}``; each problem lists its channels' deliveries."""
    query = (
        select(Alert, Model.name, ModelVersion.version)
        .outerjoin(Model, Alert.model_id == Model.id)
        .outerjoin(ModelVersion, Alert.version_id == ModelVersion.id)
        .where(Alert.resolved_at.is_(None), team_scope.visible(viewer))  # scoped: their models' only
        .order_by(Alert.id)
    )
    if model is not None:
        query = query.where(Model.name == model)
    problems: dict[tuple[str | None, str | None, str], dict[str, Any]] = {}
    count = 0
    for alert, model_name, version in session.execute(query):
        count += 1
        key = (model_name, version, alert.problem_key)
        problem = problems.get(key)
        if problem is None:
            problem = problems[key] = {
                "model": model_name,
                "version": version,
                "problem": alert.problem_key,
                "severity": alert.severity,
                "message": _short(file_names_only(alert.message)),
                "raised_at": alert.raised_at.isoformat(timespec="seconds"),
                "channels": [],
            }
        problem["channels"].append(
            {
                "channel": alert.channel,
                "delivery": alert.delivery_status,
                "recipients": [r.get("contact") for r in alert.recipients if isinstance(r, dict)],
            }
        )
    return {"open": count, "problems": list(problems.values())}


def _short(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MESSAGE_CHARS:
        return text
    return text[:MESSAGE_CHARS].rsplit(" ", 1)[0] + " …"
