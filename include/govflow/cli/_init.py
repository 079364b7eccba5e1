"""`govflow init DIR`: the starting files of a deployment into an Airflow a team already runs.

1. ``DIR/dags/govflow_dags.py``: the two-line DAG file (the DAGs live in the package);
2. ``DIR/policies/govflow.yaml``: a copy of the bundled default policy, to edit and apply;
3. ``DIR/roles.yaml``: the users-and-roles file, nobody holding a role yet, with how it must be
   owned (``access`` refuses a roles file the service account could write);
4. ``DIR/.env``: the settings' names with this deployment's paths, and no secret.

A file that exists is kept (an operator's edited policy is never replaced); each file gets
one line saying what it is for.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from govflow import data
from govflow.cli._common import add_json_flag
from govflow.cli._output import emit
from govflow.dags import DAG_FILE
from govflow.errors import BadInputError

ROLES_FILE = """\
# govflow users and their roles for this deployment (point GOVFLOW_ROLES_FILE at this file).
#
# Ownership: govflow refuses this file if the account Airflow runs as could change it (like
# sshd's StrictModes). Make it and its folder owned by root or an operator account, read-only
# for everyone else, e.g.:
#     sudo chown root:root {path} && sudo chmod 0644 {path}
# In a container image, COPY it as root (not --chown=airflow); with Kubernetes, mount it from a
# ConfigMap (read-only, root-owned).
#
# Roles: viewer, data_scientist (register, submit), reviewer (approve, waive), admin.
# User names are the names Airflow's auth manager authenticates.
users: {{}}
#   ana:
#     name: Ana Ortiz
#     roles: [reviewer]
# Roles of the auth manager that map to govflow roles (optional):
# auth_manager_roles:
#   Op: [reviewer]
"""

ENV_FILE = """\
# govflow settings of this deployment (written by `govflow init`). No secrets here: keep them in
# Airflow's secrets backend (connections govflow_db and govflow_object_store, README "Configuration").
# Paths are as this machine sees them: change them to where your Airflow workers see these files.
# Each GOVFLOW_X here can also be AIRFLOW__GOVFLOW__X or `x` in the [govflow] section of airflow.cfg.
GOVFLOW_POLICY={policy}
GOVFLOW_ROLES_FILE={roles}
# State folder (SQLite DB, artifacts) for a single machine; fleets set the DB and store below.
GOVFLOW_HOME={home}
# GOVFLOW_DB_URL=            # or the Airflow connection govflow_db (PostgreSQL)
# GOVFLOW_ARTIFACTS=         # e.g. s3://bucket/govflow; credentials: connection govflow_object_store
# GOVFLOW_SIGNING_KEY_FILE=  # PEM, 0600, owned by the service account (README "Keys")
"""


@dataclass(frozen=True)
class _File:
    relative: str
    purpose: str
    text: str
    mode: int


def register(groups: argparse._SubParsersAction) -> None:
    init = groups.add_parser(
        "init",
        help="write a deployment's starting files (DAG file, policy, roles file, .env) into a folder",
        description="Write the starting files of a govflow deployment into DIR: the DAG file for the "
        "Airflow DAG folder, a copy of the default policy, the roles file with its ownership rules and "
        "an .env template without secrets. Existing files are kept.",
    )
    init.add_argument("dir", metavar="DIR", help="folder to write into (created if missing)")
    add_json_flag(init)
    init.set_defaults(handler=_init)


def _files(folder: Path) -> list[_File]:
    policy = folder / "policies" / "govflow.yaml"
    roles = folder / "roles.yaml"
    return [
        _File(
            "dags/govflow_dags.py",
            "the DAG file: copy it into Airflow's DAG folder (the DAGs themselves are in the package)",
            DAG_FILE,
            0o644,
        ),
        _File(
            "policies/govflow.yaml",
            "the policy, a copy of the bundled default: edit it, then `govflow policy apply` it as an admin",
            data.default_policy().read_text(),
            0o644,
        ),
        _File(
            "roles.yaml",
            "who holds which role: add users, then make it root-owned and read-only (see its header)",
            ROLES_FILE.format(path=roles),
            0o644,
        ),
        _File(
            ".env",
            "the settings' names with these paths, no secrets: load it into Airflow's environment",
            ENV_FILE.format(policy=policy, roles=roles, home=folder / "state"),
            0o600,
        ),
    ]


def _init(args: argparse.Namespace) -> int:
    folder = Path(args.dir).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise BadInputError(f"{args.dir} exists and is not a folder")
    results, lines = [], []
    for item in _files(folder):
        path = folder / item.relative
        written = not path.exists()
        if written:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Created with its final mode: the .env never exists world-readable, even briefly.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, item.mode)
            with os.fdopen(fd, "w") as handle:
                handle.write(item.text)
        results.append({"path": str(path), "written": written, "purpose": item.purpose})
        lines.append(f"{'wrote' if written else 'kept '} {item.relative}: {item.purpose}")
    emit({"status": "ok", "dir": str(folder), "files": results}, as_json=args.json, lines=lines)
    return 0
