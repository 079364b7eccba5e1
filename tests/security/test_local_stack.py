"""`make up` (govflow.localairflow): private to this machine and user unless told otherwise.

Before, the API server listened on 0.0.0.0, the task-log servers on 0.0.0.0:8793/8794, the
API server and workers ran with GOVFLOW_DEV_MODE=1, and the generated passwords file (admin's
included) and both SQLite DBs were world-readable.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from govflow import localairflow

REPO = Path(__file__).resolve().parents[2]


def _run(*argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "govflow.localairflow", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=(os.environ | {"PYTHONPATH": str(REPO / "include")}) | (env or {}),
    )
    return done.stdout


def _settings(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_the_api_server_binds_loopback_unless_told_otherwise(tmp_path):
    settings = _settings(_run("--home", str(tmp_path), "--port", "8125"))
    assert settings["AIRFLOW__API__HOST"] == "127.0.0.1"
    told = _settings(_run("--home", str(tmp_path), "--port", "8125", env={"GOVFLOW_BIND_HOST": "0.0.0.0"}))
    assert told["AIRFLOW__API__HOST"] == "0.0.0.0"
    assert (
        _settings(_run("--home", str(tmp_path), "--port", "8125", "--bind", "::1"))["AIRFLOW__API__HOST"]
        == "::1"
    )


def test_make_up_processes_run_without_dev_mode_and_create_private_files(tmp_path):
    probe = (
        "import os, pathlib; p = pathlib.Path(os.environ['AIRFLOW_HOME'], 'new.db'); p.write_text('x'); "
        "print(oct(p.stat().st_mode & 0o777), os.environ.get('GOVFLOW_DEV_MODE'))"
    )
    out = _run("--home", str(tmp_path / "af"), "--port", "8126", "--", sys.executable, "-c", probe,
               env={"GOVFLOW_DEV_MODE": "1"})  # fmt: skip
    assert out.split() == ["0o600", "None"]
    assert "GOVFLOW_DEV_MODE" not in _settings(_run("--home", str(tmp_path), "--port", "8125"))
    assert _settings(_run("--home", str(tmp_path), "--dev-mode"))["GOVFLOW_DEV_MODE"] == "1"


def test_passwords_and_databases_of_an_earlier_run_become_owner_only(tmp_path):
    airflow_home, govflow_home = tmp_path / "af", tmp_path / "gov"
    airflow_home.mkdir()
    govflow_home.mkdir()
    files = [
        airflow_home / "simple_auth_manager_passwords.json.generated",
        airflow_home / "airflow.db",
        govflow_home / "govflow.db",
    ]
    for path in files:
        path.write_text("{}")
        path.chmod(0o644)
    _run("--home", str(airflow_home), "--govflow-home", str(govflow_home), "--", sys.executable, "-c", "")
    assert [stat.S_IMODE(p.stat().st_mode) for p in files] == [0o600, 0o600, 0o600]


def test_standalone_starts_no_task_log_server_on_a_loopback_bind(monkeypatch):
    from airflow.cli.commands import standalone_command

    monkeypatch.setattr(standalone_command.SubCommand, "__init__", standalone_command.SubCommand.__init__)
    commands: dict[str, list[str]] = {}

    class Standalone:
        def run(self) -> None:
            for name in ("scheduler", "dag-processor", "api-server", "triggerer"):
                sub = standalone_command.SubCommand(None, name=name, command=[name], env={})
                commands[name] = sub.command

    monkeypatch.setattr(standalone_command, "StandaloneCommand", Standalone)
    localairflow._standalone(serve_logs=False)
    assert commands["scheduler"] == ["scheduler", "--skip-serve-logs"]
    assert commands["triggerer"] == ["triggerer", "--skip-serve-logs"]
    assert commands["api-server"] == ["api-server"]
    assert localairflow.is_loopback("127.0.0.1") and localairflow.is_loopback("::1")
    assert not localairflow.is_loopback("0.0.0.0")
