"""Team scopes on reads and writes: a user scoped to teams sees and reviews only their teams' models.

A model belongs to the team it was registered with (``govflow model register --team T``;
signed in ``model.registered``, so a DB writer cannot move it to another team without the gate
failing closed). A user's scope comes from the roles file (``access.User.teams``; None: every
team). Every service a page, the API or the CLI reads through takes the viewer and:

1. lists only models whose team the viewer covers (``visible``: a SQL filter, so counts and
   pages agree with what is shown);
2. refuses one model, version, diff or document of another team (``require_model``) with a
   one-line reason, as a 403 in the API;
3. the gate counts an approval or waiver only when the scope recorded with it (signed) covers
   the model's team (``gate._decide``), so an out-of-team verdict never counts, however it
   was recorded.

``viewer=None`` is the governance service itself (DAG tasks, the operator's direct-DB CLI):
no scope applies.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from govflow.access import User
from govflow.errors import PermissionDeniedError
from govflow.gate import VersionRef, in_owner_team, independence_pack
from govflow.policy import Policy
from govflow.store import Model

__all__ = [
    "ERR_OTHER_TEAM",
    "require_covers",
    "require_independent",
    "require_model",
    "scope_of",
    "scope_view",
    "visible",
]

ERR_OTHER_TEAM = "permission denied: {who} may not {action} {model} (team {team})"


def visible(viewer: User | None) -> ColumnElement[bool]:
    """A filter on ``Model`` rows: the models ``viewer`` may see."""
    if viewer is None or viewer.teams is None:
        return true()
    if not viewer.teams:
        return false()
    return Model.team.in_(sorted(viewer.teams))


def require_model(session: Session, viewer: User | None, model: str | Model, *, action: str = "see") -> None:
    """PermissionDeniedError unless ``viewer`` covers the model's team (an unknown model passes:
    the caller's own lookup says it is unknown)."""
    if viewer is None or viewer.teams is None:
        return
    if isinstance(model, Model):
        name, team = model.name, model.team
    else:
        found = session.execute(select(Model.name, Model.team).where(Model.name == model)).first()
        if found is None:
            return
        name, team = found
    require_covers(viewer, name, team, action=action)


def require_covers(viewer: User | None, model: str, team: str | None, *, action: str) -> None:
    """PermissionDeniedError unless ``viewer`` covers ``team`` (the team of ``model``)."""
    if viewer is not None and not viewer.covers(team):
        raise PermissionDeniedError(
            ERR_OTHER_TEAM.format(who=viewer.describe(), action=action, model=model, team=team or "none")
        )


def require_independent(user: User, policy: Policy, tier: str, ref: VersionRef, label: str) -> None:
    """PermissionDeniedError when an enforced rule pack asks for an approver outside the model's
    team (model risk management) and ``user`` reviews for that team; the gate would not count it."""
    pack = independence_pack(policy, tier, ref)
    if pack is not None and in_owner_team(scope_of(user), ref):
        raise PermissionDeniedError(
            f"permission denied: {user.describe()} reviews for {ref.team}, the team that owns {label}; "
            f"{pack.name} asks for an approver independent of it"
        )


def scope_of(viewer: User) -> list[str] | None:
    """The scope recorded (and signed) with a verdict: the sorted team names, or None for every team."""
    return None if viewer.teams is None else sorted(viewer.teams)


def scope_view(viewer: User | None) -> dict[str, Any]:
    """What a page says about whose portfolio it shows."""
    teams = None if viewer is None else scope_of(viewer)
    return {"teams": teams, "all_teams": teams is None}
