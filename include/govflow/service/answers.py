"""Reviewers' answers to Airflow's Required Actions, recorded as govflow approvals: each once, as given.

An answer comes from Airflow's HITL details (read through its REST API) or from
an approval task's return value; both name the same Required Action
(``<dag_id>/<run_id>/<task_id>/<map_index>/<try_number>``), which is unique on
the approvals table, so an answer seen twice (finish and reconcile, a retried
task, both sources) is recorded once. An answer is recorded on the evidence its
request was made for: when the evidence changed since, the approval is stored
as given and the gate does not count it (its digest is not the current one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govflow.errors import BadInputError, ConflictError, NotFoundError, PermissionDeniedError
from govflow.service import gate as gate_service
from govflow.service import registry
from govflow.service.runs import RunRef, ensure_run, pipeline_actor
from govflow.service.signed_facts import signed_request
from govflow.store import Approval, GateDecision, ModelVersion
from govflow.vocab import APPROVE_OPTION, REJECT_OPTION

APPROVE, REJECT = APPROVE_OPTION, REJECT_OPTION
COMMENT_PARAM = "comment"
NO_COMMENT = "rejected in Airflow's Required Actions view (no comment given)"


@dataclass(frozen=True)
class Answer:
    """One answer Airflow accepted for one approval request."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    approver: str | None  # None: nobody answered; Airflow applied the timeout default
    verdict: str  # approve | reject
    comment: str = ""

    @property
    def required_action(self) -> str:
        return f"{self.dag_id}/{self.run_id}/{self.task_id}/{self.map_index}/{self.try_number}"

    @classmethod
    def from_hitl_detail(cls, detail: Mapping[str, Any]) -> Answer | None:
        """From Airflow's REST form of a HITL detail (``GET .../hitlDetails``); None when unanswered."""
        if not detail.get("response_received") or not detail.get("chosen_options"):
            return None
        ti = detail.get("task_instance") or {}
        return cls.of_response(
            detail,
            dag_id=ti["dag_id"],
            run_id=ti["dag_run_id"],
            task_id=ti["task_id"],
            map_index=int(ti.get("map_index", -1)),
            try_number=int(ti.get("try_number") or 1),
        )

    @classmethod
    def of_response(
        cls,
        response: Mapping[str, Any],
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        try_number: int,
    ) -> Answer:
        """From an answer's content (``chosen_options``, ``params_input``, ``responded_by_user``)."""
        user = response.get("responded_by_user") or {}
        verdict = "approve" if APPROVE in (response.get("chosen_options") or ()) else "reject"
        comment = str((response.get("params_input") or {}).get(COMMENT_PARAM) or "").strip()
        return cls(
            dag_id=dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            try_number=try_number,
            approver=(user.get("name") or user.get("id")) or None,
            verdict=verdict,
            comment=comment or (NO_COMMENT if verdict == "reject" else ""),
        )


def unique(answers: Iterable[Answer | None]) -> list[Answer]:
    """One answer per Required Action (the first seen), in a stable order."""
    seen: dict[str, Answer] = {}
    for answer in answers:
        if answer is not None:
            seen.setdefault(answer.required_action, answer)
    return [seen[key] for key in sorted(seen)]


def record_answers(
    session: Session,
    model: str,
    version: str,
    answers: Iterable[Answer],
    *,
    requested_digest: str,
    now: dt.datetime | None = None,
) -> tuple[list[str], list[str]]:
    """Record each answer once; returns (the Required Actions newly recorded, notes for the outcome)."""
    recorded, notes = [], []
    current = gate_service.gather_inputs(session, registry.get_version(session, model, version)).digest
    subject = registry.version_subject(model, version)
    for answer in unique(answers):
        label = f"{answer.verdict} by {answer.approver} ({answer.required_action})"
        if answer.approver is None:
            notes.append(f"approval request {answer.required_action} timed out without an answer")
            continue
        asked_by = pipeline_actor(RunRef(answer.dag_id, answer.run_id), "gate")
        if not signed_request(session, subject, asked_by, requested_digest):
            # The run's XCom (or a decision row) named this version; the signed trail says who was asked.
            notes.append(
                f"{label} not recorded: no signed decision of run {answer.run_id} asked reviewers "
                f"about {model}@{version} on evidence {requested_digest[:12]}"
            )
            continue
        if session.scalar(select(Approval.id).where(Approval.required_action == answer.required_action)):
            continue
        run = ensure_run(session, dag_id=answer.dag_id, run_id=answer.run_id)
        try:
            # A savepoint: a concurrent finish or reconcile may record the same answer first.
            with session.begin_nested():
                gate_service.approve(
                    session,
                    model,
                    version,
                    answer.approver,
                    verdict=answer.verdict,
                    comment=answer.comment or None,
                    now=now,
                    auth_method="airflow",  # Airflow's auth manager proved who answered
                    evidence_digest=requested_digest,
                    run_id=run.id,
                    required_action=answer.required_action,
                )
        except IntegrityError:  # recorded meanwhile (the unique Required Action): once is enough
            continue
        except (PermissionDeniedError, ConflictError, BadInputError, NotFoundError) as err:
            notes.append(f"{label} not recorded: {err}")
            continue
        recorded.append(answer.required_action)
        if requested_digest != current:
            notes.append(f"{label} recorded on superseded evidence: it does not count")
    return recorded, notes


def pending_requests(
    session: Session, *, dag_id: str = "governance_gate", since: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The gate runs that asked reviewers (a ``pending_approval`` gate decision), newest first.

    Each: ``{"model", "version", "stage", "run_id", "evidence_digest"}``: what a reconcile
    step needs to fetch that run's answers from Airflow and record them.
    """
    prefix, suffix = f"pipeline:{dag_id}:", ":gate"
    query = (
        select(GateDecision)
        .where(
            GateDecision.decision == "pending_approval",
            GateDecision.decided_by.startswith(prefix, autoescape=True),
            GateDecision.decided_by.endswith(suffix, autoescape=True),
        )
        .order_by(GateDecision.id.desc())
    )
    if since is not None:
        query = query.where(GateDecision.decided_at >= since)
    out = []
    for row in session.scalars(query):
        version = session.get(ModelVersion, row.version_id)
        if version is None:  # a decision's version is never deleted; be safe all the same
            continue
        out.append(
            {
                "model": version.model.name,
                "version": version.version,
                "stage": version.stage,
                "run_id": row.decided_by[len(prefix) : -len(suffix)],
                "evidence_digest": row.evidence_digest,
            }
        )
    return out
