"""A small client for Airflow 3's REST API v2: trigger runs, follow them, answer approvals.

Used by `govflow submit --trigger` (a training job starts governance_gate)
and by reviewers' scripts and the end-to-end tests (answer a human-in-the-loop
approval the way the UI's Required Actions view does).

Settings come from the environment, read when the client is built:

GOVFLOW_AIRFLOW_URL        base URL of the api-server (default http://localhost:8080)
GOVFLOW_AIRFLOW_USER       user name for ``POST /auth/token`` (default admin)
GOVFLOW_AIRFLOW_PASSWORD   its password; when unset, the SimpleAuthManager passwords
                           file of a local Airflow is read (AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE,
                           else simple_auth_manager_passwords.json.generated in $AIRFLOW_HOME or,
                           unset, in the project's .airflow folder, found as GOVFLOW_HOME's .govflow is)
GOVFLOW_AIRFLOW_TIMEOUT    seconds per HTTP request (default 30)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from govflow import config
from govflow.errors import BadInputError, ConflictError, GovflowError, NotFoundError, PermissionDeniedError
from govflow.vocab import APPROVE_OPTION, REJECT_OPTION

__all__ = [
    "TERMINAL_RUN_STATES",
    "AirflowAuthError",
    "AirflowClient",
    "AirflowError",
    "AirflowUnavailableError",
    "task_api_url",
]

DEFAULT_URL = "http://localhost:8080"
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
# The option labels of the approval request (Airflow's Required Actions).
APPROVE, REJECT = APPROVE_OPTION, REJECT_OPTION


class AirflowError(GovflowError):
    """Airflow answered, but not with what was asked for."""

    exit_code = 2


class AirflowUnavailableError(AirflowError):
    """Nothing answers at the configured URL (or it timed out)."""


class AirflowAuthError(AirflowError):
    """``POST /auth/token`` refused the credentials."""


class AirflowClient:
    """Airflow REST API v2 as a reviewer or a training job sees it.

    One instance holds one token; a 401 on a later call fetches a fresh token once
    (tokens expire) and retries.
    """

    def __init__(
        self,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = (url or os.environ.get("GOVFLOW_AIRFLOW_URL") or DEFAULT_URL).rstrip("/")
        self.username = username or os.environ.get("GOVFLOW_AIRFLOW_USER") or "admin"
        self._password = password
        seconds = timeout or float(os.environ.get("GOVFLOW_AIRFLOW_TIMEOUT") or 30)
        self._http = httpx.Client(base_url=self.url, timeout=seconds, transport=transport)
        self._token: str | None = None
        self._forwarded = False  # a caller's own token: never exchanged for another user's password

    @classmethod
    def acting_for(
        cls,
        token: str,
        url: str | None = None,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> AirflowClient:
        """A client that calls Airflow as the user whose access token it is given (the Governance view
        forwards the signed-in user's token): Airflow's own checks apply to that user. An expired or
        refused token is an error, never retried with other credentials."""
        client = cls(url, timeout=timeout, transport=transport)
        client.username = "(forwarded token)"
        client._token, client._forwarded = token, True
        return client

    # -- lifecycle ---------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- auth --------------------------------------------------------------
    def token(self) -> str:
        """An access token for this user (fetched once, refreshed on 401)."""
        if self._token is None:
            password = self._password if self._password is not None else _password_for(self.username)
            if password is None:
                raise AirflowAuthError(
                    f"no Airflow password for user {self.username!r}: set GOVFLOW_AIRFLOW_PASSWORD"
                )
            response = self._send(
                "POST", "/auth/token", json={"username": self.username, "password": password}
            )
            if response.status_code in (401, 403):
                raise AirflowAuthError(
                    f"Airflow at {self.url} refused the credentials of user {self.username!r}"
                )
            data = _json_or_raise(response, "POST /auth/token")
            token = data.get("access_token") if isinstance(data, dict) else None
            if not token:
                raise AirflowAuthError(
                    f"Airflow at {self.url} returned no access_token for {self.username!r}"
                )
            self._token = token
        return self._token

    # -- DAGs and runs -----------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health`` (no auth needed)."""
        return _json_or_raise(self._send("GET", "/api/v2/monitor/health"), "GET /api/v2/monitor/health")

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        return self._api("GET", f"/dags/{dag_id}")

    def wait_for_dag(self, dag_id: str, *, timeout: float = 120.0, poll: float = 2.0) -> dict[str, Any]:
        """Wait until the dag-processor has parsed ``dag_id`` (a new file takes a moment)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.get_dag(dag_id)
            except NotFoundError:
                if time.monotonic() >= deadline:
                    raise NotFoundError(
                        f"DAG {dag_id!r} did not appear in Airflow within {timeout:.0f}s"
                    ) from None
                time.sleep(poll)

    def set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        return self._api("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Start a run now; ``logical_date`` null so many runs may share a moment."""
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf or {})}
        if run_id:
            body["dag_run_id"] = run_id
        if note:
            body["note"] = note
        return self._api("POST", f"/dags/{dag_id}/dagRuns", json=body)

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self._api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")

    def set_run_note(self, dag_id: str, run_id: str, note: str) -> dict[str, Any]:
        """Replace the run's note (Airflow keeps at most 1000 characters)."""
        return self._api(
            "PATCH",
            f"/dags/{quote(dag_id, safe='')}/dagRuns/{quote(run_id, safe='')}",
            params={"update_mask": "note"},
            json={"note": note[:1000]},
        )

    def list_runs(self, dag_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
        data = self._api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": limit, "order_by": "-run_after"})
        return list(data.get("dag_runs", []))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        # Page through: the API server caps a page ([api] maximum_page_limit, 100 by default).
        found: list[dict[str, Any]] = []
        while True:
            data = self._api(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": len(found)},
            )
            page = list(data.get("task_instances", []))
            found += page
            if not page or len(found) >= int(data.get("total_entries", 0)):
                return found

    def set_variable(self, key: str, value: str) -> dict[str, Any]:
        """Create or replace an Airflow Variable."""
        response = self._send(
            "PATCH", f"/api/v2/variables/{key}", headers=self._auth(), json={"key": key, "value": value}
        )
        if response.status_code == 404:
            return self._api("POST", "/variables", json={"key": key, "value": value})
        return _json_or_raise(response, f"PATCH /api/v2/variables/{key}")

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        data = self._api(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index, "deserialize": True},
        )
        return data.get("value")

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float = 3600.0,
        poll: float = 3.0,
        until: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Poll a run until it ends (or ``until(run)`` holds); returns the last run seen.

        Raises AirflowError when ``timeout`` seconds pass first.
        """
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(dag_id, run_id)
            if run.get("state") in TERMINAL_RUN_STATES or (until is not None and until(run)):
                return run
            if time.monotonic() >= deadline:
                raise AirflowError(
                    f"run {run_id} of {dag_id} still {run.get('state')!r} after {timeout:.0f}s"
                )
            time.sleep(poll)

    # -- human in the loop -------------------------------------------------
    def required_actions(
        self,
        dag_id: str = "~",
        run_id: str = "~",
        *,
        pending: bool | None = True,
        task_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Human-in-the-loop requests (the UI's Required Actions), pending ones by default."""
        params: dict[str, Any] = {"limit": 1000}
        if pending is not None:
            params["response_received"] = str(not pending).lower()
        if task_id:
            params["task_id"] = task_id
        data = self._api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/hitlDetails", params=params)
        return list(data.get("hitl_details", []))

    def hitl_detail(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, *, try_number: int | None = None
    ) -> dict[str, Any]:
        """One task's human-in-the-loop request and its answer, if any (of ``try_number``: an earlier try)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails"
        return self._api("GET", path + (f"/tries/{try_number}" if try_number is not None else ""))

    def wait_for_required_action(
        self,
        dag_id: str,
        run_id: str,
        *,
        task_id: str | None = None,
        timeout: float = 600.0,
        poll: float = 2.0,
    ) -> dict[str, Any]:
        """Wait until a run asks a human for input; fails fast if the run ends first."""
        deadline = time.monotonic() + timeout
        while True:
            actions = self.required_actions(dag_id, run_id, task_id=task_id)
            if actions:
                return actions[0]
            state = self.get_run(dag_id, run_id).get("state")
            if state in TERMINAL_RUN_STATES:
                raise AirflowError(f"run {run_id} of {dag_id} ended {state!r} without asking for approval")
            if time.monotonic() >= deadline:
                raise AirflowError(f"run {run_id} of {dag_id} asked for no approval within {timeout:.0f}s")
            time.sleep(poll)

    def respond(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        chosen_options: Iterable[str],
        *,
        params_input: Mapping[str, Any] | None = None,
        map_index: int = -1,
    ) -> dict[str, Any]:
        """Answer a human-in-the-loop request as this client's user."""
        return self._api(
            "PATCH",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails",
            json={"chosen_options": list(chosen_options), "params_input": dict(params_input or {})},
        )

    def approve(
        self, dag_id: str, run_id: str, task_id: str, *, comment: str | None = None, map_index: int = -1
    ) -> dict[str, Any]:
        return self.respond(
            dag_id,
            run_id,
            task_id,
            [APPROVE],
            map_index=map_index,
            params_input={"comment": comment} if comment is not None else None,
        )

    def reject(
        self, dag_id: str, run_id: str, task_id: str, *, comment: str | None = None, map_index: int = -1
    ) -> dict[str, Any]:
        return self.respond(
            dag_id,
            run_id,
            task_id,
            [REJECT],
            map_index=map_index,
            params_input={"comment": comment} if comment is not None else None,
        )

    # -- plumbing ----------------------------------------------------------
    def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        what = f"{method} /api/v2{path}"
        response = self._send(method, "/api/v2" + path, headers=self._auth(), **kwargs)
        if response.status_code == 401 and not self._forwarded:  # expired token: one fresh try
            self._token = None
            response = self._send(method, "/api/v2" + path, headers=self._auth(), **kwargs)
        return _json_or_raise(response, what)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as err:
            raise AirflowUnavailableError(
                f"Airflow at {self.url} did not answer {method} {path} in time"
            ) from err
        except httpx.TransportError as err:
            raise AirflowUnavailableError(
                f"cannot reach Airflow at {self.url} ({type(err).__name__}); is the api-server running? "
                "set GOVFLOW_AIRFLOW_URL"
            ) from err


def task_api_url() -> str | None:
    """Where task code reaches the REST API: GOVFLOW_AIRFLOW_URL, else Airflow's ``api.base_url``."""
    explicit = os.environ.get("GOVFLOW_AIRFLOW_URL")
    if explicit:
        return explicit
    from airflow.sdk import conf  # heavy, and only meaningful inside Airflow

    return conf.get("api", "base_url", fallback=None)


def _json_or_raise(response: httpx.Response, what: str) -> Any:
    if response.is_success:
        return response.json() if response.content else {}
    detail = _detail(response)
    code = response.status_code
    message = f"{what}: HTTP {code}: {detail}"
    if code == 404:
        raise NotFoundError(message)
    if code == 409:
        raise ConflictError(message)
    if code in (401, 403):
        raise PermissionDeniedError(message)
    if code in (400, 422):
        raise BadInputError(message)
    raise AirflowError(message)


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text.splitlines()[0][:300] if text else response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" if isinstance(d, dict) else str(d)
            for d in detail
        )
    return " ".join(str(detail).split())[:300]


def _password_for(username: str) -> str | None:
    """The env password, else the one a local SimpleAuthManager wrote for this user."""
    explicit = os.environ.get("GOVFLOW_AIRFLOW_PASSWORD")
    if explicit:
        return explicit
    candidates = [os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")]
    airflow_home = config.airflow_home()
    if airflow_home:
        candidates.append(str(Path(airflow_home) / "simple_auth_manager_passwords.json.generated"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            try:
                passwords = json.loads(Path(candidate).read_text() or "{}")
            except (OSError, ValueError):
                continue
            if isinstance(passwords, dict) and username in passwords:
                return str(passwords[username])
    return None
