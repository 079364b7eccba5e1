"""Webhook deliveries: claimed in the governance DB before they are acted on, one run per delivery id.

1. ``claim`` inserts ``(source, delivery_id)`` in its own committed transaction. The unique key
   makes the database the referee: of two copies of one delivery arriving at once (two workers,
   two processes), exactly one insert commits; the other gets ``AlreadyDelivered``.
2. The claimant acts (registers, triggers) and then ``settle``s the claim with the run it started.
3. When acting fails, ``release`` deletes the claim, so the sender's retry of the same delivery
   (MLflow resends the same id after a failed attempt) is not refused as a replay.
A claim left behind by a process that died mid-delivery keeps refusing that id: fail closed.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from govflow.errors import PermissionDeniedError
from govflow.store import WebhookDelivery, session_scope

__all__ = ["AlreadyDelivered", "claim", "release", "settle"]


class AlreadyDelivered(PermissionDeniedError):
    """This delivery id was handled (or is being handled) already: a replay or a concurrent copy."""


def claim(source: str, delivery_id: str, *, body_sha256: str, db_url: str | None = None) -> None:
    """Record the delivery before acting on it; AlreadyDelivered if any process recorded it first."""
    try:
        with session_scope(db_url) as session:
            session.add(
                WebhookDelivery(source=source, delivery_id=delivery_id[:200], body_sha256=body_sha256)
            )
    except IntegrityError as err:
        raise AlreadyDelivered(f"{source} webhook delivery {delivery_id} was already handled") from err


def settle(source: str, delivery_id: str, *, run_id: str | None, db_url: str | None = None) -> None:
    """Mark the claimed delivery done, naming the run it started."""
    with session_scope(db_url) as session:
        row = session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.source == source, WebhookDelivery.delivery_id == delivery_id[:200]
            )
        )
        if row is not None:
            row.state, row.run_id = "done", run_id


def release(source: str, delivery_id: str, *, db_url: str | None = None) -> None:
    """Forget a claim whose delivery failed before it started a run (the sender may retry it)."""
    with session_scope(db_url) as session:
        session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.source == source,
                WebhookDelivery.delivery_id == delivery_id[:200],
                WebhookDelivery.state == "acting",
            )
        )
