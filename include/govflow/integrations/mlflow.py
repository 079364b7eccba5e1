"""MLflow, both ways: read a model version (or a run's artifact) in, write gate decisions back.

Reading: ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``runs:/RUN_ID/PATH`` on the
tracking server named by ``MLFLOW_TRACKING_URI``. An alias is resolved to its version
number at once, so the registration binds to an immutable version, never to a moving
pointer. The artifact is the model file the MLflow model names (``model.skops``,
``model.onnx``, ...), which govflow then stores and hashes like any other artifact.

Writing: tags ``govflow.decision``, ``govflow.decision_id``, ``govflow.policy`` on the
model version, and the ``champion`` alias, moved only when govflow promotes a version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govflow.errors import BadInputError, GovflowError

__all__ = ["CHAMPION", "MlflowSource", "fetch", "set_champion", "tag_decision"]

CHAMPION = "champion"
_MODELS = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[\w-]+))$")
_RUNS = re.compile(r"^runs:/(?P<run>[0-9a-fA-F]+)/(?P<path>.+)$")
_MODEL_SUFFIXES = (".skops", ".onnx", ".joblib", ".pkl", ".pickle")
# MLflow flavour -> govflow's framework name.
_FRAMEWORKS = {"sklearn": "scikit-learn", "onnx": "onnx", "xgboost": "xgboost", "lightgbm": "lightgbm"}
# A logged dataset's context -> the registration field it fills.
_CONTEXTS = {
    "training": "training_data",
    "train": "training_data",
    "reference": "reference_data",
    "eval": "eval_data",
    "evaluation": "eval_data",
    "test": "eval_data",
    "validation": "eval_data",
}


class MlflowError(GovflowError):
    """The tracking server could not be reached (not the caller's input)."""

    exit_code = 1


@dataclass
class MlflowSource:
    """What a registration takes from MLflow."""

    uri: str
    artifact: Path
    run_id: str | None
    model_name: str | None = None
    model_version: str | None = None
    # Who created the model version in MLflow (its ``user_id``): the submitter of a webhook registration.
    user_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    code_version: str | None = None
    framework: str | None = None
    data: dict[str, str] = field(default_factory=dict)  # training_data/reference_data/eval_data -> URI

    def reference(self) -> dict[str, Any]:
        """Stored with the version (params["mlflow"]): where it came from, for the write-back."""
        ref = {"uri": self.uri, "run_id": self.run_id}
        if self.model_name:
            ref |= {"model_name": self.model_name, "model_version": self.model_version}
        if self.user_id:
            ref["user_id"] = self.user_id
        return ref


def fetch(uri: str, into: Path) -> MlflowSource:
    """Download ``uri``'s model into ``into`` and read its run; BadInputError for a bad or unknown URI."""
    models, runs = _MODELS.match(uri or ""), _RUNS.match(uri or "")
    if not models and not runs:
        raise BadInputError(
            f"bad MLflow URI {uri!r}: use models:/NAME/VERSION, models:/NAME@ALIAS or runs:/RUN_ID/PATH"
        )
    client = _client()
    name = version = user_id = None
    try:
        if models:
            name = models["name"]
            if models["alias"]:
                found = client.get_model_version_by_alias(name, models["alias"])
            else:
                found = client.get_model_version(name, models["version"])
            version, run_id = str(found.version), found.run_id
            user_id = str(found.user_id).strip() if getattr(found, "user_id", None) else None
            download = f"models:/{name}/{version}"
        else:
            assert runs is not None  # one of the two patterns matched above
            run_id, download = runs["run"], uri
        run = client.get_run(run_id) if run_id else None
        local = Path(_download(download, into))
    except GovflowError:
        raise
    except Exception as err:
        raise _error(uri, err) from err
    artifact, flavor = _model_file(local, uri)
    source = MlflowSource(
        uri=uri, artifact=artifact, run_id=run_id, model_name=name, model_version=version, user_id=user_id
    )
    source.framework = _FRAMEWORKS.get(flavor or "", flavor)
    if run is not None:
        source.params = dict(run.data.params)
        source.metrics = dict(run.data.metrics)
        source.code_version = run.data.tags.get("mlflow.source.git.commit")
        source.data = _datasets(run)
    return source


def tag_decision(ref: dict[str, Any], *, decision: str, decision_id: int, policy: str) -> None:
    """Write a gate decision onto the model version as ``govflow.*`` tags."""
    client = _client()
    name, version = ref["model_name"], ref["model_version"]
    for key, value in (
        ("govflow.decision", decision),
        ("govflow.decision_id", str(decision_id)),
        ("govflow.policy", policy),
    ):
        client.set_model_version_tag(name, version, key, value)


def set_champion(ref: dict[str, Any], *, archived: dict[str, Any] | None = None) -> None:
    """Point ``champion`` at the promoted version (an alias names one version, so it leaves the
    archived one) and mark the archived one's stage in a tag."""
    client = _client()
    client.set_registered_model_alias(ref["model_name"], CHAMPION, ref["model_version"])
    client.set_model_version_tag(ref["model_name"], ref["model_version"], "govflow.stage", "production")
    if archived and archived.get("model_name") == ref["model_name"]:
        client.set_model_version_tag(
            archived["model_name"], archived["model_version"], "govflow.stage", "archived"
        )


def _client() -> Any:
    try:
        from mlflow import MlflowClient
    except ImportError as err:
        raise BadInputError("MLflow support is not installed: pip install 'govflow[mlflow]'") from err
    return MlflowClient()


def _download(uri: str, into: Path) -> str:
    import mlflow.artifacts

    into.mkdir(parents=True, exist_ok=True)
    return str(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(into)))


def _model_file(local: Path, uri: str) -> tuple[Path, str | None]:
    """The file to govern: the one the MLmodel's flavour names, else the only model-like file."""
    if local.is_file():
        return local, None
    mlmodel = local / "MLmodel"
    if mlmodel.is_file():
        import yaml

        flavors = (yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}).get("flavors") or {}
        for flavor, conf in flavors.items():
            if flavor == "python_function":
                continue
            for key in ("pickled_model", "onnx_model_path", "model_path", "data"):
                named = (conf or {}).get(key)
                if named and (local / str(named)).is_file():
                    return local / str(named), flavor
    candidates = sorted(p for p in local.rglob("*") if p.is_file() and p.suffix.lower() in _MODEL_SUFFIXES)
    if len(candidates) == 1:
        return candidates[0], None
    raise BadInputError(
        f"cannot tell which file of {uri} is the model ({len(candidates)} candidate files): "
        "point runs:/RUN_ID/PATH at the model file"
    )


def _datasets(run: Any) -> dict[str, str]:
    """Training/reference/eval data URIs from the run's logged datasets, when their source has one."""
    import json

    found: dict[str, str] = {}
    for item in getattr(run.inputs, "dataset_inputs", None) or []:
        contexts = [t.value for t in item.tags if t.key == "mlflow.data.context"]
        target = next((_CONTEXTS[c.lower()] for c in contexts if c.lower() in _CONTEXTS), None)
        if target is None or target in found:
            continue
        try:
            source = json.loads(item.dataset.source)
        except (TypeError, ValueError):
            continue
        location = source.get("uri") or source.get("path") or source.get("url")
        if isinstance(location, str) and location:
            found[target] = location
    return found


def _error(uri: str, err: Exception) -> GovflowError:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    code = getattr(err, "error_code", "")
    if (
        code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND")
        or "not found" in text.lower()
    ):
        return BadInputError(f"MLflow has no {uri}: {text}")
    if type(err).__name__ == "MlflowException":
        return BadInputError(f"cannot read {uri} from MLflow: {text}")
    return MlflowError(f"MLflow tracking server unreachable for {uri}: {text}")
