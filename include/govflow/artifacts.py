"""Content-addressed artifact store for evidence, rendered documents and bundles, and
reading registered files (data, model artifacts) from object storage.

Objects are named by their sha256, so writing the same evidence twice stores
it once, and a stored object can always be checked against its name. The root
is a local folder by default, or any fsspec URL (s3://, gs://, ...) in production.

Object storage (``s3://``) goes through fsspec/s3fs with the standard AWS settings
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ...), so any
worker on any machine reads the same bytes. A registered remote file is read by
``local_copy``: downloaded once per worker into ``$GOVFLOW_HOME/cache/objects``,
named by its sha256, and checked against the registered hash before use.
An unreachable store raises ``ObjectStoreError`` (one line, names the endpoint).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govflow import config, settings
from govflow.datasources import is_table_uri, table_copy, table_sha256
from govflow.errors import BadInputError, ConflictError, GovflowError
from govflow.hashing import canonical_json, sha256_bytes, sha256_file

_CHUNK = 1 << 20
# Fail fast when the store is down (botocore's defaults wait a minute per attempt).
_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}}


class ObjectStoreError(GovflowError):
    """The object store could not be reached or refused the request (not the caller's input)."""

    exit_code = 1


@dataclass(frozen=True)
class StoredArtifact:
    uri: str
    sha256: str
    size: int


def is_remote(uri: str | Path) -> bool:
    """True for a URL that fsspec must open (s3://...), false for a path or file:// URL."""
    text = str(uri)
    return "://" in text and not text.startswith("file://")


def _filesystem(uri: str) -> Any:  # an fsspec AbstractFileSystem (fsspec ships no types)
    import fsspec

    protocol = uri.split("://", 1)[0]
    options: dict[str, Any] = {}
    if protocol in ("s3", "s3a"):
        # Read the settings now: they are part of fsspec's instance-cache key, so a changed
        # endpoint or key never reuses a client built for the old one.
        # The govflow_object_store Airflow connection, else the standard AWS variables (settings).
        options = {"config_kwargs": _S3_CONFIG, **settings.object_store_credentials()}
    fs, path = fsspec.core.url_to_fs(uri, **options)
    return fs, path


def _store_error(uri: str, err: Exception) -> GovflowError:
    if isinstance(err, GovflowError):
        return err
    if isinstance(err, FileNotFoundError):
        return BadInputError(f"not found in object storage: {uri}")
    if isinstance(err, PermissionError):
        return ObjectStoreError(f"object storage refused access to {uri} (check the AWS credentials)")
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the default endpoint"
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    return ObjectStoreError(f"object storage unreachable at {endpoint} ({reason}) while accessing {uri}")


def sha256_uri(uri: str | Path) -> str:
    """Streamed sha256 of a local file, a remote object or a warehouse table (``conn://``)."""
    if is_table_uri(uri):
        return table_sha256(str(uri))
    if not is_remote(uri):
        return sha256_file(str(uri).removeprefix("file://"))
    uri = str(uri)
    digest = hashlib.sha256()
    try:
        fs, path = _filesystem(uri)
        with fs.open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
    except Exception as err:
        raise _store_error(uri, err) from err
    return digest.hexdigest()


def uri_is_file(uri: str | Path) -> bool:
    if is_table_uri(uri):
        return True  # a missing table or connection is one clear error when the table is read
    if not is_remote(uri):
        return Path(str(uri).removeprefix("file://")).expanduser().is_file()
    try:
        fs, path = _filesystem(str(uri))
        return bool(fs.isfile(path))
    except Exception as err:
        raise _store_error(str(uri), err) from err


def local_copy(uri: str | Path, *, sha256: str | None = None) -> Path:
    """A local path with the bytes of ``uri``: the path itself for local files; for a remote object,
    a copy in this worker's cache (one download per content), refused unless its sha256 is ``sha256``
    when given. The copy keeps the object's file name, so readers still dispatch on the suffix.
    A warehouse table (``conn://``) becomes its canonical CSV (``govflow.datasources``)."""
    if is_table_uri(uri):
        return table_copy(str(uri), sha256=sha256)
    if not is_remote(uri):
        return Path(str(uri).removeprefix("file://"))
    uri = str(uri)
    name = uri.rstrip("/").rsplit("/", 1)[-1] or "object"
    cache = config.home() / "cache" / "objects"
    if sha256:
        cached = cache / sha256[:2] / sha256 / name
        if cached.is_file():
            return cached
    cache.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache, prefix=".download-")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            try:
                fs, path = _filesystem(uri)
                with fs.open(path, "rb") as handle:
                    for block in iter(lambda: handle.read(_CHUNK), b""):
                        digest.update(block)
                        out.write(block)
            except Exception as err:
                raise _store_error(uri, err) from err
        actual = digest.hexdigest()
        if sha256 and actual != sha256:
            raise ConflictError(f"{uri} changed since registration (sha256 differs): not using it")
        target = cache / actual[:2] / actual / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)  # atomic: a concurrent task sees the old or the whole new copy
        return target
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def upload_file(path: str | Path, uri: str) -> str:
    """Copy a local file to ``uri`` (a remote URL or a local path); returns its sha256."""
    source = Path(path)
    digest = sha256_file(source)
    if not is_remote(uri):
        target = Path(uri.removeprefix("file://"))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return digest
    try:
        fs, remote = _filesystem(uri)
        fs.put_file(str(source), remote)
    except Exception as err:
        raise _store_error(uri, err) from err
    return digest


def bucket_ready(bucket: str) -> None:
    """Create an S3 bucket unless it exists (deployment set-up)."""
    try:
        fs, _ = _filesystem(f"s3://{bucket}")
        if not fs.exists(bucket):
            fs.mkdir(bucket)
    except Exception as err:
        raise _store_error(f"s3://{bucket}", err) from err


class ArtifactStore:
    def __init__(self, root: str | None = None) -> None:
        self.root = root or config.artifacts_root()
        self._is_local = not is_remote(self.root)

    def _location(self, sha256: str, suffix: str) -> str:
        return f"{self.root.rstrip('/')}/{sha256[:2]}/{sha256}{suffix}"

    def put_bytes(self, data: bytes, *, suffix: str = "") -> StoredArtifact:
        digest = sha256_bytes(data)
        location = self._location(digest, suffix)
        if self._is_local:
            path = Path(location.removeprefix("file://"))
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                # Write then rename: readers never see a half-written object.
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, path)
            return StoredArtifact(uri=str(path), sha256=digest, size=len(data))
        try:
            fs, path = _filesystem(location)
            # Content-addressed: an existing object already holds these bytes. An S3 PUT is atomic.
            if not fs.exists(path):
                fs.pipe_file(path, data)
        except Exception as err:
            raise _store_error(location, err) from err
        return StoredArtifact(uri=location, sha256=digest, size=len(data))

    def put_file(self, path: str | Path, *, suffix: str = "") -> StoredArtifact:
        """Store a file's content without loading it into memory (bundles can be large)."""
        source = Path(path)
        digest, size = sha256_file(source), source.stat().st_size
        location = self._location(digest, suffix)
        if self._is_local:
            target = Path(location.removeprefix("file://"))
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
                os.close(fd)
                shutil.copyfile(source, tmp)
                os.replace(tmp, target)
            return StoredArtifact(uri=str(target), sha256=digest, size=size)
        try:
            fs, remote = _filesystem(location)
            if not fs.exists(remote):
                fs.put_file(str(source), remote)
        except Exception as err:
            raise _store_error(location, err) from err
        return StoredArtifact(uri=location, sha256=digest, size=size)

    def put_json(self, obj: Any) -> StoredArtifact:
        return self.put_bytes(canonical_json(obj).encode("utf-8"), suffix=".json")

    def put_text(self, text: str, *, suffix: str) -> StoredArtifact:
        return self.put_bytes(text.encode("utf-8"), suffix=suffix)

    def get_bytes(self, uri: str) -> bytes:
        if not is_remote(uri):
            path = Path(uri.removeprefix("file://"))
            if not path.is_file():
                raise BadInputError(f"artifact not found: {uri}")
            return path.read_bytes()
        try:
            fs, path = _filesystem(uri)
            return bytes(fs.cat_file(path))
        except FileNotFoundError as err:
            raise BadInputError(f"artifact not found: {uri}") from err
        except Exception as err:
            raise _store_error(uri, err) from err

    def verify(self, uri: str, sha256: str) -> bool:
        return sha256_bytes(self.get_bytes(uri)) == sha256
