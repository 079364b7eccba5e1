"""Registered files in object storage, made local for the checks (checks read local paths).

A check task may run on any worker: the files it reads (data, the reference, the
model artifact) are downloaded into the worker's cache by ``artifacts.local_copy``
and verified against the sha256 recorded at registration, so a changed object is
refused exactly like a changed local file. Only the files the check reads are fetched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from govflow.artifacts import is_remote, local_copy
from govflow.errors import BadInputError
from govflow.hashing import sha256_file

if TYPE_CHECKING:  # the DAG files read this module while parsing: no ORM import at run time
    from govflow.store import ModelVersion


class _RegisteredInputs(Protocol):
    """What local_inputs needs of a check's inputs (service.inputs.VersionInputs, a dataclass)."""

    @property
    def sha256(self) -> Mapping[str, str]: ...


# Typed structurally, so this module does not import service.inputs (which imports it).
InputsT = TypeVar("InputsT", bound=_RegisteredInputs)


def local_inputs(inputs: InputsT, data: str, *, reads: tuple[str, ...] = ()) -> tuple[InputsT, str, str]:
    """(inputs with the registered files in ``reads`` made local, the local data path, the data's sha256).

    ``reads`` names the ``VersionInputs`` fields the check opens besides ``data``
    (the check table's ``also_reads``).

    Raises ObjectStoreError when the store cannot be reached, BadInputError when an object is
    missing and ConflictError when its bytes differ from the registered sha256.
    """
    local_data = str(local_copy(data, sha256=inputs.sha256.get(data)))
    changes: dict[str, Any] = {
        name: str(local_copy(uri, sha256=inputs.sha256.get(uri)))
        for name in reads
        if (uri := getattr(inputs, name)) and is_remote(uri)
    }
    if changes:
        inputs = dataclasses.replace(inputs, **changes)  # type: ignore[type-var]
    try:
        data_sha = sha256_file(local_data)
    except OSError as err:
        raise BadInputError(f"cannot read {Path(local_data).name}: {err.strerror or err}") from err
    return inputs, local_data, data_sha


def registered_sha256(row: ModelVersion) -> dict[str, str]:
    """URI -> sha256 of a version row's registered files (artifact and data)."""
    pairs = [
        (row.artifact_uri, row.artifact_sha256),
        (row.training_data_uri, row.training_data_sha256),
        (row.reference_data_uri, row.reference_data_sha256),
        (row.eval_data_uri, row.eval_data_sha256),
    ]
    return {uri: digest for uri, digest in pairs if uri and digest}
