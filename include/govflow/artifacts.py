"""Content-addressed artifact store for evidence, rendered documents and bundles, and
reading registered files (data, model artifacts) from object storage.

Objects are named by their sha256, so writing the same evidence twice stores
it once, and a stored object can always be checked against its name. The root
is a local folder by default, or any URI ``govflow.storage`` resolves (``s3://`` in
production, ``memory://`` in unit tests); credentials and errors come from there.

A registered remote file is read by ``local_copy``: downloaded once per worker into
``$GOVFLOW_HOME/cache/objects``, named by its sha256, and re-hashed against the registered
sha256 every time it is handed out (a poisoned cache is deleted and fetched again).
An unreachable store raises ``ObjectStoreError`` (one line, names the endpoint).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow import config, storage
from govflow.datasources import is_table_uri, table_copy, table_sha256
from govflow.errors import BadInputError, ConflictError
from govflow.files import atomic_write
from govflow.hashing import canonical_json, sha256_bytes, sha256_file
from govflow.scoped import kept_in
from govflow.storage import ObjectStoreError, is_remote

__all__ = [
    "ArtifactStore",
    "ObjectStoreError",
    "StoredArtifact",
    "bucket_ready",
    "fetched_once",
    "is_remote",
    "local_copy",
    "sha256_uri",
    "upload_file",
    "uri_is_file",
]


@dataclass(frozen=True)
class StoredArtifact:
    uri: str
    sha256: str
    size: int


def sha256_uri(uri: str | Path) -> str:
    """Streamed sha256 of a local file, a remote object or a warehouse table (``conn://``)."""
    if is_table_uri(uri):
        return table_sha256(str(uri))
    where = storage.resolve(uri)
    if where.kind == "local":
        return sha256_file(where.local)
    digest = hashlib.sha256()
    for block in storage.blocks(str(uri)):
        digest.update(block)
    return digest.hexdigest()


def uri_is_file(uri: str | Path) -> bool:
    if is_table_uri(uri):
        return True  # a missing table or connection is one clear error when the table is read
    return storage.is_file(str(uri))


def local_copy(uri: str | Path, *, sha256: str | None = None) -> Path:
    """A local path with the bytes of ``uri``: the path itself for local files; for a remote object,
    a copy in this worker's cache (one download per content), refused unless its sha256 is ``sha256``
    when given. The copy keeps the object's file name, so readers still dispatch on the suffix, and is
    re-hashed on every use (``storage.verified_copy``).
    A warehouse table (``conn://``) becomes its canonical CSV (``govflow.datasources``)."""
    if is_table_uri(uri):
        return table_copy(str(uri), sha256=sha256)
    where = storage.resolve(uri)
    if where.kind == "local":
        return where.local
    text = str(uri)
    name = text.rstrip("/").rsplit("/", 1)[-1] or "object"
    cache = config.home() / "cache" / "objects"
    fetched = _FETCHED.get()
    if sha256 is None and fetched is not None and text in fetched:
        sha256 = fetched[text]  # fetched earlier in the block: its filed copy, re-hashed below
    if sha256 is None:
        filed = _filed_by_hash(text, name, cache)
        if fetched is not None:
            fetched[text] = filed.parent.name
        return filed

    def changed(actual: str) -> ConflictError:
        return ConflictError(f"{text} changed since registration (sha256 differs): not using it")

    target = cache / sha256[:2] / sha256 / name
    return storage.verified_copy(target, sha256=sha256, source=lambda: storage.blocks(text), changed=changed)


# Objects with no registered hash fetched in a ``fetched_once()`` block: URI -> sha256 of the copy.
_FETCHED: ContextVar[dict[str, str] | None] = ContextVar("govflow_objects_fetched", default=None)


@contextmanager
def fetched_once() -> Iterator[None]:
    """Within the block, an object with no registered hash (a production batch) is downloaded once:
    later reads take the copy filed under the hash it had then, re-hashed on use, so every check of
    the block judges the same bytes even if the object is replaced meanwhile."""
    with kept_in(_FETCHED):
        yield


def _filed_by_hash(uri: str, name: str, cache: Path) -> Path:
    """An object with no registered hash (a production batch): downloaded once, hashed as it is
    written, and filed in the cache under that hash (hashing it first meant reading it twice)."""
    digest = hashlib.sha256()

    def write(out: Any) -> None:
        for block in storage.blocks(uri):
            digest.update(block)
            out.write(block)

    incoming = cache / "incoming" / f"{secrets.token_hex(8)}-{name}"
    atomic_write(incoming, write)
    actual = digest.hexdigest()
    target = cache / actual[:2] / actual / name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(incoming, target)  # the same bytes as any copy already there
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    return target


def upload_file(path: str | Path, uri: str) -> str:
    """Copy a local file to ``uri`` (a remote URL or a local path); returns its sha256."""
    source = Path(path)
    digest = sha256_file(source)
    storage.put_file(source, uri)
    return digest


def bucket_ready(bucket: str) -> None:
    """Create an S3 bucket unless it exists (deployment set-up)."""
    storage.mkdir(f"s3://{bucket}")


class ArtifactStore:
    def __init__(self, root: str | None = None) -> None:
        self.root = root or config.artifacts_root()
        self._is_local = not is_remote(self.root)

    def _location(self, sha256: str, suffix: str) -> str:
        return f"{self.root.rstrip('/')}/{sha256[:2]}/{sha256}{suffix}"

    def put_bytes(self, data: bytes, *, suffix: str = "") -> StoredArtifact:
        digest = sha256_bytes(data)
        location = self._location(digest, suffix)
        # Content-addressed: an existing object already holds these bytes. Writes are whole or nothing.
        # In object storage a PUT of the same bytes is cheaper than asking first (a missing key costs
        # s3fs two requests to say so).
        if not self._is_local or not storage.exists(location):
            storage.write_bytes(location, data)
        uri = str(storage.resolve(location).local) if self._is_local else location
        return StoredArtifact(uri=uri, sha256=digest, size=len(data))

    def put_file(self, path: str | Path, *, suffix: str = "") -> StoredArtifact:
        """Store a file's content without loading it into memory (bundles can be large)."""
        source = Path(path)
        digest, size = sha256_file(source), source.stat().st_size
        location = self._location(digest, suffix)
        if not storage.exists(location):
            storage.put_file(source, location)
        uri = str(storage.resolve(location).local) if self._is_local else location
        return StoredArtifact(uri=uri, sha256=digest, size=size)

    def put_json(self, obj: Any) -> StoredArtifact:
        return self.put_bytes(canonical_json(obj).encode("utf-8"), suffix=".json")

    def put_text(self, text: str, *, suffix: str) -> StoredArtifact:
        return self.put_bytes(text.encode("utf-8"), suffix=suffix)

    def get_bytes(self, uri: str) -> bytes:
        where = storage.resolve(uri)
        if where.kind == "local" and not where.local.is_file():
            raise BadInputError(f"artifact not found: {uri}")
        try:
            return storage.read_bytes(uri)
        except BadInputError as err:
            if isinstance(err.__cause__, FileNotFoundError):
                raise BadInputError(f"artifact not found: {uri}") from err.__cause__
            raise

    def verify(self, uri: str, sha256: str) -> bool:
        return sha256_bytes(self.get_bytes(uri)) == sha256
