"""AirflowClient against a fake transport: request shapes, token refresh, one-line errors.

The same client runs against a real Airflow in tests/e2e.
"""

from __future__ import annotations

import json

import httpx
import pytest

from govflow.airflow_client import AirflowAuthError, AirflowClient, AirflowUnavailableError
from govflow.errors import ConflictError, NotFoundError, PermissionDeniedError


def make_client(handler, **kwargs) -> AirflowClient:
    return AirflowClient("http://af.test", "rita", "pw", transport=httpx.MockTransport(handler), **kwargs)


def test_trigger_posts_conf_with_null_logical_date_and_bearer_token():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/auth/token":
            assert json.loads(request.content) == {"username": "rita", "password": "pw"}
            return httpx.Response(201, json={"access_token": "tok"})
        assert request.headers["Authorization"] == "Bearer tok"
        return httpx.Response(200, json={"dag_run_id": "r1", "state": "queued"})

    run = make_client(handler).trigger("governance_gate", {"model": "m", "version": "1"})
    assert run["dag_run_id"] == "r1"
    post = seen[-1]
    assert post.method == "POST" and post.url.path == "/api/v2/dags/governance_gate/dagRuns"
    assert json.loads(post.content) == {"logical_date": None, "conf": {"model": "m", "version": "1"}}


def test_expired_token_is_refreshed_once():
    tokens = iter(["old", "new"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": next(tokens)})
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"detail": "expired"})
        return httpx.Response(200, json={"dag_run_id": "r1", "state": "success"})

    assert make_client(handler).get_run("d", "r1")["state"] == "success"


def test_respond_patches_the_hitl_detail_of_the_task():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "tok"})
        seen.append(request)
        return httpx.Response(200, json={"chosen_options": ["Approve"]})

    make_client(handler).approve("g", "r1", "approval", comment="ok")
    assert seen[0].method == "PATCH"
    assert seen[0].url.path == "/api/v2/dags/g/dagRuns/r1/taskInstances/approval/-1/hitlDetails"
    assert json.loads(seen[0].content) == {"chosen_options": ["Approve"], "params_input": {"comment": "ok"}}


def test_bad_credentials_are_one_clear_line():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"detail": "Invalid credentials"})

    with pytest.raises(AirflowAuthError, match="refused the credentials of user 'rita'"):
        make_client(handler).trigger("g")


def test_unreachable_airflow_names_the_url_and_the_setting():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(AirflowUnavailableError) as err:
        make_client(handler).trigger("g")
    assert "cannot reach Airflow at http://af.test" in str(err.value)
    assert "GOVFLOW_AIRFLOW_URL" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFoundError), (409, ConflictError), (403, PermissionDeniedError)]
)
def test_http_errors_map_to_domain_errors_with_the_server_detail(status, error):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "tok"})
        return httpx.Response(status, json={"detail": "User=dana (id=dana) is not a respondent"})

    with pytest.raises(error, match=rf"HTTP {status}: User=dana \(id=dana\) is not a respondent"):
        make_client(handler).reject("g", "r1", "approval")


def test_password_falls_back_to_the_local_simple_auth_manager_file(tmp_path, monkeypatch):
    (tmp_path / "simple_auth_manager_passwords.json.generated").write_text('{"admin": "s3cret"}')
    monkeypatch.delenv("GOVFLOW_AIRFLOW_PASSWORD", raising=False)
    monkeypatch.delenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(201, json={"access_token": "tok"})

    client = AirflowClient("http://af.test", "admin", transport=httpx.MockTransport(handler))
    assert client.token() == "tok"
    assert bodies == [{"username": "admin", "password": "s3cret"}]


def test_task_instances_pages_past_the_servers_page_cap():
    # Airflow caps a page at [api] maximum_page_limit (100): a 250-task run needs three pages.
    tis = [{"task_id": f"t{i}", "map_index": -1} for i in range(250)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "tok"})
        offset, limit = int(request.url.params["offset"]), min(100, int(request.url.params["limit"]))
        page = tis[offset : offset + limit]
        return httpx.Response(200, json={"task_instances": page, "total_entries": len(tis)})

    assert make_client(handler).task_instances("d", "r") == tis


def test_set_variable_replaces_or_creates():
    existing: dict[str, str] = {"a": "1"}
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/auth/token":
            return httpx.Response(201, json={"access_token": "tok"})
        seen.append((request.method, request.url.path))
        body = json.loads(request.content)
        if request.method == "PATCH" and body["key"] not in existing:
            return httpx.Response(404, json={"detail": "not found"})
        existing[body["key"]] = body["value"]
        return httpx.Response(200, json=body)

    client = make_client(handler)
    client.set_variable("a", "2")
    client.set_variable("b", "3")
    assert existing == {"a": "2", "b": "3"}
    assert seen == [
        ("PATCH", "/api/v2/variables/a"),
        ("PATCH", "/api/v2/variables/b"),
        ("POST", "/api/v2/variables"),
    ]
