"""Apply a gate decision to the version: promote when approved, reject when a reviewer rejected it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govflow.policy import load_policy
from govflow.service import gate as gate_service
from govflow.service.pipeline import PIPELINE_USER
from govflow.service.registry import get_version, transition_stage
from govflow.store import session_scope
from govflow.vocab import GATED_STAGES


def apply_decision(ref: Mapping[str, Any], decision: Mapping[str, Any], *, db_url: str | None = None) -> str:
    """The version's stage after ``decision``: promoted, rejected (by a reviewer) or unchanged.

    A rejection by the checks leaves the version a candidate (a waiver and a new gate run may pass it).
    """
    with session_scope(db_url) as session:
        row = get_version(session, ref["model"], ref["version"])
        if decision["decision"] == "approved" and row.stage != "production":
            gate_service.promote(session, ref["model"], ref["version"], PIPELINE_USER, policy=load_policy())
        elif (
            decision["decision"] == "rejected"
            and row.stage in GATED_STAGES
            and any(r.get("code") == "rejected_by_approver" for r in decision["reasons"])
        ):
            transition_stage(
                session,
                model=ref["model"],
                version=ref["version"],
                to="rejected",
                actor=PIPELINE_USER,
                reason="; ".join(r["message"] for r in decision["reasons"]),
            )
        return row.stage
