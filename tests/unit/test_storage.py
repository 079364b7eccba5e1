"""One storage module: every URI resolves in one place, and remote code paths run on ``memory://``.

fsspec's memory filesystem is a real remote filesystem for these tests (its own paths, ``ls``,
``glob``, ``pipe_file``), so artifacts, batches, checkpoints and lineage take the same branch
they take on ``s3://`` in production without a server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from govflow import lineage, storage
from govflow.artifacts import (
    ArtifactStore,
    ObjectStoreError,
    local_copy,
    sha256_uri,
    upload_file,
    uri_is_file,
)
from govflow.errors import BadInputError, ConflictError
from govflow.hashing import sha256_bytes
from govflow.service import audit, batches


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh ``memory://`` folder, removed afterwards (the memory filesystem is process-wide)."""
    root = f"memory://govflow-{uuid.uuid4().hex[:8]}"
    yield root
    where = storage.resolve(root)
    if where.fs.exists(where.path):
        where.fs.rm(where.path, recursive=True)


@pytest.mark.parametrize(
    ("uri", "kind", "path"),
    [
        ("/data/train.csv", "local", "/data/train.csv"),
        ("relative/train.csv", "local", "relative/train.csv"),
        ("file:///data/train.csv", "local", "/data/train.csv"),
        ("s3://bucket/data/train.csv", "remote", "bucket/data/train.csv"),
        ("memory://bucket/x.csv", "remote", "/bucket/x.csv"),
        ("conn://wh/public.applicants", "table", "wh/public.applicants"),
    ],
)
def test_every_uri_resolves_to_one_kind_and_path(uri, kind, path):
    where = storage.resolve(uri)
    assert (where.kind, where.path) == (kind, path)
    assert storage.is_remote(uri) is (kind != "local")


def test_artifacts_put_and_get_through_a_remote_root(memory_root):
    store = ArtifactStore(root=memory_root)
    stored = store.put_json({"b": 1, "a": [1, 2]})
    assert stored.uri.startswith(f"{memory_root}/") and stored.uri.endswith(".json")
    assert store.get_bytes(stored.uri) == b'{"a":[1,2],"b":1}'
    assert store.verify(stored.uri, stored.sha256)
    assert store.put_json({"a": [1, 2], "b": 1}) == stored  # content-addressed: stored once
    assert sha256_uri(stored.uri) == stored.sha256 and uri_is_file(stored.uri)
    with pytest.raises(BadInputError, match="artifact not found: memory://"):
        store.get_bytes(f"{memory_root}/no/such.json")


def test_artifact_files_and_uploads_reach_the_remote_store(memory_root, tmp_path):
    source = tmp_path / "bundle.zip"
    source.write_bytes(b"zip" * 1000)
    stored = ArtifactStore(root=memory_root).put_file(source, suffix=".zip")
    assert ArtifactStore(root=memory_root).get_bytes(stored.uri) == source.read_bytes()
    digest = upload_file(source, f"{memory_root}/up/bundle.zip")
    assert digest == stored.sha256 == sha256_uri(f"{memory_root}/up/bundle.zip")


def test_a_local_store_writes_whole_files_only(tmp_path):
    store = ArtifactStore(root=str(tmp_path / "store"))
    stored = store.put_text("hello", suffix=".txt")
    assert Path(stored.uri).read_text() == "hello"
    assert not list((tmp_path / "store").rglob(".tmp-*"))  # files.atomic_write left no temp file


def test_a_remote_object_is_copied_once_verified_and_refused_when_changed(memory_root):
    uri = f"{memory_root}/data/train.csv"
    storage.write_bytes(uri, b"a,b\n1,2\n")
    digest = sha256_bytes(b"a,b\n1,2\n")
    copy = local_copy(uri, sha256=digest)
    assert copy.name == "train.csv" and copy.read_bytes() == b"a,b\n1,2\n"
    assert local_copy(uri) == copy  # without a registered hash: named by the current content
    storage.write_bytes(uri, b"a,b\n9,9\n")
    with pytest.raises(ConflictError, match="changed since registration"):
        local_copy(uri, sha256=sha256_bytes(b"other"))
    with pytest.raises(BadInputError, match="not found in object storage: memory://"):
        local_copy(f"{memory_root}/missing.csv")


def test_an_object_without_a_registered_hash_is_read_once_and_filed_by_its_hash(memory_root, monkeypatch):
    """A production batch has no registered hash: it was read once to hash it and again to copy it."""
    uri = f"{memory_root}/batches/b1.csv"
    storage.write_bytes(uri, b"x\n1\n")
    streamed: list[str] = []
    real_blocks = storage.blocks
    monkeypatch.setattr(storage, "blocks", lambda u: streamed.append(u) or real_blocks(u))
    copy = local_copy(uri)
    assert streamed == [uri]
    assert copy.name == "b1.csv" and copy.parent.name == sha256_bytes(b"x\n1\n")
    assert copy.read_bytes() == b"x\n1\n"
    assert not list((copy.parents[2] / "incoming").iterdir())  # nothing half-written left behind
    storage.write_bytes(uri, b"x\n2\n")
    assert local_copy(uri).parent.name == sha256_bytes(b"x\n2\n")  # new content, new name


def test_a_missing_object_reads_as_none_and_evidence_is_fetched_once_per_block(memory_root, monkeypatch):
    from types import SimpleNamespace

    from govflow.service.checks import evidence_kept, load_evidence

    assert storage.read_bytes_if_any(f"{memory_root}/nothing.json") is None
    store = ArtifactStore(memory_root)
    stored = store.put_json({"status": "pass"})
    row = SimpleNamespace(id=1, evidence_uri=stored.uri, evidence_sha256=stored.sha256)
    fetched: list[str] = []
    real_get = ArtifactStore.get_bytes
    monkeypatch.setattr(ArtifactStore, "get_bytes", lambda self, u: fetched.append(u) or real_get(self, u))
    with evidence_kept():
        assert load_evidence(row, store) == load_evidence(row, store) == {"status": "pass"}
    assert len(fetched) == 1
    storage.write_bytes(stored.uri, b'{"status": "fail"}')  # changed in the store after the block
    with pytest.raises(ConflictError, match="does not match its sha256"):
        load_evidence(row, store)  # outside a block every read is verified again


def test_the_newest_batch_is_found_in_a_remote_folder(memory_root):
    folder = f"{memory_root}/models/credit/batches/"
    assert batches.newest_batch(folder) is None
    for name in ("batch-0002.csv", "batch-0001.csv", "notes.txt", "batch-0003.parquet"):
        storage.write_bytes(folder + name, b"x\n")
    newest = batches.newest_batch(folder)
    assert (
        newest
        == f"memory:///{memory_root.removeprefix('memory://')}/models/credit/batches/batch-0003.parquet"
    )
    assert storage.read_bytes(newest) == b"x\n"  # the URI it returns resolves back to the object
    assert batches.batch_name(newest) == "batch-0003.parquet"


def test_checkpoints_are_written_found_and_read_in_a_remote_root(memory_root, monkeypatch):
    monkeypatch.setenv("GOVFLOW_ARTIFACTS", memory_root)
    assert audit.find_checkpoints() == []
    body = json.dumps({"seq": 7}).encode()
    audit._write(f"{audit.checkpoint_root()}/0007.json", body)
    found = audit.find_checkpoints(extra=["/elsewhere/0001.json"])
    assert found[0].endswith("/audit-checkpoints/0007.json") and found[1] == "/elsewhere/0001.json"
    assert audit._read(found[0]) == body
    with pytest.raises(BadInputError, match=r"checkpoint /no/such\.json: No such file or directory"):
        audit._read("/no/such.json")


def test_lineage_names_datasets_from_the_resolved_uri():
    assert lineage.dataset_name("s3://bucket/data/train.csv") == ("s3://bucket", "data/train.csv")
    assert lineage.dataset_name("memory://bucket/data/train.csv") == ("memory://bucket", "data/train.csv")
    assert lineage.dataset_name("conn://wh/public.applicants") == ("conn://wh", "public.applicants")
    assert lineage.dataset_name("file:///data/train.csv") == ("file", "/data/train.csv")
    assert lineage.dataset_name("/data/train.csv") == ("file", "/data/train.csv")


def test_an_unreachable_store_is_one_line_naming_the_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    error = storage.storage_error("s3://b/k", ConnectionError("Connection refused\nmore detail"))
    assert isinstance(error, ObjectStoreError)
    assert str(error) == (
        "object storage unreachable at http://127.0.0.1:9 (Connection refused) while accessing s3://b/k"
    )
    denied = storage.storage_error("s3://b/k", PermissionError("403"))
    assert isinstance(denied, ObjectStoreError) and "check the AWS credentials" in str(denied)


def test_s3_credentials_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(storage.S3_CONN_ENV, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:8333")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    options = storage.resolve("s3://bucket/k").options
    assert (options["endpoint_url"], options["key"], options["secret"]) == (
        "http://env:8333",
        "env-key",
        "env-secret",
    )
    assert options["config_kwargs"]["connect_timeout"] == 5  # fail fast when the store is down


def test_an_airflow_connection_named_by_the_setting_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://env:8333")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "env-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv(storage.S3_CONN_ENV, "aws_gov")
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_GOV",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "conn-key",
                "password": "conn-secret",
                "extra": {"endpoint_url": "http://conn:9000", "region_name": "eu-west-1"},
            }
        ),
    )
    options = storage.resolve("s3://bucket/k").options
    assert (options["endpoint_url"], options["key"], options["secret"]) == (
        "http://conn:9000",
        "conn-key",
        "conn-secret",
    )
    assert options["client_kwargs"] == {"region_name": "eu-west-1"}
    monkeypatch.setenv(storage.S3_CONN_ENV, "aws_missing")
    with pytest.raises(BadInputError, match="Airflow connection 'aws_missing' named by GOVFLOW_S3_CONN_ID"):
        storage.resolve("s3://bucket/k")


def test_a_secret_is_written_atomically_with_its_exact_mode(tmp_path):
    import os
    import stat

    from govflow.files import atomic_write

    old = os.umask(0o022)
    try:
        path = tmp_path / "token.json"
        atomic_write(path, lambda handle: handle.write(b"{}"), mode=0o600)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_bytes() == b"{}"


def test_a_limited_read_of_an_empty_object_is_empty_not_an_error(memory_root, monkeypatch):
    """S3 refuses a byte range of an empty object (InvalidRange); an empty seal or checkpoint must
    read as empty (then "not a checkpoint"), not as an unreachable store."""
    import errno

    from fsspec.implementations.memory import MemoryFileSystem

    uri = f"{memory_root}/audit-checkpoints/head.json"
    storage.write_bytes(uri, b"")

    def no_range(self, path, start=None, end=None, **kwargs):  # what s3fs raises for it
        raise OSError(errno.EINVAL, "The requested range is not satisfiable")

    monkeypatch.setattr(MemoryFileSystem, "cat_file", no_range)
    assert storage.read_bytes(uri, limit=64) == b""
    with pytest.raises(ObjectStoreError):
        storage.read_bytes(uri)  # unlimited: no range was asked, so the error is the store's
