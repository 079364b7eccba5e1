"""A short `govflow check drift|fairness` imports what its computation needs and nothing else.

The whole-process CLI is dominated by imports when they are not watched: SQLAlchemy and pydantic
for commands that never open the database, Evidently, Fairlearn, scikit-learn and SciPy for numbers
computed with numpy. These tests run the real console script (a ``sitecustomize`` lists every module
the process imported) and fail when one of those comes back; the command parser stays whole (every
command in --help, a broken command module is an error); and the numbers computed without those
libraries are compared with theirs, bit for bit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govflow import cli
from govflow.cli._lazy import LazyCommands, lazy_subcommands
from govflow.cli._parser import Parser

GOVFLOW = str(Path(sys.executable).with_name("govflow"))

# Not needed by the default drift / fairness computation (nor by parsing a command line).
NOT_ON_THE_CHECK_PATH = (
    "evidently",
    "fairlearn",
    "sklearn",
    "scipy",
    "sqlalchemy",
    "alembic",
    "pydantic",
    "httpx",
    "great_expectations",
    "presidio_analyzer",
    "spacy",
    "govflow.store",
    "govflow.service",
    "govflow.policy",
    # the other commands' modules
    "govflow.cli._db",
    "govflow.cli._gate",
    "govflow.cli._docs",
    "govflow.cli._submit",
    "govflow.cli._check_pii",
    "govflow.cli._check_validation",
)


SITECUSTOMIZE = """
import atexit, os, sys

def _write_modules():
    with open(os.environ["GOVFLOW_TEST_MODULES_OUT"], "w") as out:
        out.write("\\n".join(sorted(sys.modules)))

atexit.register(_write_modules)
"""


def _run(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """The real ``govflow <args>`` as its own process; returns it and every module it had imported
    at exit (a ``sitecustomize`` on PYTHONPATH writes ``sys.modules`` out)."""
    hook = cwd / "startup-hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    listing = cwd / "modules.txt"
    listing.unlink(missing_ok=True)
    path = os.pathsep.join(p for p in (str(hook), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "GOVFLOW_TEST_MODULES_OUT": str(listing)}
    done = subprocess.run([GOVFLOW, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    modules = set(listing.read_text().split())
    assert "govflow.cli._lazy" in modules, "the module listing was not written"
    return done, modules


def _unwanted(modules: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        m
        for m in modules
        for name in NOT_ON_THE_CHECK_PATH
        if (m == name or m.startswith(name + ".")) and name not in allowed
    )


@pytest.fixture(scope="module")
def drift_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """2,000 rows (above Evidently's small-sample limit: its distances, not its small-sample tests)."""
    rng = np.random.default_rng(5)
    folder = tmp_path_factory.mktemp("drift")
    frames = []
    for shift in (0.0, 0.4):
        frames.append(
            pd.DataFrame(
                {
                    "amount": rng.normal(100 + 15 * shift, 15, 2000),  # wasserstein
                    "visits": rng.poisson(20 + 10 * shift, 2000),  # integer, many values: wasserstein
                    "grade": rng.integers(0, 4, 2000),  # integer, few values: jensenshannon on numbers
                    "channel": rng.choice(
                        ["web", "shop", "phone"], 2000, p=[0.5 - shift / 2, 0.3, 0.2 + shift / 2]
                    ),
                    "active": rng.random(2000) < 0.5 + shift / 4,  # boolean: jensenshannon
                }
            )
        )
    reference, current = folder / "reference.parquet", folder / "current.parquet"
    frames[0].to_parquet(reference)
    frames[1].to_parquet(current)
    return reference, current


def test_check_drift_imports_neither_evidently_nor_scipy_nor_the_database(drift_files, tmp_path):
    reference, current = drift_files
    done, modules = _run(
        ["check", "drift", "--reference", str(reference), "--current", str(current), "--json"], tmp_path
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["status"] in ("pass", "warn", "fail") and not out["errors"]
    methods = {name: entry["method"] for name, entry in out["columns"].items()}
    assert methods == {
        "amount": "wasserstein",
        "visits": "wasserstein",
        "grade": "jensenshannon",
        "channel": "jensenshannon",
        "active": "jensenshannon",
    }
    assert "amount" in out["summary"]["drifted_columns"]
    assert _unwanted(modules) == []


def test_check_drift_jensenshannon_on_binned_numbers_imports_no_scipy(drift_files, tmp_path):
    reference, current = drift_files
    args = ["check", "drift", "--reference", str(reference), "--current", str(current)]
    done, modules = _run([*args, "--stattest", "jensenshannon", "--column", "amount", "--json"], tmp_path)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert json.loads(done.stdout)["columns"]["amount"]["method"] == "jensenshannon"
    assert _unwanted(modules) == []


def test_a_small_sample_test_still_uses_evidently(drift_files, tmp_path):
    """The other side of the line: Evidently is imported where its own test computes the score."""
    reference, current = drift_files
    args = ["check", "drift", "--reference", str(reference), "--current", str(current), "--column", "amount"]
    done, modules = _run([*args, "--stattest", "ks", "--json"], tmp_path)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert json.loads(done.stdout)["columns"]["amount"]["method"] == "ks"
    assert "evidently" in modules  # and the listing sees it
    assert not {"sqlalchemy", "govflow.store", "govflow.service", "fairlearn"} & modules


@pytest.fixture(scope="module")
def fairness_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    rows = 3000
    sex = rng.choice(["Female", "Male"], rows)
    race = rng.choice(["White", "Black", "Asian"], rows, p=[0.6, 0.3, 0.1])
    label = (rng.random(rows) < np.where(sex == "Male", 0.3, 0.2)).astype(int)
    prediction = np.where(label == 1, rng.random(rows) < 0.8, rng.random(rows) < 0.1).astype(int)
    path = tmp_path_factory.mktemp("fairness") / "eval.parquet"
    pd.DataFrame(
        {
            "sex": sex,
            "race": race,
            "label": label,
            "prediction": prediction,
            "grade": rng.integers(0, 3, rows),  # multiclass label
            "grade_predicted": rng.integers(0, 3, rows),
            "income": rng.normal(50, 10, rows),  # regression label
            "income_predicted": rng.normal(50, 10, rows),
        }
    ).to_parquet(path)
    return path


@pytest.mark.parametrize(
    "label, prediction, task",
    [
        ("label", "prediction", "binary"),
        ("grade", "grade_predicted", "multiclass"),
        ("income", "income_predicted", "regression"),
    ],
)
def test_check_fairness_imports_neither_fairlearn_nor_sklearn_nor_the_database(
    fairness_file, tmp_path, label, prediction, task
):
    args = ["check", "fairness", "--data", str(fairness_file), "--label", label, "--prediction", prediction]
    done, modules = _run(
        [*args, "--sensitive", "sex", "--sensitive", "race", "--task", task, "--json"], tmp_path
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["summary"]["task"] == task and not out["errors"]
    assert len(out["by_group"]) == 6
    assert _unwanted(modules) == []


def test_a_check_help_loads_only_its_own_command(tmp_path):
    done, modules = _run(["check", "drift", "--help"], tmp_path)
    assert done.returncode == 0 and "--reference" in done.stdout
    assert "govflow.cli._check_drift" in modules
    assert _unwanted(modules) == []
    assert not {"pandas", "numpy", "govflow.cli._check_fairness"} & modules


# The parser stays whole while its modules load lazily.


def test_help_lists_every_command_as_the_whole_parser_does(capsys):
    whole = cli.build_parser()
    assert cli.build_parser(lazy=True).format_help() == whole.format_help()
    assert "completion" in whole.format_help()
    for words in (["check"], ["gate"], ["check", "fairness"]):
        expected = whole
        for word in words:
            expected = expected._subparsers._group_actions[0].choices[word]
        with pytest.raises(SystemExit):
            cli.main([*words, "--help"])
        assert capsys.readouterr().out == expected.format_help()


def test_a_typo_lists_every_command(capsys):
    assert cli.main(["chek"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'chek'" in err
    assert all(f"'{name}'" in err for _, names in cli.COMMANDS for name in names)


def test_parsing_a_command_loads_only_its_module():
    parser = cli.build_parser(lazy=True)
    args = parser.parse_args(["check", "drift", "--reference", "r.csv", "--current", "c.csv"])
    assert args.handler.__module__ == "govflow.cli._check_drift"
    commands = parser._subparsers._group_actions[0]
    assert isinstance(commands, LazyCommands)
    assert {"db", "model", "gate", "docs"} <= set(commands._pending)
    assert "check" not in commands._pending


@pytest.fixture
def command_modules(tmp_path, monkeypatch):
    """A package of command modules on sys.path: one good, one whose import fails."""
    package = tmp_path / "extra_commands"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text(
        "def register(groups):\n"
        "    groups.add_parser('good', help='a good command').set_defaults(handler=lambda args: 0)\n"
    )
    (package / "broken.py").write_text("import a_dependency_that_is_not_installed\n")
    (package / "liar.py").write_text(
        "def register(groups):\n    groups.add_parser('other', help='not the listed name')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "extra_commands"
    for name in [m for m in sys.modules if m.startswith("extra_commands")]:
        del sys.modules[name]


def _parser(table) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
    parser = Parser(prog="govflow")
    lazy_subcommands(parser, table, dest="command", metavar="COMMAND")
    return parser


def test_a_command_module_that_fails_to_import_is_an_error(command_modules, monkeypatch):
    table = [(f"{command_modules}.good", ("good",)), (f"{command_modules}.broken", ("broken",))]
    assert _parser(table).parse_args(["good"]).handler(None) == 0  # its neighbour is not imported
    parser = _parser(table)
    for _ in range(2):  # and stays one when asked again (the command never turns into a typo)
        with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_not_installed"):
            parser.parse_args(["broken"])
    with pytest.raises(ModuleNotFoundError):
        _parser(table).format_help()  # listing the commands imports them all
    # Through `govflow` itself: a traceback (a bug to fix), never a quiet exit or a missing command.
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, (f"{command_modules}.broken", ("broken",))))
    with pytest.raises(ModuleNotFoundError):
        cli.main(["broken"])
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()


def test_a_missing_command_module_is_an_error(command_modules):
    with pytest.raises(ModuleNotFoundError):
        _parser([(f"{command_modules}.no_such_module", ("ghost",))]).parse_args(["ghost"])


def test_a_module_adding_other_commands_than_its_row_is_an_error(command_modules):
    with pytest.raises(RuntimeError, match="update the table"):
        _parser([(f"{command_modules}.liar", ("liar",))]).parse_args(["liar"])


def test_every_command_exits_without_a_last_full_collection():
    # atexit runs hooks last-in first-out: this probe, registered before main, runs after main's hook.
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "from govflow.cli import main\n"
        "sys.exit(main(['db', '--help']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "frozen True", done.stdout + done.stderr
