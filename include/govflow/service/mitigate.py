"""Measuring mitigations of a registered version, and registering the chosen one (``govflow mitigate``).

1. ``mitigation_inputs``: the version's registered files and columns, copied
   out of the DB session (a short read);
2. ``mitigate_version``: loads the registered artifact (sha256-checked, in a
   format the tier accepts), the eval data and the training data (both
   sha256-checked) and runs ``checks.fairness.mitigation.mitigate`` with the
   tier's limits; no session is held meanwhile;
3. ``register_challenger``: writes the chosen candidate as a skops file (data
   over estimators, no pickle), the eval data with the challenger's
   predictions and probabilities, and the evidence JSON under
   ``$GOVFLOW_HOME/mitigations/<model>/<version>/``, then registers them as a
   new version whose params carry the lineage (``mitigation.derived_from``,
   method, parameters, the evidence's sha256): it goes through the gate like
   any other version.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from govflow.checks import CheckInputError
from govflow.checks.fairness.mitigation import (
    MitigatedModel,
    Mitigation,
    fix_text,
    is_mitigation,
    mitigate,
)
from govflow.checks.model_predictions import load_model
from govflow.config import home
from govflow.errors import BadInputError, ConflictError
from govflow.hashing import sha256_file
from govflow.policy import Policy
from govflow.progress import LogProgress, reporting
from govflow.service.checks import latest_check_results
from govflow.service.explain_version import verify_registered
from govflow.service.inputs import CheckConfig
from govflow.service.model_artifacts import registered_artifact
from govflow.service.registry import get_version, register_version
from govflow.store import session_scope

__all__ = [
    "MitigationInputs",
    "best_option",
    "fix_with_best_option",
    "mitigate_if_asked",
    "mitigate_version",
    "mitigation_inputs",
    "register_challenger",
    "save_evidence",
]


@dataclass(frozen=True)
class MitigationInputs:
    """What mitigating one version needs, copied out of the DB session."""

    model: str
    version: str
    tier: str
    artifact: str
    artifact_sha256: str | None
    eval_data: str
    eval_data_sha256: str | None
    training_data: str | None
    training_data_sha256: str | None
    reference_data: str | None
    config: CheckConfig
    params: dict[str, Any]
    metrics: dict[str, Any]
    code_version: str | None


def mitigation_inputs(session: Session, model: str, version: str) -> MitigationInputs:
    row = get_version(session, model, version)
    config = CheckConfig.from_params(row.params)
    if not row.eval_data_uri:
        raise BadInputError(f"{model}@{version} has no eval data: register the version with --eval-data")
    if not config.label or not config.sensitive:
        raise BadInputError(
            f"{model}@{version} does not record its label and sensitive columns "
            "(params.governance.label/.sensitive)"
        )
    return MitigationInputs(
        model=model,
        version=version,
        tier=row.model.risk_tier,
        artifact=row.artifact_uri,
        artifact_sha256=row.artifact_sha256,
        eval_data=row.eval_data_uri,
        eval_data_sha256=row.eval_data_sha256,
        training_data=row.training_data_uri,
        training_data_sha256=row.training_data_sha256,
        reference_data=row.reference_data_uri,
        config=config,
        params=dict(row.params or {}),
        metrics=dict(row.metrics or {}),
        code_version=row.code_version,
    )


def mitigate_version(
    inputs: MitigationInputs,
    *,
    policy: Policy,
    methods: Sequence[str] | None = None,
    constraint: str | None = None,
    bootstrap: int | None = None,
    random_state: int = 0,
    max_iter: int = 50,
) -> Mitigation:
    """Fit and score the candidates for ``inputs``' version (no DB session needed)."""
    from govflow.checks import read_table
    from govflow.checks.fairness.mitigation import METHODS

    rules = policy.tier(inputs.tier)
    model = _load(inputs, policy)
    verify_registered(inputs.eval_data, inputs.eval_data_sha256, what="eval data")
    training = None
    if inputs.training_data and Path(inputs.training_data).is_file():
        verify_registered(inputs.training_data, inputs.training_data_sha256, what="training data")
        training = read_table(inputs.training_data)
    fairness = rules.fairness
    limits = {
        "equalized_odds_difference": fairness.max_equalized_odds_difference,
        "demographic_parity_difference": fairness.max_demographic_parity_difference,
        "true_positive_rate_difference": fairness.max_equalized_odds_difference,
        "worst_group_mean_absolute_error": fairness.max_worst_group_mean_absolute_error,
    }
    task = inputs.config.task or ("regression" if constraint == "bounded_group_loss" else "binary")
    try:
        result = mitigate(
            read_table(inputs.eval_data),
            model=model,
            label=inputs.config.label or "",
            sensitive=inputs.config.sensitive,
            positive_label=inputs.config.positive_label,
            task=task,
            training_data=training,
            methods=list(methods or METHODS),
            constraint=constraint,
            limits=limits,
            bootstrap=(fairness.bootstrap or 200) if bootstrap is None else bootstrap,
            random_state=random_state,
            max_iter=max_iter,
        )
    except CheckInputError as err:
        raise BadInputError(str(err)) from err
    result.evidence["version"] = {
        "model": inputs.model,
        "version": inputs.version,
        "tier": inputs.tier,
        "artifact_sha256": inputs.artifact_sha256,
        "eval_data_sha256": inputs.eval_data_sha256,
        "training_data_sha256": inputs.training_data_sha256 if training is not None else None,
    }
    return result


def register_challenger(
    session: Session,
    inputs: MitigationInputs,
    result: Mitigation,
    *,
    new_version: str,
    actor: str,
    policy: Policy,
    candidate: str | None = None,
) -> dict[str, Any]:
    """Write the chosen candidate (default: the recommendation) and register it as ``new_version``."""
    import pandas as pd

    from govflow.checks import read_table
    from govflow.checks.model_predictions import skops_io

    name = candidate or result.evidence["recommendation"].get("candidate")
    if not name or name not in result.challengers:
        choices = ", ".join(result.challengers) or "none"
        raise BadInputError(f"no candidate {name!r} to register (candidates: {choices})")
    folder = home() / "mitigations" / inputs.model / new_version
    if folder.exists() and any(folder.iterdir()):
        raise ConflictError(f"{folder} already holds a challenger: choose another --register version")
    folder.mkdir(parents=True, exist_ok=True)
    challenger = result.challengers[name]
    artifact = folder / "model.skops"
    skops_io().dump(challenger, artifact)

    config = inputs.config
    frame = read_table(inputs.eval_data)
    applied = MitigatedModel(challenger) if is_mitigation(challenger) else challenger
    features = [str(f) for f in applied.feature_names_in_]
    groups = frame[list(config.sensitive)]
    probability: Any
    if isinstance(applied, MitigatedModel):
        probability = applied.positive_probability(frame[features], sensitive_features=groups)
        predicted = applied.predict(frame[features], sensitive_features=groups)
    else:
        predicted = applied.predict(frame[features])
        probability = (
            applied.predict_proba(frame[features])[:, 1] if hasattr(applied, "predict_proba") else None
        )
    candidate_row = next(c for c in result.evidence["candidates"] if c["name"] == name)
    prediction_column = config.prediction or "prediction"
    score_column = config.score or "score"
    if result.evidence["task"] == "binary":
        positive, negative = _label_values(frame[config.label or ""], config.positive_label)
        frame[prediction_column] = pd.Series(predicted).map({1: positive, 0: negative}).to_numpy()
        if probability is not None:
            frame[score_column] = pd.Series(probability).round(6).to_numpy()
    else:
        frame[prediction_column] = predicted
    eval_file = folder / "eval_scored.csv"
    frame.to_csv(eval_file, index=False)

    evidence = dict(result.evidence, registered={"candidate": name, "version": new_version})
    evidence_file = folder / "mitigation.json"
    evidence_file.write_text(
        json.dumps(evidence, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    lineage = {
        "derived_from": f"{inputs.model}@{inputs.version}",
        "method": candidate_row["method"],
        "constraint": result.evidence["constraint"],
        "parameters": candidate_row.get("parameters", {}),
        "held_out": {
            "disparity_metric": result.evidence["disparity_metric"],
            "disparity": candidate_row["disparity"],
            "disparity_before": result.evidence["baseline"]["disparity"],
            "primary_metric": candidate_row["primary_metric"],
            "primary_metric_before": result.evidence["baseline"]["primary_metric"],
        },
        "needs_sensitive_feature_at_prediction": candidate_row["needs_sensitive_feature_at_prediction"],
        "evidence": str(evidence_file),
        "evidence_sha256": sha256_file(evidence_file),
        "engine": result.evidence["provenance"],
    }
    governance = config.to_params() | {"prediction": prediction_column}
    if probability is not None and result.evidence["task"] == "binary":
        governance["score"] = score_column
    params = dict(inputs.params)
    algorithm = params.get("algorithm")
    params["algorithm"] = (
        f"{algorithm or 'base model'} + govflow mitigation ({candidate_row['method']}, "
        f"{result.evidence['constraint']}; derived from {inputs.model}@{inputs.version})"
    )
    params["governance"] = governance
    params["mitigation"] = lineage
    row = register_version(
        session,
        model=inputs.model,
        version=new_version,
        artifact=artifact,
        training_data=inputs.training_data or str(eval_file),
        reference_data=inputs.reference_data,
        eval_data=eval_file,
        code_version=inputs.code_version,
        framework="scikit-learn",
        params=params,
        metrics=_metrics(frame, config, result.evidence["task"], prediction_column, probability),
        actor=actor,
        policy=policy,
    )
    return {
        "model": inputs.model,
        "version": row.version,
        "derived_from": lineage["derived_from"],
        "candidate": name,
        "artifact": str(artifact),
        "artifact_sha256": row.artifact_sha256,
        "eval_data": str(eval_file),
        "evidence": str(evidence_file),
        "evidence_sha256": lineage["evidence_sha256"],
        "needs_sensitive_feature_at_prediction": lineage["needs_sensitive_feature_at_prediction"],
    }


def _load(inputs: MitigationInputs, policy: Policy) -> Any:
    rules = policy.tier(inputs.tier).artifacts
    try:
        artifact = registered_artifact(
            inputs.artifact, inputs.artifact_sha256, policy=policy, tier=inputs.tier
        )
    except CheckInputError as err:
        raise ConflictError(str(err)) from err
    if artifact.format != "skops":
        raise BadInputError(
            f"{inputs.model}@{inputs.version} is a {artifact.format} artifact: mitigation refits and "
            "post-processes scikit-learn models saved with skops"
        )
    try:
        model = load_model(artifact, trusted=rules.trusted_types, formats=rules.formats)
    except CheckInputError as err:
        raise BadInputError(str(err)) from err
    if isinstance(model, MitigatedModel):
        raise BadInputError(f"{inputs.model}@{inputs.version} is already a mitigated challenger")
    return model


def _label_values(values: Any, positive_label: Any) -> tuple[Any, Any]:
    distinct = list(dict.fromkeys(values.dropna().tolist()))
    if positive_label is None:
        positive = 1 if 1 in distinct else True
    else:
        positive = next((v for v in distinct if str(v) == str(positive_label)), positive_label)
    negative = next((v for v in distinct if str(v) != str(positive)), 0)
    return positive, negative


def _metrics(
    frame: Any, config: CheckConfig, task: str, prediction: str, probability: Any
) -> dict[str, float]:
    """The challenger's offline metrics on its eval data (what the performance check compares with)."""
    from sklearn import metrics as m

    label = config.label or ""
    if task == "regression":
        return {
            "mean_absolute_error": round(float(m.mean_absolute_error(frame[label], frame[prediction])), 4)
        }
    positive, _ = _label_values(frame[label], config.positive_label)
    y = (frame[label].astype(str) == str(positive)).astype(int)
    p = (frame[prediction].astype(str) == str(positive)).astype(int)
    out = {
        "accuracy": round(float(m.accuracy_score(y, p)), 4),
        "precision": round(float(m.precision_score(y, p, zero_division=0)), 4),
        "recall": round(float(m.recall_score(y, p, zero_division=0)), 4),
        "f1": round(float(m.f1_score(y, p, zero_division=0)), 4),
    }
    if probability is not None and y.nunique() == 2:
        out["roc_auc"] = round(float(m.roc_auc_score(y, probability)), 4)
    return out


def save_evidence(model: str, version: str, evidence: dict[str, Any], *, measured_by: str = "gate") -> Path:
    """Keep the latest measured mitigations of ``model@version`` (what fix texts, alerts and documents
    show; display data only: no decision reads it). ``measured_by``: ``gate`` (the gate's mitigation
    task) or ``cli`` (``govflow mitigate``)."""
    path = home() / "mitigations" / model / f"{version}.evidence.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = dict(evidence, measured_by=measured_by)
    path.write_text(json.dumps(kept, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def best_option(model: str, version: str) -> dict[str, Any] | None:
    """The recommendation of the latest measured mitigations of ``model@version``; None if none."""
    path = home() / "mitigations" / model / f"{version}.evidence.json"
    if not path.is_file():
        return None
    evidence = json.loads(path.read_text(encoding="utf-8"))
    rec = dict(evidence.get("recommendation") or {})
    if not rec.get("candidate"):
        return None
    return rec | {
        "disparity_metric": evidence["disparity_metric"],
        "primary_metric_name": evidence["primary_metric"],
    }


def fix_with_best_option(fix: str, model: str, version: str) -> str:
    """A failed fairness check's fix, naming the best mitigation the run measured when there is one."""
    if "govflow mitigate" not in fix or "best option" in fix:
        return fix
    best = best_option(model, version)
    return fix_text(model, version, best) if best else fix


def mitigate_if_asked(
    model: str, version: str, *, policy: Policy, db_url: str | None = None
) -> dict[str, Any]:
    """The gate's mitigation step: when the tier's policy asks (``fairness.mitigate``) and fairness
    failed or warned, measure Fairlearn's mitigations (nothing registered) and keep the evidence."""
    import logging

    with session_scope(db_url) as session:
        row = get_version(session, model, version)
        if not policy.tier(row.model.risk_tier).fairness.mitigate:
            return {"status": "skipped", "reason": "the tier's policy does not ask for mitigation"}
        if (row.params or {}).get("mitigation"):
            return {"status": "skipped", "reason": "the version is already a mitigated challenger"}
        fairness = latest_check_results(session, row.id).get("fairness")
        if fairness is None or fairness.status not in ("fail", "warn"):
            return {"status": "skipped", "reason": "fairness did not fail or warn"}
        inputs = mitigation_inputs(session, model, version)
    try:
        with reporting(LogProgress(logging.getLogger("govflow.progress"))):
            result = mitigate_version(inputs, policy=policy)
    except BadInputError as err:  # an ONNX artifact, a multiclass model...: nothing to measure, no failure
        return {"status": "skipped", "reason": f"mitigation does not apply: {err}"}
    path = save_evidence(model, version, result.evidence)
    return {"status": "ok", "recommendation": result.evidence["recommendation"], "evidence": str(path)}
