"""``POST /api/integrations/mlflow/webhook``: MLflow's ``model_version.created`` starts governance_gate.

Authenticated by the delivery's HMAC signature (``GOVFLOW_MLFLOW_WEBHOOK_SECRET``, the
secret given to MLflow's ``create_webhook``), not by an Airflow login: MLflow has none.
A missing signature is 401, a wrong or stale one 403, and nothing is read,
registered or triggered. Without a configured secret the endpoint refuses every delivery.
A signed event's delivery id is then claimed in the governance DB under a unique key
(``service.deliveries``) before anything is done: of two copies of one delivery, whichever
worker or process they reach, one acts and the other gets 403. The claim is released when
acting fails (MLflow retries a failed delivery with the same id). The event registers the
version from ``models:/NAME/VERSION`` (the govflow model must exist: owners and risk tiers
are set by people) with the MLflow version's ``user_id`` as its submitter, so separation of
duties binds whoever pushed it through MLflow, and triggers the gate through Airflow's API.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govflow import config
from govflow.airflow_client import AirflowClient
from govflow.errors import GovflowError, NotFoundError, PermissionDeniedError
from govflow.hashing import sha256_bytes
from govflow.integrations import mlflow_webhook
from govflow.service import deliveries
from govflow.service.mlflow_sync import register_mlflow_version
from govflow.store import session_scope

SECRET_ENV = "GOVFLOW_MLFLOW_WEBHOOK_SECRET"
ACTOR = "mlflow:webhook"
SOURCE = "mlflow"
DAG_ID = "governance_gate"

Trigger = Callable[[dict[str, Any]], dict[str, Any]]


def _airflow_trigger(conf: dict[str, Any]) -> dict[str, Any]:
    with AirflowClient() as client:
        return client.trigger(DAG_ID, conf, note=f"MLflow model_version.created ({ACTOR})")


def add_mlflow_webhook(app: Any, *, db_url: str | None, trigger: Trigger | None = None) -> None:
    from fastapi import HTTPException, Request

    start = trigger or _airflow_trigger

    @app.post("/api/integrations/mlflow/webhook", include_in_schema=False)
    async def mlflow_webhook_delivery(request: Request) -> dict[str, Any]:
        secret = os.environ.get(SECRET_ENV, "")
        if not secret:
            raise HTTPException(status_code=503, detail=f"MLflow webhooks are off: {SECRET_ENV} is not set")
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            mlflow_webhook.verify(secret, headers, body)
        except PermissionDeniedError as err:
            unsigned = "x-mlflow-signature" not in headers
            raise HTTPException(status_code=401 if unsigned else 403, detail=str(err)) from err
        try:
            event = mlflow_webhook.parse_event(body)
        except GovflowError as err:
            raise HTTPException(status_code=400, detail=str(err)) from err
        if event is None:
            return {"status": "ignored", "reason": "not a model_version.created event"}
        delivery = headers["x-mlflow-delivery-id"]
        try:  # before acting: the DB, not this process's memory, says whether it was handled
            deliveries.claim(SOURCE, delivery, body_sha256=sha256_bytes(body), db_url=db_url)
        except PermissionDeniedError as err:
            raise HTTPException(status_code=403, detail=str(err)) from err
        try:
            submitter = _register(event, db_url)
        except GovflowError as err:
            deliveries.release(SOURCE, delivery, db_url=db_url)  # MLflow's retry may try again
            status = 404 if isinstance(err, NotFoundError) else 400 if err.exit_code == 2 else 502
            raise HTTPException(status_code=status, detail=str(err)) from err
        conf = {"model": event.name, "version": event.version, "submitted_by": submitter}
        conf["trigger_kind"] = "rest"
        try:
            run = start(conf)
        except GovflowError as err:
            deliveries.release(SOURCE, delivery, db_url=db_url)
            raise HTTPException(
                status_code=502, detail=f"registered, but Airflow refused the run: {err}"
            ) from err
        deliveries.settle(SOURCE, delivery, run_id=run.get("dag_run_id"), db_url=db_url)
        return {
            "status": "triggered",
            "model": event.name,
            "version": event.version,
            "submitted_by": submitter,
            "dag_id": DAG_ID,
            "run_id": run.get("dag_run_id"),
        }


def _register(event: mlflow_webhook.ModelVersionCreated, db_url: str | None) -> str:
    """Register the version; returns its submitter (the MLflow version's user)."""
    cache = config.home() / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="mlflow-") as tmp, session_scope(db_url) as session:
        row = register_mlflow_version(session, event.name, event.version, into=Path(tmp))
        return row.created_by
