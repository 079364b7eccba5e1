"""Read pages of the Governance view and the JSON API behind each (same data, same authorization).

Every page has an ``/api/...`` twin returning the dictionary the page renders.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime.

from collections.abc import Callable
from typing import Any

from govflow import config
from govflow.access import User
from govflow.machine_paths import for_people
from govflow.policy import Policy, load_policy
from govflow.service import overview
from govflow.service.alerts_view import alerts_view
from govflow.service.diff import version_diff
from govflow.service.my_approvals import my_approvals
from govflow.service.portfolio import STATES, PortfolioFilter, portfolio
from govflow.service.run_targets import versions_of_run
from govflow.service.version_view import AUDIT_PAGE_SIZE, version_view
from govflow.vocab import ADMIN, GATED_STAGES, RISK_TIERS

REVIEW_ROLES = {"reviewer", ADMIN}
_policy_cache: dict[tuple[str, int, int], Policy] = {}


def read_policy() -> Policy:
    """The policy for read pages, parsed again only when its file changes (validation costs ~70 ms).

    Writes (approve, waive, gate) load it afresh; a read page shows the file as it stands on disk.
    """
    path = config.policy_path()
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _policy_cache:
        _policy_cache.clear()
        _policy_cache[key] = load_policy(path)
    return _policy_cache[key]


def add_read_routes(
    app: Any,
    *,
    templates: Any,
    known_user: Callable[..., Any],
    read: Callable[..., Any],
    required_actions: Callable[[str], list[dict[str, Any]]] | None = None,
) -> None:
    """``required_actions(user)``: Airflow's open Required Actions for the user (None: not in Airflow)."""
    from fastapi import Depends, HTTPException, Query, Request
    from fastapi.responses import HTMLResponse, RedirectResponse

    store_read = read

    def people_read(fn: Callable[..., Any]) -> Any:
        # These pages and their API twins are read on other machines: file names, never this host's
        # paths (artifact store, data, suites, batches); the CLI on the host still shows them.
        return for_people(store_read(fn))

    read = people_read

    def page(request: Request, name: str, who: User, **context: Any) -> HTMLResponse:
        base = {"user": who.name, "roles": sorted(who.roles), "is_reviewer": bool(REVIEW_ROLES & who.roles)}
        return templates.TemplateResponse(request, name, base | context)

    def _portfolio(tier: str | None, owner: str | None, state: str | None, who: User) -> dict[str, Any]:
        if tier and tier not in RISK_TIERS:
            raise HTTPException(status_code=400, detail=f"unknown tier {tier!r}")
        if state and state not in STATES:
            raise HTTPException(status_code=400, detail=f"unknown state {state!r}")
        filters = PortfolioFilter(tier=tier or None, owner=owner or None, state=state or None)
        return read(lambda s: portfolio(s, read_policy(), filters=filters, viewer=who))

    def _version(name: str, version: str, before: int | None, limit: int, who: User) -> dict[str, Any]:
        return read(
            lambda s: version_view(
                s, read_policy(), name, version, audit_before=before, audit_limit=limit, viewer=who
            )
        )

    def _approvals(who: User) -> dict[str, Any]:
        asked = required_actions(who.name) if required_actions and REVIEW_ROLES & who.roles else []
        return read(
            lambda s: my_approvals(s, read_policy(), who.name, who.roles, required_actions=asked, viewer=who)
        )

    # --- JSON API --------------------------------------------------------------------------
    @app.get("/api/portfolio", tags=["read"])
    def api_portfolio(
        tier: str | None = None,
        owner: str | None = None,
        state: str | None = None,
        who: User = Depends(known_user),
    ) -> dict[str, Any]:
        """One row per model with its compliance state; counts over the tier/owner selection."""
        return _portfolio(tier, owner, state, who)

    @app.get("/api/models", tags=["read"])
    def api_models(who: User = Depends(known_user)) -> dict[str, Any]:
        return {"models": read(lambda s: overview.models_overview(s, viewer=who))}

    @app.get("/api/models/{name}", tags=["read"])
    def api_model(name: str, who: User = Depends(known_user)) -> dict[str, Any]:
        return read(lambda s: overview.model_detail(s, name, policy=read_policy(), viewer=who))

    @app.get("/api/models/{name}/versions/{version}", tags=["read"])
    def api_version(
        name: str,
        version: str,
        audit_before: int | None = None,
        audit_limit: int = Query(AUDIT_PAGE_SIZE, ge=1, le=500),
        who: User = Depends(known_user),
    ) -> dict[str, Any]:
        """The version page's data: rendered check views, decisions, documents, one audit page."""
        return _version(name, version, audit_before, audit_limit, who)

    @app.get("/api/models/{name}/diff", tags=["read"])
    def api_diff(name: str, a: str, b: str, who: User = Depends(known_user)) -> dict[str, Any]:
        """Evidence of two versions side by side (metrics, fairness per group, drift, PII, decision)."""
        return read(lambda s: version_diff(s, read_policy(), name, a, b, viewer=who))

    @app.get("/api/approvals", tags=["read"])
    def api_my_approvals(who: User = Depends(known_user)) -> dict[str, Any]:
        """What waits for the signed-in reviewer, each with the evidence digest they would approve."""
        return _approvals(who)

    @app.get("/api/alerts", tags=["read"])
    def api_alerts(model: str | None = None, who: User = Depends(known_user)) -> dict[str, Any]:
        """Open alerts, one entry per problem with each channel's delivery (what the portfolio counts)."""
        return read(lambda s: alerts_view(s, model=model or None, viewer=who))

    # --- pages -----------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def page_portfolio(
        request: Request,
        tier: str | None = None,
        owner: str | None = None,
        state: str | None = None,
        who: User = Depends(known_user),
    ) -> HTMLResponse:
        data = _portfolio(tier, owner, state, who)
        filters = {"tier": tier or "", "owner": owner or "", "state": state or ""}
        return page(request, "portfolio.html", who, p=data, f=filters, tiers=RISK_TIERS, states=STATES)

    @app.get("/models/{name}", response_class=HTMLResponse)
    def page_model(request: Request, name: str, who: User = Depends(known_user)) -> HTMLResponse:
        return page(
            request,
            "model.html",
            who,
            model=read(lambda s: overview.model_detail(s, name, policy=read_policy(), viewer=who)),
        )

    @app.get("/models/{name}/versions/{version}", response_class=HTMLResponse)
    def page_version(
        request: Request,
        name: str,
        version: str,
        audit_before: int | None = None,
        who: User = Depends(known_user),
    ) -> HTMLResponse:
        detail = _version(name, version, audit_before, AUDIT_PAGE_SIZE, who)
        can_review = (
            bool(REVIEW_ROLES & who.roles)
            and detail["created_by"] != who.name
            and detail["stage"] in GATED_STAGES  # only a version on its way through the gate is reviewed
        )
        return page(request, "version.html", who, v=detail, can_review=can_review)

    @app.get("/models/{name}/diff", response_class=HTMLResponse)
    def page_diff(
        request: Request, name: str, a: str, b: str, who: User = Depends(known_user)
    ) -> HTMLResponse:
        return page(
            request,
            "diff.html",
            who,
            d=read(lambda s: version_diff(s, read_policy(), name, a, b, viewer=who)),
        )

    @app.get("/approvals", response_class=HTMLResponse)
    def page_my_approvals(request: Request, who: User = Depends(known_user)) -> HTMLResponse:
        return page(request, "approvals.html", who, a=_approvals(who))

    @app.get("/alerts", response_class=HTMLResponse)
    def page_alerts(
        request: Request, model: str | None = None, who: User = Depends(known_user)
    ) -> HTMLResponse:
        return page(
            request, "alerts.html", who, a=read(lambda s: alerts_view(s, model=model or None, viewer=who))
        )

    @app.get("/runs/{dag_id}/{run_id}", include_in_schema=False)
    def run_target(request: Request, dag_id: str, run_id: str, who: User = Depends(known_user)) -> Any:
        """Where Airflow's extra link lands: the version a run checked (or the portfolio, if several)."""
        targets = read(lambda s: versions_of_run(s, dag_id, run_id, viewer=who))
        if len(targets) == 1:
            name, version = targets[0]
            return RedirectResponse(str(request.url_for("page_version", name=name, version=version)), 307)
        if not targets:
            raise HTTPException(status_code=404, detail=f"no governance evidence for run {dag_id}/{run_id}")
        return RedirectResponse(str(request.url_for("page_portfolio")), 307)


__all__ = ["add_read_routes"]
