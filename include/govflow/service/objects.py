"""Registered files in object storage, made local for the checks (checks read local paths).

A check task may run on any worker: the files it reads (data, the reference, the
model artifact) are downloaded into the worker's cache by ``artifacts.local_copy``
and verified against the sha256 recorded at registration, so a changed object is
refused exactly like a changed local file. Only the files the check reads are fetched.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from govflow.artifacts import is_remote, local_copy
from govflow.errors import BadInputError, ConflictError
from govflow.hashing import sha256_file

if TYPE_CHECKING:  # the DAG files read this module while parsing: no ORM import at run time
    from govflow.store import ModelVersion


class _RegisteredInputs(Protocol):
    """What local_inputs needs of a check's inputs (service.inputs.VersionInputs, a dataclass)."""

    @property
    def sha256(self) -> Mapping[str, str]: ...


# Typed structurally, so this module does not import service.inputs (which imports it).
InputsT = TypeVar("InputsT", bound=_RegisteredInputs)


# Fields whose reader takes the bytes into memory once and checks their sha256 there (ModelArtifact):
# a private copy would add a second read and hash, not a guarantee.
_HASHED_AS_READ = frozenset({"artifact"})


def local_inputs(
    inputs: InputsT, data: str, *, reads: tuple[str, ...] = (), into: Path | None = None
) -> tuple[InputsT, str, str]:
    """(inputs with the registered files in ``reads`` made local, the local data path, the data's sha256).

    ``reads`` names the ``VersionInputs`` fields the check opens besides ``data``
    (the check table's ``also_reads``). ``into`` (a ``private_reads`` folder): the data and those
    files are copied there, hashed as they are copied, and the check reads the copies, so what it
    reads is exactly what was hashed; otherwise a file swapped in the cache (the state volume) or
    at its local path between the hash and the check's own read would be judged under the
    registered hash.

    Raises ObjectStoreError when the store cannot be reached, BadInputError when an object is
    missing and ConflictError when its bytes differ from the registered sha256.
    """
    try:
        return _made_local(inputs, data, reads, into)
    except OSError as err:
        raise BadInputError(
            f"cannot read {Path(str(err.filename or data)).name}: {err.strerror or err}"
        ) from err


def _made_local(
    inputs: InputsT, data: str, reads: tuple[str, ...], into: Path | None
) -> tuple[InputsT, str, str]:
    local_data = str(local_copy(data, sha256=inputs.sha256.get(data)))
    changes: dict[str, Any] = {}
    for name in reads:
        uri = getattr(inputs, name)
        if not uri or not (is_remote(uri) or into is not None):
            continue
        local = local_copy(uri, sha256=inputs.sha256.get(uri))
        if into is not None and name not in _HASHED_AS_READ:
            copied, digest = snapshot(local, into)
            registered = inputs.sha256.get(uri)
            if registered and digest != registered:
                raise ConflictError(
                    f"the registered {name.replace('_', ' ')} {Path(str(uri)).name} no longer matches the "
                    "sha256 recorded at registration: not using it"
                )
            local = copied
        changes[name] = str(local)
    if changes:
        inputs = dataclasses.replace(inputs, **changes)  # type: ignore[type-var]
    if into is not None:
        copied, data_sha = snapshot(Path(local_data), into)
        return inputs, str(copied), data_sha
    return inputs, local_data, sha256_file(local_data)


@contextmanager
def private_reads() -> Iterator[Path]:
    """A folder for one check's copies of its inputs: outside the state volume, 0700 (``mkdtemp``),
    removed when the check is done."""
    folder = Path(tempfile.mkdtemp(prefix="govflow-read-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def snapshot(path: Path, folder: Path) -> tuple[Path, str]:
    """Copy ``path`` into ``folder`` (keeping its name: readers dispatch on the suffix), hashing the
    bytes as they are copied; returns (the copy, its sha256)."""
    target = Path(tempfile.mkdtemp(dir=folder)) / path.name
    digest = hashlib.sha256()
    with path.open("rb") as source, target.open("wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    return target, digest.hexdigest()


def registered_sha256(row: ModelVersion) -> dict[str, str]:
    """URI -> sha256 of a version row's registered files (artifact and data)."""
    pairs = [
        (row.artifact_uri, row.artifact_sha256),
        (row.training_data_uri, row.training_data_sha256),
        (row.reference_data_uri, row.reference_data_sha256),
        (row.eval_data_uri, row.eval_data_sha256),
    ]
    return {uri: digest for uri, digest in pairs if uri and digest}
