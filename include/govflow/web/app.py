"""The Governance view: a FastAPI app (factory) over govflow's service layer.

Inside Airflow the plugin mounts it at /governance and identity comes from
Airflow's auth manager (``GetUserDep``: the UI's JWT cookie or a bearer token);
govflow maps that user name to its own roles (include/policies/users.yaml).
Tests and other hosts pass their own ``user_dependency``.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime,
# and their types are imported inside the factory.

from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _airflow_user_dependency() -> Callable[..., Any]:
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends

    # FastAPI resolves Airflow's dependency (cookie or bearer JWT); govflow only needs the name.

    async def name_of(user=Depends(get_user)) -> str:  # type: ignore[no-untyped-def]
        return user.get_name()

    return name_of


def create_app(*, user_dependency: Callable[..., Any] | None = None, db_url: str | None = None):  # type: ignore[no-untyped-def]
    """Build the app. ``user_dependency`` returns the acting user's name (default: Airflow's auth)."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse, Response
    from fastapi.templating import Jinja2Templates
    from pydantic import BaseModel, Field

    from govflow.errors import GovflowError, NotFoundError, PermissionDeniedError
    from govflow.service import overview
    from govflow.store import session_scope

    current_user = user_dependency or _airflow_user_dependency()
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    app = FastAPI(
        title="govflow", description="Model governance: registry, evidence, decisions, approvals, audit"
    )

    class VerdictIn(BaseModel):
        verdict: str = Field(pattern="^(approve|reject)$")
        comment: str = Field(default="", max_length=2000)

    def _http_error(err: GovflowError) -> HTTPException:
        if isinstance(err, NotFoundError):
            return HTTPException(status_code=404, detail=str(err))
        if isinstance(err, PermissionDeniedError):
            return HTTPException(status_code=403, detail=str(err))
        return HTTPException(status_code=409 if err.exit_code == 1 else 400, detail=str(err))

    def _read(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            with session_scope(db_url) as session:
                return fn(session, *args)
        except GovflowError as err:
            raise _http_error(err) from err

    def _roles(user: str) -> list[str]:
        from govflow.access import load_users

        try:
            return list(load_users().get(user).roles)
        except GovflowError:
            return []

    # --- JSON API --------------------------------------------------------------------------
    @app.get("/api/models")
    def api_models(user: str = Depends(current_user)) -> dict[str, Any]:
        return {"models": _read(overview.models_overview)}

    @app.get("/api/models/{name}")
    def api_model(name: str, user: str = Depends(current_user)) -> dict[str, Any]:
        return _read(overview.model_detail, name)

    @app.get("/api/models/{name}/versions/{version}")
    def api_version(name: str, version: str, user: str = Depends(current_user)) -> dict[str, Any]:
        return _read(overview.version_detail, name, version)

    @app.post("/api/models/{name}/versions/{version}/approvals")
    def api_approve(
        name: str, version: str, body: VerdictIn, user: str = Depends(current_user)
    ) -> dict[str, Any]:
        """Approve or reject as the logged-in Airflow user (roles and separation of duties apply)."""
        from govflow.service import gate

        try:
            with session_scope(db_url) as session:
                recorded = gate.approve(
                    session, name, version, user, verdict=body.verdict, comment=body.comment
                )
                return {
                    "approval_id": recorded.row.id,
                    "approver": recorded.row.approver,
                    "verdict": recorded.row.verdict,
                    "evidence_digest": recorded.row.evidence_digest,
                    "decision_preview": recorded.preview.to_dict(),
                }
        except GovflowError as err:
            raise _http_error(err) from err

    @app.get("/api/models/{name}/versions/{version}/documents/{document_id}")
    def api_document(
        name: str, version: str, document_id: int, user: str = Depends(current_user)
    ) -> Response:
        from govflow.artifacts import ArtifactStore
        from govflow.hashing import sha256_bytes

        doc = _read(overview.document_for_download, name, version, document_id)
        content = ArtifactStore().get_bytes(doc.uri)
        if sha256_bytes(content) != doc.sha256:  # never serve a document that no longer matches its record
            raise HTTPException(status_code=409, detail=f"document {document_id} does not match its sha256")
        media = "text/html" if doc.format == "html" else "text/markdown"
        return Response(content, media_type=f"{media}; charset=utf-8")

    # --- HTML pages ------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def page_models(request: Request, user: str = Depends(current_user)) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "models.html",
            {"models": _read(overview.models_overview), "user": user, "roles": _roles(user)},
        )

    @app.get("/models/{name}", response_class=HTMLResponse)
    def page_model(request: Request, name: str, user: str = Depends(current_user)) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "model.html",
            {"model": _read(overview.model_detail, name), "user": user, "roles": _roles(user)},
        )

    @app.get("/models/{name}/versions/{version}", response_class=HTMLResponse)
    def page_version(
        request: Request, name: str, version: str, user: str = Depends(current_user)
    ) -> HTMLResponse:
        detail = _read(overview.version_detail, name, version)
        roles = _roles(user)
        can_review = bool({"reviewer", "admin"} & set(roles)) and detail["created_by"] != user
        return templates.TemplateResponse(
            request, "version.html", {"v": detail, "user": user, "roles": roles, "can_review": can_review}
        )

    return app
