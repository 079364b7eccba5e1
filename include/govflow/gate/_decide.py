"""The promotion gate: a pure function of (policy, tier, evidence, approvals, waivers, version, now).

It fails closed: a required check passes only with evidence of this version,
computed on this version's registered data, fresh enough for the tier, with
status ``pass`` (or ``warn`` where the tier allows it), or ``fail`` waived by
a reviewer with a reason. Everything else is one reason on the decision.
No clock, no DB: the same inputs always give the same decision (replay).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from govflow.access import covers
from govflow.gate._fixes import attach_fix
from govflow.gate._types import Approval, Decision, Evidence, Reason, VersionRef, Waiver
from govflow.hashing import sha256_json
from govflow.policy import Pack, Policy, TierPolicy
from govflow.timeutil import utc
from govflow.vocab import RISK_TIERS, STATUSES, DecisionKind


def _id_key(value: str) -> tuple[int, int, str]:
    # Numeric DB ids sort numerically, anything else after them as text.
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def evidence_digest(evidence: Iterable[Evidence]) -> str:
    """sha256 over the canonical JSON of the evidence (ids, checks, statuses, versions, hashes).

    An approval records the digest of the evidence it saw; any new, removed or
    changed result gives a different digest, which voids that approval.
    """
    items = {
        e.id: {
            "id": e.id,
            "check": e.check,
            "status": e.status,
            "model_version_id": e.model_version_id,
            "data_sha256": e.data_sha256,
            "evidence_sha256": e.evidence_sha256,
        }
        for e in evidence
    }
    return sha256_json({"evidence": [items[key] for key in sorted(items, key=_id_key)]})


def decide(
    policy: Policy,
    tier: str,
    evidence: Iterable[Evidence],
    approvals: Iterable[Approval],
    *,
    version_ref: VersionRef,
    now: dt.datetime,
    waivers: Iterable[Waiver] = (),
) -> Decision:
    """Decide whether ``version_ref`` may be promoted under ``policy`` for risk ``tier``.

    ``evidence`` is every check result the caller has for the version (newest per
    check counts); ``approvals`` are in the order they were given (an approver's
    last verdict counts); ``now`` is the decision time (stored, so replay is exact).
    """
    now = utc(now)
    items = _unique(evidence)
    digest = evidence_digest(items)
    ids = tuple(sorted((e.id for e in items), key=_id_key))

    def result(
        kind: DecisionKind,
        reasons: Sequence[Reason],
        notes: Sequence[str] = (),
        *,
        required: int = 0,
        approved_by: Sequence[str] = (),
        waived: Sequence[Waiver] = (),
    ) -> Decision:
        by_id = {e.id: e for e in items}
        roles = tuple(policy.tier(tier).approvals.roles) if tier in RISK_TIERS else ()
        return Decision(
            decision=kind,
            tier=tier,
            reasons=tuple(attach_fix(r, by_id, approver_roles=roles) for r in reasons),
            notes=tuple(notes),
            evidence_ids=ids,
            evidence_digest=digest,
            approvals_required=required,
            approved_by=tuple(approved_by),
            waived=tuple(waived),
            policy_sha256=policy.sha256,
            policy_version=policy.version,
            decided_at=now,
        )

    if tier not in RISK_TIERS:
        return result(
            "rejected",
            [
                Reason(
                    "unknown_tier",
                    f"risk tier {tier!r} is not one of {', '.join(RISK_TIERS)}; "
                    "an unknown tier is never promoted",
                )
            ],
        )
    rules = policy.tier(tier)
    if rules.prohibited:
        return result(
            "rejected",
            [
                Reason(
                    "tier_prohibited",
                    f"the {tier} risk tier is prohibited by policy {policy.version}: never promoted",
                )
            ],
        )

    reasons: list[Reason] = []
    notes: list[str] = []
    waived: list[Waiver] = []
    waivers = list(waivers)
    approvals = list(approvals)  # read twice below: a generator would be empty the second time
    used_waivers: set[int] = set()
    for check in rules.required_checks:
        reason = _judge_check(
            check, items, policy, tier, rules, version_ref, now, waivers, used_waivers, notes, waived
        )
        if reason is not None:
            reasons.append(reason)
    notes.extend(_unrequired_problems(items, rules.required_checks, version_ref, tier))
    for index, waiver in enumerate(waivers):
        if index not in used_waivers:
            notes.append(
                f"waiver of {waiver.check} by {waiver.waived_by} not applied: "
                f"{_waiver_problem(waiver, rules, version_ref) or _not_current(waiver, items, version_ref)}"
            )

    independence = independence_pack(policy, tier, version_ref)
    counted, rejections = _tally(approvals, rules, tier, version_ref, digest, notes, independence)
    for approval in rejections:
        comment = f": {approval.comment}" if approval.comment else ""
        reasons.append(
            Reason(
                "rejected_by_approver",
                f"approvals: {approval.approver} ({approval.role}) rejected this evidence{comment}",
            )
        )
    required = rules.approvals.count
    if len(counted) < required:
        unproven = _unaccepted_auth(approvals, rules, digest)
        why = (
            f"; not counted: {', '.join(unproven)} (the {tier} tier accepts approvals authenticated by "
            f"{' or '.join(rules.approvals.accepted_auth or ())})"
            if unproven
            else ""
        )
        reasons.append(
            Reason(
                "approvals_missing",
                f"approvals: {len(counted)} of {required} required from role "
                f"{' or '.join(rules.approvals.roles)} on the current evidence{why}",
            )
        )

    blocking = [r for r in reasons if r.code != "approvals_missing"]
    kind: DecisionKind = "rejected" if blocking else ("pending_approval" if reasons else "approved")
    return result(kind, reasons, notes, required=required, approved_by=sorted(counted), waived=waived)


def _unique(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    by_id = {e.id: e for e in evidence}
    return tuple(sorted(by_id.values(), key=lambda e: (e.created_at, _id_key(e.id))))


def _judge_check(
    check: str,
    items: Sequence[Evidence],
    policy: Policy,
    tier: str,
    rules: TierPolicy,
    version_ref: VersionRef,
    now: dt.datetime,
    waivers: Sequence[Waiver],
    used_waivers: set[int],
    notes: list[str],
    waived: list[Waiver],
) -> Reason | None:
    candidates = [e for e in items if e.check == check]
    if not candidates:
        return Reason("check_missing", f"{check}: required for the {tier} tier but no result exists", check)
    own = [e for e in candidates if e.model_version_id == version_ref.id]
    if not own:
        other = candidates[-1]
        return Reason(
            "evidence_other_version",
            f"{check}: the only result (evidence {other.id}) belongs to "
            f"version id {other.model_version_id}, not {version_ref.id}",
            check,
            other.id,
        )
    e = own[-1]  # the newest result of this version counts
    if e.data_sha256 is None:
        if check not in policy.data_free_checks:
            return Reason(
                "evidence_data_mismatch",
                f"{check}: evidence {e.id} records no data hash, so it "
                "cannot be tied to this version's registered data",
                check,
                e.id,
            )
    elif e.data_sha256 not in version_ref.data_sha256:
        return Reason(
            "evidence_data_mismatch",
            f"{check}: evidence {e.id} was computed on data "
            f"sha256 {e.data_sha256[:12]}, not on data registered with "
            "this version",
            check,
            e.id,
        )
    age = now - e.created_at
    max_age = dt.timedelta(days=rules.evidence_max_age_days)
    if age > max_age:
        return Reason(
            "evidence_stale",
            f"{check}: evidence {e.id} is {age.days} days old; the {tier} tier "
            f"accepts at most {rules.evidence_max_age_days} (re-run the check)",
            check,
            e.id,
        )
    if e.status not in STATUSES:
        return Reason(
            "check_errored", f"{check}: evidence {e.id} has unknown status {e.status!r}", check, e.id
        )
    if e.status == "error":
        return Reason(
            "check_errored",
            f"{check}: evidence {e.id} errored; an errored check never passes (fix the input and re-run it)",
            check,
            e.id,
        )
    if e.status == "fail" or (e.status == "warn" and rules.block_on_warn):
        for index, waiver in enumerate(waivers):
            if (
                waiver.check == check
                and waiver.evidence_id == e.id
                and not _waiver_problem(waiver, rules, version_ref)
            ):
                used_waivers.add(index)
                waived.append(waiver)
                notes.append(
                    f"{check}: {e.status} (evidence {e.id}) waived by {waiver.waived_by} "
                    f"({waiver.role}): {waiver.reason.strip()}"
                )
                return None
        blocks = "" if e.status == "fail" else " and the tier blocks on warnings"
        return Reason("check_failed", f"{check}: evidence {e.id} has status {e.status}{blocks}", check, e.id)
    if e.status == "warn":
        notes.append(f"{check}: warn (evidence {e.id})")
    return None


def _waiver_problem(waiver: Waiver, rules: TierPolicy, version_ref: VersionRef) -> str | None:
    if not waiver.reason.strip():
        return "a waiver needs a reason"
    roles = rules.approvals.roles_to_waive(waiver.check)
    if waiver.role not in roles:
        what = "checks" if roles == rules.approvals.waiver_roles else f"the {waiver.check} check"
        return f"role {waiver.role} may not waive {what} (needs {' or '.join(roles)})"
    if version_ref.submitted_by and waiver.waived_by == version_ref.submitted_by:
        return f"{waiver.waived_by} submitted this version (separation of duties)"
    if not covers(waiver.teams, version_ref.team):
        return _out_of_team(waiver.teams, version_ref)
    if not _auth_accepted(waiver.auth_method, rules):
        return (
            f"authenticated by {waiver.auth_method or 'nothing recorded'}, which the tier does not accept "
            f"(accepted: {', '.join(rules.approvals.accepted_auth or ())})"
        )
    return None


def _out_of_team(teams: Sequence[str] | None, version_ref: VersionRef) -> str:
    return (
        f"given as reviewer of team {', '.join(teams or ())}, and the model belongs to "
        f"{'team ' + version_ref.team if version_ref.team else 'no team'}"
    )


def _auth_accepted(method: str | None, rules: TierPolicy) -> bool:
    # None in the policy: any method (and rows from before methods were recorded) counts.
    accepted = rules.approvals.accepted_auth
    return accepted is None or method in accepted


def _unaccepted_auth(approvals: Iterable[Approval], rules: TierPolicy, digest: str) -> list[str]:
    latest = {a.approver: a for a in approvals}
    return [
        f"{a.approver} ({a.auth_method or 'unauthenticated'})"
        for a in latest.values()
        if a.verdict == "approve" and a.evidence_digest == digest and not _auth_accepted(a.auth_method, rules)
    ]


def _not_current(waiver: Waiver, items: Sequence[Evidence], version_ref: VersionRef) -> str:
    own = [e for e in items if e.check == waiver.check and e.model_version_id == version_ref.id]
    if own and own[-1].id != waiver.evidence_id:
        return f"it waived evidence {waiver.evidence_id}, the current {waiver.check} result is {own[-1].id}"
    return f"{waiver.check} evidence {waiver.evidence_id} is not a failed, current result"


def _unrequired_problems(
    items: Sequence[Evidence], required: Sequence[str], version_ref: VersionRef, tier: str
) -> list[str]:
    notes = []
    for check in sorted({e.check for e in items} - set(required)):
        own = [e for e in items if e.check == check and e.model_version_id == version_ref.id]
        if own and own[-1].status in ("fail", "error"):
            notes.append(
                f"{check}: {own[-1].status} (evidence {own[-1].id}; not required for the {tier} tier)"
            )
    return notes


def independence_pack(policy: Policy, tier: str, version_ref: VersionRef) -> Pack | None:
    """The enforced rule pack, if any, that asks for approvers outside the model's team (model risk
    management's independent validation) for this model's sector, regions and tier."""
    for pack in policy.enforced_packs():
        rule = pack.independence
        if (
            rule is not None
            and rule.reviewer_outside_owner_team
            and pack.applies_to(sector=version_ref.sector, regions=version_ref.regions, tier=tier)
        ):
            return pack
    return None


def in_owner_team(teams: Collection[str] | None, version_ref: VersionRef) -> bool:
    """A verdict's giver is of the model's own team: their scope names it (no scope: a central
    function, independent of every team)."""
    return teams is not None and version_ref.team is not None and version_ref.team in teams


def _tally(
    approvals: Iterable[Approval],
    rules: TierPolicy,
    tier: str,
    version_ref: VersionRef,
    digest: str,
    notes: list[str],
    independence: Pack | None = None,
) -> tuple[list[str], list[Approval]]:
    latest: dict[str, Approval] = {}
    for approval in approvals:  # an approver's last verdict replaces their earlier one
        latest.pop(approval.approver, None)
        latest[approval.approver] = approval
    counted, rejections = [], []
    for approval in latest.values():
        who = f"{approval.verdict} by {approval.approver} ({approval.role})"
        if version_ref.submitted_by and approval.approver == version_ref.submitted_by:
            notes.append(f"{who} not counted: the submitter may not approve their own version")
        elif approval.role not in rules.approvals.roles:
            notes.append(f"{who} not counted: role {approval.role} may not approve the {tier} tier")
        elif not covers(approval.teams, version_ref.team):
            # A rejection from outside the team does not count either: the team's reviewers decide.
            notes.append(f"{who} not counted: {_out_of_team(approval.teams, version_ref)}")
        elif (
            independence is not None
            and approval.verdict == "approve"  # a rejection from the owner's team still counts
            and in_owner_team(approval.teams, version_ref)
        ):
            notes.append(
                f"{who} not counted: a reviewer of the owner's team {version_ref.team}, and "
                f"{independence.name} asks for validation independent of it"
            )
        elif (
            independence is not None
            and independence.independence is not None
            and independence.independence.challenge_notes_required
            and approval.verdict == "approve"
            and not (approval.comment or "").strip()
        ):
            notes.append(
                f"{who} not counted: {independence.name} asks for effective challenge recorded, "
                "and this approval has no comment (approve again with your challenge notes)"
            )
        elif approval.verdict == "approve" and not _auth_accepted(approval.auth_method, rules):
            # A rejection counts however it was given (failing closed); an approval must be proven.
            notes.append(
                f"{who} not counted: authenticated by {approval.auth_method or 'nothing recorded'}, "
                f"the {tier} tier accepts {', '.join(rules.approvals.accepted_auth or ())}"
            )
        elif approval.evidence_digest != digest:
            notes.append(
                f"{who} void: it was given on other evidence "
                f"(digest {approval.evidence_digest[:12]}); the evidence has changed since"
            )
        elif approval.verdict == "reject":
            rejections.append(approval)
        elif approval.verdict == "approve":
            counted.append(approval.approver)
        else:
            notes.append(f"{who} not counted: unknown verdict")
    return counted, rejections
