"""One place that turns a URI into a filesystem: local paths, ``file://``, object storage, ``memory://``.

After Airflow's ``ObjectStoragePath`` and its providers' ``fs`` modules: each scheme is
declared once, in ``_SCHEMES``, with the function that builds its filesystem options from
an optional connection id and the caller's storage options (``get_fs(conn_id, storage_options)``).
``_kind`` (behind ``resolve`` and ``is_remote``) is the only code that decides "is this
remote?"; every reader and writer of registered files, artifacts, batches and checkpoints
goes through ``resolve``, so they share the same options and the same one-line errors
(``storage_error``).

Schemes:
  a path, ``file://``   the local disk (``pathlib``; writes are atomic, ``files.atomic_write``)
  ``s3://``, ``s3a://``  s3fs, with credentials as below and fail-fast timeouts
  ``memory://``         fsspec's in-process filesystem: unit tests drive remote code paths with it
  ``conn://``           a warehouse table (``govflow.datasources``), not a filesystem: resolved
                        as kind ``table`` so callers dispatch on one answer
  anything else         the fsspec filesystem of that protocol, without options

S3 credentials, first match wins:
  1. ``GOVFLOW_S3_CONN_ID`` names an Airflow connection (``aws_default`` style: login = access
     key id, password = secret key, extra ``endpoint_url``, ``region_name``,
     ``aws_session_token``), looked up like any Airflow connection (``AIRFLOW_CONN_<ID>``,
     a secrets backend, the Airflow DB); it must exist. A field it sets wins over the environment.
  2. Without it, the ``govflow_object_store`` connection (``govflow.settings``) when Airflow has one.
  3. The standard AWS environment: ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
     ``AWS_SECRET_ACCESS_KEY`` (then botocore's own chain: ``~/.aws``, instance roles).
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from govflow import settings
from govflow.errors import BadInputError, GovflowError
from govflow.files import atomic_write
from govflow.hashing import sha256_file

__all__ = [
    "CHUNK",
    "Location",
    "ObjectStoreError",
    "blocks",
    "exists",
    "glob",
    "is_file",
    "is_remote",
    "mkdir",
    "put_file",
    "read_bytes",
    "read_bytes_if_any",
    "resolve",
    "storage_error",
    "translated_errors",
    "verified_copy",
    "write_bytes",
]

CHUNK = 1 << 20
S3_CONN_ENV = "GOVFLOW_S3_CONN_ID"
# Fail fast when the store is down (botocore's defaults wait a minute per attempt).
_S3_CONFIG = {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}}
_TABLE_SCHEME = "conn"


class ObjectStoreError(GovflowError):
    """The object store could not be reached or refused the request (not the caller's input)."""

    exit_code = 1


Kind = Literal["local", "remote", "table"]


@dataclass(frozen=True)
class Location:
    """Where a URI points: its scheme, the path its filesystem understands, and that filesystem."""

    uri: str
    scheme: str
    path: str
    kind: Kind
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def fs(self) -> Any:  # an fsspec AbstractFileSystem (fsspec ships no types)
        """The filesystem, built on first use (a local path never imports fsspec)."""
        if self.kind == "table":
            raise BadInputError(f"{self.uri} is a warehouse table, not a file")
        import fsspec

        return fsspec.filesystem("file" if self.kind == "local" else self.scheme, **self.options)

    @property
    def local(self) -> Path:
        """The path on this machine's disk (local URIs only)."""
        if self.kind != "local":
            raise BadInputError(f"{self.uri} is not a local path")
        return Path(self.path)

    def child(self, path: str) -> str:
        """The URI of a path this filesystem returned (``fs.ls``/``glob`` drop the scheme)."""
        return path if self.kind == "local" else f"{self.scheme}://{path}"


def _s3(conn_id: str | None, storage_options: Mapping[str, Any]) -> dict[str, Any]:
    """s3fs options: fail-fast timeouts, then the environment, then the Airflow connection."""
    # Read the settings on every resolve: they are part of fsspec's instance-cache key, so a
    # changed endpoint or key never reuses a client built for the old one.
    options: dict[str, Any] = {
        "config_kwargs": _S3_CONFIG,
        "endpoint_url": os.environ.get("AWS_ENDPOINT_URL") or None,
        "key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
    }
    if conn_id:
        options.update({k: v for k, v in _aws_connection(conn_id).items() if v})
    else:
        default = settings.object_store_connection()
        if default is not None:
            options.update({k: v for k, v in _connection_options(default).items() if v})
    options.update(storage_options)
    return options


def _aws_connection(conn_id: str) -> dict[str, Any]:
    """The credentials of an ``aws_default``-style Airflow connection, as s3fs options."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError as err:  # pragma: no cover - Airflow is a dependency; a bare install says so
        raise BadInputError(f"{S3_CONN_ENV}={conn_id} needs Airflow to read the connection") from err
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as err:
        raise BadInputError(
            f"Airflow connection {conn_id!r} named by {S3_CONN_ENV} is not defined "
            f"(set AIRFLOW_CONN_{conn_id.upper()} or add it in Airflow)"
        ) from err
    return _connection_options(conn)


def _connection_options(conn: Any) -> dict[str, Any]:
    extra = conn.extra_dejson or {}
    client_kwargs = {"region_name": extra["region_name"]} if extra.get("region_name") else {}
    return {
        "key": conn.login,
        "secret": conn.password,
        "token": extra.get("aws_session_token"),
        "endpoint_url": extra.get("endpoint_url") or (conn.host or None),
        **({"client_kwargs": client_kwargs} if client_kwargs else {}),
    }


def _plain(conn_id: str | None, storage_options: Mapping[str, Any]) -> dict[str, Any]:
    return dict(storage_options)


# scheme -> get_fs options builder (conn_id, storage_options) -> fsspec options. One line per scheme.
_SCHEMES: dict[str, Callable[[str | None, Mapping[str, Any]], dict[str, Any]]] = {
    "s3": _s3,
    "s3a": _s3,
    "memory": _plain,
}


def is_remote(uri: str | Path) -> bool:
    """True for a URI not on this disk: an object (``s3://``, ``memory://``...) or a ``conn://`` table."""
    return _kind(str(uri)) != "local"


def _kind(text: str) -> Kind:
    """Local, remote or table, from the URI's text alone (no options, no connection lookup)."""
    scheme, sep, _ = text.partition("://")
    if not sep or not scheme or scheme == "file" or "/" in scheme:
        return "local"
    return "table" if scheme == _TABLE_SCHEME else "remote"


def resolve(uri: str | Path, *, storage_options: Mapping[str, Any] | None = None) -> Location:
    """The scheme, filesystem path and filesystem options of ``uri``; never touches the network."""
    text = str(uri)
    scheme, _, rest = text.partition("://")
    kind = _kind(text)
    if kind == "local":
        return Location(uri=text, scheme="file", path=text.removeprefix("file://"), kind="local")
    if kind == "table":
        return Location(uri=text, scheme=scheme, path=rest, kind="table")
    builder = _SCHEMES.get(scheme, _plain)
    conn_id = (os.environ.get(S3_CONN_ENV) or None) if builder is _s3 else None
    options = builder(conn_id, storage_options or {})
    if scheme == "memory":
        rest = "/" + rest.lstrip("/")  # fsspec's memory paths are rooted, whatever the URI spelled
    return Location(uri=text, scheme=scheme, path=rest, kind="remote", options=options)


def storage_error(uri: str, err: BaseException) -> GovflowError:
    """The one mapping from a filesystem failure to govflow's one-line errors."""
    if isinstance(err, GovflowError):
        return err
    if isinstance(err, FileNotFoundError):
        local = _kind(uri) == "local"
        return BadInputError(f"not found: {uri}" if local else f"not found in object storage: {uri}")
    if isinstance(err, PermissionError):
        if _kind(uri) == "local":
            return BadInputError(f"cannot access {uri}: permission denied")
        return ObjectStoreError(f"object storage refused access to {uri} (check the AWS credentials)")
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    if _kind(uri) == "local":
        return BadInputError(f"cannot access {uri}: {reason}")
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or "the default endpoint"
    return ObjectStoreError(f"object storage unreachable at {endpoint} ({reason}) while accessing {uri}")


@contextmanager
def translated_errors(uri: str) -> Iterator[None]:
    """Raise any failure inside as ``storage_error(uri, ...)``, chained."""
    try:
        yield
    except GovflowError:
        raise
    except Exception as err:
        raise storage_error(uri, err) from err


def read_bytes(uri: str, *, limit: int | None = None) -> bytes:
    """The bytes at ``uri`` (at most ``limit`` when given)."""
    where = resolve(uri)
    with translated_errors(uri):
        if where.kind == "local":
            with where.local.open("rb") as handle:
                return handle.read(-1 if limit is None else limit)
        # One GET (ranged when limited): opening a file object, or s3fs's concurrent whole-object
        # read, would ask for its size first.
        once = {"max_concurrency": 1} if where.scheme in ("s3", "s3a") else {}
        try:
            return bytes(where.fs.cat_file(where.path, start=None if limit is None else 0, end=limit, **once))
        except OSError as err:
            if limit is None or err.errno != errno.EINVAL:
                raise
        # An empty object has no byte range to give (S3 answers InvalidRange): read it as a file.
        with where.fs.open(where.path, "rb") as handle:
            return bytes(handle.read(limit))


def read_bytes_if_any(uri: str, *, limit: int | None = None) -> bytes | None:
    """``read_bytes``, or None when nothing is at ``uri`` (one request, not a look then a read)."""
    try:
        return read_bytes(uri, limit=limit)
    except BadInputError as err:
        if isinstance(err.__cause__, FileNotFoundError):
            return None
        raise


def write_bytes(uri: str, data: bytes) -> None:
    """Put ``data`` at ``uri`` whole or not at all (a local temp-then-rename; an object PUT is atomic)."""
    where = resolve(uri)
    if where.kind == "local":
        atomic_write(where.local, lambda handle: handle.write(data))
        return
    with translated_errors(uri):
        where.fs.pipe_file(where.path, data)


def blocks(uri: str) -> Iterator[bytes]:
    """The bytes at ``uri`` in chunks of ``CHUNK`` (a file or object, streamed)."""
    where = resolve(uri)
    with translated_errors(uri):
        handle = where.local.open("rb") if where.kind == "local" else where.fs.open(where.path, "rb")
        with handle:
            yield from iter(lambda: handle.read(CHUNK), b"")


def is_file(uri: str) -> bool:
    where = resolve(uri)
    if where.kind == "local":
        return where.local.expanduser().is_file()
    with translated_errors(uri):
        return bool(where.fs.isfile(where.path))


def exists(uri: str) -> bool:
    where = resolve(uri)
    if where.kind == "local":
        return where.local.exists()
    with translated_errors(uri):
        return bool(where.fs.exists(where.path))


def put_file(source: Path, uri: str) -> None:
    """Copy a local file to ``uri`` (atomically on a local disk)."""
    where = resolve(uri)
    if where.kind == "local":
        with source.open("rb") as src:
            atomic_write(where.local, lambda out: _copy(src, out))
        return
    with translated_errors(uri):
        where.fs.put_file(str(source), where.path)


def _copy(src: Any, out: Any) -> None:
    for block in iter(lambda: src.read(CHUNK), b""):
        out.write(block)


def glob(uri: str, pattern: str) -> list[str]:
    """URIs of the entries of folder ``uri`` matching ``pattern`` (``*.json``), sorted; none if no folder."""
    where = resolve(uri)
    if where.kind == "local":
        folder = where.local
        return [str(p) for p in sorted(folder.glob(pattern))] if folder.is_dir() else []
    with translated_errors(uri):
        root = where.path.rstrip("/")
        # No look for the folder first: a missing prefix lists nothing (one request fewer).
        return [where.child(p) for p in sorted(where.fs.glob(f"{root}/{pattern}"))]


def mkdir(uri: str) -> None:
    """Create a folder or a bucket unless it exists."""
    where = resolve(uri)
    if where.kind == "local":
        where.local.mkdir(parents=True, exist_ok=True)
        return
    with translated_errors(uri):
        if not where.fs.exists(where.path):
            where.fs.mkdir(where.path)


def verified_copy(
    target: Path,
    *,
    sha256: str,
    source: Callable[[], Iterator[bytes]],
    changed: Callable[[str], GovflowError],
) -> Path:
    """``target``, a cached copy of ``source``'s bytes, holding exactly the bytes of ``sha256``.

    A cache is re-hashed on every use, never trusted for its name: a copy that no longer hashes to
    ``sha256`` (poisoned, truncated, bit-rotted) is deleted and fetched again. A fresh copy is hashed
    as it is written and put in place only if it matches; otherwise ``changed(actual_sha256)`` is
    raised and nothing is left behind.
    """
    if target.is_file():
        if sha256_file(target) == sha256:
            return target
        target.unlink(missing_ok=True)  # a poisoned copy: fetch the real bytes again

    def write(out: BinaryIO) -> None:
        digest = hashlib.sha256()
        for block in source():
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != sha256:
            raise changed(digest.hexdigest())

    atomic_write(target, write)
    return target
