"""`govflow docs render|check|notes` and `govflow evidence export|verify`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import cast

from govflow.checks import CheckResult
from govflow.cli._check import report
from govflow.cli._common import add_actor_flag, add_json_flag, add_version_flags
from govflow.cli._identity import actor_of
from govflow.cli._output import emit, out_file, out_folder, wrote_line
from govflow.cli._progress import add_quiet_flag, terminal_progress
from govflow.errors import BadInputError
from govflow.policy import load_policy
from govflow.service import docs
from govflow.service.checks import load_evidence
from govflow.service.evidence_bom import export_cyclonedx
from govflow.service.evidence_bundle import export_evidence_bundle, verify_bundle
from govflow.service.runs import cli_run
from govflow.store import session_scope
from govflow.vocab import Status

KINDS = ("model_card", "annex_iv")


def register(groups: argparse._SubParsersAction) -> None:
    docs = groups.add_parser("docs", help="model cards and EU AI Act Annex IV documentation")
    sub = docs.add_subparsers(dest="docs_command", metavar="ACTION")
    sub.required = True

    render = sub.add_parser("render", help="render, store and link a version's documents")
    add_version_flags(render)
    render.add_argument(
        "--format", required=True, choices=("html", "md"), help="self-contained HTML or Markdown"
    )
    render.add_argument("--kind", choices=KINDS, help="one document only (default: model card and Annex IV)")
    render.add_argument(
        "--out",
        metavar="PATH",
        help="also write the documents here: a folder for both, the file (card.html) with --kind; "
        "they are stored in the artifact store either way",
    )
    add_actor_flag(render)
    add_json_flag(render)
    render.set_defaults(handler=_render)

    check = sub.add_parser(
        "check", help="record the documentation check: exit 1 if a required section is incomplete"
    )
    add_version_flags(check)
    add_json_flag(check)
    check.set_defaults(handler=_check)

    notes = sub.add_parser(
        "notes", help="store the people-written notes (limitations, oversight...) of a version"
    )
    add_version_flags(notes)
    notes.add_argument("--file", required=True, help="YAML file of notes (see govflow.docs.NOTE_KEYS)")
    add_actor_flag(notes)
    add_json_flag(notes)
    notes.set_defaults(handler=_notes)

    evidence = groups.add_parser("evidence", help="the auditor's evidence bundle")
    esub = evidence.add_subparsers(dest="evidence_command", metavar="ACTION")
    esub.required = True

    export = esub.add_parser(
        "export",
        help="write a zip with documents, evidence, policy, decisions and audit events "
        "(or, with --format cyclonedx, a CycloneDX 1.6 ML-BOM)",
    )
    add_version_flags(export)
    export.add_argument(
        "--out", required=True, metavar="BUNDLE.zip|BOM.json", help="the zip (or BOM .json) file to write"
    )
    export.add_argument(
        "--format",
        choices=("bundle", "cyclonedx"),
        default="bundle",
        help="bundle: the signed zip (default); cyclonedx: a schema-validated CycloneDX 1.6 ML-BOM",
    )
    add_actor_flag(export)
    add_json_flag(export)
    add_quiet_flag(export)
    export.set_defaults(handler=_export)

    verify = esub.add_parser(
        "verify", help="check a bundle offline; exit 1 naming altered, missing or added files"
    )
    verify.add_argument("bundle", metavar="BUNDLE.zip")
    verify.add_argument(
        "--public-key",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="public key trusted to sign the manifest (repeatable; the signer's .pub, got out of band)",
    )
    verify.add_argument(
        "--max-member-mb",
        type=int,
        default=256,
        metavar="MB",
        help="refuse (unread) any member larger than this when inflated (default 256)",
    )
    add_json_flag(verify)
    verify.set_defaults(handler=_verify)


def _render(args: argparse.Namespace) -> int:
    kinds = (args.kind,) if args.kind else KINDS
    out = _render_target(args, kinds)  # refused names fail here, before anything is rendered or stored
    with session_scope() as session:
        payload = docs.render_docs(
            session,
            args.model,
            args.version,
            args.format,
            out,
            actor=actor_of(args),
            kinds=kinds,
            policy=load_policy(),
        )
    lines = [
        f"{d['kind']}.{d['format']}: sha256 {d['sha256'][:12]}... {d['path'] or d['uri']}"
        for d in payload["documents"]
    ]
    incomplete = payload["incomplete"]
    lines.append(
        f"required sections incomplete: {', '.join(incomplete)}"
        if incomplete
        else "all required sections complete"
    )
    if out is not None:
        written = [d["path"] for d in payload["documents"]]
        folder = out if len(kinds) > 1 else None
        payload["out"] = {"type": "folder" if folder else "file", "path": str(out)}
        lines.append(wrote_line(written, folder=folder))
    emit(payload, as_json=args.json, lines=lines)
    return 0


_FORMAT_SUFFIXES = {"html": (".html", ".htm"), "md": (".md", ".markdown")}


def _render_target(args: argparse.Namespace, kinds: tuple[str, ...]) -> Path | None:
    """``--out``: the file of the one document asked for with ``--kind``, else the folder of all."""
    if args.out is None:
        return None
    if len(kinds) == 1:
        return out_file(args.out, suffixes=_FORMAT_SUFFIXES[args.format])
    return out_folder(
        args.out,
        documents=[f"{kind}.{args.format}" for kind in kinds],
        hint=f", or add --kind {kinds[0]} to write that one document to {args.out}",
    )


def _check(args: argparse.Namespace) -> int:
    with session_scope() as session:
        row = docs.check_documentation(
            session, args.model, args.version, run=cli_run(session), policy=load_policy()
        )
        evidence = load_evidence(row)
    details = {k: v for k, v in evidence.items() if k in ("sections", "missing")}
    result = CheckResult(
        check=row.check,
        status=cast(Status, row.status),  # the column holds only the vocabulary's statuses
        summary=row.summary,
        details=details,
        duration_s=row.duration_s,
        library_versions=row.library_versions,
        errors=row.errors,
    )
    return report(result, as_json=args.json)


def _notes(args: argparse.Namespace) -> int:
    from pathlib import Path

    path = Path(args.file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInputError(f"cannot read notes {path}: {getattr(err, 'strerror', None) or err}") from err
    with session_scope() as session:
        document = docs.record_notes(session, args.model, args.version, text, actor=actor_of(args))
        payload = {
            "model": args.model,
            "version": args.version,
            "document_id": document.id,
            "sha256": document.sha256,
            "keys": document.completeness.get("keys", []),
        }
    emit(
        payload,
        as_json=args.json,
        lines=[f"notes stored for {args.model}@{args.version}: {', '.join(payload['keys']) or '(empty)'}"],
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.format == "cyclonedx":
        return _export_bom(args)
    out = out_file(args.out, suffixes=(".zip",))
    with session_scope() as session, terminal_progress(args) as progress:
        payload = export_evidence_bundle(
            session,
            args.model,
            args.version,
            out,
            actor=actor_of(args),
            progress=progress,
            policy=load_policy(),
        )
    emit(
        payload,
        as_json=args.json,
        lines=[
            f"wrote file {payload['bundle']}: {payload['files']} files, sha256 {payload['sha256']}",
            f"manifest sha256 {payload['manifest_sha256']} (recorded in the audit trail)",
        ],
    )
    return 0


def _export_bom(args: argparse.Namespace) -> int:
    out = out_file(args.out, suffixes=(".json",))
    with session_scope() as session:
        payload = export_cyclonedx(session, args.model, args.version, out, actor=actor_of(args))
    emit(
        payload,
        as_json=args.json,
        lines=[
            f"wrote file {payload['bom']}: CycloneDX {payload['spec_version']} ML-BOM, "
            f"{payload['components']} components, sha256 {payload['sha256']} (validated against the schema)"
        ],
    )
    return 0


def _verify(args: argparse.Namespace) -> int:
    report = verify_bundle(
        args.bundle, public_keys=args.public_key, max_member_bytes=args.max_member_mb * 1024 * 1024
    )
    payload = report.to_dict()
    if report.ok:
        lines = [
            f"bundle OK: {report.files_checked} files match the manifest "
            f"(manifest sha256 {report.manifest_sha256}, signed by key {report.signed_by})"
        ]
    else:
        lines = [f"bundle FAILED verification: {len(report.problems)} problem(s)"]
        lines += [f"  {p['problem']}: {p['path']} ({p['detail']})" for p in report.problems]
    emit(payload, as_json=args.json, lines=lines)
    return 0 if report.ok else 1
