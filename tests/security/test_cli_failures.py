"""Environment and database failures: one line on stderr, exit 2, no traceback, never a password.

Before, an invalid GOVFLOW_DB_URL was echoed with its password, and an unreachable
or refusing database printed a traceback with exit status 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOVFLOW = str(Path(sys.executable).with_name("govflow"))
SECRET = "s3cr3t-pw"


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    return subprocess.run([GOVFLOW, *args], capture_output=True, text=True, env=full, timeout=120)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://gov:{SECRET}@db.example:notaport/govflow",  # unparsable
        f"postgresql+psycopg2://gov:{SECRET}@127.0.0.1:1/govflow",  # nothing listens there
        f"postgresql+nosuchdriver://gov:{SECRET}@127.0.0.1/govflow",  # driver not installed
    ],
)
def test_a_bad_database_url_is_one_line_exit_2_without_the_password(url, tmp_path):
    done = _run({"GOVFLOW_DB_URL": url, "GOVFLOW_HOME": str(tmp_path)}, "audit", "verify")
    assert done.returncode == 2, done.stderr
    assert SECRET not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("govflow: error: "), done.stderr


@pytest.mark.postgres
def test_a_refused_login_is_one_line_exit_2_without_the_password(pg_template, tmp_path):
    url = f"postgresql+psycopg2://no_such_role_x:{SECRET}@127.0.0.1:5432/{pg_template}"
    done = _run({"GOVFLOW_DB_URL": url, "GOVFLOW_HOME": str(tmp_path)}, "audit", "verify")
    assert done.returncode == 2 and SECRET not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "database error" in done.stderr


def test_an_unwritable_home_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    done = _run({"GOVFLOW_HOME": str(blocker / "home")}, "audit", "verify")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_redaction_covers_every_url_in_a_message():
    from govflow.store import redact_url

    text = "a postgresql+psycopg2://u:p%40ss@h/db and s3://key:secret@bucket/x; sqlite:///x.db"
    assert redact_url(text) == "a postgresql+psycopg2://u:***@h/db and s3://key:***@bucket/x; sqlite:///x.db"
