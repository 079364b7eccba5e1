"""One model's checks in one nightly task read what they share once (service.pipeline.model_reads_once):
seals, the newest batch (listing, header, download), partition listings and the evidence recorded in
the block. Outside a block every read goes to the store again."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from govflow import storage
from govflow.artifacts import local_copy
from govflow.hashing import sha256_bytes
from govflow.service import batches
from govflow.service.pipeline import model_reads_once
from govflow.store import seals
from tests.unit.test_storage import memory_root  # noqa: F401  (fixture)


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """Every object fetched, by URI: seals (a read that may find nothing) and streamed downloads."""
    seen: list[str] = []
    real_if_any, real_blocks = storage.read_bytes_if_any, storage.blocks
    monkeypatch.setattr(storage, "read_bytes_if_any", lambda u, **k: seen.append(u) or real_if_any(u, **k))
    monkeypatch.setattr(storage, "blocks", lambda u: seen.append(u) or real_blocks(u))
    return seen


def test_a_seal_is_fetched_once_per_block_and_a_missing_one_stays_missing(memory_root, reads):  # noqa: F811
    sealed, missing = f"{memory_root}/subjects/a.json", f"{memory_root}/subjects/b.json"
    storage.write_bytes(sealed, b'{"seq": 3}')
    with model_reads_once():
        assert seals._read(sealed) == seals._read(sealed) == b'{"seq": 3}'
        assert seals._read(missing) is seals._read(missing) is None
        seals._write(missing, b'{"seq": 4}')  # what the block writes, it reads back
        assert seals._read(missing) == b'{"seq": 4}'
    assert reads == [sealed, missing]
    storage.write_bytes(sealed, b'{"seq": 5}')
    assert seals._read(sealed) == b'{"seq": 5}'  # outside a block: read again, the newer seal
    assert reads == [sealed, missing, sealed]


def test_a_seal_writer_reads_the_store_not_the_blocks_copy(memory_root, monkeypatch):  # noqa: F811
    # Another process sealed a newer fact after this block read the seal: writing ours must not
    # move the stored seal back to an older fact.
    monkeypatch.setenv("GOVFLOW_ARTIFACTS", memory_root)
    signed = SimpleNamespace(key_id="k1", sign=lambda message: "sig")
    monkeypatch.setattr(seals, "signing_key", lambda: signed)
    location = seals._subject_seal_location("version:m@1.0")
    storage.write_bytes(location, b'{"seq": 90}')
    with model_reads_once():
        assert seals.read_subject_seal("version:m@1.0")["seq"] == 90
        storage.write_bytes(location, b'{"seq": 105}')  # the other process
        seals.write_subject_seal("version:m@1.0", 100, "h100")
        assert seals.read_subject_seal("version:m@1.0", fresh=True)["seq"] == 105  # the newer stays
    assert seals.read_subject_seal("version:m@1.0")["seq"] == 105


def test_a_batch_is_listed_read_and_downloaded_once_and_every_check_judges_the_same_bytes(memory_root, reads):  # noqa: F811
    folder = f"{memory_root}/models/credit/batches/"
    storage.write_bytes(folder + "batch-0001.csv", b"age,label\n30,1\n")
    with model_reads_once():
        newest = batches.newest_batch(folder)
        assert newest is not None and newest.endswith("batch-0001.csv")
        assert batches.batch_columns(newest) == batches.batch_columns(newest) == ["age", "label"]
        first = local_copy(newest)
        first.write_bytes(b"age,label\n0,0\n")  # a state-volume writer poisons the filed copy
        assert local_copy(newest).read_bytes() == b"age,label\n30,1\n"  # re-hashed, fetched again
        # A newer batch lands and the object is replaced mid-task: this model's later checks still
        # read the batch its first check read, from the copy filed under its hash (re-hashed on use).
        storage.write_bytes(folder + "batch-0002.csv", b"age,label\n40,0\n")
        storage.write_bytes(newest, b"age,label\n99,0\n")
        assert batches.newest_batch(folder) == newest
        again = local_copy(newest)
        assert again == first and again.read_bytes() == b"age,label\n30,1\n"
        assert again.parent.name == sha256_bytes(b"age,label\n30,1\n")
    # Downloaded once, and once more for the poisoned copy (the header came from fsspec's open).
    assert reads.count(newest) == 2
    assert batches.newest_batch(folder).endswith("batch-0002.csv")  # outside: listed again
    assert local_copy(newest).read_bytes() == b"age,label\n99,0\n"


def test_inputs_are_verified_once_per_version_and_policy(monkeypatch):
    from govflow.service import pipeline

    verified: list[tuple[str, str]] = []

    class Session:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(pipeline, "session_scope", lambda db_url=None: Session())
    monkeypatch.setattr(pipeline, "require_active", lambda session, policy: None)
    monkeypatch.setattr(
        pipeline,
        "load_inputs",
        lambda session, model, version: verified.append((model, version)) or (model, version),
    )
    policy = SimpleNamespace(sha256="p1")
    with model_reads_once():
        for _ in range(3):
            assert pipeline._verified_inputs("m", "1.0", policy, db_url=None) == ("m", "1.0")
        pipeline._verified_inputs("m", "1.0", SimpleNamespace(sha256="p2"), db_url=None)
    assert verified == [("m", "1.0"), ("m", "1.0")]  # once per policy
    pipeline._verified_inputs("m", "1.0", policy, db_url=None)
    assert len(verified) == 3  # outside a block: verified again
