"""Model artifacts in the content-addressed store: copied in at registration, loaded from the stored bytes.

1. Registration checks the tier accepts the artifact's format (the policy's
   ``artifacts.formats``: the default high tier refuses pickles, saying how to
   convert), reads the submitter's file once and stores those bytes under
   their sha256. The version records the stored copy, so the submitter's path
   can change or vanish without affecting what is governed.
2. Every load reads the stored bytes once, checks their sha256 against the
   registered one and loads from the same bytes (no hash-then-reopen race),
   trusting only the skops types the policy lists for the tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow import signing
from govflow.artifacts import ArtifactStore, is_remote
from govflow.checks import CheckInputError, ModelArtifact, require_format
from govflow.checks.model_predictions import load_model
from govflow.errors import BadInputError
from govflow.policy import Policy

__all__ = ["StoredModel", "ingest_artifact", "load_registered", "registered_artifact"]


@dataclass(frozen=True)
class StoredModel:
    uri: str
    sha256: str


def _rules(policy: Policy, tier: str) -> Any:
    return policy.tier(tier).artifacts


def ingest_artifact(source: str | Path, *, policy: Policy, tier: str) -> StoredModel:
    """Copy the artifact's bytes into the artifact store (after the tier's format check)."""
    name = str(source)
    try:
        require_format(name, _rules(policy, tier).formats, where=f"the {tier} tier (policy {policy.version})")
    except CheckInputError as err:
        raise BadInputError(str(err)) from err
    store = ArtifactStore()
    if is_remote(name):
        data = store.get_bytes(name)
    else:
        path = Path(name.removeprefix("file://")).expanduser()
        if not path.is_file():
            raise BadInputError(f"artifact not found: {path}")
        data = path.read_bytes()  # the one read: these bytes are hashed and stored
    if not data:
        raise BadInputError(f"artifact is empty: {name}")
    stored = store.put_bytes(data, suffix=Path(name).suffix.lower())
    return StoredModel(uri=stored.uri, sha256=stored.sha256)


def registered_artifact(uri: str, sha256: str | None, *, policy: Policy, tier: str) -> ModelArtifact:
    """The registered artifact's bytes, read once and checked against the registered sha256.

    Raises ``CheckInputError`` (a check records it as ``error``) when the bytes differ or the
    policy no longer accepts the format for the tier.
    """
    signing.refuse_untrusted_work("a model file's code")  # every loader of a registered model asks here
    require_format(uri, _rules(policy, tier).formats, where=f"the {tier} tier (policy {policy.version})")
    try:
        data = ArtifactStore().get_bytes(uri)
    except BadInputError as err:
        raise CheckInputError(str(err)) from err
    return ModelArtifact(data=data, name=uri).expect(sha256, what="registered artifact")


def load_registered(uri: str, sha256: str | None, *, policy: Policy, tier: str) -> Any:
    """Load the registered model (skops/ONNX in process, a pickle only in the sandbox)."""
    artifact = registered_artifact(uri, sha256, policy=policy, tier=tier)
    rules = _rules(policy, tier)
    return load_model(artifact, trusted=rules.trusted_types, formats=rules.formats)
