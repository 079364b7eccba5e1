"""The auditor's evidence bundle: a zip of files plus ``manifest.json`` naming each file's sha256.

Writing streams one file at a time (a year of nightly evidence need not fit
in memory) and is deterministic (sorted entries, fixed timestamps), so the
same content gives the same bytes. Verifying needs nothing but the zip: it
recomputes every file's sha256, names each altered, missing or added file,
and cross-checks the manifest against itself (policy, evidence and document
hashes, and the hash of every audit event it carries). Members are read in
memory and never extracted, so hostile paths cannot escape.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from govflow.errors import BadInputError
from govflow.hashing import canonical_json, sha256_bytes

MANIFEST = "manifest.json"
FORMAT = "govflow-evidence-bundle/1"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def write_bundle(
    handle: BinaryIO, files: Iterable[tuple[str, Callable[[], bytes]]], manifest: Mapping[str, Any]
) -> tuple[dict[str, Any], str]:
    """Stream ``files`` (name, reader) into a zip on ``handle``, one in memory at a time, then the manifest.

    Returns the final manifest (``manifest`` plus ``format`` and the ``files`` table) and its sha256.
    """
    table: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, read in sorted(files, key=lambda item: item[0]):
            _check_name(name)
            if name in table:
                raise BadInputError(f"bundle member {name!r} given twice")
            data = read()
            table[name] = {"sha256": sha256_bytes(data), "size": len(data)}
            archive.writestr(_member(name), data)
        final = {**manifest, "format": FORMAT, "files": table}
        manifest_bytes = (json.dumps(final, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
            "utf-8"
        )
        archive.writestr(_member(MANIFEST), manifest_bytes)
    return final, sha256_bytes(manifest_bytes)


def build_bundle(files: Mapping[str, bytes], manifest: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The zip bytes and the final manifest, for bundles small enough to hold in memory."""
    buffer = io.BytesIO()
    final, _ = write_bundle(
        buffer, [(name, (lambda data=data: data)) for name, data in files.items()], manifest
    )
    return buffer.getvalue(), final


def _member(name: str) -> zipfile.ZipInfo:
    # Fixed timestamps and modes: the same content gives the same zip bytes.
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _check_name(name: str) -> None:
    if not name or name.startswith("/") or "\\" in name or ".." in name.split("/") or name == MANIFEST:
        raise BadInputError(f"invalid bundle member name {name!r}")


@dataclass
class BundleReport:
    bundle: str
    ok: bool = True
    files_checked: int = 0
    manifest_sha256: str | None = None
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
            "files_checked": self.files_checked,
            "problems": list(self.problems),
        }


def verify_bundle(path: str | Path) -> BundleReport:
    """Check a bundle offline. Bad zips are bad input; any mismatch is a problem in the report."""
    where = Path(path)
    if not where.is_file():
        raise BadInputError(f"bundle not found: {where}")
    try:
        archive = zipfile.ZipFile(where)
    except (zipfile.BadZipFile, OSError) as err:
        raise BadInputError(f"not a zip file: {where} ({err})") from err
    report = BundleReport(bundle=str(where))
    with archive:
        names = [info.filename for info in archive.infolist() if not info.is_dir()]
        for name in sorted(n for n, count in Counter(names).items() if count > 1):
            report.problem(name, "duplicate", "the zip holds this name more than once")
        if MANIFEST not in names:
            report.problem(MANIFEST, "missing", "the bundle has no manifest")
            return report
        raw_manifest = archive.read(MANIFEST)
        report.manifest_sha256 = sha256_bytes(raw_manifest)
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
            if name == MANIFEST:
                continue
            data = archive.read(name)
            actual[name] = sha256_bytes(data)
            expected = listed.get(name)
            if expected is None:
                report.problem(name, "added", "not listed in the manifest")
            elif expected.get("sha256") != actual[name]:
                report.problem(
                    name, "altered", f"sha256 {actual[name]} but the manifest says {expected.get('sha256')}"
                )
            elif expected.get("size") is not None and expected.get("size") != len(data):
                report.problem(
                    name, "altered", f"{len(data)} bytes but the manifest says {expected.get('size')}"
                )
            else:
                report.files_checked += 1
        for name in listed:
            if name not in actual:
                report.problem(name, "missing", "listed in the manifest but not in the bundle")
        _cross_check(manifest, listed, report)
    return report


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
    from govflow.store.audit import event_hash

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
