"""MLflow registry webhooks: the HMAC check of a delivery, before anything is read from it.

MLflow (3.3+) signs ``{delivery_id}.{timestamp}.{body}`` with HMAC-SHA256 under the
webhook's secret and sends ``X-MLflow-Signature: v1,<base64>``, ``X-MLflow-Delivery-Id``
and ``X-MLflow-Timestamp``. A delivery is accepted only when the signature matches
(constant-time compare) and the timestamp is within ``MAX_SKEW_S`` of now. Whether its
delivery id was handled before is the governance DB's to say (``service.deliveries``: a
unique key shared by every process and worker), not this module's memory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govflow.errors import BadInputError, PermissionDeniedError

__all__ = ["MAX_DELIVERY_ID", "MAX_SKEW_S", "ModelVersionCreated", "parse_event", "sign", "verify"]

MAX_SKEW_S = 300
MAX_DELIVERY_ID = 200  # the stored key's width


@dataclass(frozen=True)
class ModelVersionCreated:
    name: str
    version: str
    run_id: str | None


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The ``X-MLflow-Signature`` value MLflow sends (``mlflow.webhooks.delivery``)."""
    content = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> None:
    """Raise PermissionDeniedError unless the delivery is signed with ``secret`` and fresh."""
    signature = headers.get("x-mlflow-signature") or ""
    delivery = headers.get("x-mlflow-delivery-id") or ""
    stamp = headers.get("x-mlflow-timestamp") or ""
    if not (signature and delivery and stamp):
        raise PermissionDeniedError("unsigned MLflow webhook delivery refused")
    if len(delivery) > MAX_DELIVERY_ID:
        raise PermissionDeniedError(f"MLflow webhook delivery id longer than {MAX_DELIVERY_ID} characters")
    if not hmac.compare_digest(sign(secret, delivery, stamp, body), signature):
        raise PermissionDeniedError("MLflow webhook signature does not match")
    try:
        skew = abs((time.time() if now is None else now) - int(stamp))
    except ValueError as err:
        raise PermissionDeniedError("MLflow webhook timestamp is not a number") from err
    if skew > MAX_SKEW_S:
        raise PermissionDeniedError(f"MLflow webhook delivery is {int(skew)} s old: refused as a replay")


def parse_event(body: bytes) -> ModelVersionCreated | None:
    """The created model version, or None for another event (acknowledged, nothing done)."""
    try:
        payload: Any = json.loads(body)
    except ValueError as err:
        raise BadInputError("MLflow webhook body is not JSON") from err
    if not isinstance(payload, dict):
        raise BadInputError("MLflow webhook body is not a JSON object")
    if (payload.get("entity"), payload.get("action")) != ("model_version", "created"):
        return None
    data = payload.get("data") or {}
    name, version = data.get("name"), data.get("version")
    if not isinstance(name, str) or not name or version in (None, ""):
        raise BadInputError("MLflow model_version.created event without name and version")
    return ModelVersionCreated(name=name, version=str(version), run_id=data.get("run_id"))
