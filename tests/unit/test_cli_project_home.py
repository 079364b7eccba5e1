"""The CLI finds the project's .govflow/.airflow like git finds .git; reads never create state."""

from __future__ import annotations

from pathlib import Path

import pytest

from govflow import config
from govflow.airflow_client import _password_for
from govflow.cli import main
from govflow.store import dispose_engines


@pytest.fixture
def no_home_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No GOVFLOW_HOME/AIRFLOW_HOME, and a user home of its own (so ~/.govflow is observable)."""
    monkeypatch.delenv("GOVFLOW_HOME", raising=False)
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    monkeypatch.delenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", raising=False)
    monkeypatch.delenv("GOVFLOW_AIRFLOW_PASSWORD", raising=False)
    user_home = tmp_path / "user"
    user_home.mkdir()
    monkeypatch.setenv("HOME", str(user_home))
    return user_home


def test_home_is_the_nearest_project_govflow_folder(no_home_env, tmp_path, monkeypatch):
    project = tmp_path / "checkout"
    (project / ".govflow").mkdir(parents=True)
    (project / "include" / "sample").mkdir(parents=True)
    monkeypatch.chdir(project / "include" / "sample")
    assert config.home() == project / ".govflow"
    assert config.db_url() == f"sqlite:///{project / '.govflow' / 'govflow.db'}"
    # GOVFLOW_HOME still wins.
    monkeypatch.setenv("GOVFLOW_HOME", str(tmp_path / "elsewhere"))
    assert config.home() == tmp_path / "elsewhere"


def test_home_outside_any_project_is_the_users(no_home_env, tmp_path, monkeypatch):
    outside = tmp_path / "scratch"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert config.home() == no_home_env / ".govflow"
    assert config.airflow_home() is None


def test_airflow_password_comes_from_the_project_airflow_folder(no_home_env, tmp_path, monkeypatch):
    project = tmp_path / "checkout"
    (project / ".airflow").mkdir(parents=True)
    (project / ".airflow" / "simple_auth_manager_passwords.json.generated").write_text('{"admin": "s3cret"}')
    monkeypatch.chdir(project)
    assert config.airflow_home() == project / ".airflow"
    assert _password_for("admin") == "s3cret"


def test_a_read_on_a_missing_db_says_one_line_and_creates_nothing(no_home_env, tmp_path, monkeypatch, capsys):
    outside = tmp_path / "scratch"
    outside.mkdir()
    monkeypatch.chdir(outside)
    for argv in (["model", "list"], ["version", "show", "--model", "m", "--version", "1"]):
        dispose_engines()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert "no governance DB at" in err[0] and "GOVFLOW_HOME" in err[0]
    assert not (no_home_env / ".govflow").exists()


def test_a_read_inside_the_project_reads_its_state(no_home_env, tmp_path, monkeypatch, capsys):
    project = tmp_path / "checkout"
    (project / ".govflow").mkdir(parents=True)
    monkeypatch.chdir(project)
    dispose_engines()
    # A write creates the DB in the project's folder; the read then finds the model there.
    assert (
        main(
            [
                "model",
                "register",
                "--name",
                "m1",
                "--owner",
                "o@x.example",
                "--risk-tier",
                "minimal",
                "--as",
                "alice",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["model", "list"]) == 0
    assert "m1" in capsys.readouterr().out
    assert (project / ".govflow" / "govflow.db").is_file()
    assert not (no_home_env / ".govflow").exists()


def test_demo_next_line_names_the_venv_cli_relative_to_the_checkout(tmp_path, monkeypatch):
    from govflow import demo

    bin_dir = tmp_path / "checkout" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "govflow").write_text("#!/bin/sh\n")
    monkeypatch.setattr(demo.sys, "executable", str(bin_dir / "python"))
    monkeypatch.chdir(tmp_path / "checkout")
    assert demo._govflow_command() == ".venv/bin/govflow"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert demo._govflow_command() == "govflow"


def test_a_failed_trigger_says_the_version_is_registered_and_how_to_retrigger(
    sample_files, monkeypatch, capsys
):
    # Nothing listens on port 9: the trigger fails after the registration.
    monkeypatch.setenv("GOVFLOW_AIRFLOW_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GOVFLOW_AIRFLOW_PASSWORD", "x")
    assert (
        main(["model", "register", "--name", "m2", "--owner", "o", "--risk-tier", "minimal", "--as", "alice"])
        == 0
    )
    submit = [
        "submit", "--model", "m2", "--version", "1", "--artifact", str(sample_files["artifact"]),
        "--training-data", str(sample_files["training"]), "--trigger", "--as", "alice",
    ]  # fmt: skip
    for _ in range(2):  # the same command again finds the identical version and fails the same way
        capsys.readouterr()
        assert main(submit) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert "m2@1 is registered, but starting governance_gate at http://127.0.0.1:9 failed" in err[0]
        assert "run the same submit again" in err[0] and "GOVFLOW_AIRFLOW_URL" in err[0]
