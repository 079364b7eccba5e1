"""A CycloneDX 1.6 ML-BOM of one governed model version, from its registry entry and evidence.

Pure: takes the version's facts as plain dicts and returns the BOM's JSON text.
The model, its datasets and their hashes are built with cyclonedx-python-lib;
that library has no model-card type yet (``Component.model_card`` is commented
out in 11.x), so the ``modelCard`` object is added to the model component of the
serialised JSON, following the 1.6 schema. ``validate_bom`` checks the final
text against the schema the library ships.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from govflow.errors import ConflictError

__all__ = ["build_bom", "validate_bom"]

MODEL_REF = "model"
# The disparities the fairness check reports (checks/fairness/_judge.DISPARITIES) and the ones
# nightly/explain may add: reported as performance metrics sliced by the sensitive features.
_FAIRNESS_PREFIXES = ("demographic_parity", "equalized_odds", "accuracy_difference", "mean_", "root_mean")
_DATASETS = (
    ("training", "training_data"),
    ("reference", "reference_data"),
    ("eval", "eval_data"),
)


def build_bom(
    model: Mapping[str, Any],
    version: Mapping[str, Any],
    *,
    checks: Sequence[Mapping[str, Any]],
    decision: Mapping[str, Any] | None,
    notes: Mapping[str, Any],
    govflow_version: str,
    serial: str,
    timestamp: str,
) -> str:
    """The ML-BOM JSON text. ``checks`` are the version's newest results per check, each with
    ``check``, ``status``, ``summary`` and the evidence ``details`` (``by_group`` for fairness)."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import Tool
    from cyclonedx.output.json import JsonV1Dot6

    name, ver = str(model["name"]), str(version["version"])
    datasets = []
    for label, key in _DATASETS:
        uri, sha = version.get(f"{key}_uri"), version.get(f"{key}_sha256")
        if not uri:
            continue
        datasets.append(
            Component(
                type=ComponentType.DATA,
                name=f"{name}-{label}-data",
                version=ver,
                bom_ref=f"data-{label}",
                description=f"{label} data of {name}@{ver}",
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha)] if sha else [],
                properties=[Property(name="govflow:data_uri", value=str(uri))],
            )
        )
    properties = [Property(name="govflow:stage", value=str(version.get("stage")))]
    properties += [
        Property(name=f"govflow:{key}", value=str(model[key]))
        for key in ("risk_tier", "owner", "team", "sector")
        if model.get(key)
    ]
    if version.get("code_version"):
        properties.append(Property(name="govflow:code_version", value=str(version["code_version"])))
    if version.get("framework"):
        properties.append(Property(name="govflow:framework", value=str(version["framework"])))
    if decision:
        properties += [
            Property(name="govflow:decision", value=str(decision["decision"])),
            Property(name="govflow:decision_id", value=str(decision["id"])),
            Property(name="govflow:policy_sha256", value=str(decision["policy_sha256"])),
        ]
    artifact_sha = version.get("artifact_sha256")
    component = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=name,
        version=ver,
        bom_ref=MODEL_REF,
        description=str(model.get("use_case") or "") or None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=artifact_sha)] if artifact_sha else [],
        properties=properties,
    )
    bom = Bom(components=[component, *datasets])
    bom.serial_number = uuid.UUID(serial)
    bom.metadata.timestamp = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    bom.metadata.component = None
    bom.metadata.tools.tools.add(Tool(vendor="govflow", name="govflow", version=govflow_version))
    for data in datasets:
        bom.register_dependency(component, [data])
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    for entry in document["components"]:
        if entry.get("bom-ref") == MODEL_REF:
            entry["modelCard"] = _model_card(
                model, version, checks, notes, [d.bom_ref.value for d in datasets if d.bom_ref.value]
            )
    return json.dumps(document, indent=2, sort_keys=True)


def validate_bom(text: str) -> None:
    """Raise ConflictError naming the first schema violation of ``text`` (CycloneDX 1.6, strict)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise ConflictError(f"the CycloneDX BOM does not validate against the 1.6 schema: {error}")


def _model_card(
    model: Mapping[str, Any],
    version: Mapping[str, Any],
    checks: Sequence[Mapping[str, Any]],
    notes: Mapping[str, Any],
    dataset_refs: Sequence[str],
) -> dict[str, Any]:
    params: dict[str, Any] = {"datasets": [{"ref": ref} for ref in dataset_refs]}
    by_check = {c["check"]: c for c in checks}
    fairness = by_check.get("fairness")
    task = (fairness or {}).get("summary", {}).get("task")
    if task:
        params["task"] = str(task)
    algorithm = (version.get("params") or {}).get("algorithm")
    if algorithm:
        params["modelArchitecture"] = str(algorithm)
    metrics = [
        {"type": str(key), "value": _text(value), "slice": "registered (training job)"}
        for key, value in sorted((version.get("metrics") or {}).items())
        if _scalar(value)
    ]
    considerations: dict[str, Any] = {}
    if fairness:
        summary = fairness.get("summary") or {}
        sliced = ", ".join(map(str, summary.get("sensitive_features") or [])) or "sensitive features"
        metrics += [
            {"type": key, "value": _text(value), "slice": f"by {sliced}"}
            for key, value in sorted(summary.items())
            if key.startswith(_FAIRNESS_PREFIXES) and _scalar(value) and not key.startswith("max_")
        ]
        considerations["fairnessAssessments"] = _fairness_assessments(fairness, sliced)
    check_properties = [{"name": f"govflow:check:{c['check']}", "value": str(c["status"])} for c in checks]
    considerations.update(_note_considerations(model, notes))
    card: dict[str, Any] = {"modelParameters": params}
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if considerations:
        card["considerations"] = considerations
    if check_properties:
        card["properties"] = check_properties
    return card


def _fairness_assessments(fairness: Mapping[str, Any], sliced: str) -> list[dict[str, str]]:
    """The group with the lowest selection rate (or highest error) is the one at risk; the harm
    names the disparities the check judged, and whether the policy's thresholds were exceeded."""
    summary = fairness.get("summary") or {}
    by_group = (fairness.get("details") or {}).get("by_group") or {}
    exceeded = summary.get("exceeded") or []
    harms = (
        f"exceeds the policy threshold for {', '.join(map(str, exceeded))}"
        if exceeded
        else f"disparities by {sliced} within the policy thresholds (fairness check {fairness['status']})"
    )
    at_risk = None
    rated = {g: v for g, v in by_group.items() if isinstance(v, Mapping) and _scalar(v.get("selection_rate"))}
    if rated:
        at_risk = min(rated, key=lambda g: (float(rated[g]["selection_rate"]), g))
    entry = {
        "harms": harms,
        "mitigationStrategy": "human approval per the risk tier's policy; nightly re-checks",
    }
    if at_risk is not None:
        entry["groupAtRisk"] = f"{sliced} = {at_risk} (lowest selection rate)"
    return [entry]


def _note_considerations(model: Mapping[str, Any], notes: Mapping[str, Any]) -> dict[str, Any]:
    """People-written notes as the model card's considerations (lists of text in the schema)."""
    out: dict[str, Any] = {}
    pairs = {
        "technicalLimitations": notes.get("limitations"),
        "useCases": [model["use_case"]] if model.get("use_case") else None,
        "performanceTradeoffs": notes.get("metrics_rationale"),
    }
    for key, value in pairs.items():
        items = _texts(value)
        if items:
            out[key] = items
    risks = _texts(notes.get("risks")) + _texts(notes.get("ethical_considerations"))
    if risks:
        oversight = " ".join(_texts(notes.get("human_oversight"))) or None
        out["ethicalConsiderations"] = [
            {"name": risk, **({"mitigationStrategy": oversight} if oversight else {})} for risk in risks
        ]
    return out


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
