"""The Governance view's admin page for policy changes: what a proposed policy would change before
it is applied (``service.policy_impact``), the active policy, and the production versions flagged
non-compliant since it was applied. Admins only, on the page and its API alike."""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime.

from collections.abc import Callable
from typing import Any

from govflow.access import User, require_role
from govflow.errors import GovflowError
from govflow.policy import parse_policy
from govflow.service.policy import active_policy, policy_row_to_dict
from govflow.service.policy_impact import noncompliant_versions, policy_impact
from govflow.vocab import ADMIN

MAX_POLICY_BYTES = 1 << 20


def add_admin_routes(
    app: Any,
    *,
    templates: Any,
    known_user: Callable[..., Any],
    read: Callable[..., Any],
    http_error: Callable[[GovflowError], Any],
) -> None:
    from fastapi import Depends, Request
    from fastapi.responses import HTMLResponse
    from pydantic import BaseModel, Field

    def admin(who: User = Depends(known_user)) -> User:
        try:
            return require_role(who, [ADMIN], action="see or change the governance policy")
        except GovflowError as err:
            raise http_error(err) from err

    def _state() -> dict[str, Any]:
        def state(session: Any) -> dict[str, Any]:
            row = active_policy(session)
            return {
                "active": policy_row_to_dict(row) if row is not None else None,
                "non_compliant": noncompliant_versions(session),
            }

        return read(state)

    class ProposedPolicy(BaseModel):
        text: str = Field(min_length=1, max_length=MAX_POLICY_BYTES)
        source: str = Field(default="<proposed in the Governance view>", max_length=500)

    @app.get("/api/admin/policy", tags=["admin"])
    def api_policy_state(who: User = Depends(admin)) -> dict[str, Any]:
        """The active policy and the production versions non-compliant since it was applied."""
        return _state()

    @app.post("/api/policy/impact", tags=["admin"])
    def api_policy_impact(body: ProposedPolicy, who: User = Depends(admin)) -> dict[str, Any]:
        """What the proposed policy would change, decided again from stored inputs; nothing is applied."""
        try:
            policy = parse_policy(body.text, source=body.source)
        except GovflowError as err:
            raise http_error(err) from err
        return read(lambda s: policy_impact(s, policy))

    @app.get("/admin/policy", response_class=HTMLResponse)
    def page_policy(request: Request, who: User = Depends(admin)) -> HTMLResponse:
        context = {"user": who.name, "roles": sorted(who.roles), "is_reviewer": True, "s": _state()}
        return templates.TemplateResponse(request, "admin_policy.html", context)


__all__ = ["add_admin_routes"]
