"""Artifacts and registered data in S3 object storage (a real SeaweedFS): content addressing,
hash checks on every read, checks running on s3:// data, and a clear error when the store is down."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

from govflow.artifacts import ArtifactStore, ObjectStoreError, local_copy, sha256_uri, upload_file
from govflow.errors import BadInputError, ConflictError
from govflow.hashing import sha256_file

pytestmark = pytest.mark.prod

CSV = "name,email,age,income\nAda Lovelace,ada@example.com,36,1\nAlan Turing,alan@example.org,41,0\n" * 20


def _prefix(object_store) -> str:
    return f"s3://{object_store.bucket}/test-{uuid.uuid4().hex[:8]}"


def test_artifact_store_on_s3_is_content_addressed(s3_env, object_store):
    store = ArtifactStore(f"{_prefix(object_store)}/artifacts")
    first = store.put_json({"check": "pii", "rows": 3})
    again = store.put_json({"rows": 3, "check": "pii"})  # same canonical bytes
    assert first.uri.startswith("s3://") and first.uri == again.uri
    assert first.uri.endswith(f"/{first.sha256[:2]}/{first.sha256}.json")
    assert store.get_bytes(first.uri) == b'{"check":"pii","rows":3}'
    assert store.verify(first.uri, first.sha256)
    # A tampered object no longer matches its name.
    fs = fsspec.filesystem("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"], skip_instance_cache=True)
    fs.pipe_file(first.uri, b'{"check":"pii","rows":0}')
    assert not ArtifactStore(store.root).verify(first.uri, first.sha256)
    with pytest.raises(BadInputError, match="artifact not found"):
        store.get_bytes(f"{store.root}/00/{'0' * 64}.json")


def test_put_file_streams_into_s3(s3_env, object_store, tmp_path):
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(b"PK" + bytes(range(256)) * 4000)
    stored = ArtifactStore(f"{_prefix(object_store)}/artifacts").put_file(bundle, suffix=".zip")
    assert stored.sha256 == sha256_file(bundle) and stored.size == bundle.stat().st_size
    assert sha256_uri(stored.uri) == stored.sha256


def test_local_copy_is_verified_against_the_registered_hash(s3_env, object_store, tmp_path):
    source = tmp_path / "train.csv"
    source.write_text(CSV)
    uri = f"{_prefix(object_store)}/data/train.csv"
    digest = upload_file(source, uri)
    copy = local_copy(uri, sha256=digest)
    assert copy.name == "train.csv" and copy.read_text() == CSV and copy.parent.name == digest
    assert local_copy(uri, sha256=digest) == copy  # the worker's cache: no second download
    changed = uri.replace("train.csv", "changed.csv")
    upload_file(source, changed)
    fsspec.filesystem("s3", endpoint_url=s3_env["AWS_ENDPOINT_URL"], skip_instance_cache=True).pipe_file(
        changed, CSV.replace("Ada", "Eve").encode()
    )
    with pytest.raises(ConflictError, match="changed since registration"):
        local_copy(changed, sha256=digest)
    with pytest.raises(BadInputError, match="not found in object storage"):
        local_copy(uri.replace("train.csv", "missing.csv"))


def test_checks_run_on_registered_s3_data(s3_env, object_store, db_url, tmp_path):
    from govflow.policy import load_policy
    from govflow.service import registry
    from govflow.service.pipeline import RunRef, check_on_data, load_inputs
    from govflow.store import session_scope

    prefix = _prefix(object_store)
    local = {}
    for name in ("model.skops", "train.csv", "reference.csv"):
        local[name] = tmp_path / name
        local[name].write_text(CSV if name.endswith(".csv") else "bytes of a model")
        upload_file(local[name], f"{prefix}/{name}")
    with session_scope() as session:
        registry.register_model(
            session, name="s3-model", owner="o@example.com", risk_tier="minimal", actor="t"
        )
        row = registry.register_version(
            session,
            model="s3-model",
            version="1",
            artifact=f"{prefix}/model.skops",
            training_data=f"{prefix}/train.csv",
            reference_data=f"{prefix}/reference.csv",
            actor="t",
        )
        # The URI is what is registered; the hash is of the object's bytes.
        assert row.training_data_uri == f"{prefix}/train.csv"
        assert row.training_data_sha256 == sha256_file(local["train.csv"])
    # Checks read a committed registration: its seal is written when the transaction commits.
    with session_scope() as session:
        inputs = load_inputs(session, "s3-model", "1")
    result, data_sha = check_on_data("pii", inputs, data=inputs.training_data, policy=load_policy())
    assert result.status != "error", result.errors
    assert data_sha == sha256_file(local["train.csv"])
    assert "email" in result.summary["columns_with_pii"]
    drift, _ = check_on_data("drift", inputs, data=inputs.training_data, policy=load_policy())
    assert drift.status == "pass", drift.errors
    assert RunRef  # the recording path is covered by the stack tests


def test_registering_a_missing_object_is_bad_input(s3_env, object_store, db_url):
    from govflow.service import registry
    from govflow.store import session_scope

    with session_scope() as session:
        registry.register_model(
            session, name="s3-missing", owner="o@example.com", risk_tier="minimal", actor="t"
        )
        with pytest.raises(BadInputError, match="artifact not found: s3://"):
            registry.register_version(
                session,
                model="s3-missing",
                version="1",
                artifact=f"{_prefix(object_store)}/nothing.skops",
                training_data=f"{_prefix(object_store)}/nothing.csv",
                actor="t",
            )


def test_store_down_fails_closed_with_a_clear_error(monkeypatch, tmp_path, object_store):
    from govflow.prodstack._process import free_port_block

    dead = f"http://127.0.0.1:{free_port_block(1)}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with pytest.raises(ObjectStoreError, match=f"object storage unreachable at {dead}"):
        ArtifactStore("s3://govflow/artifacts").put_json({"x": 1})
    with pytest.raises(ObjectStoreError, match="unreachable") as caught:
        local_copy("s3://govflow/data/train.csv", sha256="0" * 64)
    assert len(str(caught.value).splitlines()) == 1
    assert not list(Path(tmp_path).glob("**/.download-*"))
