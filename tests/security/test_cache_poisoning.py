"""A poisoned worker cache: whoever can write ``$GOVFLOW_HOME/cache`` swaps the bytes a check reads.

Registered remote objects and warehouse tables are copied once per worker into a cache named by
their sha256. The name is not proof: each use re-hashes the copy, and a copy that no longer has
the registered hash is thrown away and fetched again, so a check never runs on bytes other than
the registered ones (issue #24, "caches are verified on every use").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from govflow import datasources, storage
from govflow.artifacts import local_copy
from govflow.errors import ConflictError
from govflow.hashing import sha256_bytes, sha256_file

REAL = b"age,income,approved\n30,50000,1\n41,72000,0\n"
POISON = b"age,income,approved\n30,50000,1\n41,72000,1\n"  # one label flipped


@pytest.fixture
def remote_object() -> Iterator[str]:
    uri = f"memory://poison-{uuid.uuid4().hex[:8]}/data/train.csv"
    storage.write_bytes(uri, REAL)
    yield uri
    where = storage.resolve(uri)
    where.fs.rm(where.path.rsplit("/", 2)[0], recursive=True)


def test_a_poisoned_object_cache_is_refetched_not_used(remote_object):
    registered = sha256_bytes(REAL)
    copy = local_copy(remote_object, sha256=registered)
    copy.write_bytes(POISON)  # the cache file keeps its hash-named path
    again = local_copy(remote_object, sha256=registered)
    assert again.read_bytes() == REAL
    assert sha256_file(again) == registered


def test_a_poisoned_object_cache_with_the_source_gone_bad_too_is_refused(remote_object):
    registered = sha256_bytes(REAL)
    copy = local_copy(remote_object, sha256=registered)
    copy.write_bytes(POISON)
    storage.write_bytes(remote_object, POISON)  # the attacker also rewrote the object
    with pytest.raises(ConflictError, match="changed since registration"):
        local_copy(remote_object, sha256=registered)
    assert not copy.exists()  # the poisoned copy is gone, not left for the next reader


def test_a_poisoned_table_cache_is_read_again_from_the_warehouse(monkeypatch):
    reads: list[str] = []

    def canonical_csv(ref: datasources.TableRef) -> Iterator[bytes]:
        reads.append(ref.uri)
        yield REAL

    monkeypatch.setattr(datasources, "_canonical_csv", canonical_csv)
    uri, registered = "conn://wh/public.applicants", sha256_bytes(REAL)
    copy = local_copy(uri, sha256=registered)
    assert copy.read_bytes() == REAL and len(reads) == 1
    assert local_copy(uri, sha256=registered) == copy and len(reads) == 1  # an intact cache is reused
    copy.write_bytes(POISON)
    again = local_copy(uri, sha256=registered)
    assert again.read_bytes() == REAL and len(reads) == 2
