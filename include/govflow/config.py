"""Settings from the environment, read when asked (never cached at import).

GOVFLOW_HOME        state folder (default ~/.govflow): SQLite DB, artifacts
GOVFLOW_DB_URL      SQLAlchemy URL of the governance DB (default SQLite in GOVFLOW_HOME)
GOVFLOW_ARTIFACTS   artifact store root, a folder or fsspec URL (default GOVFLOW_HOME/artifacts)
GOVFLOW_POLICY      policy YAML (default: include/policies/default.yaml)
GOVFLOW_USERS       users-and-roles YAML (default: GOVFLOW_HOME/users.yaml, else the bundled one)
GOVFLOW_USER        the acting user for the CLI when --as is not given
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# include/ holds policies, suites and sample data next to the package.
INCLUDE_DIR = PACKAGE_DIR.parent


def home() -> Path:
    return Path(os.environ.get("GOVFLOW_HOME") or Path.home() / ".govflow").expanduser()


def db_url() -> str:
    url = os.environ.get("GOVFLOW_DB_URL")
    if url:
        return url
    return f"sqlite:///{home() / 'govflow.db'}"


def artifacts_root() -> str:
    return os.environ.get("GOVFLOW_ARTIFACTS") or str(home() / "artifacts")


def policy_path() -> Path:
    return Path(os.environ.get("GOVFLOW_POLICY") or INCLUDE_DIR / "policies" / "default.yaml")


def users_path() -> Path:
    explicit = os.environ.get("GOVFLOW_USERS")
    if explicit:
        return Path(explicit)
    local = home() / "users.yaml"
    return local if local.exists() else INCLUDE_DIR / "policies" / "users.yaml"


def current_user(explicit: str | None = None) -> str | None:
    return explicit or os.environ.get("GOVFLOW_USER") or None
