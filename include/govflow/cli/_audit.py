"""`govflow audit verify|log`."""

from __future__ import annotations

import argparse

from govflow.cli._common import add_json_flag
from govflow.cli._output import emit


def register(groups: argparse._SubParsersAction) -> None:
    audit = groups.add_parser("audit", help="the tamper-evident audit trail")
    sub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    sub.required = True

    verify = sub.add_parser("verify", help="recompute the hash chain; exit 1 naming the first broken seq")
    add_json_flag(verify)
    verify.set_defaults(handler=_verify)

    log = sub.add_parser("log", help="list audit events")
    log.add_argument("--subject", help="subject prefix, e.g. version:credit-risk@1.0 or model:credit-risk")
    log.add_argument("--limit", type=int)
    add_json_flag(log)
    log.set_defaults(handler=_log)


def _verify(args: argparse.Namespace) -> int:
    from govflow.store import session_scope
    from govflow.store.audit import verify_chain

    with session_scope() as session:
        report = verify_chain(session)
    if report.ok:
        line = f"audit chain intact: {report.events} events, head {report.head_hash[:16]}..."
    else:
        line = f"audit chain BROKEN at seq {report.first_broken_seq}: {report.problem}"
    emit(report.to_dict(), as_json=args.json, lines=[line])
    return 0 if report.ok else 1


def _log(args: argparse.Namespace) -> int:
    from govflow.store import session_scope
    from govflow.store.audit import event_to_dict, list_events

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
