"""The API docs pages (Swagger UI at /docs, ReDoc at /redoc) with their assets served by the app itself.

FastAPI's pages load Swagger UI and ReDoc from a CDN (and ReDoc Google's fonts): an offline or
firewalled deployment showed a blank page. The files come from the ``fastapi-offline`` distribution
(swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js, favicon.png; 2.8 MB, in requirements.txt)
and are served under /docs-assets/ behind the same user check as the pages. Without that package the
pages say so and point at /openapi.json instead of loading anything from another host.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures at runtime.

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
ASSET_PACKAGE = "fastapi_offline"


def assets_dir() -> Path | None:
    """The folder holding every file in ASSETS, or None when the package is not installed."""
    try:
        folder = Path(str(resources.files(ASSET_PACKAGE) / "static"))
    except ModuleNotFoundError:
        return None
    return folder if all((folder / name).is_file() for name in ASSETS) else None


def add_docs_routes(app: Any, *, current_user: Callable[..., Any]) -> None:
    """/openapi.json, /docs, /redoc and /docs-assets/<file>, each for a known user only."""
    from fastapi import Depends, HTTPException, Request
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(user: str = Depends(current_user)) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs-assets/{name}", include_in_schema=False)
    def docs_asset(name: str, user: str = Depends(current_user)) -> FileResponse:
        folder = assets_dir()
        if folder is None or name not in ASSETS:  # a fixed list: no path from the request reaches the disk
            raise HTTPException(status_code=404, detail=f"no docs asset {name!r}")
        return FileResponse(folder / name, media_type=ASSETS[name])

    @app.get("/docs", include_in_schema=False)
    def swagger(request: Request, user: str = Depends(current_user)) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        if assets_dir() is None:
            return _missing(root)
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="govflow API",
            swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs-assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request, user: str = Depends(current_user)) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        if assets_dir() is None:
            return _missing(root)
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title="govflow API",
            redoc_js_url=f"{root}/docs-assets/redoc.standalone.js",
            redoc_favicon_url=f"{root}/docs-assets/favicon.png",
            with_google_fonts=False,
        )

    def _missing(root: str) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><title>govflow API</title><p>The API docs need the fastapi-offline package "
            "(pip install fastapi-offline); the schema is at "
            f'<a href="{root}/openapi.json">openapi.json</a>.</p>'
        )
