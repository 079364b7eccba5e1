"""The one configuration of a local Airflow for govflow: `make up`, the demo and the e2e tests use it.

``local_airflow_env`` returns the environment variables (Airflow reads its
settings from ``AIRFLOW__SECTION__KEY``): govflow's DAG and plugin folders, the
LocalExecutor, the demo users for Airflow's (default) simple auth manager (user name =
govflow user name), the API port, base URL and the Execution API URL the task
runner calls, and govflow's own state folder. Callers add what is theirs (the
e2e tests: a PostgreSQL metadata DB, a shared JWT secret, fast DAG parsing).

    python -m govflow.localairflow --home .airflow --port 8080 -- airflow standalone
    python -m govflow.localairflow --home .airflow          # prints KEY=VALUE lines

Run as ``make up`` (the module's command line), the stack is private to this machine and its user
unless told otherwise:

1. the API server listens on ``--bind`` (default ``$GOVFLOW_BIND_HOST``, else 127.0.0.1:
   ``[api] host``); Airflow's task-log servers (``[logging] worker_log_server_port`` 8793,
   ``trigger_log_server_port`` 8794) have no host setting and listen on every interface, so
   ``airflow standalone`` runs its scheduler and triggerer with ``--skip-serve-logs`` while the
   bind address is a loopback one (one machine: the API server reads the task logs from disk);
2. files are created 0600 and folders 0700 (``umask 077`` for Airflow and everything it starts),
   and the files that hold secrets or state from an earlier run (the simple auth manager's
   generated passwords, Airflow's and govflow's SQLite DBs) are made 0600;
3. ``GOVFLOW_DEV_MODE`` is not set: the API server and the workers act only for users Airflow
   authenticated (``--dev-mode`` turns it on; the demo's own processes set it themselves).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govflow.dags import DAG_FILE

__all__ = [
    "AIRFLOW_USERS",
    "BIND_ENV",
    "DEFAULT_BIND",
    "SECRET_FILES",
    "SIMPLE_AUTH_MANAGER",
    "find_project",
    "local_airflow_env",
    "main",
    "private_files",
]

# Airflow users of the demo and of `make up` (user name = govflow user name; role = Airflow's).
AIRFLOW_USERS = "admin:admin,rita:user,rob:user,alice:user,dave:user,vera:viewer"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
BIND_ENV = "GOVFLOW_BIND_HOST"
DEFAULT_BIND = "127.0.0.1"
# Under AIRFLOW_HOME / GOVFLOW_HOME: the generated passwords (admin's included) and the SQLite DBs.
SECRET_FILES = ("simple_auth_manager_passwords.json.generated", "airflow.db")
GOVFLOW_SECRET_FILES = ("govflow.db",)


def find_project(start: Path | None = None) -> Path | None:
    """The govflow checkout to serve DAGs and plugin from, or None for an installed package.

    A checkout has ``dags/govflow_dags.py`` and ``include/govflow``: looked for from
    where this module was imported from (an editable install, ``PYTHONPATH=include``),
    then from ``start`` (default: the working folder) upwards. A wheel in site-packages has neither: the DAG
    file is then written into the Airflow home and the plugin comes from its entry point.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (Path(__file__).resolve().parents[2], here, *here.parents):
        if (folder / "dags" / "govflow_dags.py").is_file() and (folder / "include" / "govflow").is_dir():
            return folder
    return None


def local_airflow_env(
    *,
    home: Path,
    project: Path | None = None,
    port: int | None = None,
    host: str = "localhost",
    users: str | None = None,
    passwords_file: Path | None = None,
    sql_alchemy_conn: str | None = None,
    govflow_home: Path | None = None,
    parallelism: int | None = None,
    dev_mode: bool = True,
    bind: str | None = None,
) -> dict[str, str]:
    """The Airflow (and govflow) settings of a local Airflow running govflow's DAGs and plugin.

    ``port`` is the API server's (omit it for ``dag.test()`` runs, which need no
    server); ``users`` is Airflow's ``name:role,...`` list (default: the demo
    users, or ``$AIRFLOW_USERS``). ``dev_mode`` lets the CLI act as the demo
    users (``--as``); reviewers still answer through Airflow with their own tokens.
    ``bind`` is the address the API server listens on (``[api] host``).
    """
    project = project or find_project()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags" if project else _installed_dags_folder(home)),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": users or os.environ.get("AIRFLOW_USERS") or AIRFLOW_USERS,
    }
    if project is not None:  # an installed package registers its plugin through its entry point
        env["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(project / "plugins")
    if port is not None:
        url = f"http://{host}:{port}"
        env |= {
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        }
    if bind is not None:
        env["AIRFLOW__API__HOST"] = bind
    if parallelism is not None:  # a running scheduler's task slots (dag.test() runs need none)
        env["AIRFLOW__CORE__PARALLELISM"] = str(parallelism)
    if passwords_file is not None:
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords_file)
    if sql_alchemy_conn is not None:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = sql_alchemy_conn
    if govflow_home is not None:
        env["GOVFLOW_HOME"] = str(govflow_home)
    if dev_mode:
        env["GOVFLOW_DEV_MODE"] = "1"
    return env


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def private_files(airflow_home: Path, govflow_home: Path | None = None) -> list[Path]:
    """Make the secret and state files of an earlier run owner-only (0600); returns those found."""
    found = [airflow_home / name for name in SECRET_FILES]
    if govflow_home is not None:
        found += [govflow_home / name for name in GOVFLOW_SECRET_FILES]
    found = [path for path in found if path.is_file()]
    for path in found:
        path.chmod(0o600)
    return found


def _standalone(*, serve_logs: bool) -> int:
    """``airflow standalone`` in this process; without ``serve_logs`` its scheduler and triggerer
    start no task-log server (the one Airflow component that cannot be told where to listen)."""
    from airflow.cli.commands import standalone_command

    if not serve_logs:
        original = standalone_command.SubCommand.__init__

        def without_log_server(
            self: Any, parent: Any, name: str, command: list[str], env: dict[str, str]
        ) -> None:
            if name in ("scheduler", "triggerer"):
                command = [*command, "--skip-serve-logs"]
            original(self, parent, name=name, command=command, env=env)

        standalone_command.SubCommand.__init__ = without_log_server  # type: ignore[method-assign]
    standalone_command.StandaloneCommand().run()
    return 0


def _installed_dags_folder(home: Path) -> Path:
    """``HOME/dags`` holding the two-line DAG file of an installed govflow (what ``govflow init`` writes)."""
    folder = home / "dags"
    folder.mkdir(parents=True, exist_ok=True)
    dag_file = folder / "govflow_dags.py"
    if not dag_file.is_file():
        dag_file.write_text(DAG_FILE)
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[args.index("--") + 1 :] if "--" in args else []
    options = args[: args.index("--")] if "--" in args else args
    parser = argparse.ArgumentParser(
        prog="python -m govflow.localairflow",
        description="Run COMMAND (after --) with the local Airflow settings, or print them.",
    )
    parser.add_argument("--home", type=Path, required=True, help="AIRFLOW_HOME")
    parser.add_argument(
        "--project", type=Path, default=None, help="the govflow checkout (default: found, else the package)"
    )
    parser.add_argument("--port", type=int, help="the API server's port")
    parser.add_argument(
        "--bind",
        default=os.environ.get(BIND_ENV) or DEFAULT_BIND,
        help=f"address the API server listens on (default ${BIND_ENV}, else {DEFAULT_BIND})",
    )
    parser.add_argument("--users", help="Airflow users, name:role,...")
    parser.add_argument("--govflow-home", type=Path, help="GOVFLOW_HOME")
    parser.add_argument("--parallelism", type=int, help="task slots of the scheduler")
    parser.add_argument(
        "--dev-mode", action="store_true", help="set GOVFLOW_DEV_MODE=1 for every process (off by default)"
    )
    parsed = parser.parse_args(options)
    env = local_airflow_env(
        home=parsed.home.resolve(),
        project=parsed.project.resolve() if parsed.project else None,
        port=parsed.port,
        users=parsed.users,
        govflow_home=parsed.govflow_home.resolve() if parsed.govflow_home else None,
        parallelism=parsed.parallelism,
        dev_mode=parsed.dev_mode,
        bind=parsed.bind if parsed.port is not None else None,
    )
    if not command:
        print("\n".join(f"{k}={shlex.quote(v)}" for k, v in env.items()))
        return 0
    os.umask(0o077)  # inherited by Airflow and every process it starts: new files 0600, folders 0700
    parsed.home.mkdir(parents=True, exist_ok=True)
    private_files(parsed.home, parsed.govflow_home)
    os.environ.update(env)
    if "GOVFLOW_DEV_MODE" not in env:
        os.environ.pop("GOVFLOW_DEV_MODE", None)  # not inherited from the shell either
    if [Path(command[0]).name, *command[1:]] == ["airflow", "standalone"]:
        return _standalone(serve_logs=not is_loopback(parsed.bind))
    os.execvpe(command[0], command, os.environ)  # replaces this process: signals reach Airflow
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
