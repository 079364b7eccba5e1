"""The Governance view: a FastAPI app (factory) over govflow's service layer.

Inside Airflow the plugin mounts it at /governance and identity comes from
Airflow's auth manager (``get_user``: the UI's JWT cookie or a bearer token, e.g.
from ``govflow login``); govflow maps that user to its roles (the deployment's
roles file, and the auth manager's own roles through its ``auth_manager_roles``).
A user govflow does not know gets 403 on every page and API, the API docs
(``/docs``, ``/redoc``, ``/openapi.json``) included. Every state-changing route takes JSON
from the view's own origin only (``write_guard``): 415 for forms, 403 cross-site. Tests and other hosts pass
their own ``user_dependency`` (returning a name, or a name and the auth manager's roles).
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime,
# and their types are imported inside the factory.

from collections.abc import Callable
from pathlib import Path
from typing import Any

from govflow.access import AuthMethod, Directory, User, load_users
from govflow.artifacts import ArtifactStore
from govflow.checks.family import template_loader
from govflow.errors import GovflowError, NotFoundError, PermissionDeniedError
from govflow.hashing import sha256_bytes
from govflow.policy import load_policy
from govflow.service import answers, gate, overview, team_scope
from govflow.service.serialize import recorded_to_dict
from govflow.store import session_scope
from govflow.web.admin_routes import add_admin_routes
from govflow.web.airflow_actions import answer_with_token, open_required_actions
from govflow.web.api_docs import add_docs_routes
from govflow.web.mlflow_webhook import Trigger, add_mlflow_webhook
from govflow.web.read_routes import add_read_routes
from govflow.web.stakeholder_routes import add_stakeholder_routes
from govflow.web.write_guard import add_write_guard

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _airflow_user_dependency() -> Callable[..., Any]:
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends

    # FastAPI resolves Airflow's dependency (cookie or bearer JWT); govflow only needs the name.

    async def name_of(user=Depends(get_user)) -> tuple[str, tuple[str, ...]]:
        return user.get_name(), _auth_manager_roles(user)

    return name_of


def _auth_manager_roles(user: Any) -> tuple[str, ...]:
    # SimpleAuthManager users carry one ``role``; FAB users a list of ``roles`` with names.
    role = getattr(user, "role", None)
    roles = [role] if isinstance(role, str) else []
    for item in getattr(user, "roles", None) or []:
        roles.append(getattr(item, "name", str(item)))
    return tuple(roles)


def _airflow_token(request: Any) -> str | None:
    """The token Airflow authenticated this request with, as its ``get_user`` picks it: the bearer
    token when given, else the UI's ``_token`` cookie."""
    scheme, _, credentials = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get("_token") or None


def create_app(
    *,
    user_dependency: Callable[..., Any] | None = None,
    db_url: str | None = None,
    auth_method: AuthMethod = "airflow",
    required_actions: Callable[[str], list[dict[str, Any]]] | None = None,
    trigger_gate: Trigger | None = None,
    answer_required_action: Callable[[str | None], answers.AnswerFn] | None = None,
):
    """Build the app. ``user_dependency`` returns the acting user (default: Airflow's auth manager);
    ``auth_method`` is how that dependency proves who it is (recorded with every change);
    ``required_actions(user)`` lists Airflow's open Required Actions (default: Airflow's own DB when
    identity comes from Airflow, none otherwise); ``answer_required_action(token)`` returns how a
    verdict given here answers the reviewer's open Required Action (default, with Airflow's identity:
    Airflow's REST API with the request's own token; none otherwise); ``trigger_gate(conf)`` starts
    governance_gate for the MLflow webhook (default: Airflow's REST API)."""
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import Response
    from fastapi.templating import Jinja2Templates
    from pydantic import BaseModel, Field

    identity = user_dependency or _airflow_user_dependency()
    import jinja2

    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    # Each check family's partial of the version page ("<family>/version.html") lives with the family.
    templates.env.loader = jinja2.ChoiceLoader(
        [jinja2.FileSystemLoader(str(TEMPLATES_DIR)), template_loader()]
    )
    # The docs routes are added below behind the same check as every other route.
    app = FastAPI(
        title="govflow",
        description="Model governance: registry, evidence, decisions, approvals, audit",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    # Writes are JSON from the view's own origin only: a cross-site form carrying the
    # reviewer's cookie is refused before any route (or identity check) runs.
    add_write_guard(app)

    def known_user(who: Any = Depends(identity)) -> User:
        """The authenticated user, if govflow knows them (roles file or a mapped auth-manager role)."""
        name, external = (who, ()) if isinstance(who, str) else (who[0], tuple(who[1]))
        try:
            return load_users().get(name, external_roles=external)
        except PermissionDeniedError as err:
            raise HTTPException(status_code=403, detail=str(err)) from err
        except GovflowError as err:  # a broken roles file: nobody is let in, and the log says why
            raise HTTPException(status_code=503, detail=str(err)) from err

    def current_user(user: User = Depends(known_user)) -> str:
        return user.name

    class VerdictIn(BaseModel):
        verdict: str = Field(pattern="^(approve|reject)$")
        comment: str = Field(default="", max_length=2000)

    class WaiverIn(BaseModel):
        check: str = Field(min_length=1, max_length=32)
        reason: str = Field(min_length=1, max_length=2000)

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

    def _as_directory(who: User) -> Directory:
        # The user as proven and resolved for this request (mapped auth-manager roles included).
        return Directory(users={who.name: who}, source="the deployment's roles for this request")

    # --- API docs (a known user only) ------------------------------------------------------
    add_docs_routes(app, current_user=current_user)  # assets served locally: the docs render offline

    # --- read pages and their JSON twins ---------------------------------------------------
    # Inside Airflow (its auth manager decides who you are), Airflow's Required Actions join My approvals.
    actions = open_required_actions if user_dependency is None else required_actions
    add_read_routes(app, templates=templates, known_user=known_user, read=_read, required_actions=actions)
    add_admin_routes(app, templates=templates, known_user=known_user, read=_read, http_error=_http_error)
    add_stakeholder_routes(app, templates=templates, known_user=known_user, read=_read)

    # --- writes ----------------------------------------------------------------------------
    answerer = answer_with_token if user_dependency is None else answer_required_action

    @app.post("/api/models/{name}/versions/{version}/approvals")
    def api_approve(
        name: str, version: str, body: VerdictIn, request: Request, who: User = Depends(known_user)
    ) -> dict[str, Any]:
        """Approve or reject as the logged-in Airflow user (roles and separation of duties apply).

        Recorded once; when the version's gate run waits on a Required Action naming this user, the
        same verdict answers it in Airflow (as this user) and the run goes on. ``message`` says which.
        """
        try:
            open_request = None
            if answerer is not None and actions is not None:
                open_request = answers.request_for(actions(who.name), name, version)
            with session_scope(db_url) as session:
                done = answers.approve_and_answer(
                    session,
                    name,
                    version,
                    who.name,
                    verdict=body.verdict,
                    comment=body.comment,
                    request=open_request,
                    answer=answerer(_airflow_token(request)) if answerer is not None else None,
                    users=_as_directory(who),
                    auth_method=auth_method,
                    policy=load_policy(),  # resolved once, where the request starts
                )
                recorded = done.recorded
                payload = recorded_to_dict(recorded.row, recorded.preview, model=name, version=version)
                return {**payload, "airflow": done.to_dict(), "message": done.message}
        except GovflowError as err:
            raise _http_error(err) from err

    @app.post("/api/models/{name}/versions/{version}/waivers")
    def api_waive(name: str, version: str, body: WaiverIn, who: User = Depends(known_user)) -> dict[str, Any]:
        """Waive the latest failed result of a check as the logged-in reviewer, with a reason.

        A waiver answers no Required Action (it is not a verdict on the version); ``message`` says
        what still waits: the reviewer's open request, or a gate decision to take with the waiver.
        """
        try:
            open_request = answers.request_for(actions(who.name), name, version) if actions else None
            with session_scope(db_url) as session:
                recorded = gate.waive(
                    session,
                    name,
                    version,
                    body.check,
                    who.name,
                    reason=body.reason,
                    users=_as_directory(who),
                    auth_method=auth_method,
                    policy=load_policy(),
                )
                payload = recorded_to_dict(recorded.row, recorded.preview, model=name, version=version)
            note = answers.waiver_note(open_request, name, version)
            return {**payload, "airflow": note.to_dict(), "message": note.message}
        except GovflowError as err:
            raise _http_error(err) from err

    class PolicyIn(BaseModel):
        text: str = Field(min_length=1, max_length=1 << 20)
        source: str = Field(default="<api>", max_length=500)

    @app.post("/api/policy")
    def api_apply_policy(body: PolicyIn, who: User = Depends(known_user)) -> dict[str, Any]:
        """Make a policy the active one, as the logged-in admin (an Airflow identity, never os/dev)."""
        from govflow.policy import parse_policy
        from govflow.service.policy import alert_noncompliant_owners, apply_policy, policy_row_to_dict

        try:
            policy = parse_policy(body.text, source=body.source)
            with session_scope(db_url) as session:
                row, changed = apply_policy(
                    session, policy, who.name, auth_method=auth_method, users=_as_directory(who)
                )
                payload = {**policy_row_to_dict(row), "changed": changed}
            if changed:  # after the commit: alerts open their own transactions
                alert_noncompliant_owners(actor=who.name, db_url=db_url)
            return payload
        except GovflowError as err:
            raise _http_error(err) from err

    @app.post("/api/models/{name}/versions/{version}/gate")
    def api_gate(name: str, version: str, who: User = Depends(known_user)) -> dict[str, Any]:
        """Decide now and store the decision, decided by the logged-in user (of the model's team)."""
        try:
            with session_scope(db_url) as session:
                team_scope.require_model(session, who, name, action="decide on")
                row = gate.evaluate_gate(
                    session, name, version, who.name, auth_method=auth_method, policy=load_policy()
                )
                return gate.decision_to_dict(row, model=name, version=version)
        except GovflowError as err:
            raise _http_error(err) from err

    @app.get("/api/models/{name}/versions/{version}/documents/{document_id}")
    def api_document(name: str, version: str, document_id: int, who: User = Depends(known_user)) -> Response:
        doc = _read(lambda s: overview.document_for_download(s, name, version, document_id, viewer=who))
        content = ArtifactStore().get_bytes(doc.uri)
        if sha256_bytes(content) != doc.sha256:  # never serve a document that no longer matches its record
            raise HTTPException(status_code=409, detail=f"document {document_id} does not match its sha256")
        media = "text/html" if doc.format == "html" else "text/markdown"
        return Response(content, media_type=f"{media}; charset=utf-8")

    # MLflow's registry webhook: HMAC-authenticated, no Airflow login (trigger_gate: tests pass their own).
    add_mlflow_webhook(app, db_url=db_url, trigger=trigger_gate)
    return app
