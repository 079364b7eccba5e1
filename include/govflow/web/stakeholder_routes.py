"""Each stakeholder's page of the Governance view, with its JSON twin: the auditor's (audit trail and
evidence), the data protection officer's (PII findings and waivers), the data scientist's (their
submissions and what to fix). The service (``service.stakeholder_views``) checks the role and the
teams; a page only renders what it gets."""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime.

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govflow.access import User
from govflow.service.stakeholder_views import auditor_bundle, auditor_view, data_scientist_view, dpo_view
from govflow.web.read_routes import read_policy

# view name -> (URL part, template, service)
VIEWS: dict[str, tuple[str, str, Callable[..., dict[str, Any]]]] = {
    "auditor": ("auditor", "view_auditor.html", lambda s, who: auditor_view(s, who)),
    "dpo": ("dpo", "view_dpo.html", lambda s, who: dpo_view(s, who, read_policy())),
    "data_scientist": (
        "data-scientist",
        "view_data_scientist.html",
        lambda s, who: data_scientist_view(s, who, read_policy()),
    ),
}


def add_stakeholder_routes(
    app: Any, *, templates: Any, known_user: Callable[..., Any], read: Callable[..., Any]
) -> None:
    from fastapi import Depends, Request
    from fastapi.responses import HTMLResponse, Response

    def routes(build: Callable[..., dict[str, Any]], template: str) -> tuple[Callable[..., Any], ...]:
        # One pair per view, each closing over its own service and template.
        def api(who: User = Depends(known_user)) -> dict[str, Any]:
            return read(lambda s: build(s, who))

        def page(request: Request, who: User = Depends(known_user)) -> HTMLResponse:
            context = {"user": who.name, "roles": sorted(who.roles), "d": read(lambda s: build(s, who))}
            return templates.TemplateResponse(request, template, context)

        return api, page

    @app.get("/api/models/{name}/versions/{version}/bundle", tags=["read"])
    def api_bundle(name: str, version: str, who: User = Depends(known_user)) -> Response:
        """The version's evidence bundle (zip) for the auditor; the export is audited as them."""
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "bundle.zip"
            read(lambda s: auditor_bundle(s, who, name, version, out, policy=read_policy()))
            content = out.read_bytes()
        disposition = f'attachment; filename="{name}-{version}-evidence.zip"'
        return Response(content, media_type="application/zip", headers={"Content-Disposition": disposition})

    for name, (part, template, build) in VIEWS.items():
        api, page = routes(build, template)
        app.add_api_route(f"/api/views/{part}", api, methods=["GET"], tags=["read"], name=f"api_view_{name}")
        app.add_api_route(
            f"/views/{part}",
            page,
            methods=["GET"],
            response_class=HTMLResponse,
            include_in_schema=False,
            name=f"page_view_{name}",
        )


__all__ = ["add_stakeholder_routes"]
