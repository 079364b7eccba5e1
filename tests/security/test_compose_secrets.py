"""docker-compose.yaml carries no default secret; `make compose-env` generates them into an untracked .env.

Before, AIRFLOW_JWT_SECRET defaulted to `change-me-in-production`: a forged HS512
token for `rita` was accepted. Now compose refuses to start without a generated value.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
SECRET_VARS = (
    "POSTGRES_PASSWORD",
    "GOVFLOW_DB_OWNER_PASSWORD",
    "GOVFLOW_DB_APP_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_FERNET_KEY",
    "GOVFLOW_SIGNING_KEY",
    "GOVFLOW_CHECK_SIGNING_KEY",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
)
# Settings whose value is (or embeds) a secret: each must come from a required variable.
SECRET_SETTINGS = re.compile(r"(PASSWORD|SECRET|FERNET|SIGNING_KEY|SQL_ALCHEMY_CONN|RESULT_BACKEND|DB_URL)")


def _compose_env() -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(node, where=""):  # type: ignore[no-untyped-def]
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "environment" and isinstance(value, dict):
                    found.update({f"{where}.{k}": str(v) for k, v in value.items()})
                walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(yaml.safe_load(COMPOSE.read_text()))
    return found


def _load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("compose_env", ROOT / "scripts" / "compose_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_secret_has_a_default_in_compose():
    text = COMPOSE.read_text()
    assert "change-me" not in text
    for name in SECRET_VARS:
        uses = re.findall(r"(?<!\$)\$\{" + name + r"(:?[-?][^}]*)?\}", text)
        assert uses, f"{name} is not used by docker-compose.yaml"
        assert all(use.startswith(":?") for use in uses), f"{name} must be required (${{{name}:?...}})"
    settings = {k: v for k, v in _compose_env().items() if SECRET_SETTINGS.search(k.rsplit(".", 1)[-1])}
    assert settings
    for key, value in settings.items():
        assert "${" in value and ":?" in value, f"{key} has a literal or defaulted secret: {value}"


def test_the_services_use_the_row_only_role_and_the_init_uses_the_owner():
    env = _compose_env()
    urls = {k: v for k, v in env.items() if k.endswith("GOVFLOW_DB_URL")}
    assert urls and all("govflow_app:" in v for v in urls.values())
    init = yaml.safe_load(COMPOSE.read_text())["services"]["airflow-init"]
    command = " ".join(init["command"])
    assert "govflow_owner:" in command and "govflow-db-grants.sql" in command


def test_compose_env_writes_every_secret_0600_and_never_overwrites(tmp_path):
    out = tmp_path / ".env"
    keys = ["--trusted-keys", str(tmp_path / "trusted-keys")]
    done = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            str(ROOT / "scripts" / "compose_env.py"),
            "--out",
            str(out),
            *keys,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    values = dict(line.split("=", 1) for line in out.read_text().splitlines() if not line.startswith("#"))
    assert set(values) == set(SECRET_VARS)
    assert len(set(values.values())) == len(values)  # no two the same
    Fernet(values["AIRFLOW_FERNET_KEY"].encode())  # a valid Fernet key
    assert len(base64.b64decode(values["GOVFLOW_SIGNING_KEY"])) == 32
    assert len(base64.b64decode(values["GOVFLOW_CHECK_SIGNING_KEY"])) == 32
    # Both public keys in the trusted folder; the check key's as check-*.pub (check results only).
    assert sorted(p.name for p in (tmp_path / "trusted-keys").iterdir()) == [
        "check-worker.pub",
        "decision.pub",
    ]
    assert len(values["AIRFLOW_JWT_SECRET"]) >= 64
    before = out.read_bytes()
    again = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "python"),
            str(ROOT / "scripts" / "compose_env.py"),
            "--out",
            str(out),
            *keys,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "not overwriting" in again.stderr
    assert out.read_bytes() == before


def test_two_runs_generate_different_secrets():
    module = _load_generator()
    first, second = module.generate(), module.generate()
    assert all(first[k] != second[k] for k in first)


@pytest.mark.parametrize("ignored", [".env"])
def test_the_env_file_is_git_ignored(ignored):
    done = subprocess.run(["git", "check-ignore", "-q", ignored], cwd=ROOT, timeout=30)
    assert done.returncode == 0


def test_only_the_api_server_init_and_decision_worker_hold_the_decision_key():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    holders = {
        name for name, svc in services.items() if "GOVFLOW_SIGNING_KEY" in (svc.get("environment") or {})
    }
    assert holders == {"airflow-init", "api-server", "worker-gov"}
    checkers = {
        n for n, svc in services.items() if "GOVFLOW_CHECK_SIGNING_KEY" in (svc.get("environment") or {})
    }
    assert checkers == {"worker-1", "worker-2"}
    assert (
        services["worker-gov"]["command"][services["worker-gov"]["command"].index("--queues") + 1] == "govern"
    )
    for name in checkers:
        queues = services[name]["command"][services[name]["command"].index("--queues") + 1].split(",")
        assert "govern" not in queues
