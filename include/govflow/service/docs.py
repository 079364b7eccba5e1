"""Documentation use cases: render and store documents, record the documentation check,
keep the people-written notes, and export/verify the auditor's evidence bundle.

Rendering is deterministic (the documents say "as of audit event N", not
"now"), so rendering an unchanged version again finds the stored document
instead of adding a row and an audit event.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow import __version__
from govflow.artifacts import ArtifactStore
from govflow.docs import KINDS, DocInputs, build_context, documentation_check, parse_notes, render_documents
from govflow.docs._bundle import MAX_MEMBER_BYTES, BundleReport, write_bundle
from govflow.docs._bundle import verify_bundle as _verify_bundle
from govflow.errors import BadInputError, ConflictError, PolicyError
from govflow.hashing import sha256_bytes
from govflow.policy import Policy, load_policy, policy_sha256
from govflow.progress import Progress, resolve
from govflow.service.checks import check_result_to_dict, load_evidence, record_check_result
from govflow.service.registry import get_version, model_to_dict, version_subject, version_to_dict
from govflow.service.serialize import approval_to_dict, waiver_to_dict
from govflow.signing import Keyring, sign_manifest
from govflow.store import (
    Approval,
    AuditEvent,
    CheckResultRow,
    Document,
    GateDecision,
    Model,
    ModelVersion,
    Run,
    Waiver,
)
from govflow.store.audit import append_event, event_to_dict, verify_chain
from govflow.timeutil import iso_utc

DOC_SUFFIX = {"md": ".md", "html": ".html"}
T = TypeVar("T")


# --- gathering the inputs -------------------------------------------------------------------


def gather_inputs(
    session: Session, row: ModelVersion, *, policy: Policy, artifacts: ArtifactStore | None = None
) -> DocInputs:
    """Plain records of one version for ``govflow.docs.build_context``."""
    artifacts = artifacts or ArtifactStore()
    model = row.model
    notes, notes_from = _notes_for(session, row, artifacts)
    return DocInputs(
        model=model_to_dict(model),
        version={**version_to_dict(row, model_name=model.name), "stage": row.stage},
        policy=_policy_view(policy, model),
        check_results=_results(session, row, artifacts),
        decisions=[_decision_dict(d) for d in _decisions(session, row)],
        approvals=_approvals(session, row),
        waivers=_waivers(session, row),
        versions=[
            {
                "version": v.version,
                "stage": v.stage,
                "created_at": iso_utc(v.created_at),
                "created_by": v.created_by,
            }
            for v in model.versions
        ],
        events=[event_to_dict(e) for e in _events(session, model.name, row.version)],
        notes=notes,
        notes_source=notes_from if notes_from != row.version else None,
        renderer=_renderer_versions(),
    )


def version_context(
    session: Session,
    model: str,
    version: str,
    *,
    policy: Policy | None = None,
    artifacts: ArtifactStore | None = None,
) -> dict[str, Any]:
    row = get_version(session, model, version)
    return build_context(gather_inputs(session, row, policy=_policy(policy), artifacts=artifacts))


def _policy_view(policy: Policy, model: Model) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": policy.name,
        "version": policy.version,
        "sha256": policy.sha256,
        "source": policy.source,
        "tier": policy.tier(model.risk_tier).model_dump(mode="json"),
        "allowed_pii_entities": None,
        "pii_policy_error": None,
    }
    try:
        view["allowed_pii_entities"] = sorted(
            policy.allowed_pii_entities(list(model.regions or ()), model.sector)
        )
    except PolicyError as err:  # an unknown region: the document shows the gap and why
        view["pii_policy_error"] = str(err)
    return view


def _results(session: Session, row: ModelVersion, artifacts: ArtifactStore) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CheckResultRow, Run)
        .join(Run, Run.id == CheckResultRow.run_id)
        .where(CheckResultRow.version_id == row.id)
        .order_by(CheckResultRow.created_at, CheckResultRow.id)
    ).all()
    # Documents show the full evidence of the newest result per check only; older ones (a year of
    # nightly re-checks, each maybe with an HTML report) appear in the log by their summary.
    latest = {result.check: result.id for result, _ in rows}
    out = []
    for result, run in rows:
        item = check_result_to_dict(result)
        item["run"] = {"dag_id": run.dag_id, "run_id": run.run_id, "trigger_kind": run.trigger_kind}
        item["evidence"], item["evidence_problem"] = None, None
        if latest[result.check] == result.id:
            try:
                item["evidence"] = load_evidence(result, artifacts)
            except BadInputError as err:  # missing or altered evidence: shown as a gap, never trusted
                item["evidence_problem"] = str(err)
        out.append(item)
    return out


def _decisions(session: Session, row: ModelVersion) -> list[GateDecision]:
    return list(
        session.scalars(
            select(GateDecision)
            .where(GateDecision.version_id == row.id)
            .order_by(GateDecision.decided_at, GateDecision.id)
        )
    )


def _decision_dict(d: GateDecision) -> dict[str, Any]:
    result = (d.inputs or {}).get("result") or {}
    return {
        "id": d.id,
        "target_stage": d.target_stage,
        "decision": d.decision,
        "reasons": list(d.reasons or []),
        "notes": list(result.get("notes") or []),
        "policy_sha256": d.policy_sha256,
        "policy_version": d.policy_version,
        "evidence_ids": list(d.evidence_ids or []),
        "evidence_digest": d.evidence_digest,
        "decided_by": d.decided_by,
        "decided_at": iso_utc(d.decided_at),
        "documents": list(d.documents or []),
    }


def _approvals(session: Session, row: ModelVersion) -> list[dict[str, Any]]:
    query = select(Approval).where(Approval.version_id == row.id).order_by(Approval.created_at, Approval.id)
    return [approval_to_dict(a) for a in session.scalars(query)]


def _waivers(session: Session, row: ModelVersion) -> list[dict[str, Any]]:
    query = select(Waiver).where(Waiver.version_id == row.id).order_by(Waiver.created_at, Waiver.id)
    return [waiver_to_dict(w) for w in session.scalars(query)]


def _events(session: Session, model: str, version: str) -> list[AuditEvent]:
    subjects = (f"model:{model}", version_subject(model, version))
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.subject.in_(subjects)).order_by(AuditEvent.seq))
    )


def _renderer_versions() -> dict[str, str]:
    from importlib import metadata

    return {"govflow": __version__, "jinja2": metadata.version("jinja2")}


# --- notes ----------------------------------------------------------------------------------


def record_notes(
    session: Session,
    model: str,
    version: str,
    text: str,
    *,
    actor: str,
    artifacts: ArtifactStore | None = None,
) -> Document:
    """Store the people-written documentation notes (YAML) of a version, audited."""
    notes = parse_notes(text, source=f"for {model}@{version}")
    row = get_version(session, model, version)
    stored = (artifacts or ArtifactStore()).put_text(text, suffix=".yaml")
    current = _latest_document(session, row.id, "notes", "yaml")
    if current is not None and current.sha256 == stored.sha256:
        return current
    document = Document(
        version_id=row.id,
        kind="notes",
        format="yaml",
        uri=stored.uri,
        sha256=stored.sha256,
        completeness={"keys": sorted(notes)},
    )
    session.add(document)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="version.notes_recorded",
        subject=version_subject(model, version),
        payload={"document_id": document.id, "sha256": stored.sha256, "keys": sorted(notes)},
    )
    return document


def _latest_document(session: Session, version_id: int, kind: str, fmt: str) -> Document | None:
    return session.scalar(
        select(Document)
        .where(Document.version_id == version_id, Document.kind == kind, Document.format == fmt)
        .order_by(Document.id.desc())
        .limit(1)
    )


def _notes_for(
    session: Session, row: ModelVersion, artifacts: ArtifactStore
) -> tuple[dict[str, Any], str | None]:
    """This version's notes, else the newest notes of an earlier version of the model.

    Notes usually carry over from one version to the next.
    """
    query = (
        select(Document, ModelVersion.version)
        .join(ModelVersion, ModelVersion.id == Document.version_id)
        .where(ModelVersion.model_id == row.model_id, ModelVersion.id <= row.id, Document.kind == "notes")
        .order_by(ModelVersion.id.desc(), Document.id.desc())
        .limit(1)
    )
    found = session.execute(query).first()
    if found is None:
        return {}, None
    document, version = found
    data = artifacts.get_bytes(document.uri)
    if sha256_bytes(data) != document.sha256:
        raise ConflictError(f"documentation notes {document.id} do not match their sha256")
    return parse_notes(data.decode("utf-8"), source=f"for {row.model.name}@{version}"), version


# --- rendering --------------------------------------------------------------------------------


def render_docs(
    session: Session,
    model: str,
    version: str,
    fmt: str,
    out: str | Path | None = None,
    *,
    actor: str,
    kinds: Sequence[str] = KINDS,
    policy: Policy | None = None,
    artifacts: ArtifactStore | None = None,
) -> dict[str, Any]:
    """Render the version's documents, store each (artifact store + ``documents`` row + audit event),
    link them from the version's latest gate decision, and write them to ``out`` if given."""
    artifacts = artifacts or ArtifactStore()
    policy = _policy(policy)
    row = get_version(session, model, version)
    context = build_context(gather_inputs(session, row, policy=policy, artifacts=artifacts))
    texts = render_documents(context, fmt=fmt, kinds=kinds)
    completeness = _completeness(context)
    documents = [
        _store_document(session, row, kind, fmt, text, completeness, actor=actor, artifacts=artifacts)
        for kind, text in texts.items()
    ]
    paths = _write_out(out, texts, model=model, version=version, fmt=fmt)
    return {
        "model": model,
        "version": version,
        "format": fmt,
        "documents": [{**_document_dict(d), "path": paths.get(d.kind)} for d in documents],
        **completeness,
    }


def _completeness(context: dict[str, Any]) -> dict[str, Any]:
    sections = context["sections"]
    required = list(context["required_sections"])
    return {
        "sections": {sid: s.score for sid, s in sections.items()},
        "required_sections": required,
        "incomplete": [sid for sid in required if not sections[sid].complete],
    }


def _store_document(
    session: Session,
    row: ModelVersion,
    kind: str,
    fmt: str,
    text: str,
    completeness: dict[str, Any],
    *,
    actor: str,
    artifacts: ArtifactStore,
) -> Document:
    stored = artifacts.put_text(text, suffix=DOC_SUFFIX[fmt])
    latest = session.scalar(
        select(Document)
        .where(Document.version_id == row.id, Document.kind == kind, Document.format == fmt)
        .order_by(Document.id.desc())
        .limit(1)
    )
    if latest is not None and latest.sha256 == stored.sha256:
        return latest  # the same bytes as the newest rendering: nothing changed, nothing to record
    # Otherwise a new row, even when the bytes match an older rendering: "newest" must stay the current one.
    document = Document(
        version_id=row.id,
        kind=kind,
        format=fmt,
        uri=stored.uri,
        sha256=stored.sha256,
        completeness=completeness,
    )
    session.add(document)
    session.flush()
    decision = _link_to_latest_decision(session, row, document)
    append_event(
        session,
        actor=actor,
        action="docs.rendered",
        subject=version_subject(row.model.name, row.version),
        payload={
            "document_id": document.id,
            "kind": kind,
            "format": fmt,
            "sha256": stored.sha256,
            "decision_id": decision.id if decision else None,
            "incomplete_sections": completeness["incomplete"],
        },
    )
    return document


def document_link(document: Document) -> dict[str, Any]:
    return {
        "document_id": document.id,
        "kind": document.kind,
        "format": document.format,
        "uri": document.uri,
        "sha256": document.sha256,
    }


def document_links(session: Session, version_id: int) -> list[dict[str, Any]]:
    """Links to the newest rendered document of each kind and format (for a new gate decision)."""
    return [document_link(d) for d in _latest_documents(session, version_id, kinds=KINDS)]


def _latest_documents(
    session: Session, version_id: int, *, kinds: Sequence[str] | None = None
) -> list[Document]:
    """The newest document of each kind and format, by kind and format.

    ``kinds`` limits the kinds (default: all, notes included).
    """
    query = select(Document).where(Document.version_id == version_id).order_by(Document.id)
    if kinds is not None:
        query = query.where(Document.kind.in_(kinds))
    latest = {(d.kind, d.format): d for d in session.scalars(query)}
    return [d for _, d in sorted(latest.items())]


def _link_to_latest_decision(session: Session, row: ModelVersion, document: Document) -> GateDecision | None:
    decision = session.scalar(
        select(GateDecision)
        .where(GateDecision.version_id == row.id)
        .order_by(GateDecision.decided_at.desc(), GateDecision.id.desc())
        .limit(1)
    )
    if decision is None:
        return None
    # One link per kind and format: a newer rendering replaces the older link
    # (a new list, so the JSON column saves).
    links = [
        d
        for d in decision.documents or []
        if (d.get("kind"), d.get("format")) != (document.kind, document.format)
    ]
    decision.documents = [*links, document_link(document)]
    session.flush()
    return decision


def _write_out(
    out: str | Path | None, texts: dict[str, str], *, model: str, version: str, fmt: str
) -> dict[str, str]:
    if out is None:
        return {}
    target = Path(out).expanduser()
    if len(texts) == 1:  # one document: ``out`` is its file; several: their folder (the CLI's rule)
        paths = {next(iter(texts)): target}
    else:
        paths = {kind: target / f"{model}-{version}-{kind}.{fmt}" for kind in texts}
    for kind, path in paths.items():
        data = texts[kind].encode("utf-8")
        try:
            _atomic_write(path, _writer(data))
        except OSError as err:
            raise BadInputError(f"cannot write {path}: {err.strerror or err}") from err
    return {kind: str(path) for kind, path in paths.items()}


def _atomic_write(path: Path, write: Callable[[BinaryIO], T]) -> T:
    """``write`` into a temporary file beside ``path``, then put it in place in one step.

    Never half a file.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(path.parent / f".tmp-{secrets.token_hex(8)}")
        # 0666 through the process umask, like any file the user writes (0600 under umask 077).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as err:
        raise BadInputError(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            result = write(handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def _document_dict(d: Document) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "format": d.format,
        "uri": d.uri,
        "sha256": d.sha256,
        "created_at": iso_utc(d.created_at),
    }


# --- the documentation check ------------------------------------------------------------------


def check_documentation(
    session: Session,
    model: str,
    version: str,
    *,
    run: Run,
    policy: Policy | None = None,
    artifacts: ArtifactStore | None = None,
) -> CheckResultRow:
    """Record the ``documentation`` check (required sections complete?) for ``run``, once per run."""
    from dataclasses import replace

    policy = _policy(policy)
    started = time.perf_counter()
    row = get_version(session, model, version)
    context = build_context(gather_inputs(session, row, policy=policy, artifacts=artifacts))
    required = policy.tier(row.model.risk_tier).documentation.required_sections
    result = replace(documentation_check(context, required), duration_s=time.perf_counter() - started)
    # Documentation is not computed on a data set: no data hash (policy.data_free_checks).
    return record_check_result(
        session,
        version=row,
        run=run,
        result=result,
        data_sha256=None,
        policy_sha256=policy.sha256,
        artifacts=artifacts,
    )


def document_version(
    session: Session,
    model: str,
    version: str,
    *,
    run: Run,
    actor: str,
    policy: Policy | None = None,
    artifacts: ArtifactStore | None = None,
) -> dict[str, Any]:
    """The pipeline step: render both documents in both formats, then record the documentation check."""
    policy = _policy(policy)
    artifacts = artifacts or ArtifactStore()
    rendered = [
        render_docs(session, model, version, fmt, actor=actor, policy=policy, artifacts=artifacts)
        for fmt in ("md", "html")
    ]
    result = check_documentation(session, model, version, run=run, policy=policy, artifacts=artifacts)
    return {"documents": [d for r in rendered for d in r["documents"]], "check": check_result_to_dict(result)}


# --- the evidence bundle ----------------------------------------------------------------------


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
    policy = _policy(policy)
    row = get_version(session, model, version)
    report = resolve(progress)
    report("evidence: rendering the documents", 0, 2, unit="formats")
    for done, fmt in enumerate(("md", "html"), start=1):
        render_docs(session, model, version, fmt, actor=actor, policy=policy, artifacts=artifacts)
        report("evidence: rendering the documents", done, 2, unit="formats")

    files: list[tuple[str, Any]] = []
    documents = []
    for document in _latest_documents(session, row.id):
        path = f"documents/{document.kind}.{document.format}"
        files.append((path, _reader(artifacts, document.uri, document.sha256, f"document {document.id}")))
        documents.append({**_document_dict(document), "path": path, "completeness": document.completeness})

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

    decisions = _decisions(session, row)
    policies = _bundle_policies(policy, decisions)
    for entry in policies:
        text = entry.pop("_text", None)
        if text is not None:
            files.append((entry["path"], (lambda data=text.encode("utf-8"): data)))

    events = _events(session, model, version)
    chain = verify_chain(session)
    manifest = {
        "model": model_to_dict(row.model),
        "version": {**version_to_dict(row, model_name=model), "stage": row.stage},
        "exported_at": iso_utc(now or dt.datetime.now(dt.UTC)),
        "exported_by": actor,
        "policy": next((p for p in policies if p["current"]), policies[0]) if policies else None,
        "policies": policies,
        "decision": _decision_dict(decisions[-1]) if decisions else None,
        "decisions": [_decision_dict(d) for d in decisions],
        "approvals": _approvals(session, row),
        "waivers": _waivers(session, row),
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
    final, manifest_sha = _atomic_write(
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
    """Offline verification of a bundle (no DB): see ``govflow.docs._bundle.verify_bundle``.

    Trusted signers: ``public_keys``, the trusted keys folder and the configured signing key.
    """
    keyring = Keyring.trusted(public_keys)
    return _verify_bundle(path, keyring=keyring, max_member_bytes=max_member_bytes)


def _writer(data: bytes) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(data)


def _policy(policy: Policy | None) -> Policy:
    # Callers that started elsewhere (the CLI, a DAG task) pass the policy they resolved.
    if policy is not None:
        return policy

    return load_policy()
