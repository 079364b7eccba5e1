"""Cross-site writes: a page on another site posting to the Governance view with the reviewer's cookie.

The identity dependency stands in for Airflow's: it trusts the ``_token`` cookie alone, as a
browser would send it along with any request (SameSite aside). Every write must come as JSON
from the view's own origin; before, a form posted to ``.../gate`` stored a decision as the reviewer.
"""

from __future__ import annotations

import pytest
from fastapi import HTTPException, Request
from sqlalchemy import func, select

from govflow.service import registry
from govflow.store import GateDecision, session_scope

GATE = "/api/models/credit-risk/versions/1.0/gate"
APPROVE = "/api/models/credit-risk/versions/1.0/approvals"
WAIVE = "/api/models/credit-risk/versions/1.0/waivers"


@pytest.fixture
def app_client(db_url, sample_files):
    from fastapi.testclient import TestClient

    from govflow.web import create_app

    with session_scope() as s:
        registry.register_model(s, name="credit-risk", owner="Ana", risk_tier="high", actor="alice")
        registry.register_version(
            s,
            model="credit-risk",
            version="1.0",
            artifact=sample_files["artifact"],
            training_data=sample_files["training"],
            actor="alice",
        )

    def from_cookie(request: Request) -> str:
        if request.cookies.get("_token") != "the-real-jwt":
            raise HTTPException(status_code=401, detail="not signed in")
        return "rita"

    client = TestClient(create_app(user_dependency=from_cookie))
    client.cookies.set("_token", "the-real-jwt")
    return client


def _decisions() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(GateDecision)) or 0)


CROSS_SITE = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}


def test_a_cross_site_form_post_with_the_real_cookie_stores_no_decision(app_client):
    response = app_client.post(GATE, data={"x": "1"}, headers=CROSS_SITE)
    assert response.status_code == 403, response.text
    assert _decisions() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},  # an older browser: Origin only
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another application
        {"Origin": "null"},  # a sandboxed frame or a redirect
    ],
)
def test_cross_origin_writes_are_refused_even_as_json(app_client, headers):
    assert app_client.post(GATE, json={}, headers=headers).status_code == 403
    refused = app_client.post(APPROVE, json={"verdict": "approve"}, headers=headers)
    assert refused.status_code == 403
    assert _decisions() == 0


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        (GATE, {"data": {"x": "1"}}),  # application/x-www-form-urlencoded
        (GATE, {"files": {"f": ("a.txt", b"x")}}),  # multipart/form-data
        (APPROVE, {"content": b'{"verdict": "approve"}', "headers": {"Content-Type": "text/plain"}}),
        (WAIVE, {"data": {"check": "pii", "reason": "ok"}}),
    ],
)
def test_writes_take_json_only(app_client, path, kwargs):
    assert app_client.post(path, **kwargs).status_code == 415
    assert _decisions() == 0


def test_the_views_own_json_requests_still_work(app_client):
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    response = app_client.post(GATE, json={}, headers=own)
    assert response.status_code == 200, response.text
    assert app_client.post(GATE, headers=own).status_code == 200  # no body: nothing to type
    assert _decisions() == 2


def test_a_configured_origin_is_accepted(app_client, monkeypatch):
    monkeypatch.setenv("GOVFLOW_WEB_ALLOWED_ORIGINS", "https://airflow.bank.example")
    ok = app_client.post(GATE, json={}, headers={"Origin": "https://airflow.bank.example"})
    assert ok.status_code == 200, ok.text
