"""A client acting for a user with their forwarded token calls Airflow as that user, and only as them."""

from __future__ import annotations

import httpx
import pytest

from govflow.airflow_client import AirflowClient
from govflow.errors import PermissionDeniedError


def test_a_forwarded_token_answers_as_its_user_and_is_never_swapped_for_a_password(monkeypatch):
    monkeypatch.setenv("GOVFLOW_AIRFLOW_PASSWORD", "admin-pw")  # must never be used for a forwarded token
    seen: list[tuple[str, str, str | None, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.headers.get("authorization"), request.content))
        if request.url.path == "/auth/token":
            return httpx.Response(200, json={"access_token": "admin-token"})
        if request.headers.get("authorization") == "Bearer rita-token":
            return httpx.Response(200, json={"chosen_options": ["Approve"]})
        return httpx.Response(401, json={"detail": "Token Expired"})

    transport = httpx.MockTransport(handler)
    with AirflowClient.acting_for("rita-token", "http://airflow", transport=transport) as rita:
        answer = rita.approve("governance_gate", "r1", "approval", map_index=1, comment="ok")
    assert answer == {"chosen_options": ["Approve"]}
    assert seen == [
        (
            "PATCH",
            "/api/v2/dags/governance_gate/dagRuns/r1/taskInstances/approval/1/hitlDetails",
            "Bearer rita-token",
            b'{"chosen_options":["Approve"],"params_input":{"comment":"ok"}}',
        )
    ]
    seen.clear()
    with (
        AirflowClient.acting_for("expired", "http://airflow", transport=transport) as stale,
        pytest.raises(PermissionDeniedError, match="401"),
    ):
        stale.approve("governance_gate", "r1", "approval", map_index=1)
    assert [path for _, path, _, _ in seen] == [
        "/api/v2/dags/governance_gate/dagRuns/r1/taskInstances/approval/1/hitlDetails"
    ]  # no POST /auth/token with anyone else's password
