"""The promotion gate: every tier x evidence state, approvals, waivers, digests, replayability."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from govflow.gate import Approval, Decision, Evidence, VersionRef, Waiver, decide, evidence_digest
from govflow.policy import parse_policy

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
DATA = "a" * 64
OTHER_DATA = "b" * 64
VERSION = VersionRef(id=7, data_sha256=[DATA, None], submitted_by="alice")

POLICY = parse_policy(
    """
version: "test-1"
pii:
  regions: {EU: {allowed_entities: [DATE_TIME]}}
tiers:
  minimal:
    required_checks: [validation]
    evidence_max_age_days: 30
    approvals: {count: 0}
  limited:
    required_checks: [validation, pii]
    evidence_max_age_days: 14
    approvals: {count: 1, roles: [reviewer]}
  high:
    required_checks: [validation, pii, fairness, drift, documentation]
    evidence_max_age_days: 7
    approvals: {count: 2, roles: [reviewer, admin], waiver_roles: [reviewer]}
  unacceptable:
    prohibited: true
""",
    source="test",
)

REQUIRED = {
    "minimal": ["validation"],
    "limited": ["validation", "pii"],
    "high": ["validation", "pii", "fairness", "drift", "documentation"],
}


def ev(id, check, status="pass", *, version=7, data=DATA, age_days=1.0):
    if check == "documentation" and data == DATA:
        data = None  # documentation is not computed on a data set
    return Evidence(
        id=id,
        check=check,
        status=status,
        model_version_id=version,
        data_sha256=data,
        created_at=NOW - dt.timedelta(days=age_days),
        summary={"n": 1},
    )


def passing(tier, start=1):
    return [ev(start + i, check) for i, check in enumerate(REQUIRED.get(tier, ["validation"]))]


def approve(evidence, *who, verdict="approve", role="reviewer"):
    digest = evidence_digest(evidence)
    return [Approval(approver=name, role=role, verdict=verdict, evidence_digest=digest) for name in who]


def run(tier, evidence, approvals=(), waivers=(), version=VERSION, policy=POLICY):
    return decide(policy, tier, evidence, approvals, version_ref=version, now=NOW, waivers=waivers)


def codes(decision: Decision) -> list[str]:
    return [r.code for r in decision.reasons]


# How the `validation` result (required in every tier) is made to be in each state.
STATES = {
    "pass": lambda: ev(100, "validation", "pass"),
    "warn": lambda: ev(100, "validation", "warn"),
    "fail": lambda: ev(100, "validation", "fail"),
    "error": lambda: ev(100, "validation", "error"),
    "missing": lambda: None,
    "stale": lambda: ev(100, "validation", "pass", age_days=400),
    "other_version": lambda: ev(100, "validation", "pass", version=8),
    "data_mismatch": lambda: ev(100, "validation", "pass", data=OTHER_DATA),
}
EXPECTED = {
    "pass": ("approved", []),
    "warn": ("approved", []),
    "fail": ("rejected", ["check_failed"]),
    "error": ("rejected", ["check_errored"]),
    "missing": ("rejected", ["check_missing"]),
    "stale": ("rejected", ["evidence_stale"]),
    "other_version": ("rejected", ["evidence_other_version"]),
    "data_mismatch": ("rejected", ["evidence_data_mismatch"]),
}
TABLE = [(tier, state, *EXPECTED[state]) for tier in ("minimal", "limited", "high") for state in STATES]
TABLE += [("unacceptable", state, "rejected", ["tier_prohibited"]) for state in STATES]


@pytest.mark.parametrize(
    ("tier", "state", "expected", "reason_codes"), TABLE, ids=[f"{t}-{s}" for t, s, *_ in TABLE]
)
def test_tier_by_evidence_state(tier, state, expected, reason_codes):
    evidence = [e for e in passing(tier) if e.check != "validation"]
    item = STATES[state]()
    if item is not None:
        evidence.append(item)
    decision = run(tier, evidence, approve(evidence, "rita", "rob"))
    assert decision.decision == expected
    assert codes(decision) == reason_codes
    if reason_codes and tier != "unacceptable":
        assert decision.reasons[0].check == "validation"
    if state == "warn" and tier != "unacceptable":
        assert "validation: warn (evidence 100)" in decision.notes


@pytest.mark.parametrize(
    ("tier", "approvers", "expected", "message"),
    [
        ("minimal", [], "approved", None),
        (
            "limited",
            [],
            "pending_approval",
            "approvals: 0 of 1 required from role reviewer on the current evidence",
        ),
        ("limited", ["rita"], "approved", None),
        (
            "high",
            [],
            "pending_approval",
            "approvals: 0 of 2 required from role reviewer or admin on the current evidence",
        ),
        (
            "high",
            ["rita"],
            "pending_approval",
            "approvals: 1 of 2 required from role reviewer or admin on the current evidence",
        ),
        ("high", ["rita", "rob"], "approved", None),
    ],
)
def test_approval_counts_per_tier(tier, approvers, expected, message):
    evidence = passing(tier)
    decision = run(tier, evidence, approve(evidence, *approvers))
    assert decision.decision == expected
    assert [r.message for r in decision.reasons] == ([message] if message else [])
    assert decision.approved_by == tuple(sorted(approvers))
    assert decision.approvals_required == {"minimal": 0, "limited": 1, "high": 2}[tier]


def test_unacceptable_is_rejected_even_with_everything():
    evidence = passing("high")
    decision = run("unacceptable", evidence, approve(evidence, "rita", "rob"))
    assert decision.decision == "rejected"
    assert (
        decision.reasons[0].message
        == "the unacceptable risk tier is prohibited by policy test-1: never promoted"
    )


def test_unknown_tier_fails_closed():
    decision = run("medium", passing("high"))
    assert (decision.decision, codes(decision)) == ("rejected", ["unknown_tier"])


def test_one_reason_per_failing_requirement_in_policy_order():
    evidence = [
        ev(1, "validation", "fail"),
        ev(2, "pii", "error"),
        ev(3, "drift", "pass", age_days=8),
        ev(4, "documentation", "pass", version=3),
    ]
    decision = run("high", evidence)
    assert [(r.code, r.check) for r in decision.reasons] == [
        ("check_failed", "validation"),
        ("check_errored", "pii"),
        ("check_missing", "fairness"),
        ("evidence_stale", "drift"),
        ("evidence_other_version", "documentation"),
        ("approvals_missing", None),
    ]
    assert (
        decision.reasons[3].message
        == "drift: evidence 3 is 8 days old; the high tier accepts at most 7 (re-run the check)"
    )


def test_a_result_with_several_problems_gets_one_reason():
    # Other data AND stale AND failed: reported once, as the most fundamental problem.
    evidence = [e for e in passing("minimal") if e.check != "validation"]
    evidence.append(ev(9, "validation", "fail", data=OTHER_DATA, age_days=100))
    decision = run("minimal", evidence)
    assert codes(decision) == ["evidence_data_mismatch"]


def test_staleness_boundary_is_inclusive():
    fresh = [ev(1, "validation", age_days=30)]
    stale = [ev(1, "validation", age_days=30.001)]
    assert run("minimal", fresh).decision == "approved"
    assert codes(run("minimal", stale)) == ["evidence_stale"]


def test_newest_result_of_a_check_counts():
    rerun_passed = [ev(1, "validation", "fail", age_days=3), ev(2, "validation", "pass", age_days=1)]
    rerun_failed = [ev(1, "validation", "pass", age_days=3), ev(2, "validation", "fail", age_days=1)]
    assert run("minimal", rerun_passed).decision == "approved"
    assert codes(run("minimal", rerun_failed)) == ["check_failed"]


def test_own_version_evidence_is_preferred_over_newer_evidence_of_another_version():
    evidence = [ev(1, "validation", "pass", age_days=2), ev(2, "validation", "fail", version=99, age_days=1)]
    assert run("minimal", evidence).decision == "approved"


def test_missing_data_hash_fails_closed_except_for_data_free_checks():
    no_hash = [ev(1, "validation", data=None)]
    assert codes(run("minimal", no_hash)) == ["evidence_data_mismatch"]
    assert "records no data hash" in run("minimal", no_hash).reasons[0].message
    evidence = passing("high")  # documentation carries no data hash
    assert run("high", evidence, approve(evidence, "rita", "rob")).decision == "approved"


def test_evidence_may_be_computed_on_any_registered_data_set():
    version = VersionRef(id=7, data_sha256=[DATA, OTHER_DATA], submitted_by="alice")
    evidence = [ev(1, "validation", data=OTHER_DATA)]
    assert run("minimal", evidence, version=version).decision == "approved"


def test_unknown_status_fails_closed():
    assert codes(run("minimal", [ev(1, "validation", "skipped")])) == ["check_errored"]


def test_failures_of_unrequired_checks_are_noted_not_blocking():
    evidence = [*passing("minimal"), ev(50, "drift", "fail")]
    decision = run("minimal", evidence)
    assert decision.decision == "approved"
    assert decision.notes == ("drift: fail (evidence 50; not required for the minimal tier)",)


def test_block_on_warn_tier_needs_a_waiver_for_a_warning():
    policy = parse_policy(
        POLICY.text.replace(
            "required_checks: [validation]\n", "required_checks: [validation]\n    block_on_warn: true\n", 1
        )
    )
    evidence = [ev(1, "validation", "warn")]
    decision = run("minimal", evidence, policy=policy)
    assert codes(decision) == ["check_failed"]
    assert (
        decision.reasons[0].message
        == "validation: evidence 1 has status warn and the tier blocks on warnings"
    )
    waiver = Waiver(
        check="validation", evidence_id=1, waived_by="rita", role="reviewer", reason="known nulls"
    )
    assert run("minimal", evidence, waivers=[waiver], policy=policy).decision == "approved"


# --- separation of duties, roles, voided approvals ------------------------------------------


def test_submitter_cannot_approve_own_version():
    evidence = passing("limited")
    decision = run("limited", evidence, approve(evidence, "alice"))
    assert decision.decision == "pending_approval"
    assert decision.approved_by == ()
    assert (
        "approve by alice (reviewer) not counted: the submitter may not approve their own version"
        in decision.notes
    )


def test_role_the_tier_does_not_allow_is_not_counted():
    evidence = passing("limited")
    decision = run("limited", evidence, approve(evidence, "dave", role="data_scientist"))
    assert decision.decision == "pending_approval"
    assert (
        "approve by dave (data_scientist) not counted: role data_scientist may not approve the limited tier"
        in decision.notes
    )


def test_admin_counts_where_the_tier_allows_admins():
    evidence = passing("high")
    approvals = approve(evidence, "rita") + approve(evidence, "admin", role="admin")
    assert run("high", evidence, approvals).decision == "approved"
    assert (
        run("limited", passing("limited"), approve(passing("limited"), "admin", role="admin")).decision
        == "pending_approval"
    )


def test_new_evidence_voids_earlier_approvals():
    before = passing("high")
    approvals = approve(before, "rita", "rob")
    assert run("high", before, approvals).decision == "approved"
    after = [*before, ev(60, "drift", "pass", age_days=0.5)]  # a re-run, still passing
    decision = run("high", after, approvals)
    assert decision.decision == "pending_approval"
    assert codes(decision) == ["approvals_missing"]
    assert sum("void: it was given on other evidence" in note for note in decision.notes) == 2
    assert run("high", after, approve(after, "rita", "rob")).decision == "approved"


def test_same_approver_counts_once():
    evidence = passing("high")
    decision = run("high", evidence, approve(evidence, "rita", "rita"))
    assert decision.decision == "pending_approval"
    assert decision.approved_by == ("rita",)


def test_reject_verdict_rejects_and_a_later_approval_by_the_same_person_replaces_it():
    evidence = passing("limited")
    rejected = approve(evidence, "rita", verdict="reject")
    rejected = [Approval(**{**a.to_dict(), "comment": "labels leak the target"}) for a in rejected]
    decision = run("limited", evidence, rejected)
    assert decision.decision == "rejected"
    assert (
        decision.reasons[0].message
        == "approvals: rita (reviewer) rejected this evidence: labels leak the target"
    )
    assert run("limited", evidence, rejected + approve(evidence, "rita")).decision == "approved"


def test_a_rejection_of_old_evidence_is_void():
    old = passing("limited")
    new = [*old, ev(70, "pii", "pass", age_days=0.1)]
    decision = run("limited", new, approve(old, "rita", verdict="reject") + approve(new, "rob"))
    assert decision.decision == "approved"


# --- waivers ---------------------------------------------------------------------------------


def _high_with_failed_fairness():
    evidence = [e for e in passing("high") if e.check != "fairness"] + [ev(80, "fairness", "fail")]
    return evidence, approve(evidence, "rita", "rob")


def test_reviewer_waiver_with_reason_lets_a_failed_check_through():
    evidence, approvals = _high_with_failed_fairness()
    assert codes(run("high", evidence, approvals)) == ["check_failed"]
    waiver = Waiver(
        check="fairness",
        evidence_id="80",
        waived_by="rob",
        role="reviewer",
        reason="gap within the confidence interval on 5k rows",
    )
    decision = run("high", evidence, approvals, waivers=[waiver])
    assert decision.decision == "approved"
    assert decision.waived == (waiver,)
    assert (
        "fairness: fail (evidence 80) waived by rob (reviewer): gap within the confidence interval on 5k rows"
        in decision.notes
    )


@pytest.mark.parametrize(
    ("waiver", "why"),
    [
        (Waiver("fairness", "80", "rob", "reviewer", "   "), "a waiver needs a reason"),
        (
            Waiver("fairness", "80", "admin", "admin", "ok"),
            "role admin may not waive checks (needs reviewer)",
        ),
        (
            Waiver("fairness", "80", "alice", "reviewer", "ok"),
            "alice submitted this version (separation of duties)",
        ),
        (
            Waiver("fairness", "79", "rob", "reviewer", "ok"),
            "it waived evidence 79, the current fairness result is 80",
        ),
    ],
)
def test_invalid_waivers_are_not_applied(waiver, why):
    evidence, approvals = _high_with_failed_fairness()
    decision = run("high", evidence, approvals, waivers=[waiver])
    assert decision.decision == "rejected"
    assert codes(decision) == ["check_failed"]
    assert f"waiver of fairness by {waiver.waived_by} not applied: {why}" in decision.notes


@pytest.mark.parametrize("status_or_state", ["error", "stale", "other_data"])
def test_waivers_never_cover_errored_stale_or_foreign_evidence(status_or_state):
    evidence = [e for e in passing("high") if e.check != "fairness"]
    evidence.append(
        {
            "error": ev(80, "fairness", "error"),
            "stale": ev(80, "fairness", "fail", age_days=10),
            "other_data": ev(80, "fairness", "fail", data=OTHER_DATA),
        }[status_or_state]
    )
    waiver = Waiver("fairness", "80", "rob", "reviewer", "accepted risk")
    decision = run("high", evidence, approve(evidence, "rita", "rob"), waivers=[waiver])
    assert decision.decision == "rejected"
    assert decision.waived == ()


# --- digest and replay -----------------------------------------------------------------------


def test_evidence_digest_is_order_independent_and_sensitive_to_changes():
    evidence = passing("high")
    shuffled = list(evidence)
    random.Random(3).shuffle(shuffled)
    assert evidence_digest(evidence) == evidence_digest(shuffled)
    assert len(evidence_digest(evidence)) == 64
    changed = [ev(1, "validation", "fail"), *evidence[1:]]
    assert evidence_digest(changed) != evidence_digest(evidence)
    assert evidence_digest([*evidence, ev(99, "drift")]) != evidence_digest(evidence)
    assert evidence_digest([ev(1, "validation", data=OTHER_DATA)]) != evidence_digest([ev(1, "validation")])


def test_decision_is_replayable_from_its_stored_form():
    evidence, approvals = _high_with_failed_fairness()
    waivers = [Waiver("fairness", "80", "rob", "reviewer", "accepted")]
    first = run("high", evidence, approvals, waivers)
    shuffled = list(evidence)
    random.Random(5).shuffle(shuffled)
    stored = {
        "evidence": [e.to_dict() for e in shuffled],
        "approvals": [a.to_dict() for a in approvals],
        "waivers": [w.to_dict() for w in waivers],
        "version": VERSION.to_dict(),
    }
    again = decide(
        POLICY,
        "high",
        [Evidence.from_dict(d) for d in stored["evidence"]],
        [Approval.from_dict(d) for d in stored["approvals"]],
        version_ref=VersionRef.from_dict(stored["version"]),
        now=first.decided_at,
        waivers=[Waiver.from_dict(d) for d in stored["waivers"]],
    )
    assert again.to_dict() == first.to_dict()
    assert Decision.from_dict(first.to_dict()) == first
    assert first.policy_sha256 == POLICY.sha256 and first.policy_version == "test-1"
    assert first.evidence_ids == ("1", "2", "4", "5", "80")


def test_naive_timestamps_are_taken_as_utc():
    naive = Evidence(
        id=1,
        check="validation",
        status="pass",
        model_version_id=7,
        data_sha256=DATA,
        created_at=(NOW - dt.timedelta(days=1)).replace(tzinfo=None),
    )
    assert naive.created_at.tzinfo is dt.UTC
    assert run("minimal", [naive]).decision == "approved"


# --- team scopes: a verdict counts only from a scope that covers the model's team -------------

RETAIL = VersionRef(id=7, data_sha256=[DATA], submitted_by="alice", team="retail")


def scoped(evidence, who, teams, verdict="approve", comment=""):
    digest = evidence_digest(evidence)
    return Approval(
        approver=who, role="reviewer", verdict=verdict, evidence_digest=digest, teams=teams, comment=comment
    )


def test_an_out_of_team_approval_is_not_counted():
    evidence = passing("high")
    approvals = [scoped(evidence, "rita", ("retail",)), scoped(evidence, "carl", ("cards",))]
    decision = run("high", evidence, approvals, version=RETAIL)
    assert decision.decision == "pending_approval" and decision.approved_by == ("rita",)
    assert (
        "approve by carl (reviewer) not counted: given as reviewer of team cards, "
        "and the model belongs to team retail" in decision.notes
    )
    # An unscoped reviewer (no `teams`: every team) counts for any model.
    decision = run("high", evidence, [*approvals, scoped(evidence, "rob", None)], version=RETAIL)
    assert decision.decision == "approved" and decision.approved_by == ("rita", "rob")


def test_a_scoped_approval_never_counts_for_a_model_without_a_team():
    evidence = passing("limited")
    decision = run("limited", evidence, [scoped(evidence, "rita", ("retail",))])
    assert decision.decision == "pending_approval" and decision.approved_by == ()
    assert "the model belongs to no team" in decision.notes[-1]


def test_an_out_of_team_rejection_does_not_reject():
    evidence = passing("limited")
    rejection = scoped(evidence, "carl", ("cards",), verdict="reject")
    decision = run("limited", evidence, [rejection, scoped(evidence, "rita", ("retail",))], version=RETAIL)
    assert decision.decision == "approved" and codes(decision) == []


def test_an_out_of_team_waiver_is_not_applied():
    evidence, _ = _high_with_failed_fairness()
    approvals = [scoped(evidence, "rita", ("retail",)), scoped(evidence, "rob", None)]
    waiver = Waiver("fairness", "80", "carl", "reviewer", "ok", teams=("cards",))
    decision = run("high", evidence, approvals, waivers=[waiver], version=RETAIL)
    assert codes(decision) == ["check_failed"]
    assert (
        "waiver of fairness by carl not applied: given as reviewer of team cards, "
        "and the model belongs to team retail" in decision.notes
    )
    inside = Waiver("fairness", "80", "rob", "reviewer", "ok", teams=("cards", "retail"))
    assert run("high", evidence, approvals, waivers=[inside], version=RETAIL).decision == "approved"


def test_scopes_round_trip_through_the_stored_form():
    evidence = passing("limited")
    approval = scoped(evidence, "otto", ["retail", "cards"])
    assert approval.teams == ("cards", "retail")
    assert Approval.from_dict(approval.to_dict()) == approval
    unscoped = scoped(evidence, "rob", None)
    assert "teams" not in unscoped.to_dict()  # decisions stored before teams replay unchanged
    assert VersionRef.from_dict(RETAIL.to_dict()) == RETAIL


# --- independence: a rule pack (model risk management) asks for approvers outside the team ---

MRM_POLICY = parse_policy(
    POLICY.text.replace('version: "test-1"', 'version: "test-1"\npacks: [model-risk-management]'),
    source="test",
)
BANK = VersionRef(id=7, data_sha256=[DATA], submitted_by="alice", team="retail", sector="finance")


def test_an_approval_from_the_owners_team_does_not_count_where_a_pack_asks_for_independence():
    evidence = passing("limited")
    own = scoped(evidence, "rita", ("retail",))
    decision = run("limited", evidence, [own], version=BANK, policy=MRM_POLICY)
    assert decision.decision == "pending_approval" and decision.approved_by == ()
    assert decision.notes[-1] == (
        "approve by rita (reviewer) not counted: a reviewer of the owner's team retail, and "
        "Model risk management (SR 11-7 / OCC 2011-12) asks for validation independent of it"
    )
    # A central validator (no team scope) is independent; without the pack, rita counts as before.
    central = scoped(evidence, "vic", None, comment="challenged the income proxy; accepted")
    assert run("limited", evidence, [own, central], version=BANK, policy=MRM_POLICY).approved_by == ("vic",)
    assert run("limited", evidence, [own], version=BANK).approved_by == ("rita",)
    # The pack applies by sector: a retail-sector model of the same team needs no independence.
    shop = VersionRef(id=7, data_sha256=[DATA], submitted_by="alice", team="retail", sector="retail")
    assert run("limited", evidence, [own], version=shop, policy=MRM_POLICY).approved_by == ("rita",)


def test_a_rejection_from_the_owners_team_still_rejects_under_independence():
    evidence = passing("limited")
    decision = run(
        "limited",
        evidence,
        [
            scoped(evidence, "rita", ("retail",), verdict="reject"),
            scoped(evidence, "vic", None, comment="challenged; fine"),
        ],
        version=BANK,
        policy=MRM_POLICY,
    )
    assert decision.decision == "rejected" and codes(decision) == ["rejected_by_approver"]


def test_an_independent_approval_without_challenge_notes_does_not_count_where_the_pack_asks():
    """SR 11-7 § III: effective challenge is recorded; an approval with no comment is not one."""
    evidence = passing("limited")
    silent = scoped(evidence, "vic", None, comment="   ")
    decision = run("limited", evidence, [silent], version=BANK, policy=MRM_POLICY)
    assert decision.decision == "pending_approval" and decision.approved_by == ()
    assert decision.notes[-1] == (
        "approve by vic (reviewer) not counted: Model risk management (SR 11-7 / OCC 2011-12) asks "
        "for effective challenge recorded, and this approval has no comment (approve again with your "
        "challenge notes)"
    )
    noted = scoped(evidence, "vic", None, comment="challenged the drift threshold")
    assert run("limited", evidence, [noted], version=BANK, policy=MRM_POLICY).approved_by == ("vic",)
    assert run("limited", evidence, [silent], version=BANK).approved_by == ("vic",)  # pack not enforced


# --- the DPO signs off PII waivers where the policy says so ------------------------------------

DPO_POLICY = parse_policy(
    POLICY.text.replace(
        "waiver_roles: [reviewer]}", "waiver_roles: [reviewer], check_waiver_roles: {pii: [dpo]}}"
    ),
    source="test",
)


def test_a_pii_waiver_counts_only_from_the_roles_the_policy_names_for_pii():
    assert DPO_POLICY.tier("high").approvals.check_waiver_roles == {"pii": ["dpo"]}
    evidence = [e for e in passing("high") if e.check != "pii"] + [ev(80, "pii", "fail")]
    approvals = approve(evidence, "rita", "rob")
    by_reviewer = Waiver("pii", "80", "rob", "reviewer", "hashed before use")
    decision = run("high", evidence, approvals, waivers=[by_reviewer], policy=DPO_POLICY)
    assert codes(decision) == ["check_failed"]
    assert (
        "waiver of pii by rob not applied: role reviewer may not waive the pii check (needs dpo)"
        in decision.notes
    )
    by_dpo = Waiver("pii", "80", "dana", "dpo", "hashed before use")
    assert run("high", evidence, approvals, waivers=[by_dpo], policy=DPO_POLICY).decision == "approved"
    # Other checks keep the waiver_roles; without check_waiver_roles a reviewer's PII waiver counts.
    assert run("high", evidence, approvals, waivers=[by_reviewer]).decision == "approved"
