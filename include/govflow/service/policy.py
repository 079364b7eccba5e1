"""The active policy: the one the gate decides with, stored in the governance DB by an audited admin action.

1. ``apply_policy`` (an admin proven by Airflow: a session or API token, never
   ``os`` or ``dev``) stores the policy's canonical text and sha256
   as the active row (one at a most, a partial unique index) and audits it.
2. ``require_active`` is called by the gate before it decides or promotes: a
   policy whose sha256 is not the active one is refused (the gate stays
   closed), whatever version string it claims; so pointing ``GOVFLOW_POLICY``
   at a relaxed copy on a worker approves nothing.
3. On first use, with no policy applied yet, the bundled default (shipped with
   the code, as trusted as the code) is applied automatically and audited;
   any other file must be applied by an admin first.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow import data
from govflow.access import SYSTEM_AUTH, AuthMethod, Directory, require_role, require_strong_auth
from govflow.errors import BadInputError, GovflowError
from govflow.policy import Policy, load_policy, policy_sha256
from govflow.service.policy_impact import (
    noncompliance_problems_by_version,
    policy_impact,
    record_impact,
)
from govflow.store import Policy as PolicyRow
from govflow.store import session_scope, utcnow
from govflow.store.audit import append_event, lock_trail
from govflow.timeutil import iso_utc
from govflow.vocab import ADMIN

SYSTEM_ACTOR = "govflow"


class PolicyNotActiveError(GovflowError):
    """The policy the gate was given is not the one an admin applied: the gate stays closed."""

    exit_code = 1


def bundled_default_sha256() -> str:
    return policy_sha256(data.default_policy().read_bytes())


def active_policy(session: Session) -> PolicyRow | None:
    return session.scalar(select(PolicyRow).where(PolicyRow.active.is_(True)))


def apply_policy(
    session: Session,
    policy: Policy,
    actor: str,
    *,
    auth_method: AuthMethod | None = None,
    users: Directory | None = None,
) -> tuple[PolicyRow, bool]:
    """Make ``policy`` the active one (admin only). Returns the row and whether anything changed."""
    require_strong_auth(auth_method, action=f"applying policy {policy.version}")
    require_role(actor, (ADMIN,), action=f"apply policy {policy.version}", users=users, admin_ok=True)
    current = active_policy(session)
    if current is not None and current.sha256 != policy.sha256 and current.version == policy.version:
        raise BadInputError(
            f"policy {policy.source} changed but keeps version {policy.version}: "
            "give every edit a new `version` (decisions name the policy by it)"
        )
    # Measured before the switch, from the stored inputs of the decisions it affects.
    report = (
        policy_impact(session, policy) if current is not None and current.sha256 != policy.sha256 else None
    )
    row, changed = _activate(
        session, policy, actor=actor, auth_method=auth_method, reason="applied by an admin"
    )
    if changed and report is not None:
        record_impact(session, policy, report, actor=actor, auth_method=auth_method)
    return row, changed


def alert_noncompliant_owners(
    *, actor: str, db_url: str | None = None, skip: Collection[tuple[str, str]] = ()
) -> list[dict[str, Any]]:
    """Alert the owners of production versions non-compliant since the active policy (after commit).

    An open alert is not raised twice (``raise_alerts``), so calling it every night alerts once."""
    from govflow.service.alerts import raise_alerts  # delivery imports Airflow connections

    with session_scope(db_url) as session:
        found = noncompliance_problems_by_version(session)
    sent: list[dict[str, Any]] = []
    for (model, version), problems in found.items():
        if (model, version) not in skip:
            sent += raise_alerts(model, problems, actor=actor, version=version, db_url=db_url)
    return sent


def _activate(
    session: Session, policy: Policy, *, actor: str, auth_method: AuthMethod | None, reason: str
) -> tuple[PolicyRow, bool]:
    # The trail's lock first: with no active row, FOR UPDATE locks nothing, and the gate's parallel
    # checks all activating the bundled default on first use would race to insert it.
    lock_trail(session)
    current = session.scalar(
        select(PolicyRow).where(PolicyRow.active.is_(True)).with_for_update()  # one apply at a time
    )
    if current is not None and current.sha256 == policy.sha256:
        return current, False
    if current is not None:
        current.active = False
        session.flush()  # before the new row: the index allows one active row at any moment
    row = PolicyRow(
        version=policy.version,
        sha256=policy.sha256,
        text=policy.text,
        applied_by=actor,
        applied_at=utcnow(),
        active=True,
    )
    session.add(row)
    session.flush()
    append_event(
        session,
        actor=actor,
        auth_method=auth_method,
        action="policy.applied",
        subject=f"policy:{policy.version}",
        payload={
            "policy_id": row.id,
            "version": policy.version,
            "sha256": policy.sha256,
            "source": policy.source,
            "previous_sha256": current.sha256 if current else None,
            "reason": reason,
        },
    )
    return row, True


def require_active(session: Session, policy: Policy) -> None:
    """Refuse (PolicyNotActiveError) unless ``policy`` is the active policy; see the module docstring."""
    current = active_policy(session)
    if current is None:
        if policy.sha256 == bundled_default_sha256():
            _activate(
                session,
                policy,
                actor=SYSTEM_ACTOR,
                auth_method=SYSTEM_AUTH,
                reason="first use: the bundled default policy",
            )
            return
        raise PolicyNotActiveError(
            f"the gate refuses to decide: no policy has been applied and {policy.source} "
            f"(version {policy.version}, sha256 {policy.sha256[:12]}) is not the bundled default; "
            f"an admin makes it active with `govflow policy apply {policy.source}`"
        )
    if current.sha256 != policy.sha256:
        raise PolicyNotActiveError(
            f"the gate refuses to decide: policy {policy.source} (version {policy.version}, "
            f"sha256 {policy.sha256[:12]}) is not the active policy (version {current.version}, "
            f"sha256 {current.sha256[:12]}, applied by {current.applied_by} "
            f"at {iso_utc(current.applied_at)}); "
            f"an admin makes it active with `govflow policy apply {policy.source}`"
        )


def policy_row_to_dict(row: PolicyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.version,
        "sha256": row.sha256,
        "applied_by": row.applied_by,
        "applied_at": iso_utc(row.applied_at),
        "active": row.active,
    }


def load_and_apply(session: Session, path: str, actor: str, **kw: Any) -> tuple[PolicyRow, bool]:
    return apply_policy(session, load_policy(path), actor, **kw)
