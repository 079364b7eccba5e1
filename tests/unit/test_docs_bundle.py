"""The evidence bundle format: deterministic writing and offline verification (no DB)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.docs.bundle import MANIFEST, SIGNATURE, build_bundle
from govflow.docs.bundle import verify_bundle as _verify_bundle
from govflow.errors import BadInputError
from govflow.hashing import canonical_json, sha256_bytes
from govflow.signing import Keyring, SigningKey, key_id_of
from govflow.store.audit import GENESIS_HASH, event_hash

_PRIVATE = Ed25519PrivateKey.generate()
KEY = SigningKey(private=_PRIVATE, key_id=key_id_of(_PRIVATE.public_key()), source="test")
KEYRING = Keyring({KEY.key_id: KEY.public})


def sign(message: bytes) -> dict:
    return {"key_id": KEY.key_id, "signature": KEY.sign(message)}


def verify_bundle(path, **kw):  # type: ignore[no-untyped-def]
    """Verify as an auditor holding the signer's public key."""
    return _verify_bundle(path, keyring=KEYRING, **kw)


FILES = {
    "documents/model_card.md": b"# Model card\n",
    "documents/annex_iv.html": b"<!DOCTYPE html><html></html>\n",
    "evidence/drift-4.json": b'{"check":"drift"}',
    "policy/abc.yaml": b"version: '1'\n",
}


def _events() -> list[dict]:
    events, prev = [], GENESIS_HASH
    for seq, action in enumerate(["version.registered", "check.recorded"], start=1):
        payload = {"n": seq, "rate": 0.1}
        text = canonical_json(payload)
        body = dict(
            seq=seq,
            ts=f"2026-11-27T10:0{seq}:00.000001+00:00",
            actor="alice",
            action=action,
            subject="version:m@1",
            payload=text,
            prev_hash=prev,
        )
        digest = event_hash(**body)
        events.append({**body, "payload": payload, "payload_text": text, "hash": digest})
        prev = digest
    return events


def _manifest() -> dict:
    return {
        "model": {"name": "m"},
        "version": {"version": "1"},
        "exported_at": "2026-11-27T12:00:00+00:00",
        "policies": [
            {"path": "policy/abc.yaml", "sha256": sha256_bytes(FILES["policy/abc.yaml"]), "version": "1"}
        ],
        "check_results": [
            {
                "id": 4,
                "evidence_path": "evidence/drift-4.json",
                "evidence_sha256": sha256_bytes(FILES["evidence/drift-4.json"]),
            }
        ],
        "documents": [
            {
                "kind": "model_card",
                "format": "md",
                "path": "documents/model_card.md",
                "sha256": sha256_bytes(FILES["documents/model_card.md"]),
            }
        ],
        "audit_events": _events(),
    }


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    data, _ = build_bundle(FILES, _manifest(), sign=sign)
    path = tmp_path / "bundle.zip"
    path.write_bytes(data)
    return path


def _rewrite(
    path: Path,
    *,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    add: dict[str, bytes] | None = None,
) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members = {k: (replace or {}).get(k, v) for k, v in members.items() if k not in drop}
    members.update(add or {})
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _problems(path: Path) -> list[tuple[str, str]]:
    return [(p["problem"], p["path"]) for p in verify_bundle(path).problems]


def test_an_untouched_bundle_verifies(bundle):
    report = verify_bundle(bundle)
    assert report.ok and report.problems == []
    assert report.files_checked == len(FILES)
    assert (report.model, report.version) == ("m", "1")
    with zipfile.ZipFile(bundle) as archive:
        assert report.manifest_sha256 == sha256_bytes(archive.read(MANIFEST))


def test_the_manifest_lists_every_file_with_its_sha256(bundle):
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        assert sorted(archive.namelist()) == sorted([MANIFEST, SIGNATURE, *FILES])
    assert manifest["files"] == {
        name: {"sha256": sha256_bytes(data), "size": len(data)} for name, data in FILES.items()
    }


def test_writing_is_deterministic():
    assert build_bundle(FILES, _manifest())[0] == build_bundle(dict(reversed(FILES.items())), _manifest())[0]


def test_a_modified_file_is_named(bundle):
    _rewrite(bundle, replace={"documents/model_card.md": b"# Model card (edited)\n"})
    assert _problems(bundle) == [("altered", "documents/model_card.md")]


def test_a_removed_file_is_named(bundle):
    _rewrite(bundle, drop=("evidence/drift-4.json",))
    assert ("missing", "evidence/drift-4.json") in _problems(bundle)
    assert not verify_bundle(bundle).ok


def test_an_added_file_is_named(bundle):
    _rewrite(bundle, add={"evidence/extra.json": b"{}"})
    assert _problems(bundle) == [("added", "evidence/extra.json")]


def test_a_manifest_edited_to_match_a_changed_file_still_fails_its_cross_checks(bundle):
    forged = b'{"check":"drift","status":"pass"}'
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    manifest["files"]["evidence/drift-4.json"] = {"sha256": sha256_bytes(forged), "size": len(forged)}
    _rewrite(bundle, replace={"evidence/drift-4.json": forged, MANIFEST: json.dumps(manifest).encode()})
    assert _problems(bundle) == [("untrusted", SIGNATURE), ("altered", "evidence/drift-4.json")]


def test_an_edited_audit_event_is_detected(bundle):
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read(MANIFEST))
    manifest["audit_events"][0]["actor"] = "mallory"
    manifest["audit_events"][1]["payload"] = {"n": 99, "rate": 0.1}
    _rewrite(bundle, replace={MANIFEST: json.dumps(manifest).encode()})
    details = [p["detail"] for p in verify_bundle(bundle).problems]
    assert details == [
        f"manifest signature does not verify with key {KEY.key_id}",
        "audit event seq 1 does not match its hash",
        "audit event seq 2: payload differs from its text",
    ]


def test_a_missing_manifest_fails_and_a_non_zip_is_bad_input(bundle, tmp_path):
    _rewrite(bundle, drop=(MANIFEST,))
    assert _problems(bundle) == [("missing", MANIFEST)]
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match="not a zip file"):
        verify_bundle(junk)
    with pytest.raises(BadInputError, match="bundle not found"):
        verify_bundle(tmp_path / "absent.zip")


def test_a_duplicated_member_is_reported(bundle):
    with zipfile.ZipFile(bundle, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("documents/model_card.md", b"shadow copy")
    assert ("duplicate", "documents/model_card.md") in _problems(bundle)


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "a\\b", MANIFEST])
def test_unsafe_member_names_are_refused(name):
    with pytest.raises(BadInputError, match="invalid bundle member name"):
        build_bundle({name: b"x"}, {})


def test_verification_never_extracts(bundle, tmp_path, monkeypatch):
    _rewrite(bundle, add={"../outside.txt": b"x"})
    monkeypatch.chdir(tmp_path)
    assert ("added", "../outside.txt") in _problems(bundle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]
    assert not (tmp_path.parent / "outside.txt").exists()


def test_files_are_read_one_at_a_time_and_names_must_be_unique():
    import io

    from govflow.docs.bundle import write_bundle

    reads: list[str] = []

    def reader(name: str):
        def read() -> bytes:
            reads.append(name)
            return name.encode()

        return read

    final, manifest_sha = write_bundle(
        io.BytesIO(), [("b.txt", reader("b.txt")), ("a.txt", reader("a.txt"))], {}
    )
    assert reads == ["a.txt", "b.txt"] and list(final["files"]) == ["a.txt", "b.txt"]
    assert len(manifest_sha) == 64
    with pytest.raises(BadInputError, match="given twice"):
        write_bundle(io.BytesIO(), [("a.txt", reader("a.txt")), ("a.txt", reader("a.txt"))], {})
