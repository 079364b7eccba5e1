"""Reviewers' answers to Airflow's Required Actions, recorded as govflow approvals: each once, as given.

Both ways round: an answer given in Airflow is collected and recorded here (``record_answers``),
and a verdict given in the Governance view answers the reviewer's open request of the gate run
(``approve_and_answer``), recorded with that request's key so the answer Airflow later reports
is the same approval, not a second one.

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
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govflow.errors import BadInputError, ConflictError, GovflowError, NotFoundError, PermissionDeniedError
from govflow.policy import load_policy
from govflow.service import gate as gate_service
from govflow.service import registry
from govflow.service.runs import RunRef, ensure_run, pipeline_actor
from govflow.service.signed_facts import signed_request
from govflow.store import Approval, GateDecision, ModelVersion, utcnow
from govflow.timeutil import utc
from govflow.vocab import APPROVE_OPTION, REJECT_OPTION

APPROVE, REJECT = APPROVE_OPTION, REJECT_OPTION
COMMENT_PARAM = "comment"
NO_COMMENT = "rejected in Airflow's Required Actions view (no comment given)"


def required_action_key(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    """The key of one Required Action (one try of one approval task), unique on the approvals table."""
    return f"{dag_id}/{run_id}/{task_id}/{map_index}/{try_number}"


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
        return required_action_key(self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

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
        # Already recorded (the Governance view answered this request as it recorded the verdict).
        if session.scalar(select(Approval.id).where(Approval.required_action == answer.required_action)):
            continue
        asked_by = pipeline_actor(RunRef(answer.dag_id, answer.run_id), "gate")
        if not signed_request(session, subject, asked_by, requested_digest):
            # The run's XCom (or a decision row) named this version; the signed trail says who was asked.
            notes.append(
                f"{label} not recorded: no signed decision of run {answer.run_id} asked reviewers "
                f"about {model}@{version} on evidence {requested_digest[:12]}"
            )
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


# --- a verdict given in the Governance view answers the open request ---------------------------

_NTH = re.compile(r" - (approval \d+ of \d+)$")


@dataclass(frozen=True)
class OpenRequest:
    """An unanswered approval request of a gate run (an Airflow Required Action) naming a reviewer."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    subject: str = ""

    @property
    def required_action(self) -> str:
        return required_action_key(self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

    @property
    def label(self) -> str:
        """``request approval 1 of 2`` (from the gate's subject), or ``approval request``."""
        nth = _NTH.search(self.subject or "")
        return f"request {nth.group(1)}" if nth else "approval request"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "map_index": self.map_index,
            "try_number": self.try_number,
            "subject": self.subject,
            "required_action": self.required_action,
        }


def request_for(actions: Iterable[Mapping[str, Any]], model: str, version: str) -> OpenRequest | None:
    """The open request of ``model@version`` a reviewer answers: those naming them before those
    naming nobody; of those, the newest run's first request. ``actions``: Airflow's unanswered
    Required Actions for the reviewer (``web.airflow_actions``), each with its task's keys, ``named``
    (it names the reviewer), ``asked_at`` and ``waiting`` (its task still waits for the answer: a
    finished run's leftovers are not answered)."""
    mine = [
        a
        for a in actions
        if (a.get("model"), a.get("version")) == (model, version) and a.get("waiting") and a.get("run_id")
    ]
    named = [a for a in mine if a.get("named")] or mine
    if not named:
        return None
    newest = max(named, key=lambda a: str(a.get("asked_at") or ""))["run_id"]
    pick = min((a for a in named if a["run_id"] == newest), key=lambda a: int(a["map_index"]))
    return OpenRequest(
        dag_id=str(pick["dag_id"]),
        run_id=str(pick["run_id"]),
        task_id=str(pick["task_id"]),
        map_index=int(pick["map_index"]),
        try_number=int(pick.get("try_number") or 1),
        subject=str(pick.get("subject") or ""),
    )


@dataclass(frozen=True)
class Answered:
    """A verdict recorded in govflow, and what became of the gate run's request."""

    recorded: gate_service.Recorded
    request: OpenRequest | None  # the request it answered (None: none open, or Airflow refused)
    note: str  # e.g. "answered Airflow's request approval 1 of 2 in run X"

    @property
    def message(self) -> str:
        return f"recorded; {self.note}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered": self.request is not None,
            "request": self.request.to_dict() if self.request else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class WaiverNote:
    """What a recorded waiver did in Airflow: answered nothing; ``note`` says what still waits."""

    request: OpenRequest | None  # the reviewer's open request of the version, left to their verdict
    note: str

    @property
    def message(self) -> str:
        return f"recorded; {self.note}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "answered": False,
            "request": self.request.to_dict() if self.request else None,
            "note": self.note,
        }


def waiver_note(request: OpenRequest | None, model: str, version: str) -> WaiverNote:
    """What a waiver does to Airflow's approval request: nothing, and the note says what still waits.

    A waiver never answers a Required Action: the request asks its reviewer for a verdict on the
    evidence it shows, and a waiver is not one (it accepts one failed result; the tier's approvals are
    still needed). A rejected gate run asks nobody, so the waiver's effect is a new gate decision.
    """
    if request is not None:
        note = (
            f"Airflow's {request.label} in run {request.run_id} still waits for your verdict "
            "(a waiver is not an approval)"
        )
    else:
        note = (
            f"no open request in Airflow: run `govflow gate --model {model} --version {version} --api` "
            "to decide with the waiver"
        )
    return WaiverNote(request, note)


# ``answer(request, verdict, comment)`` gives the verdict to Airflow as the reviewer; a GovflowError
# when Airflow does not take it.
AnswerFn = Callable[[OpenRequest, str, str], None]


def approve_and_answer(
    session: Session,
    model: str,
    version: str,
    actor: str,
    *,
    verdict: str,
    comment: str | None,
    request: OpenRequest | None,
    answer: AnswerFn | None,
    **approve: Any,
) -> Answered:
    """Record ``actor``'s verdict once and, when a request of the gate run waits for them, answer it.

    The approval is recorded (every rule of ``gate.approve`` first: a refused one answers nothing)
    with the request's key, then Airflow is answered, in the caller's transaction: the answer the
    run later collects from Airflow is this approval (same key), and if govflow's commit failed after
    Airflow took the answer, the run records it from there. When Airflow does not take the answer,
    the verdict is still recorded, without the key, and the message says why the run still waits.
    ``approve``: ``gate.approve``'s keywords (users, auth_method, policy, now).

    One approval per request, whoever answers first: when the request's answer is already recorded
    (a concurrent answer from the view, ``govflow approve --api`` or the run's finish), the same
    verdict by the same reviewer is that approval (nothing new), another one a ``ConflictError``;
    when Airflow answers 409 (the request was answered meanwhile in Airflow itself, or by its
    timeout), nothing is recorded here: the run records the answer Airflow took, once.
    """
    if request is None or answer is None:
        recorded = gate_service.approve(
            session, model, version, actor, verdict=verdict, comment=comment, **approve
        )
        return Answered(recorded, None, "no open request in Airflow")
    where = f"{request.label} in run {request.run_id}"
    savepoint = session.begin_nested()
    try:
        run = ensure_run(session, dag_id=request.dag_id, run_id=request.run_id)
        recorded = gate_service.approve(
            session,
            model,
            version,
            actor,
            verdict=verdict,
            comment=comment,
            run_id=run.id,
            required_action=request.required_action,
            **approve,
        )
    except IntegrityError:  # the request's key is taken: its answer was recorded meanwhile
        savepoint.rollback()
        return _already_recorded(session, model, version, actor, verdict, request, where, approve)
    except BaseException:
        savepoint.rollback()
        raise
    try:
        answer(request, verdict, str(recorded.row.comment or ""))
    except ConflictError as err:  # Airflow's 409: answered meanwhile, outside govflow
        savepoint.rollback()
        raise ConflictError(
            f"Airflow's {where} was answered meanwhile (in Airflow, or by its timeout): your verdict "
            f"is not recorded, the run records the answer Airflow took; see the version page ({err})"
        ) from err
    except GovflowError as err:
        savepoint.rollback()
        recorded = gate_service.approve(
            session, model, version, actor, verdict=verdict, comment=comment, **approve
        )
        return Answered(recorded, None, f"Airflow's {where} was not answered: {err}")
    savepoint.commit()
    return Answered(recorded, request, f"answered Airflow's {where}")


def _already_recorded(
    session: Session,
    model: str,
    version: str,
    actor: str,
    verdict: str,
    request: OpenRequest,
    where: str,
    approve: Mapping[str, Any],
) -> Answered:
    """The request's answer another channel recorded first: the same verdict is that approval."""
    row = session.scalar(select(Approval).where(Approval.required_action == request.required_action))
    if row is None:  # the key's row vanished again (rolled back elsewhere): the caller may retry
        raise ConflictError(f"Airflow's {where} is being answered by another request: try again")
    given = f"{row.verdict} by {row.approver} (approval {row.id})"
    if (row.approver, row.verdict) != (actor, verdict):
        raise ConflictError(
            f"Airflow's {where} was already answered: {given}; your {verdict} is not recorded"
        )
    # What the gate would decide now (as gate.approve previews it), with that approval among the inputs.
    inputs = gate_service.gather_inputs(session, registry.get_version(session, model, version))
    preview = inputs.decide(approve.get("policy") or load_policy(), utc(approve.get("now") or utcnow()))
    return Answered(
        gate_service.Recorded(row=row, preview=preview),
        request,
        f"Airflow's {where} was already answered: {given}, recorded once",
    )
