"""Cross-site request refusal for the Governance view's state-changing routes.

A browser attaches Airflow's ``_token`` cookie to any request for the view's origin, a form
posted from another site included (only SameSite would stand in the way). So every POST,
PUT, PATCH and DELETE (the HMAC-signed MLflow webhook aside: it is server to server and
carries no cookie) is checked before any route runs:

1. ``Sec-Fetch-Site`` (sent by every current browser), when present, must be ``same-origin``
   or ``none`` (typed in by the user); ``same-site`` and ``cross-site`` get 403.
2. ``Origin``, when present, must be the request's own origin (its ``Host``), Airflow's
   ``[api] base_url``, or one of ``GOVFLOW_WEB_ALLOWED_ORIGINS`` (comma-separated); else 403
   (``null`` included: sandboxed frames and redirects).
3. A body must be JSON (``Content-Type: application/json``): a form (urlencoded, multipart) or
   ``text/plain``, the three content types a page may post cross-site without asking the
   server first, get 415. A request without a body (``POST .../gate``) needs no type.

Clients that are not browsers (``govflow`` with a bearer token, curl) send neither header and
pass 1 and 2; their JSON passes 3.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ALLOWED_ORIGINS_ENV", "EXEMPT_PATHS", "STATE_CHANGING", "add_write_guard", "refusal"]

ALLOWED_ORIGINS_ENV = "GOVFLOW_WEB_ALLOWED_ORIGINS"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT_PATHS = ("/api/integrations/mlflow/webhook",)  # HMAC-authenticated, no cookie
_SITES_OK = frozenset({"same-origin", "none"})


def _origin(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _allowed_origins(host: str, scheme: str) -> set[str]:
    allowed = {f"{scheme}://{host.lower()}"} if host else set()
    configured = [os.environ.get("AIRFLOW__API__BASE_URL", "")]
    configured += os.environ.get(ALLOWED_ORIGINS_ENV, "").split(",")
    allowed |= {o for o in (_origin(c) for c in configured if c.strip()) if o}
    return allowed


def refusal(
    method: str, path: str, headers: dict[str, str], *, scheme: str, has_body: bool
) -> tuple[int, str] | None:
    """``(status, reason)`` when the request must be refused, else None (``headers``: lower-case)."""
    if method.upper() not in STATE_CHANGING or path.rstrip("/").endswith(EXEMPT_PATHS):
        return None
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site and site not in _SITES_OK:
        return 403, f"cross-site request refused (Sec-Fetch-Site: {site})"
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("x-forwarded-host") or headers.get("host", "")
        proto = headers.get("x-forwarded-proto") or scheme
        if _origin(origin) not in _allowed_origins(host, proto.lower()):
            return 403, f"cross-origin request refused (Origin: {origin.strip()[:100] or 'empty'})"
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if (media or has_body) and media != "application/json":
        return 415, "state-changing requests take JSON only (Content-Type: application/json)"
    return None


def add_write_guard(app: Any) -> None:
    """Refuse cross-site and non-JSON writes on ``app`` before any route runs."""
    from fastapi import Request
    from fastapi.responses import JSONResponse, Response

    @app.middleware("http")
    async def write_guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        length = headers.get("content-length")
        has_body = "transfer-encoding" in headers or (length is not None and length.strip() not in ("", "0"))
        refused = refusal(
            request.method, request.url.path, headers, scheme=request.url.scheme, has_body=has_body
        )
        if refused is not None:
            return JSONResponse({"detail": refused[1]}, status_code=refused[0])
        return await call_next(request)
