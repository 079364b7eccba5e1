"""`govflow policy apply|show|impact`: the policy the gate decides with, and what a new one would change."""

from __future__ import annotations

import argparse

from govflow.cli._common import add_actor_flag, add_json_flag
from govflow.cli._identity import identity_of
from govflow.cli._output import emit
from govflow.policy import load_policy
from govflow.service.policy import (
    active_policy,
    alert_noncompliant_owners,
    apply_policy,
    policy_row_to_dict,
)
from govflow.service.policy_impact import policy_impact
from govflow.store import session_scope


def register(groups: argparse._SubParsersAction) -> None:
    policy = groups.add_parser("policy", help="the active policy the gate decides with")
    sub = policy.add_subparsers(dest="policy_command", metavar="ACTION")
    sub.required = True

    apply = sub.add_parser(
        "apply",
        help="validate FILE and make it the active policy (an admin logged in through Airflow: "
        "`govflow login`, then --api; audited); the gate refuses any other",
    )
    apply.add_argument("file", metavar="FILE")
    add_actor_flag(apply)
    apply.add_argument(
        "--api",
        action="store_true",
        help="apply as the logged-in admin through the Governance API (`govflow login` first)",
    )
    add_json_flag(apply)
    apply.set_defaults(handler=_apply)

    impact = sub.add_parser(
        "impact",
        help="what FILE would change if applied: every candidate and production version's latest "
        "decision decided again under it from its stored inputs (read-only)",
    )
    impact.add_argument("file", metavar="FILE")
    add_json_flag(impact)
    impact.set_defaults(handler=_impact)

    packs = sub.add_parser(
        "packs",
        help="the rule packs that apply to a model (sector, regions, tier) and, per obligation and "
        "its source article, whether a version's checks and document sections evidence it",
    )
    packs.add_argument("--model", required=True)
    packs.add_argument("--version", required=True)
    add_json_flag(packs)
    packs.set_defaults(handler=_packs)

    show = sub.add_parser("show", help="the active policy's version, sha256 and who applied it")
    add_json_flag(show)
    show.set_defaults(handler=_show)


def _apply(args: argparse.Namespace) -> int:
    """A policy change needs an identity Airflow proved: through the Governance API (``--api``).

    The direct-database path is kept for its one clear refusal: its actor is the OS user (or a
    dev-mode name), which ``apply_policy`` never accepts for a governance change."""
    policy = load_policy(args.file)  # a bad file is refused (exit 2) before anything is written
    if args.api:
        from govflow.cli._gate import _through_api  # the API client only when asked for

        payload = _through_api(args, lambda api: api.apply_policy(policy.text, source=policy.source))
    else:
        who = identity_of(args)
        with session_scope() as session:
            row, changed = apply_policy(session, policy, who.name, auth_method=who.auth_method)
            payload = {**policy_row_to_dict(row), "changed": changed}
        if changed:  # after the commit: alerts open their own transactions
            alert_noncompliant_owners(actor=who.name)
    verb = "applied" if payload["changed"] else "already active:"
    emit(
        payload,
        as_json=args.json,
        lines=[
            f"policy {verb} version {payload['version']}, sha256 {payload['sha256'][:16]}... "
            f"by {payload['applied_by']}"
        ],
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


def _impact(args: argparse.Namespace) -> int:
    policy = load_policy(args.file)
    with session_scope() as session:
        report = policy_impact(session, policy)
    lines = [
        f"policy {policy.version} would change {len(report['changed'])} of {report['examined']} "
        "candidate/production versions' latest decisions"
    ]
    for change in report["changed"]:
        why = [
            f"newly {r['code']}" + (f" ({r['check']})" if r["check"] else "") for r in change["new_reasons"]
        ]
        why += [f"approval by {a} no longer counts" for a in change["approvals_no_longer_counted"]]
        lines.append(
            f"  {change['model']} {change['version']} ({change['stage']}): "
            f"{change['before']} -> {change['after']}" + (f": {'; '.join(why)}" if why else "")
        )
    lines += [f"  {v}: no stored inputs, cannot be replayed" for v in report["unreplayable"]]
    emit(report, as_json=args.json, lines=lines)
    return 0


def _packs(args: argparse.Namespace) -> int:
    from govflow.service.packs import pack_status

    with session_scope() as session:
        policy = load_policy()
        custom = [r.entity for r in policy.pii.custom_recognizers]
        report = pack_status(session, args.model, args.version, enforced=policy.packs, custom_entities=custom)
    lines = [f"{args.model} {args.version}: {len(report['packs'])} rule pack(s) apply"]
    for pack in report["packs"]:
        lines.append(f"  {pack['name']} ({pack['source']}): {pack['evidenced']}/{pack['total']} evidenced")
        for item in pack["obligations"]:
            state = "evidenced" if item["evidenced"] else "missing " + ", ".join(item["missing"])
            lines.append(f"    {item['article']} {item['title']}: {state}")
    emit(report, as_json=args.json, lines=lines)
    return 0
