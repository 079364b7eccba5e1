"""The gate's inputs and output: plain frozen values with a stable dict form (stored, replayed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govflow.timeutil import iso_utc, utc
from govflow.vocab import DecisionKind, Verdict


@dataclass(frozen=True)
class Evidence:
    """One check result as the gate sees it."""

    id: str
    check: str
    status: str
    model_version_id: str
    data_sha256: str | None
    created_at: dt.datetime
    summary: Mapping[str, Any] = field(default_factory=dict)
    evidence_sha256: str | None = None

    def __post_init__(self) -> None:
        # Ids compare as strings so DB integers and JSON strings match on replay.
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "model_version_id", str(self.model_version_id))
        object.__setattr__(self, "created_at", utc(self.created_at))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.check,
            "status": self.status,
            "model_version_id": self.model_version_id,
            "data_sha256": self.data_sha256,
            "created_at": iso_utc(self.created_at),
            "summary": dict(self.summary),
            "evidence_sha256": self.evidence_sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(
            id=data["id"],
            check=data["check"],
            status=data["status"],
            model_version_id=data["model_version_id"],
            data_sha256=data.get("data_sha256"),
            created_at=utc(data["created_at"]),
            summary=dict(data.get("summary") or {}),
            evidence_sha256=data.get("evidence_sha256"),
        )


@dataclass(frozen=True)
class Approval:
    """A human verdict on the evidence whose digest it names."""

    approver: str
    role: str
    verdict: Verdict
    evidence_digest: str
    comment: str = ""
    id: str | None = None
    # How the approver was authenticated (None: not recorded); the tier's accepted_auth decides.
    auth_method: str | None = None
    # The teams the approver's roles covered (None: every team); it counts only for a model of one.
    teams: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _sorted_teams(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "approver": self.approver,
            "role": self.role,
            "verdict": self.verdict,
            "evidence_digest": self.evidence_digest,
            "comment": self.comment,
            "auth_method": self.auth_method,
            **_teams_dict(self.teams),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Approval:
        return cls(
            approver=data["approver"],
            role=data["role"],
            verdict=data["verdict"],
            evidence_digest=data["evidence_digest"],
            comment=data.get("comment") or "",
            id=None if data.get("id") is None else str(data["id"]),
            auth_method=data.get("auth_method"),
            teams=_teams_of(data),
        )


def _sorted_teams(item: Any) -> None:
    # Sorted so a verdict read from JSON (a list) and from a row compare equal on replay.
    if item.teams is not None:
        object.__setattr__(item, "teams", tuple(sorted(str(t) for t in item.teams)))


def _teams_dict(teams: tuple[str, ...] | None) -> dict[str, Any]:
    # Only a scoped verdict names its teams: stored decisions from before teams replay unchanged.
    return {} if teams is None else {"teams": list(teams)}


def _teams_of(data: Mapping[str, Any]) -> tuple[str, ...] | None:
    # Absent on verdicts stored before teams: they covered every team.
    teams = data.get("teams")
    return None if teams is None else tuple(teams)


@dataclass(frozen=True)
class Waiver:
    """A reviewer's decision to accept one failed check result, with a reason."""

    check: str
    evidence_id: str
    waived_by: str
    role: str
    reason: str
    id: str | None = None
    auth_method: str | None = None
    teams: tuple[str, ...] | None = None  # as on Approval

    def __post_init__(self) -> None:
        object.__setattr__(self, "evidence_id", str(self.evidence_id))
        _sorted_teams(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.check,
            "evidence_id": self.evidence_id,
            "waived_by": self.waived_by,
            "role": self.role,
            "reason": self.reason,
            "auth_method": self.auth_method,
            **_teams_dict(self.teams),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Waiver:
        return cls(
            check=data["check"],
            evidence_id=data["evidence_id"],
            waived_by=data["waived_by"],
            role=data["role"],
            reason=data.get("reason") or "",
            id=None if data.get("id") is None else str(data["id"]),
            auth_method=data.get("auth_method"),
            teams=_teams_of(data),
        )


@dataclass(frozen=True)
class VersionRef:
    """The version under decision: its id, the data hashes registered with it, its submitter, and
    its model's team (an approval counts only from a scope that covers it), sector and regions
    (which rule packs apply: one may ask for a reviewer outside the team)."""

    id: str
    data_sha256: frozenset[str]
    submitted_by: str | None = None
    team: str | None = None
    sector: str | None = None
    regions: tuple[str, ...] = ()

    def __init__(
        self,
        id: Any,
        data_sha256: Iterable[str | None],
        submitted_by: str | None = None,
        team: str | None = None,
        sector: str | None = None,
        regions: Iterable[str] = (),
    ) -> None:
        object.__setattr__(self, "id", str(id))
        object.__setattr__(self, "data_sha256", frozenset(h for h in data_sha256 if h))
        object.__setattr__(self, "submitted_by", submitted_by)
        object.__setattr__(self, "team", team)
        object.__setattr__(self, "sector", sector)
        object.__setattr__(self, "regions", tuple(sorted(regions)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "data_sha256": sorted(self.data_sha256),
            "submitted_by": self.submitted_by,
            "team": self.team,
            "sector": self.sector,
            "regions": list(self.regions),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VersionRef:
        return cls(
            data["id"],
            data.get("data_sha256") or (),
            data.get("submitted_by"),
            data.get("team"),
            data.get("sector"),
            data.get("regions") or (),
        )


@dataclass(frozen=True)
class Reason:
    """Why the version is not (yet) approved: one per unmet requirement."""

    code: str
    message: str
    check: str | None = None
    evidence_id: str | None = None
    # What the submitter (or a reviewer) can do about it: the flag, note or command; None when nothing can.
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "code": self.code,
            "check": self.check,
            "evidence_id": self.evidence_id,
            "message": self.message,
        }
        if self.fix:  # advice, not part of the decision: absent on decisions stored before fixes existed
            out["fix"] = self.fix
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            code=data["code"],
            message=data["message"],
            check=data.get("check"),
            evidence_id=data.get("evidence_id"),
            fix=data.get("fix"),
        )


@dataclass(frozen=True)
class Decision:
    decision: DecisionKind
    tier: str
    reasons: tuple[Reason, ...]
    # Non-blocking facts the approvers should see: warnings, waivers used, approvals not counted.
    notes: tuple[str, ...]
    evidence_ids: tuple[str, ...]
    evidence_digest: str
    approvals_required: int
    approved_by: tuple[str, ...]
    waived: tuple[Waiver, ...]
    policy_sha256: str
    policy_version: str
    decided_at: dt.datetime

    @property
    def approved(self) -> bool:
        return self.decision == "approved"

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "tier": self.tier,
            "reasons": [r.to_dict() for r in self.reasons],
            "notes": list(self.notes),
            "evidence_ids": list(self.evidence_ids),
            "evidence_digest": self.evidence_digest,
            "approvals_required": self.approvals_required,
            "approved_by": list(self.approved_by),
            "waived": [w.to_dict() for w in self.waived],
            "policy_sha256": self.policy_sha256,
            "policy_version": self.policy_version,
            "decided_at": iso_utc(self.decided_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            decision=data["decision"],
            tier=data["tier"],
            reasons=tuple(Reason.from_dict(r) for r in data.get("reasons") or ()),
            notes=tuple(data.get("notes") or ()),
            evidence_ids=tuple(data.get("evidence_ids") or ()),
            evidence_digest=data["evidence_digest"],
            approvals_required=int(data["approvals_required"]),
            approved_by=tuple(data.get("approved_by") or ()),
            waived=tuple(Waiver.from_dict(w) for w in data.get("waived") or ()),
            policy_sha256=data["policy_sha256"],
            policy_version=data["policy_version"],
            decided_at=utc(data["decided_at"]),
        )
