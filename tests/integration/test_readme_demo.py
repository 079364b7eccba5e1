"""The README's Quick start pasted into a fresh shell: `make demo` in a checkout, then the command it
prints (the README's next block) run as written from the checkout, finding the demo's state by itself;
then `make demo` again, which (as the README says) trains and submits the next version.

The checkout is a scratch folder holding the repository's files (symlinks) and the ``.venv`` running
these tests; ``make -o .venv/.installed demo`` is `make demo` with the virtualenv taken as installed
(the test never installs into it). No GOVFLOW_HOME, AIRFLOW_HOME or password is exported, and HOME is
a scratch folder: state outside the checkout would be a README that does not work as printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_readme_commands import README, ROOT, _split_comment, readme_blocks

pytestmark = pytest.mark.slow
CHECKOUT = ("dags", "include", "plugins", "Makefile", "pyproject.toml", "requirements.txt")


def _quick_start() -> tuple[list[str], list[str]]:
    """The Quick start's set-up commands and the block after it that runs on the demo's state."""
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    setup = next(b for b in blocks if any(line.argv[:2] == ["make", "demo"] for line in b.lines))
    after = next(b for b in blocks if b.lineno > setup.lineno)
    return (
        [_split_comment(line.text)[0] for line in setup.lines],
        [_split_comment(line.text)[0] for line in after.lines],
    )


def _fresh_shell(script: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # The code under test (a fresh clone's .venv has its checkout installed; a shared one may not).
        "PYTHONPATH": str(ROOT / "include"),
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_make_demo_then_the_line_it_prints_run_as_written(tmp_path):
    venv = Path(sys.prefix)
    if not (venv / "bin" / "govflow").is_file():
        pytest.skip("the tests do not run in a virtualenv with govflow installed")
    setup, after = _quick_start()
    assert "make demo" in setup and after == [
        ".venv/bin/govflow version show --model income-classifier --version 1.0.1"
    ], "README.md's Quick start changed: update this test"
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    checkout.mkdir()
    home.mkdir()
    for name in CHECKOUT:
        (checkout / name).symlink_to(ROOT / name)
    (checkout / ".venv").symlink_to(venv, target_is_directory=True)

    demo = _fresh_shell("make -o .venv/.installed demo", checkout, home)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    next_steps = demo.stdout[demo.stdout.rindex("== Next") :]
    assert f"   {after[0]}\n" in next_steps, f"make demo's Next is not the README's line:\n{next_steps}"

    shown = _fresh_shell("\n".join(after), checkout, home)
    assert shown.returncode == 0, shown.stderr
    assert "income-classifier" in shown.stdout and "1.0.1" in shown.stdout and "production" in shown.stdout
    assert not (home / ".govflow").exists(), "the CLI used ~/.govflow, not the checkout's .govflow"

    again = _fresh_shell("make -o .venv/.installed demo", checkout, home)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "income-classifier@1.0.2 registered" in again.stdout
    assert "   .venv/bin/govflow version show --model income-classifier --version 1.0.2\n" in again.stdout
