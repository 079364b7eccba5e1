"""`govflow policy apply|show`: the policy the gate decides with."""

from __future__ import annotations

import argparse

from govflow.cli._common import add_actor_flag, add_json_flag
from govflow.cli._identity import identity_of
from govflow.cli._output import emit
from govflow.policy import load_policy
from govflow.service.policy import active_policy, apply_policy, policy_row_to_dict
from govflow.store import session_scope


def register(groups: argparse._SubParsersAction) -> None:
    policy = groups.add_parser("policy", help="the active policy the gate decides with")
    sub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    sub.required = True

    apply = sub.add_parser(
        "apply",
        help="validate FILE and make it the active policy (admin; audited); the gate refuses any other",
    )
    apply.add_argument("file", metavar="FILE")
    add_actor_flag(apply)
    add_json_flag(apply)
    apply.set_defaults(handler=_apply)

    show = sub.add_parser("show", help="the active policy's version, sha256 and who applied it")
    add_json_flag(show)
    show.set_defaults(handler=_show)


def _apply(args: argparse.Namespace) -> int:
    policy = load_policy(args.file)  # a bad file is refused (exit 2) before anything is written
    who = identity_of(args)
    with session_scope() as session:
        row, changed = apply_policy(session, policy, who.name, auth_method=who.auth_method)
        payload = {**policy_row_to_dict(row), "changed": changed}
    verb = "applied" if changed else "already active:"
    emit(
        payload,
        as_json=args.json,
        lines=[f"policy {verb} version {row.version}, sha256 {row.sha256[:16]}... by {row.applied_by}"],
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    with session_scope() as session:
        row = active_policy(session)
        active = policy_row_to_dict(row) if row else None
        payload = {"active": active}
    line = (
        f"active policy: version {row.version}, sha256 {row.sha256[:16]}..., "
        f"applied by {row.applied_by} at {active['applied_at']}"
        if row and active
        else "no policy applied yet (the bundled default is applied on the gate's first use)"
    )
    emit(payload, as_json=args.json, lines=[line])
    return 0
