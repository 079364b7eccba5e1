"""The auditor's evidence bundle: a zip of files plus ``manifest.json`` naming each file's sha256.

Writing streams one file at a time (a year of nightly evidence need not fit
in memory) and is deterministic (sorted entries, fixed timestamps), so the
same content gives the same bytes. Verifying needs nothing but the zip: it
recomputes every file's sha256, names each altered, missing or added file,
and cross-checks the manifest against itself (policy, evidence and document
hashes, and the hash of every audit event it carries). Members are read in
memory and never extracted, so hostile paths cannot escape.

The manifest is signed (``manifest.sig``, Ed25519 over its sha256, with the
audit signing key): editing a document and recomputing the manifest no longer
verifies, since only a trusted public key (``--public-key``, offline) accepts
the signature. Members are hashed as a stream, and a member whose declared
size exceeds the limit is refused without being inflated (zip bombs).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from govflow.errors import BadInputError
from govflow.hashing import canonical_json, event_hash, sha256_bytes
from govflow.progress import Progress, resolve
from govflow.signing import Keyring

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_FORMAT = "govflow-evidence-manifest/1"
# Per-member cap when verifying: evidence is JSON/HTML/Markdown, far below it.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1 << 20
FORMAT = "govflow-evidence-bundle/1"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def write_bundle(
    handle: BinaryIO,
    files: Iterable[tuple[str, Callable[[], bytes]]],
    manifest: Mapping[str, Any],
    *,
    progress: Progress | None = None,
    sign: Callable[[bytes], dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], str]:
    """Stream ``files`` (name, reader) into a zip on ``handle``, one in memory at a time, then the manifest.

    Returns the final manifest (``manifest`` plus ``format`` and the ``files`` table) and its sha256.
    ``sign`` (message -> {key_id, signature, ...}) adds ``manifest.sig``.
    ``progress`` hears the files written so far.
    """
    report = resolve(progress)
    ordered = sorted(files, key=lambda item: item[0])
    table: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for done, (name, read) in enumerate(ordered, start=1):
            _check_name(name)
            if name in table:
                raise BadInputError(f"bundle member {name!r} given twice")
            data = read()
            table[name] = {"sha256": sha256_bytes(data), "size": len(data)}
            archive.writestr(_member(name), data)
            report("evidence: writing the bundle", done, len(ordered), unit="files")
        final = {**manifest, "format": FORMAT, "files": table}
        manifest_bytes = (json.dumps(final, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
            "utf-8"
        )
        archive.writestr(_member(MANIFEST), manifest_bytes)
        if sign is not None:
            signature = sign(manifest_signed_message(sha256_bytes(manifest_bytes)))
            archive.writestr(
                _member(SIGNATURE), (json.dumps(signature, indent=2, sort_keys=True) + "\n").encode()
            )
    return final, sha256_bytes(manifest_bytes)


def manifest_signed_message(manifest_sha256: str) -> bytes:
    return f"{SIGNATURE_FORMAT}:{manifest_sha256}".encode("ascii")


def build_bundle(
    files: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    *,
    sign: Callable[[bytes], dict[str, Any]] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The zip bytes and the final manifest, for bundles small enough to hold in memory."""
    buffer = io.BytesIO()
    readers = [(name, functools.partial(bytes, data)) for name, data in files.items()]
    final, _ = write_bundle(buffer, readers, manifest, sign=sign)
    return buffer.getvalue(), final


def _member(name: str) -> zipfile.ZipInfo:
    # Fixed timestamps and modes: the same content gives the same zip bytes.
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _check_name(name: str) -> None:
    if (
        not name
        or name.startswith("/")
        or "\\" in name
        or ".." in name.split("/")
        or name in (MANIFEST, SIGNATURE)
    ):
        raise BadInputError(f"invalid bundle member name {name!r}")


@dataclass
class BundleReport:
    bundle: str
    ok: bool = True
    files_checked: int = 0
    manifest_sha256: str | None = None
    signed_by: str | None = None
    model: str | None = None
    version: str | None = None
    exported_at: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)

    def problem(self, path: str, kind: str, detail: str) -> None:
        self.ok = False
        self.problems.append({"path": path, "problem": kind, "detail": detail})

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "bundle": self.bundle,
            "model": self.model,
            "version": self.version,
            "exported_at": self.exported_at,
            "manifest_sha256": self.manifest_sha256,
            "signed_by": self.signed_by,
            "files_checked": self.files_checked,
            "problems": list(self.problems),
        }


def verify_bundle(
    path: str | Path, *, keyring: Keyring | None = None, max_member_bytes: int = MAX_MEMBER_BYTES
) -> BundleReport:
    """Check a bundle offline. Bad zips are bad input; any mismatch is a problem in the report.

    ``keyring`` holds the public keys trusted to sign manifests (none: every
    signature is reported as untrusted). Members declared larger than
    ``max_member_bytes`` are refused unread.
    """
    where = Path(path)
    if not where.is_file():
        raise BadInputError(f"bundle not found: {where}")
    try:
        archive = zipfile.ZipFile(where)
    except (zipfile.BadZipFile, OSError) as err:
        raise BadInputError(f"not a zip file: {where} ({err})") from err
    report = BundleReport(bundle=str(where))
    with archive:
        infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        for name in sorted(n for n, count in Counter(names).items() if count > 1):
            report.problem(name, "duplicate", "the zip holds this name more than once")
        if MANIFEST not in names:
            report.problem(MANIFEST, "missing", "the bundle has no manifest")
            return report
        raw_manifest = _read_capped(archive, infos[MANIFEST], _MAX_MANIFEST_BYTES, report)
        if raw_manifest is None:
            return report
        report.manifest_sha256 = sha256_bytes(raw_manifest)
        _check_signature(archive, infos.get(SIGNATURE), report, keyring or Keyring({}))
        try:
            manifest = json.loads(raw_manifest)
            listed = manifest["files"]
            if not isinstance(listed, dict):
                raise TypeError("files is not a mapping")
        except (ValueError, KeyError, TypeError) as err:
            report.problem(MANIFEST, "altered", f"unreadable manifest: {err}")
            return report
        report.model = (manifest.get("model") or {}).get("name")
        report.version = (manifest.get("version") or {}).get("version")
        report.exported_at = manifest.get("exported_at")
        actual: dict[str, str] = {}
        for name in dict.fromkeys(names):
            if name in (MANIFEST, SIGNATURE):
                continue
            hashed = _hash_member(archive, infos[name], max_member_bytes, report)
            if hashed is None:
                actual[name] = ""
                continue
            actual[name], size = hashed
            expected = listed.get(name)
            if expected is None:
                report.problem(name, "added", "not listed in the manifest")
            elif expected.get("sha256") != actual[name]:
                report.problem(
                    name, "altered", f"sha256 {actual[name]} but the manifest says {expected.get('sha256')}"
                )
            elif expected.get("size") is not None and expected.get("size") != size:
                report.problem(name, "altered", f"{size} bytes but the manifest says {expected.get('size')}")
            else:
                report.files_checked += 1
        for name in listed:
            if name not in actual:
                report.problem(name, "missing", "listed in the manifest but not in the bundle")
        _cross_check(manifest, listed, report)
    return report


def _too_large(info: zipfile.ZipInfo, cap: int, report: BundleReport) -> bool:
    # The central directory's sizes are checked before a single byte is inflated.
    if info.file_size > cap:
        report.problem(
            info.filename,
            "too large",
            f"{info.file_size} bytes uncompressed, over the {cap}-byte limit: not read",
        )
        return True
    return False


def _hash_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, report: BundleReport
) -> tuple[str, int] | None:
    """sha256 and size of one member, streamed in 1 MiB chunks and never past ``cap`` bytes."""
    if _too_large(info, cap, report):
        return None
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(info) as handle:
            while chunk := handle.read(_CHUNK):
                size += len(chunk)
                if size > cap:
                    report.problem(
                        info.filename, "too large", f"inflates past the {cap}-byte limit: not read"
                    )
                    return None
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        report.problem(info.filename, "altered", f"unreadable member: {err}")
        return None
    return digest.hexdigest(), size


def _read_capped(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, report: BundleReport
) -> bytes | None:
    if _too_large(info, cap, report):
        return None
    try:
        with archive.open(info) as handle:
            data = handle.read(cap + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        report.problem(info.filename, "altered", f"unreadable member: {err}")
        return None
    if len(data) > cap:
        report.problem(info.filename, "too large", f"inflates past the {cap}-byte limit")
        return None
    return data


def _check_signature(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, report: BundleReport, keyring: Keyring
) -> None:
    if info is None:
        report.problem(SIGNATURE, "unsigned", "the bundle has no manifest signature")
        return
    raw = _read_capped(archive, info, 64 * 1024, report)
    if raw is None:
        return
    try:
        signature = json.loads(raw)
        key_id, value = signature["key_id"], signature["signature"]
    except (ValueError, KeyError, TypeError) as err:
        report.problem(SIGNATURE, "altered", f"unreadable signature: {err}")
        return
    assert report.manifest_sha256 is not None
    why = keyring.verify(key_id, value, manifest_signed_message(report.manifest_sha256))
    if why is not None:
        hint = " (pass the signer's public key with --public-key)" if "not a trusted key" in why else ""
        report.problem(SIGNATURE, "untrusted", f"manifest {why}{hint}")
    else:
        report.signed_by = key_id


def _cross_check(manifest: Mapping[str, Any], listed: Mapping[str, Any], report: BundleReport) -> None:
    """The manifest's own claims must agree with its file table and with the audit hashes."""

    def declared(path: str | None, sha256: str | None, what: str) -> None:
        if not path:
            return
        entry = listed.get(path)
        if entry is None:
            report.problem(path, "missing", f"{what} is not in the file table")
        elif sha256 and entry.get("sha256") != sha256:
            report.problem(path, "altered", f"{what} should have sha256 {sha256}")

    for policy in manifest.get("policies") or ():
        declared(policy.get("path"), policy.get("sha256"), f"policy {policy.get('version')}")
    for result in manifest.get("check_results") or ():
        declared(
            result.get("evidence_path"),
            result.get("evidence_sha256"),
            f"evidence of check result {result.get('id')}",
        )
    for doc in manifest.get("documents") or ():
        declared(doc.get("path"), doc.get("sha256"), f"document {doc.get('kind')}.{doc.get('format')}")
    _check_events(manifest.get("audit_events") or (), report)


def _check_events(events: Any, report: BundleReport) -> None:
    previous: Mapping[str, Any] | None = None
    for event in events:
        try:
            # The exact stored text is what was hashed; the parsed payload must say the same.
            payload_text = event.get("payload_text")
            if payload_text is None:
                payload_text = canonical_json(event["payload"])
            elif "payload" in event and json.loads(payload_text) != event["payload"]:
                report.problem(
                    MANIFEST, "altered", f"audit event seq {event.get('seq')}: payload differs from its text"
                )
            expected = event_hash(
                seq=event["seq"],
                ts=event["ts"],
                actor=event["actor"],
                action=event["action"],
                subject=event["subject"],
                payload=payload_text,
                prev_hash=event["prev_hash"],
                auth_method=event.get("auth_method"),
            )
        except (KeyError, TypeError, ValueError) as err:
            report.problem(MANIFEST, "altered", f"audit event {event!r:.60} is malformed: {err}")
            continue
        if expected != event.get("hash"):
            report.problem(MANIFEST, "altered", f"audit event seq {event.get('seq')} does not match its hash")
        if (
            previous is not None
            and event["seq"] == previous["seq"] + 1
            and event["prev_hash"] != previous["hash"]
        ):
            report.problem(
                MANIFEST, "altered", f"audit event seq {event['seq']} does not link to seq {previous['seq']}"
            )
        previous = event
