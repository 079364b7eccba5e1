"""governance_gate task bodies: resolve -> checks -> documentation -> gate -> approvals -> finish -> notify.

``GateRef`` is the small value every task passes on (the version, its tier, the run and the
submitter); it travels through XCom as its ``to_dict()`` and every task body takes either form.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from govflow.access import SYSTEM_AUTH, load_users
from govflow.alerts import Problem
from govflow.errors import BadInputError
from govflow.gate import VersionRef, in_owner_team, independence_pack
from govflow.policy import load_policy
from govflow.progress import LogProgress, reporting
from govflow.service import gate as gate_service
from govflow.service.alerts import raise_alerts, raised_before
from govflow.service.answers import Answer, record_answers
from govflow.service.checks import latest_check_results
from govflow.service.docs import document_links
from govflow.service.gate_notices import settled_gate_notices
from govflow.service.lineage import emit_gate_lineage
from govflow.service.mitigate import fix_with_best_option, mitigate_if_asked
from govflow.service.pipeline import (
    PIPELINE_USER,
    RunRef,
    document_version,
    pipeline_actor,
    refresh_documents,
    run_check_for_version,
)
from govflow.service.policy import PolicyNotActiveError, require_active
from govflow.service.registry import find_or_register_version, get_version
from govflow.service.run_roles import event_submitter, require_registrar, reviewer_groups
from govflow.service.runs import finish_run, run_row
from govflow.store import GateDecision, session_scope
from govflow.store.audit import append_event, authenticated_as
from govflow.tasks.decisions import apply_decision
from govflow.vocab import GATED_STAGES

# --- the reference every task passes on ---------------------------------------------------------


@dataclass(frozen=True)
class GateRef:
    """Which version a governance_gate run governs (plain values: travels through XCom as a dict)."""

    model: str
    version: str
    tier: str
    run: RunRef
    submitted_by: str | None = None
    team: str | None = None  # the model's team: its approval requests go to reviewers covering it
    sector: str | None = None  # with regions: where a rule pack asks for reviewers outside the team
    regions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "run": self.run.to_dict(), "regions": list(self.regions)}

    @classmethod
    def of(cls, value: GateRef | Mapping[str, Any]) -> GateRef:
        if isinstance(value, GateRef):
            return value
        return cls(
            model=str(value["model"]),
            version=str(value["version"]),
            tier=str(value["tier"]),
            run=RunRef.of(value["run"]),
            submitted_by=value.get("submitted_by"),
            team=value.get("team"),
            sector=value.get("sector"),
            regions=tuple(value.get("regions") or ()),
        )


# --- resolve -----------------------------------------------------------------------------------


# Task code acts as the governance service itself: its audit events say so, unless a call names
# another method (answers given in Airflow's Required Actions are recorded as "airflow").
SYSTEM = authenticated_as(SYSTEM_AUTH)


@SYSTEM
def resolve(
    run: RunRef | Mapping[str, Any],
    conf: Mapping[str, Any],
    asset_events: Iterable[Mapping[str, Any]] = (),
    *,
    triggering_user: str | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Which version this run governs: from the run's conf (REST, UI form) or the triggering asset event.

    A version that is not registered yet is registered here when the conf or
    event carries its files (``artifact``, ``training_data``...), so a training
    job may also just post an asset event. Its submitter is the run's triggering
    user as Airflow authenticated them, or for an asset event the user who
    triggered the run that emitted it (``service.run_roles``; both need the
    registrar role when files are named), never the conf: a ``submitted_by`` in
    the conf that names someone else is ignored and recorded as such.
    """
    run = RunRef.of(run)
    require_registrar(conf, triggering_user=triggering_user)  # naming files registers: a registrar's act
    request = _request(conf, asset_events)
    from_event = not (conf.get("model") and conf.get("version")) and bool(request.get("model"))
    submitter = (event_submitter(request) if from_event else None) or triggering_user or PIPELINE_USER
    model, version = request.get("model"), request.get("version")
    if not model or not version:
        raise BadInputError(
            "governance_gate needs a model and a version: trigger it with conf "
            '{"model": ..., "version": ...} or an asset event whose extra names them'
        )
    with session_scope(db_url) as session:
        run_row(session, run)
        # Activating the bundled default on first use signs a policy event: here, where the decision
        # key is, not in the first check task (a check worker holds only the check-result key).
        with contextlib.suppress(PolicyNotActiveError):  # the checks and the gate say why, as before
            require_active(session, load_policy())
        row, _ = find_or_register_version(
            session,
            model=model,
            version=version,
            artifact=request.get("artifact"),
            training_data=request.get("training_data"),
            reference_data=request.get("reference_data"),
            eval_data=request.get("eval_data"),
            actor=submitter,
            params=request.get("params") or None,
            metrics=request.get("metrics") or None,
        )
        claimed = request.get("submitted_by")
        if claimed and claimed != row.created_by:
            append_event(
                session,
                actor=PIPELINE_USER,
                auth_method="system",
                action="run.submitter_claim_ignored",
                subject=f"version:{model}@{version}",
                payload={
                    "claimed": str(claimed)[:200],
                    "submitted_by": row.created_by,
                    "triggering_user": triggering_user,
                    "run_id": run.run_id,
                },
            )
        if row.stage not in GATED_STAGES:
            raise BadInputError(
                f"{model}@{version} is {row.stage}: only candidate or staging versions go through the gate"
            )
        return GateRef(
            model=model,
            version=version,
            tier=row.model.risk_tier,
            run=run,
            submitted_by=row.created_by,
            team=row.model.team,
            sector=row.model.sector,
            regions=tuple(row.model.regions or ()),
        ).to_dict()


def _request(conf: Mapping[str, Any], asset_events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    if conf.get("model") and conf.get("version"):
        return dict(conf)
    for extra in asset_events:  # the newest event that names a version wins
        if extra.get("model") and extra.get("version"):
            return dict(extra)
    return dict(conf)


# --- checks and documentation --------------------------------------------------------------


@SYSTEM
def check(ref: GateRef | Mapping[str, Any], name: str, *, db_url: str | None = None) -> dict[str, Any]:
    ref = GateRef.of(ref)
    policy = load_policy()  # resolved once, where the task starts
    # A long check logs how far it is (rows, rate, time left) every 30 s in the task log.
    with reporting(LogProgress(logging.getLogger("govflow.progress"))):
        return run_check_for_version(
            ref.run.to_dict(), ref.model, ref.version, name, policy=policy, db_url=db_url
        )


@SYSTEM
def document(ref: GateRef | Mapping[str, Any], *, db_url: str | None = None) -> dict[str, Any]:
    """Render the model card and Annex IV document and record the documentation check."""
    ref = GateRef.of(ref)
    return document_version(ref.run.to_dict(), ref.model, ref.version, policy=load_policy(), db_url=db_url)


@SYSTEM
def mitigate(ref: GateRef | Mapping[str, Any], *, db_url: str | None = None) -> dict[str, Any]:
    """When the tier's policy asks (``fairness.mitigate``) and fairness failed or warned, measure
    Fairlearn's mitigations (``govflow mitigate``, nothing registered) and keep the evidence."""
    ref = GateRef.of(ref)
    return mitigate_if_asked(ref.model, ref.version, policy=load_policy(), db_url=db_url)


# --- the gate ----------------------------------------------------------------------------------


@SYSTEM
def evaluate(
    ref: GateRef | Mapping[str, Any], *, step: str = "gate", db_url: str | None = None
) -> dict[str, Any]:
    """Decide now and store the decision; once per (run, step): a retry returns the stored one."""
    from sqlalchemy import select

    ref = GateRef.of(ref)
    run = ref.run
    actor = pipeline_actor(run, step)
    with session_scope(db_url) as session:
        row = get_version(session, ref.model, ref.version)
        stored = session.scalar(
            select(GateDecision)
            .where(GateDecision.version_id == row.id, GateDecision.decided_by == actor)
            .order_by(GateDecision.id.desc())
            .limit(1)
        )
        if stored is None:
            stored = gate_service.evaluate_gate(
                session, ref.model, ref.version, actor, auth_method="system", policy=load_policy()
            )
        return gate_service.decision_to_dict(stored, model=ref.model, version=ref.version)


def approval_requests(
    ref: GateRef | Mapping[str, Any], decision: Mapping[str, Any], *, base_url: str | None = None
) -> list[dict[str, Any]]:
    """Keyword arguments of one ApprovalOperator per approval still missing (none unless pending).

    Each request is assigned to the users the policy lets approve this tier
    (their govflow user names are their Airflow user names), minus the submitter
    and those who already approved this evidence.
    """
    if decision["decision"] != "pending_approval":
        return []
    ref = GateRef.of(ref)
    reviewers = eligible_reviewers(ref, exclude=decision["approvals"]["approved_by"])
    missing = int(decision["approvals"]["required"] or 0) - len(decision["approvals"]["approved_by"])
    if missing <= 0 or not reviewers:
        return []
    body = approval_body(ref, decision, base_url=base_url)
    return [
        {
            "subject": f"Approve {ref.model}@{ref.version} ({ref.tier} risk) for production"
            + (f" - approval {i + 1} of {missing}" if missing > 1 else ""),
            "body": body,
            "assigned_users": [{"id": name, "name": name} for name in group],
        }
        for i, group in enumerate(reviewer_groups(reviewers, missing))  # one request per reviewer
    ]


def eligible_reviewers(ref: GateRef | Mapping[str, Any], *, exclude: Sequence[str] = ()) -> list[str]:
    """Who may approve: the tier's roles, covering the model's team (a reviewer of another team is
    never asked, nor counted), outside it where a rule pack asks for independence, not the submitter."""
    ref = GateRef.of(ref)
    policy = load_policy()
    roles = policy.tier(ref.tier).approvals.roles
    version = VersionRef(0, (), ref.submitted_by, team=ref.team, sector=ref.sector, regions=ref.regions)
    independent = independence_pack(policy, ref.tier, version) is not None
    users = load_users()
    return sorted(
        name
        for name, user in users.users.items()
        if user.has_any(roles, admin_ok=False)
        and user.covers(ref.team)
        and not (independent and in_owner_team(user.teams, version))
        and name != ref.submitted_by
        and name not in set(exclude)
    )


def approval_body(
    ref: GateRef | Mapping[str, Any], decision: Mapping[str, Any], *, base_url: str | None = None
) -> str:
    """What the reviewer reads in Airflow's Required Actions view (Markdown; no raw data)."""
    ref = GateRef.of(ref)
    with session_scope() as session:
        row = get_version(session, ref.model, ref.version)
        checks = {name: (r.status, r.summary) for name, r in latest_check_results(session, row.id).items()}
    # "All passed" only when nothing warned: a reviewer must see a warn (or a waived failure) up front.
    flagged = [f"{name} ({status})" for name, (status, _) in sorted(checks.items()) if status != "pass"]
    headline = (
        f"The checks allow approval with findings on {', '.join(flagged)}"
        if flagged
        else "All required checks passed"
    )
    lines = [
        f"**{ref.model}@{ref.version}**, {ref.tier} risk tier, submitted by {ref.submitted_by or 'unknown'}.",
        "",
        f"{headline}; the policy needs {decision['approvals']['required']} approval(s) "
        f"from role(s) allowed for this tier. Approved so far: "
        f"{', '.join(decision['approvals']['approved_by']) or 'nobody'}.",
        "",
        "| check | status | summary |",
        "| --- | --- | --- |",
    ]
    for name, (status, summary) in sorted(checks.items()):
        lines.append(f"| {name} | {status} | {_short_summary(summary)} |")
    if decision.get("notes"):
        lines += ["", "Notes:"] + [f"- {note}" for note in decision["notes"]]
    lines += [
        "",
        f"Evidence digest `{decision['evidence_digest'][:16]}` (your approval binds to it). "
        f"Policy {decision['policy_version']}.",
    ]
    if base_url:
        lines.append(
            f"[Open in the Governance view]({base_url.rstrip('/')}/governance/models/{ref.model}"
            f"/versions/{ref.version})"
        )
    lines.append("To reject, say why in the comment.")
    return "\n".join(lines)


def _short_summary(summary: Mapping[str, Any]) -> str:
    parts = []
    for key, value in summary.items():
        if isinstance(value, float):
            value = round(value, 4)
        if isinstance(value, (list, dict)) and len(str(value)) > 60:
            value = f"{len(value)} items"
        parts.append(f"{key}={value}")
    return ", ".join(parts)[:200].replace("|", "/")


# --- after the reviewers -------------------------------------------------------------------


@SYSTEM
def finish(
    ref: GateRef | Mapping[str, Any],
    decision: Mapping[str, Any],
    answers: Iterable[Answer] = (),
    *,
    notes: Sequence[str] = (),
    db_url: str | None = None,
) -> dict[str, Any]:
    """Record the reviewers' answers, decide again, then promote (approved) or reject; returns the outcome.

    ``answers`` are every answer Airflow accepted for this run's requests (tasks.answers.collect),
    whatever happened to the approval tasks. A human rejection moves the version to ``rejected``.
    A rejection by the checks leaves it ``candidate`` (a reviewer may waive a failed check with a
    reason and the gate can run again); either way the decision is stored.
    """
    ref = GateRef.of(ref)
    notes = list(notes)
    with session_scope(db_url) as session:
        _, recorded_notes = record_answers(
            session, ref.model, ref.version, answers, requested_digest=decision["evidence_digest"]
        )
    notes += recorded_notes
    final = decision
    if decision["decision"] == "pending_approval":
        final = evaluate(ref, step="final", db_url=db_url)
    stage = apply_decision(ref.to_dict(), final, db_url=db_url)
    # The documents now show the decision, its approvals and the new stage. The decision stands
    # even when re-rendering fails: that is reported, not fatal.
    try:
        refresh_documents(
            ref.model,
            ref.version,
            actor=pipeline_actor(ref.run),
            policy=load_policy(),
            db_url=db_url,
        )
    except Exception as err:
        logging.getLogger(__name__).exception("documents of %s@%s not refreshed", ref.model, ref.version)
        notes.append(f"documents not refreshed after the decision: {type(err).__name__}: {err}")
    return outcome(ref, final, stage=stage, notes=notes, db_url=db_url)


def outcome(
    ref: GateRef | Mapping[str, Any],
    decision: Mapping[str, Any],
    *,
    stage: str,
    notes: Sequence[str] = (),
    db_url: str | None = None,
) -> dict[str, Any]:
    """The run's result: what `govflow submit --wait` and the notification report."""
    ref = GateRef.of(ref)
    run = ref.run
    with session_scope(db_url) as session:
        row = get_version(session, ref.model, ref.version)
        evidence = [
            {"check": r.check, "status": r.status, "evidence_uri": r.evidence_uri}
            for r in latest_check_results(session, row.id).values()
        ]
        documents = [
            {"kind": d["kind"], "format": d["format"], "uri": d["uri"]}
            for d in document_links(session, row.id)
        ]
        run_record = run_row(session, run)
        if run_record.ended_at is None:
            finish_run(session, run_record, status=decision["decision"])
        stored = session.get(GateDecision, decision["id"])
        if stored is not None:  # OpenLineage: data and artifact in, evidence and decision out
            emit_gate_lineage(session, row, run.to_dict(), stored)
    return {
        "model": ref.model,
        "version": ref.version,
        "tier": ref.tier,
        "stage": stage,
        "decision": decision["decision"],
        "decision_id": decision["id"],
        "reasons": [r["message"] for r in decision["reasons"]],
        # What to do about each reason that can be fixed (flag, note or command), for submit --wait.
        "fixes": [
            {
                "reason": r["message"],
                "fix": _named(fix_with_best_option(str(r["fix"]), ref.model, ref.version), ref),
            }
            for r in decision["reasons"]
            if r.get("fix")
        ],
        "notes": list(decision.get("notes") or []) + list(notes),
        "approved_by": decision["approvals"]["approved_by"],
        "evidence": evidence,
        "documents": documents,
        "run": run.to_dict(),
    }


def _named(fix: str, ref: GateRef) -> str:
    return fix.replace("--model M --version V", f"--model {ref.model} --version {ref.version}")


@SYSTEM
def notify(outcome: Mapping[str, Any], *, db_url: str | None = None) -> list[dict[str, Any]]:
    """Tell the model's owner (and, by severity, its stakeholders) what the gate decided."""
    decision = outcome["decision"]
    severity = {"approved": "info"}.get(decision, "warning")
    label = f"{outcome['model']}@{outcome['version']}"
    verb = {
        "approved": f"approved and now {outcome['stage']}",
        "rejected": "rejected by the gate",
        "pending_approval": "still waiting for approvals",
    }.get(decision, decision)
    lines = [f"{label} ({outcome.get('tier')} risk) was {verb}."]
    fixes = {f["reason"]: f["fix"] for f in outcome.get("fixes") or ()}
    for reason in outcome["reasons"]:
        lines.append(f"- {reason}" + (f"\n  fix: {fixes[reason]}" if reason in fixes else ""))
    if outcome["approved_by"]:
        lines.append(f"Approved by: {', '.join(outcome['approved_by'])}")
    lines += [f"Evidence: {e['check']} {e['status']}" for e in outcome["evidence"]]
    lines += [f"Document: {d['kind']} ({d['format']}): {d['uri']}" for d in outcome["documents"]]
    problem = Problem(
        key=f"gate:{outcome['version']}:{decision}",
        severity=severity,
        subject=f"[govflow] {label}: {decision.replace('_', ' ')}",
        body="\n".join(lines),
    )
    # An approval's notice settles itself once sent (nothing to do): a retry must not send it again.
    settled_notice = decision == "approved" and raised_before(outcome["model"], problem.key, db_url=db_url)
    return raise_alerts(
        outcome["model"],
        [] if settled_notice else [problem],
        actor=pipeline_actor(RunRef.of(outcome["run"])),
        version=outcome["version"],
        settles=settled_gate_notices(outcome, db_url=db_url),
        db_url=db_url,
    )
