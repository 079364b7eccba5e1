"""`govflow login`: an Airflow access token kept in a 0600 file, and the Governance API used with it.

The CLI acts for a person through the Governance view's API (the plugin at
``/governance``), where Airflow's auth manager checks the token: the identity is
the token's, never a name typed on the command line. Like airflowctl, the token
lives in a file only its owner can read: ``$GOVFLOW_TOKEN_FILE``, default
``~/.config/govflow/token.json`` (``$XDG_CONFIG_HOME`` respected); a token file
others can read is refused.

GOVFLOW_AIRFLOW_URL       the api-server (default http://localhost:8080)
GOVFLOW_AIRFLOW_PASSWORD  the password for `govflow login` (else --password-stdin or a prompt)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from govflow.errors import BadInputError, ConflictError, GovflowError, NotFoundError, PermissionDeniedError
from govflow.files import atomic_write

DEFAULT_URL = "http://localhost:8080"
GOVERNANCE_PREFIX = "/governance/api"


class ApiError(GovflowError):
    """The Governance API could not be reached or answered something unexpected."""

    exit_code = 2


def token_path() -> Path:
    explicit = os.environ.get("GOVFLOW_TOKEN_FILE")
    if explicit:
        return Path(explicit).expanduser()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config_home / "govflow" / "token.json"


@dataclass(frozen=True)
class Login:
    url: str
    user: str
    access_token: str


def login(
    url: str, user: str, password: str, *, transport: httpx.BaseTransport | None = None
) -> tuple[Login, Path]:
    """``POST /auth/token`` with the user's password; keep the token in the 0600 token file."""
    url = url.rstrip("/")
    with httpx.Client(base_url=url, timeout=30, transport=transport) as http:
        try:
            response = http.post("/auth/token", json={"username": user, "password": password})
        except httpx.HTTPError as err:
            raise ApiError(f"cannot reach Airflow at {url}: {type(err).__name__}") from err
    if response.status_code in (401, 403):
        raise PermissionDeniedError(f"Airflow at {url} refused the credentials of {user!r}")
    token = _json(response, "POST /auth/token").get("access_token")
    if not token:
        raise ApiError(f"Airflow at {url} returned no access_token")
    session = Login(url=url, user=user, access_token=str(token))
    return session, save(session)


def save(session: Login) -> Path:
    path = token_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = {
        "url": session.url,
        "user": session.user,
        "access_token": session.access_token,
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    # Created 0600 from the start (never briefly readable), then renamed over the old one.
    atomic_write(path, lambda handle: handle.write(json.dumps(body).encode("utf-8")), mode=0o600)
    return path


def load() -> Login:
    path = token_path()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as err:
        raise BadInputError(f"not logged in (no token at {path}): run `govflow login` first") from err
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PermissionDeniedError(
            f"token file {path} is accessible to other users (mode {stat.S_IMODE(mode):04o}): "
            "delete it and run `govflow login` again"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Login(url=data["url"], user=data["user"], access_token=data["access_token"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise BadInputError(f"token file {path} is unreadable: run `govflow login` again") from err


def logout() -> Path:
    path = token_path()
    path.unlink(missing_ok=True)
    return path


class GovernanceApi:
    """The Governance view's JSON API as the logged-in user."""

    def __init__(self, session: Login | None = None, *, transport: httpx.BaseTransport | None = None) -> None:
        self.session = session or load()
        self._http = httpx.Client(
            base_url=self.session.url + GOVERNANCE_PREFIX,
            timeout=60,
            transport=transport,
            headers={"Authorization": f"Bearer {self.session.access_token}"},
        )

    def close(self) -> None:
        self._http.close()

    def approve(self, model: str, version: str, *, verdict: str, comment: str) -> dict[str, Any]:
        return self._post(
            _version_path(model, version, "approvals"), {"verdict": verdict, "comment": comment}
        )

    def waive(self, model: str, version: str, *, check: str, reason: str) -> dict[str, Any]:
        return self._post(_version_path(model, version, "waivers"), {"check": check, "reason": reason})

    def apply_policy(self, text: str, *, source: str) -> dict[str, Any]:
        return self._post("/api/policy", {"text": text, "source": source})

    def gate(self, model: str, version: str) -> dict[str, Any]:
        return self._post(_version_path(model, version, "gate"), None)

    def _post(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = self._http.post(path, json=body)
        except httpx.HTTPError as err:
            raise ApiError(
                f"cannot reach the Governance API at {self.session.url}: {type(err).__name__}"
            ) from err
        if response.status_code == 401:
            raise PermissionDeniedError(
                f"Airflow at {self.session.url} refused the saved token (expired?): run `govflow login` again"
            )
        detail = _detail(response)
        error = {403: PermissionDeniedError, 404: NotFoundError, 409: ConflictError}.get(response.status_code)
        if error is not None:
            raise error(detail)
        if response.status_code in (400, 422):
            raise BadInputError(detail)
        return _json(response, f"POST {GOVERNANCE_PREFIX}{path}")


def _version_path(model: str, version: str, what: str) -> str:
    return f"/models/{quote(model, safe='')}/versions/{quote(version, safe='')}/{what}"


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, list):  # FastAPI's validation errors
        detail = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict)) or None
    return str(detail or f"HTTP {response.status_code}")


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise ApiError(f"{what} failed: {_detail(response)}")
    try:
        data = response.json()
    except ValueError as err:
        raise ApiError(f"{what} answered something that is not JSON") from err
    if not isinstance(data, dict):
        raise ApiError(f"{what} answered {type(data).__name__}, expected an object")
    return data
