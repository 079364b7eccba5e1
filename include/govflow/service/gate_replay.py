"""Replaying a stored gate decision from its stored inputs, naming every difference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from govflow.errors import NotFoundError
from govflow.gate import Approval, Evidence, VersionRef, Waiver, decide
from govflow.policy import PolicyError, parse_policy, policy_sha256
from govflow.service.gate_inputs import approval_of, evidence_of, version_ref_of, waiver_of
from govflow.store import Approval as ApprovalRow
from govflow.store import CheckResultRow, GateDecision, ModelVersion
from govflow.store import Waiver as WaiverRow
from govflow.timeutil import utc

__all__ = ["ReplayReport", "replay_decision"]


@dataclass(frozen=True)
class ReplayReport:
    decision_id: int
    differences: tuple[str, ...]
    stored: dict[str, Any]
    replayed: dict[str, Any] | None

    @property
    def same(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "same": self.same,
            "differences": list(self.differences),
            "stored": self.stored,
            "replayed": self.replayed,
        }


_RESULT_FIELDS = (
    "decision",
    "tier",
    "reasons",
    "notes",
    "evidence_ids",
    "evidence_digest",
    "approvals_required",
    "approved_by",
    "waived",
    "policy_sha256",
    "policy_version",
    "decided_at",
)


def replay_decision(session: Session, decision_id: int) -> ReplayReport:
    """Recompute a stored decision from its stored inputs and name every difference.

    The evidence, approvals and waivers are re-read from their tables by the
    stored ids (so a row changed after the decision shows up), the policy from
    the text stored with the decision (checked against its sha256).
    """
    row = session.get(GateDecision, decision_id)
    if row is None:
        raise NotFoundError(f"unknown gate decision {decision_id}")
    stored_view = {
        "decision": row.decision,
        "reasons": list(row.reasons or []),
        "policy_sha256": row.policy_sha256,
        "evidence_digest": row.evidence_digest,
    }
    inputs = row.inputs or {}
    missing = [
        k
        for k in ("tier", "version", "evidence", "approvals", "waivers", "now", "policy", "result")
        if k not in inputs
    ]
    if missing:
        return ReplayReport(
            row.id,
            (f"decision {row.id} lacks stored inputs ({', '.join(missing)}): it cannot be replayed",),
            stored_view,
            None,
        )
    differences: list[str] = []
    text = inputs["policy"].get("text") or ""
    if policy_sha256(text) != row.policy_sha256:
        differences.append("the stored policy text does not match the decision's policy sha256")
    try:
        policy = parse_policy(text, source=f"stored with decision {row.id}")
    except PolicyError as err:
        return ReplayReport(row.id, (*differences, str(err)), stored_view, None)

    evidence = _reread(
        session, CheckResultRow, inputs["evidence"], Evidence, evidence_of, "evidence", differences
    )
    approvals = _reread(
        session, ApprovalRow, inputs["approvals"], Approval, approval_of, "approval", differences
    )
    waivers = _reread(session, WaiverRow, inputs["waivers"], Waiver, waiver_of, "waiver", differences)
    if sorted(str(i) for i in row.evidence_ids or []) != sorted(e["id"] for e in inputs["evidence"]):
        differences.append("the decision's evidence ids differ from the evidence stored with it")
    version_ref = VersionRef.from_dict(inputs["version"])
    version_row = session.get(ModelVersion, row.version_id)
    # Only what was stored: a decision from before teams and packs was decided without them.
    now_ref = (
        VersionRef.from_dict(
            {k: v for k, v in version_ref_of(version_row).to_dict().items() if k in inputs["version"]}
        )
        if version_row is not None
        else None
    )
    if now_ref is None or now_ref != version_ref:
        differences.append(
            "the version's registered data hashes, submitter or team differ from the stored ones"
        )

    replayed = decide(
        policy,
        inputs["tier"],
        evidence,
        approvals,
        version_ref=version_ref,
        now=utc(inputs["now"]),
        waivers=waivers,
    ).to_dict()
    recorded = inputs["result"]
    for key in _RESULT_FIELDS:
        if _without_fixes(key, replayed.get(key)) != _without_fixes(key, recorded.get(key)):
            differences.append(
                f"{key}: stored {_short(recorded.get(key))}, replayed {_short(replayed.get(key))}"
            )
    columns = {
        "decision": row.decision,
        "reasons": list(row.reasons or []),
        "policy_sha256": row.policy_sha256,
        "evidence_digest": row.evidence_digest,
        "evidence_ids": [str(i) for i in row.evidence_ids or []],
    }
    for key, value in columns.items():
        if _without_fixes(key, replayed[key]) != _without_fixes(key, value):
            differences.append(
                f"stored column {key} ({_short(value)}) differs from the replay ({_short(replayed[key])})"
            )
    return ReplayReport(row.id, tuple(differences), stored_view, replayed)


def _without_fixes(key: str, value: Any) -> Any:
    # A reason's fix is advice that may improve between releases; the decision is the rest.
    if key != "reasons" or not isinstance(value, list):
        return value
    return [{k: v for k, v in r.items() if k != "fix"} if isinstance(r, dict) else r for r in value]


def _reread(
    session: Session,
    table: type[Any],
    snapshots: Sequence[dict[str, Any]],
    kind: Any,
    convert: Callable[[Any], Any],
    what: str,
    differences: list[str],
) -> list[Any]:
    """The stored items as their tables hold them now (falling back to the snapshot when a row is gone)."""
    items = []
    for snapshot in snapshots:
        item_id = snapshot.get("id")
        current = session.get(table, int(item_id)) if item_id is not None and str(item_id).isdigit() else None
        if current is None:
            differences.append(f"{what} {item_id} no longer exists")
            items.append(kind.from_dict(snapshot))
            continue
        now_form = convert(current).to_dict()
        changed = sorted(k for k in now_form if now_form[k] != snapshot.get(k))
        if changed:
            differences.append(
                f"{what} {item_id} changed since the decision: "
                + ", ".join(f"{k} {_short(snapshot.get(k))} -> {_short(now_form[k])}" for k in changed)
            )
        items.append(convert(current))
    return items


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
