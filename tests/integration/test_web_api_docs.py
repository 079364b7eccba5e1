"""The API docs render offline: Swagger UI and ReDoc load every asset from the app, none from a CDN."""

from __future__ import annotations

import re

import pytest

from govflow.web.api_docs import ASSETS, assets_dir


def client_as(user: str):
    from fastapi.testclient import TestClient

    from govflow.web.app import create_app

    return TestClient(create_app(user_dependency=lambda: user))


# src/href attributes and url(...) in the page: anything with a scheme and host is another machine.
_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_page_references_no_external_host(db_url, path):
    assert assets_dir() is not None, "fastapi-offline (requirements.txt) ships the Swagger UI/ReDoc files"
    client = client_as("vera")
    page = client.get(path)
    assert page.status_code == 200
    references = [a or b for a, b in _REFERENCE.findall(page.text)]
    # The page's scripts in JS string literals too (Swagger's SwaggerUIBundle({url: ...})).
    hosts = re.findall(r"https?://[^\s\"'<>)]+", page.text)
    assert not hosts, hosts
    assert references, page.text
    for reference in references:
        assert not reference.startswith("//"), reference
        if reference.startswith("/docs-assets/"):
            asset = client.get(reference)
            assert asset.status_code == 200 and len(asset.content) > 1000, reference


def test_docs_assets_are_a_fixed_list_behind_the_user_check(db_url):
    client = client_as("vera")
    assert (
        client.get("/docs-assets/swagger-ui-bundle.js").headers["content-type"].startswith("text/javascript")
    )
    assert client.get("/docs-assets/..%2F__init__.py").status_code == 404
    assert client.get("/docs-assets/__init__.py").status_code == 404
    assert set(ASSETS) >= {"swagger-ui-bundle.js", "redoc.standalone.js"}
    stranger = client_as("mallory")
    assert stranger.get("/docs-assets/swagger-ui-bundle.js").status_code == 403
