"""`govflow login` and the CLI acting for a person through the Governance API, identity proven by the token.

A real HTTP server (uvicorn) serves govflow's Governance app behind a token
endpoint that stands in for Airflow's ``POST /auth/token`` and auth manager
(the Airflow side itself is exercised by the e2e tests).
"""

# No `from __future__ import annotations`: FastAPI reads the stand-in routes' types at runtime.

import io
import json
import secrets
import socket
import stat
import threading
import time

import pytest
from sqlalchemy import select

from govflow.store import Approval, session_scope
from tests._helpers import VERSION, checked_version, cli

PASSWORDS = {"rita": "rita-pw", "rob": "rob-pw", "alice": "alice-pw"}


def _airflow_like_app():  # type: ignore[no-untyped-def]
    from fastapi import FastAPI, Header, HTTPException
    from pydantic import BaseModel

    from govflow.web import create_app

    tokens: dict[str, str] = {}

    class Credentials(BaseModel):
        username: str
        password: str

    app = FastAPI()

    @app.post("/auth/token", status_code=201)
    def token(body: Credentials) -> dict[str, str]:
        if PASSWORDS.get(body.username) != body.password:
            raise HTTPException(status_code=401, detail="Invalid credentials")
        issued = secrets.token_urlsafe(24)
        tokens[issued] = body.username
        return {"access_token": issued}

    def bearer(authorization: str | None = Header(default=None)) -> str:
        name = tokens.get((authorization or "").removeprefix("Bearer "))
        if name is None:
            raise HTTPException(status_code=401, detail="Not authenticated")
        return name

    app.mount("/governance", create_app(user_dependency=bearer))
    return app


@pytest.fixture(scope="module")
def server():
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(_airflow_like_app(), host="127.0.0.1", port=port, log_level="error")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def version(db_url, sample_files, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVFLOW_TOKEN_FILE", str(tmp_path / "config" / "token.json"))
    checked_version(sample_files)
    return tmp_path / "config" / "token.json"


def run(capsys, monkeypatch, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli(capsys, *argv)


def login(capsys, monkeypatch, server: str, user: str, password: str | None = None) -> tuple[int, str, str]:
    return run(
        capsys,
        monkeypatch,
        "login",
        "--user",
        user,
        "--url",
        server,
        "--password-stdin",
        stdin=(password or PASSWORDS[user]) + "\n",
    )


def test_login_keeps_the_token_private_and_the_api_acts_as_its_owner(server, version, capsys, monkeypatch):
    code, out, err = login(capsys, monkeypatch, server, "rita")
    assert code == 0 and "as rita" in out, err
    assert stat.S_IMODE(version.stat().st_mode) == 0o600
    code, out, err = run(capsys, monkeypatch, "approve", *VERSION, "--comment", "reviewed", "--api", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["approver"] == "rita" and answer["auth_method"] == "airflow"

    login(capsys, monkeypatch, server, "rob")
    run(capsys, monkeypatch, "approve", *VERSION, "--comment", "reviewed", "--api")
    code, out, _ = run(capsys, monkeypatch, "gate", *VERSION, "--api", "--json")
    decision = json.loads(out)
    assert code == 0 and decision["decision"] == "approved"
    assert decision["approvals"]["approved_by"] == ["rita", "rob"] and decision["decided_by"] == "rob"
    with session_scope() as s:
        assert {(a.approver, a.auth_method) for a in s.scalars(select(Approval))} == {
            ("rita", "airflow"),
            ("rob", "airflow"),
        }


def test_the_token_not_a_typed_name_decides_who_acts(server, version, capsys, monkeypatch):
    login(capsys, monkeypatch, server, "alice")
    code, _, err = run(capsys, monkeypatch, "approve", *VERSION, "--comment", "x", "--api", "--as", "rita")
    assert code == 2 and "--as cannot be combined with --api" in err
    # alice submitted the version: separation of duties holds through the API too.
    code, _, err = run(capsys, monkeypatch, "approve", *VERSION, "--comment", "mine", "--api")
    assert code == 1 and "permission denied" in err and err.count("\n") == 1


def test_bad_credentials_a_readable_or_forged_token_are_refused(server, version, capsys, monkeypatch):
    code, _, err = login(capsys, monkeypatch, server, "rita", "guess")
    assert code == 1 and "refused the credentials of 'rita'" in err and not version.exists()
    login(capsys, monkeypatch, server, "rita")
    version.chmod(0o644)
    code, _, err = run(capsys, monkeypatch, "approve", *VERSION, "--comment", "x", "--api")
    assert code == 1 and "accessible to other users (mode 0644)" in err
    data = json.loads(version.read_text())
    data["access_token"], data["user"] = "forged", "rob"
    version.write_text(json.dumps(data))
    version.chmod(0o600)
    code, _, err = run(capsys, monkeypatch, "approve", *VERSION, "--comment", "x", "--api")
    assert code == 1 and "refused the saved token" in err
    with session_scope() as s:
        assert s.scalars(select(Approval)).all() == []
    run(capsys, monkeypatch, "logout")
    assert not version.exists()
