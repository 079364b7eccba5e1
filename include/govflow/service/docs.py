"""Documentation use cases: render and store documents, record the documentation check,
keep the people-written notes, and export/verify the auditor's evidence bundle.

Rendering is deterministic (the documents say "as of audit event N", not
"now"), so rendering an unchanged version again finds the stored document
instead of adding a row and an audit event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow import __version__
from govflow.artifacts import ArtifactStore
from govflow.docs import KINDS, DocInputs, build_context, documentation_check, render_documents
from govflow.errors import BadInputError
from govflow.files import atomic_write
from govflow.policy import Policy, load_packs, load_policy
from govflow.service.attachments import version_attachments
from govflow.service.checks import (
    check_result_to_dict,
    latest_check_results,
    load_evidence,
    record_check_result,
)
from govflow.service.doc_notes import notes_for, record_notes
from govflow.service.packs import audit_facts, packs_evidence
from govflow.service.registry import get_version, model_to_dict, version_subject, version_to_dict
from govflow.service.version_records import (
    decision_record,
    version_approvals,
    version_decisions,
    version_events,
    version_waivers,
)
from govflow.store import CheckResultRow, Document, GateDecision, ModelVersion, Run
from govflow.store.audit import append_event, event_to_dict
from govflow.timeutil import iso_utc

__all__ = [
    "check_documentation",
    "document_dict",
    "document_link",
    "document_links",
    "document_version",
    "gather_inputs",
    "latest_documents",
    "record_notes",
    "render_docs",
    "version_context",
]

DOC_SUFFIX = {"md": ".md", "html": ".html"}


# --- gathering the inputs -------------------------------------------------------------------


def gather_inputs(
    session: Session, row: ModelVersion, *, policy: Policy, artifacts: ArtifactStore | None = None
) -> DocInputs:
    """Plain records of one version for ``govflow.docs.build_context``."""
    artifacts = artifacts or ArtifactStore()
    model = row.model
    notes, notes_from = notes_for(session, row, artifacts)
    return DocInputs(
        model=model_to_dict(model),
        version={**version_to_dict(row, model_name=model.name), "stage": row.stage},
        policy=policy,
        check_results=_results(session, row, artifacts),
        decisions=[decision_record(d) for d in version_decisions(session, row)],
        approvals=version_approvals(session, row),
        waivers=version_waivers(session, row),
        versions=[
            {
                "version": v.version,
                "stage": v.stage,
                "created_at": iso_utc(v.created_at),
                "created_by": v.created_by,
            }
            for v in model.versions
        ],
        events=[event_to_dict(e) for e in version_events(session, model.name, row.version)],
        notes=notes,
        notes_source=notes_from if notes_from != row.version else None,
        renderer=_renderer_versions(),
        attachments=version_attachments(session, row),
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
        item["run"] = {
            "dag_id": run.dag_id,
            "run_id": run.run_id,
            "trigger_kind": run.trigger_kind,
            "dag_version": run.dag_version,
        }
        item["evidence"], item["evidence_problem"] = None, None
        if latest[result.check] == result.id:
            try:
                item["evidence"] = load_evidence(result, artifacts)
            except BadInputError as err:  # missing or altered evidence: shown as a gap, never trusted
                item["evidence_problem"] = str(err)
        out.append(item)
    return out


def _renderer_versions() -> dict[str, str]:
    from importlib import metadata

    return {"govflow": __version__, "jinja2": metadata.version("jinja2")}


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
    completeness = _completeness(context)
    context["packs"] = _packs(session, row, policy, completeness["sections"])
    texts = render_documents(context, fmt=fmt, kinds=kinds)
    documents = [
        _store_document(session, row, kind, fmt, text, completeness, actor=actor, artifacts=artifacts)
        for kind, text in texts.items()
    ]
    paths = _write_out(out, texts, model=model, version=version, fmt=fmt)
    return {
        "model": model,
        "version": version,
        "format": fmt,
        "documents": [{**document_dict(d), "path": paths.get(d.kind)} for d in documents],
        **completeness,
    }


def _packs(
    session: Session, row: ModelVersion, policy: Policy, scores: dict[str, Any]
) -> list[dict[str, Any]]:
    """The rule packs that apply, per obligation evidenced or missing, as of this rendering."""
    results = latest_check_results(session, row.id)
    model = row.model
    return packs_evidence(
        load_packs(),
        sector=model.sector,
        regions=model.regions or [],
        tier=model.risk_tier,
        passed={check for check, r in results.items() if r.status in ("pass", "warn")},
        scores=scores,
        enforced=policy.packs,
        facts=audit_facts(session, row, custom_entities=[r.entity for r in policy.pii.custom_recognizers]),
    )


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
    return [document_link(d) for d in latest_documents(session, version_id, kinds=KINDS)]


def latest_documents(
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
            atomic_write(path, _writer(data))
        except OSError as err:
            raise BadInputError(f"cannot write {path}: {err.strerror or err}") from err
    return {kind: str(path) for kind, path in paths.items()}


def document_dict(d: Document) -> dict[str, Any]:
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
    started: float | None = None,
) -> CheckResultRow:
    """Record the ``documentation`` check (required sections complete?) for ``run``, once per run.

    ``started`` (a ``time.perf_counter()`` reading): when the work the result accounts for began, e.g.
    the rendering before it; by default, this call."""
    from dataclasses import replace

    policy = _policy(policy)
    started = time.perf_counter() if started is None else started
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
    started = time.perf_counter()
    rendered = [
        render_docs(session, model, version, fmt, actor=actor, policy=policy, artifacts=artifacts)
        for fmt in ("md", "html")
    ]
    # The check's duration is the step's: rendering and storing the documents, then checking them.
    result = check_documentation(
        session, model, version, run=run, policy=policy, artifacts=artifacts, started=started
    )
    return {"documents": [d for r in rendered for d in r["documents"]], "check": check_result_to_dict(result)}


def _writer(data: bytes) -> Callable[[BinaryIO], object]:
    return lambda handle: handle.write(data)


def _policy(policy: Policy | None) -> Policy:
    # Callers that started elsewhere (the CLI, a DAG task) pass the policy they resolved.
    if policy is not None:
        return policy

    return load_policy()
