"""The auditor's evidence bundle: everything behind a version's governance, zipped, signed and audited.

``export_evidence_bundle`` renders the current documents, collects the
evidence, decisions, approvals, waivers, policies and audit events into one
zip with a signed manifest (``govflow.docs.bundle``), stores it in the
artifact store and records the export; ``verify_bundle`` checks one offline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.artifacts import ArtifactStore
from govflow.docs.bundle import MAX_MEMBER_BYTES, BundleReport, write_bundle
from govflow.docs.bundle import verify_bundle as _verify_bundle
from govflow.errors import BadInputError, ConflictError
from govflow.files import atomic_write
from govflow.hashing import sha256_bytes
from govflow.policy import Policy, load_policy, policy_sha256
from govflow.progress import Progress, resolve
from govflow.service.checks import check_result_to_dict
from govflow.service.docs import document_dict, latest_documents, render_docs
from govflow.service.registry import get_version, model_to_dict, version_subject, version_to_dict
from govflow.service.version_records import (  # the bundle holds what the documents are built from
    decision_record,
    version_approvals,
    version_decisions,
    version_events,
    version_waivers,
)
from govflow.signing import Keyring, sign_manifest
from govflow.store import (
    CheckResultRow,
    GateDecision,
)
from govflow.store.audit import append_event, event_to_dict, verify_chain
from govflow.timeutil import iso_utc

__all__ = ["export_evidence_bundle", "verify_bundle"]


def export_evidence_bundle(
    session: Session,
    model: str,
    version: str,
    out_zip: str | Path,
    *,
    actor: str,
    policy: Policy | None = None,
    artifacts: ArtifactStore | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the auditor's bundle for ``model@version`` to ``out_zip`` (and the artifact store), audited.

    It holds the documents (rendered now if anything changed), every check's
    evidence, the policies the decisions used, the notes, and a manifest with
    every file's sha256, the decisions with their reasons, approvals, waivers
    and the version's audit events with their chain hashes.
    """
    artifacts = artifacts or ArtifactStore()
    policy = policy if policy is not None else load_policy()
    row = get_version(session, model, version)
    report = resolve(progress)
    report("evidence: rendering the documents", 0, 2, unit="formats")
    for done, fmt in enumerate(("md", "html"), start=1):
        render_docs(session, model, version, fmt, actor=actor, policy=policy, artifacts=artifacts)
        report("evidence: rendering the documents", done, 2, unit="formats")

    files: list[tuple[str, Any]] = []
    documents = []
    for document in latest_documents(session, row.id):
        path = f"documents/{document.kind}.{document.format}"
        files.append((path, _reader(artifacts, document.uri, document.sha256, f"document {document.id}")))
        documents.append({**document_dict(document), "path": path, "completeness": document.completeness})

    check_results = []
    for result in session.scalars(
        select(CheckResultRow)
        .where(CheckResultRow.version_id == row.id)
        .order_by(CheckResultRow.created_at, CheckResultRow.id)
    ):
        item = {**check_result_to_dict(result), "evidence_path": None}
        if result.evidence_uri:
            item["evidence_path"] = f"evidence/{result.check}-{result.id}.json"
            files.append(
                (
                    item["evidence_path"],
                    _reader(
                        artifacts,
                        result.evidence_uri,
                        result.evidence_sha256,
                        f"evidence of check result {result.id}",
                    ),
                )
            )
        check_results.append(item)

    decisions = version_decisions(session, row)
    policies = _bundle_policies(policy, decisions)
    for entry in policies:
        text = entry.pop("_text", None)
        if text is not None:
            files.append((entry["path"], (lambda data=text.encode("utf-8"): data)))

    events = version_events(session, model, version)
    chain = verify_chain(session)
    manifest = {
        "model": model_to_dict(row.model),
        "version": {**version_to_dict(row, model_name=model), "stage": row.stage},
        "exported_at": iso_utc(now or dt.datetime.now(dt.UTC)),
        "exported_by": actor,
        "policy": next((p for p in policies if p["current"]), policies[0]) if policies else None,
        "policies": policies,
        "decision": decision_record(decisions[-1]) if decisions else None,
        "decisions": [decision_record(d) for d in decisions],
        "approvals": version_approvals(session, row),
        "waivers": version_waivers(session, row),
        "check_results": check_results,
        "documents": documents,
        "audit_events": [{**event_to_dict(e), "payload_text": e.payload} for e in events],
        "audit_chain": {
            "verified_at_export": chain.ok,
            "events": chain.events,
            "head_hash": chain.head_hash,
            "first_broken_seq": chain.first_broken_seq,
        },
    }
    target = Path(out_zip).expanduser()
    final, manifest_sha = atomic_write(
        target, lambda handle: write_bundle(handle, files, manifest, progress=report, sign=sign_manifest)
    )
    stored = artifacts.put_file(target, suffix=".zip")
    append_event(
        session,
        actor=actor,
        action="evidence.exported",
        subject=version_subject(model, version),
        payload={
            "bundle_sha256": stored.sha256,
            "manifest_sha256": manifest_sha,
            "files": len(files),
            "uri": stored.uri,
        },
    )
    return {
        "model": model,
        "version": version,
        "bundle": str(target),
        "uri": stored.uri,
        "sha256": stored.sha256,
        "manifest_sha256": manifest_sha,
        "files": len(files),
        "documents": len(documents),
        "check_results": len(check_results),
        "audit_events": len(events),
        "decision": final["decision"]["decision"] if final["decision"] else None,
    }


def _bundle_policies(current: Policy, decisions: Sequence[GateDecision]) -> list[dict[str, Any]]:
    """The current policy (what the documents were judged by) and each policy a decision used."""
    found: dict[str, dict[str, Any]] = {}

    def add(sha: str, text: str, version: str | None, used_by: str) -> None:
        entry = found.setdefault(
            sha,
            {
                "path": f"policy/{sha[:16]}.yaml",
                "sha256": sha,
                "version": version,
                "current": sha == current.sha256,
                "used_by": [],
                "_text": text,
            },
        )
        entry["used_by"].append(used_by)

    add(current.sha256, current.text, current.version, "documentation")
    for decision in decisions:
        stored = (decision.inputs or {}).get("policy") or {}
        text = stored.get("text")
        if text is not None and policy_sha256(text) == decision.policy_sha256:
            add(decision.policy_sha256, text, decision.policy_version, f"decision {decision.id}")
        elif decision.policy_sha256 in found:
            found[decision.policy_sha256]["used_by"].append(f"decision {decision.id}")
        else:  # an old decision stored without its policy text: say so rather than guess
            found[decision.policy_sha256] = {
                "path": None,
                "sha256": decision.policy_sha256,
                "version": decision.policy_version,
                "current": False,
                "used_by": [f"decision {decision.id}"],
                "note": "the decision did not store its policy text",
            }
    return list(found.values())


def _reader(artifacts: ArtifactStore, uri: str, sha256: str | None, what: str):  # type: ignore[no-untyped-def]
    """Reads one stored artifact when the bundle writer gets to it, refusing missing or altered ones."""

    def read() -> bytes:
        try:
            data = artifacts.get_bytes(uri)
        except BadInputError as err:
            raise ConflictError(
                f"{what} is missing from the artifact store ({uri}): the bundle would be incomplete"
            ) from err
        if sha256 and sha256_bytes(data) != sha256:
            raise ConflictError(
                f"{what} in the artifact store does not match its sha256: refusing to bundle altered evidence"
            )
        return data

    return read


def verify_bundle(
    path: str | Path, *, public_keys: list[Path] | None = None, max_member_bytes: int = MAX_MEMBER_BYTES
) -> BundleReport:
    """Offline verification of a bundle (no DB): see ``govflow.docs.bundle.verify_bundle``.

    Trusted signers: ``public_keys``, the trusted keys folder and the configured signing key.
    """
    keyring = Keyring.trusted(public_keys)
    return _verify_bundle(path, keyring=keyring, max_member_bytes=max_member_bytes)
