"""`govflow audit verify|checkpoint|keygen|log`."""

from __future__ import annotations

import argparse
from pathlib import Path

from govflow.cli._common import add_actor_flag, add_json_flag
from govflow.cli._identity import actor_of
from govflow.cli._output import emit, out_file
from govflow.service.audit import verify_audit, write_checkpoint
from govflow.signing import generate_key_files
from govflow.store import session_scope
from govflow.store.audit import event_to_dict, list_events


def register(groups: argparse._SubParsersAction) -> None:
    audit = groups.add_parser("audit", help="the tamper-evident, signed audit trail")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True

    verify = sub.add_parser(
        "verify",
        help="recompute the hash chain, check every signature and every checkpoint; "
        "exit 1 naming the first bad seq",
    )
    verify.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint kept elsewhere (repeatable); the artifact store's are always checked",
    )
    verify.add_argument(
        "--public-key",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="another trusted public key (e.g. a rotated-out one); repeatable",
    )
    add_json_flag(verify)
    verify.set_defaults(handler=_verify)

    checkpoint = sub.add_parser(
        "checkpoint", help="sign the chain head and write it outside the database (artifact store or --out)"
    )
    checkpoint.add_argument("--out", metavar="FILE", help="write here instead of the artifact store")
    add_actor_flag(checkpoint)
    add_json_flag(checkpoint)
    checkpoint.set_defaults(handler=_checkpoint)

    keygen = sub.add_parser("keygen", help="write a new Ed25519 signing key (0600) and its .pub")
    keygen.add_argument("--out", required=True, type=Path, metavar="FILE.pem")
    add_json_flag(keygen)
    keygen.set_defaults(handler=_keygen)

    log = sub.add_parser("log", help="list audit events")
    log.add_argument("--subject", help="subject prefix, e.g. version:credit-risk@1.0 or model:credit-risk")
    log.add_argument("--limit", type=int)
    add_json_flag(log)
    log.set_defaults(handler=_log)


def _verify(args: argparse.Namespace) -> int:
    with session_scope() as session:
        report = verify_audit(session, checkpoints=args.checkpoint, public_keys=args.public_key)
    chain = report.chain
    if report.ok:
        lines = [
            f"audit chain intact and signed: {chain.events} events, head {chain.head_hash[:16]}..., "
            f"{report.checkpoints_checked} checkpoint(s) match"
        ]
    else:
        lines = [f"audit trail BROKEN at seq {report.first_bad_seq}"]
        if chain.problem:
            lines.append(f"  seq {chain.first_broken_seq}: {chain.problem}")
        lines += [f"  {p['location']}: {p['problem']}" for p in report.problems]
    emit(report.to_dict(), as_json=args.json, lines=lines)
    return 0 if report.ok else 1


def _checkpoint(args: argparse.Namespace) -> int:
    actor = actor_of(args)
    out = out_file(args.out, suffixes=(".json",)) if args.out else None
    with session_scope() as session:
        checkpoint = write_checkpoint(session, actor=actor, out=out)
    emit(
        checkpoint,
        as_json=args.json,
        lines=[
            f"checkpoint seq {checkpoint['seq']} head {checkpoint['head_hash'][:16]}... "
            f"signed by key {checkpoint['key_id']}: {checkpoint['location']}"
        ],
    )
    return 0


def _keygen(args: argparse.Namespace) -> int:
    private = out_file(args.out, suffixes=(".pem",))
    key = generate_key_files(private)
    public = private.with_suffix(".pub")
    emit(
        {"private_key": str(private), "public_key": str(public), "key_id": key.key_id},
        as_json=args.json,
        lines=[f"wrote files {private} (0600) and {public}: key id {key.key_id}"],
    )
    return 0


def _log(args: argparse.Namespace) -> int:
    with session_scope() as session:
        events = [
            event_to_dict(e) for e in list_events(session, subject_prefix=args.subject, limit=args.limit)
        ]
    emit(
        {"events": events},
        as_json=args.json,
        lines=[f"{e['seq']:>6} {e['ts']} {e['actor']:<12} {e['action']:<24} {e['subject']}" for e in events],
    )
    return 0
