"""Attacks on the evidence bundle: a forged manifest, an unsigned bundle, a zip bomb.

Before manifest signing, editing a document and recomputing the manifest gave
"bundle OK"; before the size cap, verifying a 1.5 MB zip holding a 1.5 GB
member used 3.1 GB of memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from govflow.cli import main
from govflow.docs.bundle import MANIFEST, SIGNATURE, build_bundle
from govflow.hashing import sha256_bytes
from govflow.signing import SigningKey, key_id_of, keys_dir, sign_manifest

FILES = {"documents/model_card.md": b"# Model card\nDecision: rejected\n", "evidence/drift.json": b"{}"}


def _bundle(path: Path, files=FILES, sign=sign_manifest) -> Path:  # type: ignore[no-untyped-def]
    data, _ = build_bundle(files, {"model": {"name": "m"}, "version": {"version": "1"}}, sign=sign)
    path.write_bytes(data)
    return path


def _verify(capsys, path: Path, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["evidence", "verify", str(path), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _kinds(report: dict) -> list[tuple[str, str]]:
    return [(p["problem"], p["path"]) for p in report["problems"]]


def test_a_signed_bundle_verifies_offline_with_the_public_key_only(capsys, tmp_path, monkeypatch):
    bundle = _bundle(tmp_path / "b.zip")
    public = keys_dir() / "audit-signing.pub"
    # The auditor's machine: no signing key, no trusted keys folder, just the .pub handed over.
    monkeypatch.setenv("GOVFLOW_HOME", str(tmp_path / "auditor-home"))
    code, report = _verify(capsys, bundle)
    assert code == 1 and _kinds(report) == [("untrusted", SIGNATURE)]
    assert "--public-key" in report["problems"][0]["detail"]
    code, report = _verify(capsys, bundle, "--public-key", str(public))
    assert code == 0, report
    assert not (tmp_path / "auditor-home" / "keys").exists()  # verifying generated no key


def test_an_edited_document_with_a_recomputed_manifest_is_refused(capsys, tmp_path):
    forged_files = {**FILES, "documents/model_card.md": b"# Model card\nDecision: approved\n"}
    private = Ed25519PrivateKey.generate()
    mallory = SigningKey(private=private, key_id=key_id_of(private.public_key()), source="mallory")

    def mallory_signs(message: bytes) -> dict:
        return {"key_id": mallory.key_id, "signature": mallory.sign(message)}

    for sign in (None, mallory_signs):  # unsigned, or re-signed with the forger's own key
        bundle = _bundle(tmp_path / "forged.zip", forged_files, sign=sign)
        code, report = _verify(capsys, bundle)
        assert code == 1
        assert _kinds(report) == [("unsigned" if sign is None else "untrusted", SIGNATURE)]


def test_a_manifest_swapped_into_a_signed_bundle_is_refused(capsys, tmp_path):
    bundle = _bundle(tmp_path / "b.zip")
    with zipfile.ZipFile(bundle) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(members[MANIFEST])
    edited = b"# Model card\nDecision: approved\n"
    manifest["files"]["documents/model_card.md"] = {"sha256": sha256_bytes(edited), "size": len(edited)}
    members.update({MANIFEST: json.dumps(manifest).encode(), "documents/model_card.md": edited})
    with zipfile.ZipFile(bundle, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    code, report = _verify(capsys, bundle)
    assert code == 1 and ("untrusted", SIGNATURE) in _kinds(report)
    assert "does not verify" in report["problems"][0]["detail"]


def _zip_bomb(path: Path, size: int) -> Path:
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps({"files": {}}))
        with archive.open("evidence/bomb.json", "w", force_zip64=True) as handle:
            for _ in range(size // len(chunk)):
                handle.write(chunk)
    return path


@pytest.mark.slow
def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path):
    bomb = _zip_bomb(tmp_path / "bomb.zip", 1536 * (1 << 20))
    assert bomb.stat().st_size < 2 * (1 << 20)  # a 1.5 MB zip holding a 1.5 GB member
    probe = (
        "import json, sys\n"
        "from govflow.cli import main\n"
        f"code = main(['evidence', 'verify', {str(bomb)!r}, '--json'])\n"
        # VmHWM is this process's own peak: ru_maxrss would carry the forking parent's (pytest's) peak.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(int(hwm) // 1024, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert ("too large", "evidence/bomb.json") in _kinds(report)
    peak_mb = int(done.stderr.strip().splitlines()[-1])
    assert peak_mb < 400, f"verify peaked at {peak_mb} MB"


def test_the_member_size_cap_is_configurable(tmp_path, capsys):
    bomb = _zip_bomb(tmp_path / "small-bomb.zip", 8 * (1 << 20))
    code, report = _verify(capsys, bomb, "--max-member-mb", "4")
    assert code == 1 and ("too large", "evidence/bomb.json") in _kinds(report)
