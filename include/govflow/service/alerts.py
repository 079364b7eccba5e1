"""Raising alerts: record, deduplicate and deliver them, once per problem (a state change: audited).

Each problem is routed by the model's owner, stakeholders and its severity
(``alerts.route``), recorded in the ``alerts`` table (one row per channel, with
its recipients), then sent through the channels whose connections exist. An
open alert for the same problem and channel is not raised again (so a nightly
problem alerts once, not every night) if a signed ``alert.raised`` event
recorded it; it closes when a later run no longer reports it
(``resolve_prefix``), and a new occurrence after that alerts again. Retrying a
task re-sends only what was not delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.alerts import Channel, Message, Problem, Recipient, default_channels, route
from govflow.errors import NotFoundError
from govflow.service.fact_rows import signed_events
from govflow.service.registry import get_model, get_version
from govflow.signing import Keyring
from govflow.store import Alert, AuditEvent, Model, session_scope, utcnow
from govflow.store.audit import append_event

__all__ = ["FINAL_STATES", "open_alerts", "raise_alerts", "raised_before"]

# Delivery states that end an alert's delivery (a retry does not send it again).
FINAL_STATES = ("sent", "unconfigured", "no_recipients")


def raise_alerts(
    model: str,
    problems: Iterable[Problem],
    *,
    actor: str,
    version: str | None = None,
    resolve_prefix: str | None = None,
    settles: Callable[[str], bool] | None = None,
    channels: Sequence[Channel] | None = None,
    db_url: str | None = None,
) -> list[dict[str, Any]]:
    """Record, deduplicate and deliver alerts for ``model``; returns one dict per alert row touched.

    ``resolve_prefix``: open alerts whose key starts with it and that are not among ``problems``
    are resolved (fixed). ``settles``: open alerts whose key it accepts are resolved too, the ones
    raised now included (a notice that needs no action, or one a newer fact superseded)."""
    channels = list(channels) if channels is not None else default_channels()
    problems = list(problems)
    current = {p.key for p in problems}
    # Looking up connections imports Airflow: only when there is something to send.
    ready = {channel.name: channel.configured() for channel in channels} if problems else {}
    with session_scope(db_url) as session:
        rows = _record(session, model, problems, version=version, actor=actor, channels=channels, ready=ready)
        if resolve_prefix is not None:
            _resolve(
                session, model, lambda key: key.startswith(resolve_prefix) and key not in current, actor=actor
            )
        if settles is not None:
            _resolve(session, model, settles, actor=actor)
        todo = [(row.id, row.channel) for row in rows if row.delivery_status not in FINAL_STATES]
        report = {row.id: _row_dict(row) for row in rows}
    by_name = {channel.name: channel for channel in channels}
    for alert_id, channel_name in todo:
        report[alert_id] = _deliver(alert_id, by_name[channel_name], db_url=db_url)
    return list(report.values())


def open_alerts(session: Session, model: str | None = None) -> list[Alert]:
    """Alerts not resolved yet (optionally of one model), oldest first."""
    query = select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.id)
    if model is not None:
        query = query.join(Model, Alert.model_id == Model.id).where(Model.name == model)
    return list(session.scalars(query))


def _record(
    session: Session,
    model_name: str,
    problems: Sequence[Problem],
    *,
    version: str | None,
    actor: str,
    channels: Sequence[Channel],
    ready: dict[str, bool],
) -> list[Alert]:
    model = get_model(session, model_name)
    version_row = get_version(session, model_name, version) if version else None
    signed = _signed_open(session, model_name) if problems else {}
    rows = []
    for problem in problems:
        recipients = route(model.owner, model.stakeholders or [], problem.severity)
        for channel in channels:
            existing = next(
                (
                    row
                    for row in session.scalars(
                        select(Alert)
                        .where(
                            Alert.model_id == model.id,
                            Alert.problem_key == problem.key,
                            Alert.channel == channel.name,
                            Alert.resolved_at.is_(None),
                        )
                        .order_by(Alert.id)
                    )
                    if signed.get(row.id) == (row.problem_key, row.channel)
                ),
                None,
            )
            if existing is not None:
                if existing.delivery_status not in FINAL_STATES:
                    rows.append(existing)  # raised before, not delivered yet: deliver now
                continue
            addresses = channel.addresses(recipients)
            status = (
                "unconfigured"
                if not ready[channel.name]
                else "no_recipients"
                if channel.needs_addresses and not addresses
                else "pending"
            )
            row = Alert(
                model_id=model.id,
                version_id=version_row.id if version_row else None,
                problem_key=problem.key,
                severity=problem.severity,
                channel=channel.name,
                recipients=[r.to_dict() for r in recipients],
                message=f"{problem.subject}\n\n{problem.body}",
                delivery_status=status,
            )
            session.add(row)
            session.flush()
            append_event(
                session,
                actor=actor,
                action="alert.raised",
                subject=f"model:{model_name}",
                payload={
                    "alert_id": row.id,
                    "problem": problem.key,
                    "severity": problem.severity,
                    "channel": channel.name,
                    "recipients": [r.contact for r in recipients],
                    "delivery": status,
                    "version": version,
                },
            )
            rows.append(row)
    return rows


def raised_before(model_name: str, problem_key: str, *, db_url: str | None = None) -> bool:
    """Whether a signed ``alert.raised`` event already raised ``problem_key`` for the model (open or
    since settled): a notice is sent once, and a row no signed event names does not count."""
    where = (AuditEvent.subject == f"model:{model_name}") & (AuditEvent.action == "alert.raised")
    with session_scope(db_url) as session:
        return any(
            e.payload.get("problem") == problem_key for e in signed_events(session, where, Keyring.trusted())
        )


def _signed_open(session: Session, model_name: str) -> dict[int, tuple[str, str]]:
    """alert id -> (problem, channel) of the open alerts signed events recorded: raised, not resolved.

    Only these keep a problem from alerting again. An open row in ``alerts`` with no such event (one a
    DB writer inserted, or edited to name tonight's problem) would otherwise silence the alert."""
    where = (AuditEvent.subject == f"model:{model_name}") & AuditEvent.action.in_(
        ("alert.raised", "alert.resolved")
    )
    found: dict[int, tuple[str, str]] = {}
    for event in signed_events(session, where, Keyring.trusted()):
        alert_id = event.payload.get("alert_id")
        if not isinstance(alert_id, int):
            continue
        if event.action == "alert.raised":
            found[alert_id] = (str(event.payload.get("problem")), str(event.payload.get("channel")))
        else:
            found.pop(alert_id, None)
    return found


def _resolve(session: Session, model_name: str, resolves: Callable[[str], bool], *, actor: str) -> None:
    for row in open_alerts(session, model_name):
        if resolves(row.problem_key):
            row.resolved_at = utcnow()
            session.flush()
            append_event(
                session,
                actor=actor,
                action="alert.resolved",
                subject=f"model:{model_name}",
                payload={"alert_id": row.id, "problem": row.problem_key, "channel": row.channel},
            )


def _deliver(alert_id: int, channel: Channel, *, db_url: str | None) -> dict[str, Any]:
    with session_scope(db_url) as session:
        row = _alert(session, alert_id)
        recipients = [Recipient(**r) for r in row.recipients]
        subject, _, body = row.message.partition("\n\n")
    try:
        channel.send(Message(subject=subject, body=body), recipients)
        status, error = "sent", None
    except Exception as err:  # noqa: BLE001 - a broken mail server must not fail the pipeline
        status, error = "failed", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    with session_scope(db_url) as session:
        row = _alert(session, alert_id)
        row.delivery_status = status
        session.flush()
        result = _row_dict(row)
    if error:
        result["error"] = error
    return result


def _alert(session: Session, alert_id: int) -> Alert:
    row = session.get(Alert, alert_id)
    if row is None:  # recorded by this task a moment ago; gone only if someone deleted it
        raise NotFoundError(f"alert {alert_id} not found")
    return row


def _row_dict(row: Alert) -> dict[str, Any]:
    return {
        "id": row.id,
        "problem": row.problem_key,
        "severity": row.severity,
        "channel": row.channel,
        "recipients": [r["contact"] for r in row.recipients],
        "delivery": row.delivery_status,
    }
