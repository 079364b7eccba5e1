"""Pipeline use cases: one governance check (or documentation render) for one version in one run.

The DAG tasks, the CLI and the tests call these; each is idempotent per
(run, version, check): a retried task finds the stored result and neither
re-runs the check nor writes a second row or audit event.

What a check reads comes from the version's registration:

- the registered files (training, reference, eval data; the artifact);
- ``params["governance"]`` (set by ``govflow submit`` / ``version register``):
  ``label``, ``prediction``, ``score``, ``positive_label``, ``sensitive``, ``suite``;
- the model's risk tier, regions and sector, mapped to thresholds and allowed
  PII entities by the policy.

Heavy work runs outside any DB transaction (on SQLite a transaction holds the
write lock), between a short read and a short write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from govflow.errors import BadInputError, GovflowError
from govflow.service.objects import local_inputs, registered_sha256

__all__ = [
    "GATE_CHECKS",
    "PIPELINE_USER",
    "CheckConfig",
    "RunRef",
    "VersionInputs",
    "check_on_data",
    "document_version",
    "load_inputs",
    "newest_batch",
    "performance_tolerance",
    "pipeline_actor",
    "record_result",
    "recorded_result",
    "refresh_documents",
    "result_summary",
    "run_check_for_version",
]

GATE_CHECKS = ("validation", "pii", "fairness", "drift")
# The govflow user the DAGs act as when they change state (users.yaml: "airflow", role data_scientist).
PIPELINE_USER = os.environ.get("GOVFLOW_PIPELINE_USER") or "airflow"
RUN_TYPES = {"scheduled": "schedule", "asset_triggered": "asset", "manual": "manual", "backfill": "manual"}


@dataclass(frozen=True)
class RunRef:
    """The Airflow run a result belongs to (plain values: travels through XCom)."""

    dag_id: str
    run_id: str
    trigger_kind: str = "manual"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def of(cls, value: RunRef | Mapping[str, Any]) -> RunRef:
        return value if isinstance(value, RunRef) else cls(**dict(value))

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> RunRef:
        """From an Airflow task context: dag id, run id and how the run was started.

        A task sees the run type (scheduled, asset-triggered, manual), not who
        triggered a manual run: a caller that knows says so in the conf
        (``govflow submit`` sends ``trigger_kind: rest``).
        """
        dag_run = context["dag_run"]
        run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type)).lower()
        kind = RUN_TYPES.get(run_type, "manual")
        claimed = str((dag_run.conf or {}).get("trigger_kind") or "")
        if kind == "manual" and claimed in ("rest", "ui", "cli"):
            kind = claimed
        return cls(dag_id=dag_run.dag_id, run_id=dag_run.run_id, trigger_kind=kind)


def pipeline_actor(run: RunRef, step: str | None = None) -> str:
    """The audit actor of a pipeline step: which DAG run (and step) did it."""
    return f"pipeline:{run.dag_id}" + (f":{run.run_id}:{step}" if step else "")


@dataclass(frozen=True)
class CheckConfig:
    """How to read a model's data: columns and suite, from ``params["governance"]``."""

    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    positive_label: Any = None
    sensitive: tuple[str, ...] = ()
    suite: str | None = None

    KEYS = ("label", "prediction", "score", "positive_label", "sensitive", "suite")

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> CheckConfig:
        raw = dict((params or {}).get("governance") or {})
        unknown = sorted(set(raw) - set(cls.KEYS))
        if unknown:
            raise BadInputError(
                f"params.governance.{unknown[0]}: unknown key; expected {', '.join(cls.KEYS)}"
            )
        sensitive = raw.get("sensitive") or ()
        return cls(
            label=raw.get("label"),
            prediction=raw.get("prediction"),
            score=raw.get("score"),
            positive_label=raw.get("positive_label"),
            sensitive=(sensitive,) if isinstance(sensitive, str) else tuple(sensitive),
            suite=raw.get("suite"),
        )

    def to_params(self) -> dict[str, Any]:
        data = {
            "label": self.label,
            "prediction": self.prediction,
            "score": self.score,
            "positive_label": self.positive_label,
            "sensitive": list(self.sensitive),
            "suite": self.suite,
        }
        return {k: v for k, v in data.items() if v not in (None, [], "")}

    @property
    def model_outputs(self) -> tuple[str, ...]:
        return tuple(c for c in (self.prediction, self.score) if c)


@dataclass(frozen=True)
class VersionInputs:
    """Everything a check needs about a version, copied out of the DB session."""

    model: str
    version: str
    version_id: int
    tier: str
    regions: tuple[str, ...]
    sector: str | None
    artifact: str
    artifact_sha256: str
    training_data: str
    reference_data: str | None
    eval_data: str | None
    metrics: dict[str, Any]
    config: CheckConfig
    batches_uri: str | None = None
    submitted_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)  # registered file URI -> its sha256


def load_inputs(session, model: str, version: str) -> VersionInputs:
    from govflow.service.registry import get_version

    row = get_version(session, model, version)
    owner = row.model
    return VersionInputs(
        model=model,
        version=version,
        version_id=row.id,
        tier=owner.risk_tier,
        regions=tuple(owner.regions or ()),
        sector=owner.sector,
        artifact=row.artifact_uri,
        artifact_sha256=row.artifact_sha256,
        training_data=row.training_data_uri,
        reference_data=row.reference_data_uri,
        eval_data=row.eval_data_uri,
        metrics=dict(row.metrics or {}),
        config=CheckConfig.from_params(row.params),
        batches_uri=owner.batches_uri,
        submitted_by=row.created_by,
        sha256=registered_sha256(row),
    )


# --- one check for one version in one run ----------------------------------------------------


def run_check_for_version(
    run: RunRef | Mapping[str, Any],
    model: str,
    version: str,
    check: str,
    *,
    policy=None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Run ``check`` on the version's registered data and record it, once per (run, version, check).

    Returns the result's summary dict; ``status: skipped`` (nothing recorded)
    when the check does not apply (no data for it) and the tier does not
    require it. A required check without its inputs is recorded as ``error``,
    so the gate fails closed and says why.
    """
    if check not in GATE_CHECKS:
        raise BadInputError(f"unknown check {check!r}: choose one of {', '.join(GATE_CHECKS)}")
    run = RunRef.of(run)
    policy = _policy(policy)
    found = recorded_result(run, model, version, check, db_url=db_url)
    if found is not None:
        return found
    with _session(db_url) as session:
        inputs = load_inputs(session, model, version)
    required = check in policy.tier(inputs.tier).required_checks
    plan = _gate_plan(inputs, check)
    if isinstance(plan, str):  # the reason it cannot run
        if not required:
            return {"check": check, "status": "skipped", "reason": plan, "model": model, "version": version}
        from govflow.checks import CheckResult

        result, data_sha = CheckResult.error(check, f"{plan} (the {inputs.tier} tier requires {check})"), None
    else:
        result, data_sha = check_on_data(check, inputs, policy=policy, **plan)
    return record_result(run, model, version, result, data_sha, policy, db_url=db_url)


def _gate_plan(inputs: VersionInputs, check: str) -> dict[str, Any] | str:
    """Which registered files the gate's ``check`` reads, or why it cannot run."""
    cfg = inputs.config
    if check == "validation":
        if cfg.suite is None and not inputs.reference_data:
            return (
                "validation needs an expectation suite (params.governance.suite) or reference data "
                "to infer one from"
            )
        return {"data": inputs.training_data}
    if check == "pii":
        return {"data": inputs.training_data}
    if check == "fairness":
        if not inputs.eval_data:
            return "fairness needs eval data (register the version with --eval-data)"
        if not cfg.label or not cfg.sensitive:
            return "fairness needs params.governance.label and .sensitive (submit --label/--sensitive)"
        return {"data": inputs.eval_data}
    # drift: the data the model will meet (eval data) against the reference
    current = inputs.eval_data or (inputs.training_data if inputs.reference_data else None)
    if current is None:
        return "drift needs reference data and eval data (or reference data different from the training data)"
    return {"data": current}


def check_on_data(check: str, inputs: VersionInputs, *, data: str, policy=None) -> tuple[Any, str | None]:
    """Run one check on one data file for a version; returns (CheckResult, sha256 of the file read).

    Drift compares ``data`` with the version's reference data (its training data when it has none).
    """
    from govflow.checks import CheckResult

    policy = _policy(policy)
    rules = policy.tier(inputs.tier)
    cfg = inputs.config
    try:  # files in object storage are read from this worker's verified copy
        inputs, data, data_sha = local_inputs(check, inputs, data)
    except GovflowError as err:
        return CheckResult.error(check, str(err)), None
    if check == "validation":
        result = _validation(data, cfg, reference=inputs.reference_data)
    elif check == "pii":
        result = _pii(data, policy.allowed_pii_entities(list(inputs.regions), inputs.sector), policy)
    elif check == "fairness":
        result = _fairness(data, inputs, rules.fairness, policy)
    elif check == "drift":
        result = _drift(inputs.reference_data or inputs.training_data, data, cfg, rules.drift)
    elif check == "performance":
        from govflow.checks.performance import evaluate_performance

        result = evaluate_performance(
            data,
            label=cfg.label,
            prediction=cfg.prediction,
            score=cfg.score,
            positive_label=cfg.positive_label,
            baseline=inputs.metrics,
            max_drop=performance_tolerance(policy, inputs.tier),
        )
    else:
        raise BadInputError(f"unknown check {check!r}")
    return result, data_sha


def performance_tolerance(policy, tier: str) -> float:
    """How far a metric may fall below its registered value (absolute); the policy may set it."""
    rules = getattr(policy.tier(tier), "performance", None)
    value = getattr(rules, "max_drop", None)
    return float(value) if value is not None else float(os.environ.get("GOVFLOW_MAX_METRIC_DROP") or 0.05)


def _validation(data: str, cfg: CheckConfig, *, reference: str | None):
    from govflow.checks.validation import infer_suite, validate_table

    suite: Any = cfg.suite
    if suite is None:
        # An unreviewed, inferred suite: the evidence says so (needs_review: true).
        suite = infer_suite(reference)
    return validate_table(data, suite)


def _fairness(data: str, inputs: VersionInputs, rules, policy=None):
    """The fairness check and its explanation (where a disparity comes from), on one read of ``data``."""
    from govflow.checks import CheckResult
    from govflow.checks._io import read_table
    from govflow.checks.fairness import evaluate_fairness
    from govflow.errors import GovflowError
    from govflow.service.explain import explain_fairness
    from govflow.service.model_artifacts import registered_artifact

    cfg = inputs.config
    policy = _policy(policy)
    trusted = policy.tier(inputs.tier).artifacts.trusted_types
    try:
        # The stored bytes, read once and checked against the registered sha256; both loads use them.
        artifact = registered_artifact(
            inputs.artifact, inputs.artifact_sha256, policy=policy, tier=inputs.tier
        )
        frame = read_table(data)
    except GovflowError as err:
        return CheckResult.error("fairness", str(err))
    result = evaluate_fairness(
        frame,
        label=cfg.label,
        prediction=cfg.prediction,
        sensitive=list(cfg.sensitive),
        positive_label=cfg.positive_label,
        model_path=None if cfg.prediction else artifact,
        trusted_types=trusted,
        min_group_size=rules.min_group_size,
        max_demographic_parity_difference=rules.max_demographic_parity_difference,
        max_equalized_odds_difference=rules.max_equalized_odds_difference,
    )
    return explain_fairness(
        result,
        data=frame,
        artifact=artifact,
        label=cfg.label,
        sensitive=list(cfg.sensitive),
        positive_label=cfg.positive_label,
        rules=rules,
        trusted=trusted,
    )


def _drift(reference: str, current: str, cfg: CheckConfig, thresholds):
    from govflow.checks import CheckInputError, CheckResult
    from govflow.checks._io import read_table
    from govflow.checks.drift import detect_drift

    try:
        ref = read_table(reference)
        cur = read_table(current)
    except CheckInputError as err:  # a bad file is the check's error result, like inside the check
        return CheckResult.error("drift", str(err))
    # The model's outputs are not in the reference data; the label and the features are.
    columns = [c for c in ref.columns if c in set(cur.columns) and c not in cfg.model_outputs]
    return detect_drift(
        ref,
        cur,
        columns=columns,
        max_share_drifted=thresholds.max_share_drifted,
        key_columns=[c for c in thresholds.key_columns if c in columns],
        stattest=thresholds.stattest,
        stattest_threshold=thresholds.stattest_threshold,
    )


def _pii(data: str, allowed: frozenset[str], policy):
    from govflow.checks.pii import scan_pii

    return scan_pii(data, allowed_entities=sorted(allowed), custom_recognizers=policy.pii.custom_recognizers)


# --- recording -----------------------------------------------------------------------------


def recorded_result(
    run: RunRef, model: str, version: str, check: str, *, db_url: str | None
) -> dict[str, Any] | None:
    from govflow.service.checks import find_check_result
    from govflow.service.registry import get_version
    from govflow.service.runs import ensure_run

    with _session(db_url) as session:
        row = get_version(session, model, version)
        run_row = ensure_run(session, dag_id=run.dag_id, run_id=run.run_id, trigger_kind=run.trigger_kind)
        found = find_check_result(session, version_id=row.id, run_id=run_row.id, check=check)
        return result_summary(found, model, version) if found is not None else None


def record_result(
    run: RunRef, model: str, version: str, result, data_sha: str | None, policy, *, db_url: str | None
) -> dict[str, Any]:
    from govflow.service.checks import record_check_result
    from govflow.service.registry import get_version
    from govflow.service.runs import ensure_run

    with _session(db_url) as session:
        row = get_version(session, model, version)
        run_row = ensure_run(session, dag_id=run.dag_id, run_id=run.run_id, trigger_kind=run.trigger_kind)
        stored = record_check_result(
            session,
            version=row,
            run=run_row,
            result=result,
            data_sha256=data_sha,
            policy_sha256=policy.sha256,
        )
        return result_summary(stored, model, version)


def result_summary(row, model: str, version: str) -> dict[str, Any]:
    """What a task returns (and Airflow shows in XCom): small, no raw data."""
    return {
        "check": row.check,
        "status": row.status,
        "summary": dict(row.summary or {}),
        "errors": list(row.errors or []),
        "result_id": row.id,
        "evidence_uri": row.evidence_uri,
        "evidence_sha256": row.evidence_sha256,
        "model": model,
        "version": version,
    }


# --- helpers -------------------------------------------------------------------------------


def _policy(policy):
    if policy is not None:
        return policy
    from govflow.policy import load_policy

    return load_policy()


def _session(db_url: str | None):
    from govflow.store import session_scope

    return session_scope(db_url)


def newest_batch(batches_uri: str | None) -> str | None:
    """The newest production data batch (CSV/Parquet) under ``batches_uri``, by file name.

    Batch files are expected to sort by time (``batch-0001.csv``, ``2026-11-27.parquet``).
    """
    if not batches_uri:
        return None
    if "://" in batches_uri and not batches_uri.startswith("file://"):
        import fsspec

        fs, root = fsspec.core.url_to_fs(batches_uri)
        names = [n for n in fs.ls(root, detail=False) if n.endswith((".csv", ".parquet"))]
        if not names:
            return None
        protocol = batches_uri.split("://", 1)[0]
        return f"{protocol}://{sorted(names)[-1]}"
    folder = Path(batches_uri.removeprefix("file://"))
    if folder.is_file():
        return str(folder)
    files = sorted(p for p in folder.glob("*") if p.suffix in (".csv", ".parquet")) if folder.is_dir() else []
    return str(files[-1]) if files else None


# --- documentation -------------------------------------------------------------------------


def document_version(
    run: RunRef | Mapping[str, Any], model: str, version: str, *, db_url: str | None = None
) -> dict[str, Any]:
    """Render and store the version's documents and record the documentation check, once per run."""
    from govflow.service import docs as docs_service
    from govflow.service.runs import ensure_run

    run = RunRef.of(run)
    found = recorded_result(run, model, version, "documentation", db_url=db_url)
    if found is not None:
        return found
    with _session(db_url) as session:
        run_row = ensure_run(session, dag_id=run.dag_id, run_id=run.run_id, trigger_kind=run.trigger_kind)
        docs_service.document_version(session, model, version, run=run_row, actor=pipeline_actor(run))
    return recorded_result(run, model, version, "documentation", db_url=db_url)


def refresh_documents(
    model: str, version: str, *, actor: str, db_url: str | None = None
) -> list[dict[str, Any]]:
    """Re-render the version's documents (after a decision or a promotion); unchanged ones are found, not added."""
    from govflow.service import docs as docs_service

    with _session(db_url) as session:
        return [
            d
            for fmt in ("md", "html")
            for d in docs_service.render_docs(session, model, version, fmt, actor=actor)["documents"]
        ]
