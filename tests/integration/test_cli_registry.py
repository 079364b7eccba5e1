"""CLI contract for registry, audit and db commands: JSON on stdout, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from govflow.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    if argv[:2] in (("model", "register"), ("version", "register")) and "--as" not in argv:
        argv = (*argv, "--as", "alice")
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _register(capsys, files, version="1.0", *extra):
    return run(
        capsys,
        "version",
        "register",
        "--model",
        "credit-risk",
        "--version",
        version,
        "--artifact",
        str(files["artifact"]),
        "--training-data",
        str(files["training"]),
        "--eval-data",
        str(files["eval"]),
        "--params",
        '{"C": 1}',
        "--metrics",
        '{"auc": 0.91}',
        "--as",
        "alice",
        "--json",
        *extra,
    )


def test_register_list_show_with_json(db_url, capsys, sample_files):
    code, out, err = run(
        capsys,
        "model",
        "register",
        "--name",
        "credit-risk",
        "--owner",
        "Ana",
        "--risk-tier",
        "high",
        "--team",
        "risk",
        "--goal",
        "fewer defaults",
        "--stakeholder",
        "Bo:reviewer:bo@example.org",
        "--region",
        "EU",
        "--sector",
        "finance",
        "--json",
    )
    assert (code, err) == (0, "")
    model = json.loads(out)
    assert model["name"] == "credit-risk" and model["stakeholders"][0]["role"] == "reviewer"

    code, out, _ = _register(capsys, sample_files)
    assert code == 0
    version = json.loads(out)
    assert (
        version["stage"] == "candidate" and version["params"] == {"C": 1} and version["created_by"] == "alice"
    )

    code, out, _ = run(capsys, "model", "list", "--json")
    assert [m["name"] for m in json.loads(out)["models"]] == ["credit-risk"]
    code, out, _ = run(capsys, "model", "show", "credit-risk", "--json")
    assert json.loads(out)["versions"] == [{"version": "1.0", "stage": "candidate"}]
    code, out, _ = run(capsys, "version", "show", "--model", "credit-risk", "--version", "1.0", "--json")
    assert json.loads(out)["metrics"] == {"auc": 0.91}
    code, out, _ = run(capsys, "version", "list", "--model", "credit-risk", "--json")
    assert len(json.loads(out)["versions"]) == 1

    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["events"] == 2
    code, out, _ = run(capsys, "audit", "log", "--subject", "version:credit-risk@1.0", "--json")
    assert [e["action"] for e in json.loads(out)["events"]] == ["version.registered"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["model", "register", "--name", "Bad Slug", "--owner", "a", "--risk-tier", "high"],
            "invalid model name",
        ),
        (
            ["model", "register", "--name", "m", "--owner", "a", "--risk-tier", "severe"],
            "unknown risk tier 'severe'",
        ),
        (
            ["model", "register", "--name", "m", "--owner", "a", "--risk-tier", "high", "--stakeholder", "x"],
            "invalid stakeholder",
        ),
        (["model", "register", "--name", "m", "--owner", "a"], "required: --risk-tier"),
        (["model", "show", "ghost"], "unknown model 'ghost'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(db_url, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_version_input_exits_2_and_writes_nothing(db_url, capsys, sample_files, tmp_path):
    run(capsys, "model", "register", "--name", "credit-risk", "--owner", "Ana", "--risk-tier", "high")
    _register(capsys, sample_files)
    cases = [
        (_register, ("1.0",), "already registered"),
        (_register, ("2.0", "--params", "{not json"), "malformed JSON for --params"),
        (_register, ("2.0", "--metrics", "[1, 2]"), "--metrics must be a JSON object"),
    ]
    for fn, args, message in cases:
        code, out, err = fn(capsys, sample_files, *args)
        assert code == 2 and message in err and out == ""
    code, _, err = run(
        capsys,
        "version",
        "register",
        "--model",
        "credit-risk",
        "--version",
        "3.0",
        "--artifact",
        str(tmp_path / "missing.skops"),
        "--training-data",
        str(sample_files["training"]),
    )
    assert code == 2 and "artifact not found" in err
    code, _, err = run(
        capsys,
        "version",
        "register",
        "--model",
        "ghost",
        "--version",
        "3.0",
        "--artifact",
        str(sample_files["artifact"]),
        "--training-data",
        str(sample_files["training"]),
    )
    assert code == 2 and "unknown model 'ghost'" in err
    code, out, _ = run(capsys, "audit", "log", "--json")
    assert len(json.loads(out)["events"]) == 2  # model + the one good version: nothing else was written


def test_audit_verify_exits_1_naming_the_broken_seq(db_url, capsys, sample_files):
    from govflow import store

    run(capsys, "model", "register", "--name", "credit-risk", "--owner", "Ana", "--risk-tier", "high")
    _register(capsys, sample_files)
    engine = store.make_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        conn.exec_driver_sql("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    engine.dispose()
    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["first_broken_seq"] == 2
    code, out, _ = run(capsys, "audit", "verify")
    assert code == 1 and "BROKEN at seq 2" in out


def test_console_script_and_db_upgrade(govflow_home):
    done = subprocess.run(
        [sys.executable, "-m", "govflow", "db", "upgrade", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["revision"]
    assert (govflow_home / "govflow.db").exists()
    helped = subprocess.run(
        [sys.executable, "-m", "govflow", "--help"], capture_output=True, text=True, check=False
    )
    for command in ("model", "version", "audit", "db"):
        assert command in helped.stdout


def test_registration_needs_the_data_scientist_role(db_url, capsys):
    code, out, err = run(
        capsys, "model", "register", "--name", "m", "--owner", "a", "--risk-tier", "high", "--as", "vera"
    )
    assert code == 1 and out == ""
    assert "permission denied: vera (viewer) may not register models; needs role data_scientist" in err
    code, _, err = run(
        capsys, "model", "register", "--name", "m", "--owner", "a", "--risk-tier", "high", "--as", "nobody"
    )
    assert code == 1 and "unknown user 'nobody'" in err
    code, out, _ = run(capsys, "model", "list", "--json")
    assert json.loads(out)["models"] == []
