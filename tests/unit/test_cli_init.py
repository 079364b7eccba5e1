"""`govflow init DIR`: a deployment's starting files, each explained, none overwritten, no secrets."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import yaml

from govflow import data
from govflow.access import load_users
from govflow.cli import main
from govflow.dags import DAG_FILE
from govflow.policy import load_policy

REPO = Path(__file__).resolve().parents[2]
FILES = ["dags/govflow_dags.py", "policies/govflow.yaml", "roles.yaml", ".env"]


def test_writes_the_four_files_and_explains_each_in_one_line(tmp_path, capsys):
    target = tmp_path / "deploy"
    assert main(["init", str(target)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FILES)
    for line, relative in zip(lines, FILES, strict=True):
        assert line.startswith(f"wrote {relative}: "), line
        assert (target / relative).is_file()
    assert (target / "dags" / "govflow_dags.py").read_text() == DAG_FILE
    # The copy is the bundled policy, loadable as is.
    assert (target / "policies" / "govflow.yaml").read_bytes() == data.default_policy().read_bytes()
    assert load_policy(target / "policies" / "govflow.yaml").version
    # The roles file loads (nobody holds a role yet) and says how it must be owned.
    roles = (target / "roles.yaml").read_text()
    assert "chown root:root" in roles and "chmod 0644" in roles
    assert load_users(target / "roles.yaml").users == {}


def test_the_env_template_holds_paths_and_no_secret(tmp_path):
    target = tmp_path / "deploy"
    assert main(["init", str(target)]) == 0
    env = target / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    settings = dict(
        line.split("=", 1) for line in env.read_text().splitlines() if line and not line.startswith("#")
    )
    assert settings == {
        "GOVFLOW_POLICY": str(target / "policies" / "govflow.yaml"),
        "GOVFLOW_ROLES_FILE": str(target / "roles.yaml"),
        "GOVFLOW_HOME": str(target / "state"),
    }
    assert not any(word in env.read_text() for word in ("PASSWORD=", "SECRET=", "KEY=", "BEGIN"))


def test_existing_files_are_kept(tmp_path, capsys):
    target = tmp_path / "deploy"
    (target / "policies").mkdir(parents=True)
    (target / "policies" / "govflow.yaml").write_text("edited by the operator\n")
    assert main(["init", str(target), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ok"
    assert {Path(f["path"]).relative_to(target).as_posix(): f["written"] for f in report["files"]} == {
        "dags/govflow_dags.py": True,
        "policies/govflow.yaml": False,
        "roles.yaml": True,
        ".env": True,
    }
    assert (target / "policies" / "govflow.yaml").read_text() == "edited by the operator\n"


def test_a_file_in_the_way_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    assert main(["init", str(tmp_path / "taken")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"govflow: error: {tmp_path / 'taken'} exists and is not a folder"]


def test_the_repository_dag_folder_is_the_file_init_writes():
    assert (REPO / "dags" / "govflow_dags.py").read_text() == DAG_FILE
    assert sorted(p.name for p in (REPO / "dags").glob("*.py")) == ["govflow_dags.py"]
    assert "class " not in (REPO / "plugins" / "govflow_plugin.py").read_text()  # a re-export only


def test_bundled_files_come_from_the_package_not_a_checkout():
    policy = data.default_policy()
    assert policy.is_file() and policy.parent.parent == Path(data.__file__).parent
    assert yaml.safe_load(data.demo_users().read_text())["users"]
    assert data.suite("adult").is_file()
