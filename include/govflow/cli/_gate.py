"""`govflow gate`, `gate replay`, `approve`, `waive` and `promote`: the promotion gate from the command line.

Exit status: `gate` 0 approved, 1 rejected or pending approval; `gate replay` 0 same, 1 any
difference; `approve`/`waive`/`promote` 0 done, 1 permission denied or promotion refused, 2 bad input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from govflow.api_session import GovernanceApi
from govflow.cli._common import add_actor_flag, add_json_flag, add_version_flags
from govflow.cli._identity import actor_of, identity_of
from govflow.cli._output import emit
from govflow.cli._parser import UsageError
from govflow.errors import BadInputError
from govflow.policy import load_policy
from govflow.service import gate, registry
from govflow.service.serialize import recorded_to_dict
from govflow.store import session_scope


def register(groups: argparse._SubParsersAction) -> None:
    gate = groups.add_parser(
        "gate",
        help="evaluate the promotion gate for a version (or replay a stored decision)",
        usage=(
            "govflow gate --model M --version V [--as USER] [--json]\n"
            "       govflow gate replay DECISION_ID [--json]"
        ),
        description="Evaluate and store a gate decision (exit 0 approved, 1 rejected or pending approval), "
        "or replay a stored one (exit 1 on any difference).",
    )
    gate.add_argument("--model")
    gate.add_argument("--version")
    add_actor_flag(gate)
    add_api_flag(gate)
    add_json_flag(gate)
    gate.set_defaults(handler=_gate)
    # `gate` both takes flags and has a `replay` subcommand; the subcommand is optional.
    sub = gate.add_subparsers(dest="gate_command", metavar="replay")
    replay = sub.add_parser(
        "replay", help="recompute a stored decision from its stored inputs; exit 1 on any difference"
    )
    replay.add_argument("decision_id", metavar="DECISION_ID")
    # A separate dest: argparse would otherwise let the subparser's default reset the parent's --json.
    replay.add_argument(
        "--json", dest="replay_json", action="store_true", help="print exactly one JSON object on stdout"
    )
    replay.set_defaults(handler=_replay)

    approve = groups.add_parser("approve", help="approve (or --reject) a version's current evidence")
    add_version_flags(approve)
    approve.add_argument("--reject", action="store_true", help="record a rejection instead of an approval")
    approve.add_argument("--comment", required=True)
    add_actor_flag(approve, required=True)
    add_api_flag(approve)
    add_json_flag(approve)
    approve.set_defaults(handler=_approve)

    waive = groups.add_parser("waive", help="waive a failed check of a version, with a reason (reviewers)")
    add_version_flags(waive)
    waive.add_argument("--check", required=True, help="validation | pii | fairness | drift | documentation")
    waive.add_argument("--reason", required=True)
    add_actor_flag(waive, required=True)
    add_api_flag(waive)
    add_json_flag(waive)
    waive.set_defaults(handler=_waive)

    promote = groups.add_parser("promote", help="move a version to production if its gate decision allows it")
    add_version_flags(promote)
    promote.add_argument("--to", required=True, metavar="STAGE", help="production")
    add_actor_flag(promote, required=True)
    add_json_flag(promote)
    promote.set_defaults(handler=_promote)


def _gate(args: argparse.Namespace) -> int:
    if not (args.model and args.version):
        raise UsageError(
            "govflow gate: --model and --version are required (or: govflow gate replay DECISION_ID)"
        )
    if args.api:
        payload = _through_api(args, lambda api: api.gate(args.model, args.version))
        emit(payload, as_json=args.json, lines=_decision_lines(payload))
        return 0 if payload["decision"] == "approved" else 1
    with session_scope() as session:
        who = identity_of(args)
        row = gate.evaluate_gate(
            session, args.model, args.version, who.name, auth_method=who.auth_method, policy=load_policy()
        )
        payload = gate.decision_to_dict(row, model=args.model, version=args.version)
    emit(payload, as_json=args.json, lines=_decision_lines(payload))
    return 0 if payload["decision"] == "approved" else 1


def add_api_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        action="store_true",
        help="act as the logged-in user through the Governance API (`govflow login` first); "
        "identity is proven by the Airflow token",
    )


def _through_api(args: argparse.Namespace, call: Callable[[GovernanceApi], dict[str, Any]]) -> dict[str, Any]:
    if args.actor:
        raise UsageError("--as cannot be combined with --api: the Airflow token says who you are")
    api = GovernanceApi()
    try:
        return call(api)
    finally:
        api.close()


def _decision_lines(d: dict) -> list[str]:
    head = (
        f"gate decision {d['id']} for {d['model']}@{d['version']} ({d['tier']} tier, policy "
        f"{d['policy_version']} {d['policy_sha256'][:12]}): {d['decision']}"
    )
    lines = [head]
    lines += [f"  - {r['message']}" for r in d["reasons"]]
    lines += [f"  note: {n}" for n in d["notes"]]
    if d["approvals"]["approved_by"]:
        lines.append(f"  approved by: {', '.join(d['approvals']['approved_by'])}")
    return lines


def _replay(args: argparse.Namespace) -> int:
    if args.model or args.version:
        raise UsageError("govflow gate replay: takes a DECISION_ID, not --model/--version")
    if not args.decision_id.isdigit():
        raise BadInputError(f"invalid decision id {args.decision_id!r}: expected a number")
    with session_scope() as session:
        report = gate.replay_decision(session, int(args.decision_id))
    if report.same:
        lines = [f"decision {report.decision_id} replays identically: {report.stored['decision']}"]
    else:
        lines = [f"decision {report.decision_id} does NOT replay identically:"]
        lines += [f"  - {d}" for d in report.differences]
    emit(report.to_dict(), as_json=args.json or args.replay_json, lines=lines)
    return 0 if report.same else 1


def _approve(args: argparse.Namespace) -> int:
    verdict = "reject" if args.reject else "approve"
    if args.api:
        answer = _through_api(
            args, lambda api: api.approve(args.model, args.version, verdict=verdict, comment=args.comment)
        )
        preview = answer["gate_preview"]
        emit(
            answer,
            as_json=args.json,
            lines=[
                f"{answer['approver']} ({answer['auth_method']}) {verdict}d {args.model}@{args.version} "
                f"on evidence {answer['evidence_digest'][:12]}; gate now would be: {preview['decision']}",
                *_airflow_lines(answer),
            ],
        )
        return 0
    who = identity_of(args)
    with session_scope() as session:
        recorded = gate.approve(
            session,
            args.model,
            args.version,
            who.name,
            verdict=verdict,
            comment=args.comment,
            auth_method=who.auth_method,
            policy=load_policy(),  # resolved once, here where the command starts
        )
        row = recorded.row
        payload = recorded_to_dict(row, recorded.preview, model=args.model, version=args.version)
    done = "approved" if verdict == "approve" else "rejected"
    preview = payload["gate_preview"]
    lines = [
        f"{row.approver} ({row.role}) {done} {args.model}@{args.version} on evidence "
        f"{row.evidence_digest[:12]}",
        f"  gate now would be: {preview['decision']} ({len(preview['approved_by'])} of "
        f"{preview['approvals_required']} approvals); run `govflow gate` to record it",
    ]
    emit(payload, as_json=args.json, lines=lines)
    return 0


def _airflow_lines(answer: dict[str, Any]) -> list[str]:
    """What became of Airflow's approval request, as the Governance view says it (its ``airflow.note``)."""
    note = (answer.get("airflow") or {}).get("note")
    return [f"  Airflow: {note}"] if note else []


def _waive(args: argparse.Namespace) -> int:
    if args.api:
        answer = _through_api(
            args, lambda api: api.waive(args.model, args.version, check=args.check, reason=args.reason)
        )
        emit(
            answer,
            as_json=args.json,
            lines=[
                f"{answer['waived_by']} ({answer['auth_method']}) waived {args.check} of "
                f"{args.model}@{args.version} (result {answer['check_result_id']}); gate now would be: "
                f"{answer['gate_preview']['decision']}",
                *_airflow_lines(answer),
            ],
        )
        return 0
    who = identity_of(args)
    with session_scope() as session:
        recorded = gate.waive(
            session,
            args.model,
            args.version,
            args.check,
            who.name,
            reason=args.reason,
            auth_method=who.auth_method,
            policy=load_policy(),  # resolved once, here where the command starts
        )
        row = recorded.row
        payload = recorded_to_dict(row, recorded.preview, model=args.model, version=args.version)
    lines = [
        f"{row.waived_by} ({row.role}) waived {row.check} result {row.check_result_id} of "
        f"{args.model}@{args.version}: {row.reason}",
        f"  gate now would be: {payload['gate_preview']['decision']}; run `govflow gate` to record it",
    ]
    emit(payload, as_json=args.json, lines=lines)
    return 0


def _promote(args: argparse.Namespace) -> int:
    actor = actor_of(args, required=True)
    try:
        with session_scope() as session:
            previous = registry.production_version(session, args.model)
            previous_version = previous.version if previous is not None else None
            row, decision = gate.promote(
                session, args.model, args.version, actor, to=args.to, policy=load_policy()
            )
            payload = {
                "model": args.model,
                "version": row.version,
                "promoted": True,
                "stage": row.stage,
                "decision_id": decision.id,
                "archived": previous_version if previous_version != row.version else None,
                "promoted_by": actor,
            }
    except gate.PromotionRefusedError as err:
        # Like a rejecting gate: a result to report (one JSON object with --json), plus the reason on stderr.
        if args.json:
            emit(
                {"model": args.model, "version": args.version, "promoted": False, "reason": str(err)},
                as_json=True,
            )
        raise
    lines = [f"{args.model}@{row.version} is now in production (gate decision {decision.id})"]
    if payload["archived"]:
        lines.append(f"  archived the previous production version {payload['archived']}")
    emit(payload, as_json=args.json, lines=lines)
    return 0
