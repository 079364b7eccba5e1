"""MLflow registry sync: registrations read from MLflow, and gate decisions and promotions written back.

A version registered ``--from-mlflow`` keeps where it came from in ``params["mlflow"]``.
Its decisions become tags on the MLflow model version, and its promotion moves the
``champion`` alias, only after the governance transaction commits: MLflow never shows a
decision or a champion that govflow rolled back. MLflow being down never blocks or undoes
governance (govflow's DB is the record); the failed write-back is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from govflow.errors import BadInputError
from govflow.integrations import mlflow as mlflow_io
from govflow.service.registry import find_or_register_version, get_model
from govflow.store import GateDecision, ModelVersion

__all__ = ["after_decision", "after_promotion", "register_mlflow_version", "registration_from_mlflow"]

log = logging.getLogger(__name__)


def registration_from_mlflow(uri: str, into: Path, given: dict[str, Any]) -> dict[str, Any]:
    """``register_version`` keyword arguments from ``uri``, the caller's ``given`` ones winning
    (a flag given on the command line overrides what the run logged)."""
    source = mlflow_io.fetch(uri, into)
    params = {**source.params, **(given.get("params") or {}), "mlflow": source.reference()}
    merged: dict[str, Any] = {
        "artifact": given.get("artifact") or source.artifact,
        "code_version": given.get("code_version") or source.code_version,
        "framework": given.get("framework") or source.framework,
        "params": params,
        "metrics": {**source.metrics, **(given.get("metrics") or {})},
    }
    for key in ("training_data", "reference_data", "eval_data"):
        merged[key] = given.get(key) or source.data.get(key)
    return merged


def after_decision(session: Session, row: ModelVersion, decision: GateDecision) -> None:
    """Tag the MLflow model version with ``decision`` once the session commits."""
    ref = _ref(row)
    if ref is None:
        return
    verdict, decision_id, policy = decision.decision, decision.id, _policy_label(decision)
    _on_commit(
        session,
        lambda: mlflow_io.tag_decision(ref, decision=verdict, decision_id=decision_id, policy=policy),
        f"tag {_label(ref)}",
    )


def after_promotion(session: Session, promoted: ModelVersion, archived: ModelVersion | None) -> None:
    """Move the ``champion`` alias to the promoted version once the session commits."""
    ref = _ref(promoted)
    if ref is None:
        return
    old = _ref(archived) if archived is not None and archived.id != promoted.id else None
    _on_commit(session, lambda: mlflow_io.set_champion(ref, archived=old), f"move champion to {_label(ref)}")


def _ref(row: ModelVersion) -> dict[str, Any] | None:
    ref = (row.params or {}).get("mlflow")
    return ref if isinstance(ref, dict) and ref.get("model_name") and ref.get("model_version") else None


def _policy_label(decision: GateDecision) -> str:
    return f"{decision.policy_version or '?'} sha256:{decision.policy_sha256}"


def _label(ref: dict[str, Any]) -> str:
    return f"models:/{ref['model_name']}/{ref['model_version']}"


def _on_commit(session: Session, write: Callable[[], None], what: str) -> None:
    def run(_: Session) -> None:
        try:
            write()
        except Exception as err:  # noqa: BLE001 - MLflow is a mirror; govflow's DB stays the record
            log.warning(
                "MLflow write-back failed (%s): %s", what, str(err).splitlines()[0] if str(err) else err
            )

    event.listen(session, "after_commit", run, once=True)


def register_mlflow_version(session: Session, name: str, version: str, *, into: Path) -> ModelVersion:
    """The govflow version ``version`` of model ``name`` registered from ``models:/name/version``
    (found when a retried delivery registered it already). The govflow model must exist: who owns
    it and its risk tier are decided by people, never by a webhook. Its submitter is the person
    MLflow names as the version's creator (``user_id``), so separation of duties binds them; a
    version MLflow names nobody for is refused rather than submitted by a service account."""
    get_model(session, name)  # NotFoundError before anything is downloaded
    given = registration_from_mlflow(f"models:/{name}/{version}", into, {})
    submitter = str(given["params"]["mlflow"].get("user_id") or "")
    if not submitter:
        raise BadInputError(
            f"MLflow names no user for models:/{name}/{version} (user_id is empty): govflow registers "
            "a version only with the person who submitted it; use govflow version register --from-mlflow"
        )
    row, _ = find_or_register_version(session, model=name, version=version, actor=submitter, **given)
    return row
