"""What a check reads about a model version: the parameters schema and the inputs copied out of the DB.

``params["governance"]`` (set by ``govflow submit`` / ``version register``) says
how to read the version's data: ``label``, ``prediction``, ``score``,
``positive_label``, ``sensitive``, ``suite``. ``VersionInputs`` carries it with
the registered files and the model's tier, regions and sector, so the heavy work
runs after the DB session is closed (on SQLite a transaction holds the write lock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from govflow.checks.fairness import MODEL_TASKS, ModelTask
from govflow.errors import BadInputError
from govflow.service.objects import registered_sha256

if TYPE_CHECKING:
    from govflow.store import ModelVersion

__all__ = ["CheckConfig", "VersionInputs", "inputs_of"]


@dataclass(frozen=True)
class CheckConfig:
    """How to read a model's data: columns and suite, from ``params["governance"]``."""

    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    positive_label: Any = None
    sensitive: tuple[str, ...] = ()
    suite: str | None = None
    task: ModelTask | None = None  # None: detected from the label

    KEYS: ClassVar[tuple[str, ...]] = (
        "label",
        "prediction",
        "score",
        "positive_label",
        "sensitive",
        "suite",
        "task",
    )

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> CheckConfig:
        raw = dict((params or {}).get("governance") or {})
        unknown = sorted(set(raw) - set(cls.KEYS))
        if unknown:
            raise BadInputError(
                f"params.governance.{unknown[0]}: unknown key; expected {', '.join(cls.KEYS)}"
            )
        sensitive = raw.get("sensitive") or ()
        task = raw.get("task")
        if task is not None and task not in MODEL_TASKS:
            raise BadInputError(f"params.governance.task: {task!r} is not one of {', '.join(MODEL_TASKS)}")
        return cls(
            label=raw.get("label"),
            prediction=raw.get("prediction"),
            score=raw.get("score"),
            positive_label=raw.get("positive_label"),
            sensitive=(sensitive,) if isinstance(sensitive, str) else tuple(sensitive),
            suite=raw.get("suite"),
            task=task,
        )

    def to_params(self) -> dict[str, Any]:
        data = {
            "label": self.label,
            "prediction": self.prediction,
            "score": self.score,
            "positive_label": self.positive_label,
            "sensitive": list(self.sensitive),
            "suite": self.suite,
            "task": self.task,
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
    stage: str | None = None  # the version's lifecycle stage (candidate/staging: the gate's subject)
    # The model's production version (champion), when another version of it is in production.
    production_version: str | None = None
    production_artifact: str | None = None
    production_artifact_sha256: str | None = None
    # How the model's batches are partitioned and where late labels land (params["monitoring"]).
    monitoring: dict[str, Any] = field(default_factory=dict)


def inputs_of(row: ModelVersion) -> VersionInputs:
    """The inputs of a version row (read while its session is open), once its registration
    agrees with its signed events (``signed_facts.require_signed_registration``)."""
    from sqlalchemy.orm import object_session

    from govflow.service.signed_facts import require_signed_registration  # it imports the registry

    session = object_session(row)
    if session is not None:
        require_signed_registration(session, row)
    owner = row.model
    champion = next((v for v in owner.versions if v.stage == "production" and v.id != row.id), None)
    return VersionInputs(
        model=owner.name,
        version=row.version,
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
        stage=row.stage,
        production_version=champion.version if champion else None,
        production_artifact=champion.artifact_uri if champion else None,
        production_artifact_sha256=champion.artifact_sha256 if champion else None,
        monitoring=dict((row.params or {}).get("monitoring") or {}),
    )
