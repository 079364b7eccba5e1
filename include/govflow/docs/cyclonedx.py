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

from govflow.checks.family import families
from govflow.errors import ConflictError

__all__ = ["build_bom", "validate_bom"]

MODEL_REF = "model"
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
    # What each family says of its check (fairness: the task, the disparities, an assessment).
    parts = [f.bom(by_check[f.name]) for f in families() if f.bom is not None and f.name in by_check]
    task = next((p["task"] for p in parts if p.get("task")), None)
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
    for part in parts:
        metrics += part.get("metrics") or []
        considerations.update(part.get("considerations") or {})
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
