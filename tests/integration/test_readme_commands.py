"""README examples that run: every `govflow` line in README.md's shell blocks, in order, in a
scratch folder against the bundled sample data, checked against what the README says.

How a block reads (see the README's "Command line" section):
- ``export NAME=VALUE ...`` lines set the environment (``$PWD`` is the scratch folder);
  ``python include/sample/...`` lines run as written (the sample model a later line needs).
- A ``govflow`` line's trailing comment may start with ``exit N`` (the status it must end with;
  without it: 0). Backquoted words in the comment must be in the output: a dotted JSON path
  (``summary.rows``) for a ``--json`` line, a phrase otherwise. A ``--json`` line must print exactly
  one JSON object.
- ``<!-- readme-test: skip ... -->`` before a block: not run (it needs a live Airflow, say); nor are
  the blocks ``tests/integration/test_readme_submit.py`` runs (``<!-- submit-example ... -->``).
  ``<!-- readme-test: after governance_gate -->``: first the checks and documentation the
  ``governance_gate`` DAG records are recorded for every registered version (its task bodies).
Any other line (``make``, ``.venv/bin/python bench/...``) is not run.

The same blocks run twice: in this process (fast, each failure named), and pasted into one fresh
``bash`` (``test_the_readme_blocks_paste_into_a_fresh_shell``): no environment but a minimal PATH and
a scratch HOME, the ``.venv`` activated as the README says, every line as written (``$PWD``,
quoting and continuations are the shell's), so a block that only worked because the test set
something up fails there.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from govflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"<!--\s*readme-test:\s*(skip|after governance_gate)\b")
# Blocks another README test runs (tests/integration/test_readme_submit.py: the submit example per tier).
OWNED_ELSEWHERE = re.compile(r"<!--\s*submit-example\b")
SHELLS = ("bash", "sh", "shell", "console")


@dataclass
class Line:
    lineno: int
    text: str  # the logical line, continuations joined, comment included
    argv: list[str]
    comment: str

    @property
    def where(self) -> str:
        return f"README.md:{self.lineno}: `{shlex.join(self.argv)}`"


@dataclass
class Block:
    lineno: int
    marker: str | None
    lines: list[Line] = field(default_factory=list)


def _split_comment(text: str) -> tuple[str, str]:
    """The command and its trailing ``# comment`` (a ``#`` outside quotes after a space)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i].rstrip(), text[i + 1 :].strip()
    return text.rstrip(), ""


def readme_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence or fence.group(1) not in SHELLS:
            if fence:  # another language's block: skip to its end
                i += 1
                while i < len(lines) and not FENCE.match(lines[i]):
                    i += 1
            i += 1
            continue
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.search(before)
        block = Block(lineno=i + 1, marker=marker.group(1) if marker else None)
        if OWNED_ELSEWHERE.search(before):
            block.marker = "skip"
        i += 1
        pending, start = "", 0
        while i < len(lines) and not FENCE.match(lines[i]):
            raw = lines[i]
            if not pending:
                start = i + 1
            pending += raw[:-1] + " " if raw.rstrip().endswith("\\") else raw
            if not raw.rstrip().endswith("\\"):
                command, comment = _split_comment(pending.strip())
                if command:
                    block.lines.append(Line(start, pending.strip(), shlex.split(command), comment))
                pending = ""
            i += 1
        blocks.append(block)
        i += 1
    return blocks


def govflow_lines(blocks: list[Block]) -> list[Line]:
    return [line for b in blocks if b.marker != "skip" for line in b.lines if line.argv[0] == "govflow"]


def _expected_exit(line: Line) -> int:
    found = re.match(r"exit (\d)\b", line.comment)
    return int(found.group(1)) if found else 0


def _phrases(line: Line) -> list[str]:
    return re.findall(r"`([^`]+)`", line.comment)


def _has_path(payload: object, path: str) -> bool:
    for key in path.split("."):
        if not isinstance(payload, dict) or key not in payload:
            return False
        payload = payload[key]
    return True


def _broken_promises(line: Line, code: int, out: str, err: str) -> list[str]:
    """What ``line`` did that its README comment does not say (exit status, phrases, one JSON object)."""
    expected = _expected_exit(line)
    if code != expected:
        said = (err.strip() or out.strip())[-600:]
        return [f"{line.where} exited {code}, the README says {expected}:\n    {said}"]
    if "--json" in line.argv:
        try:
            payload = json.loads(out)
        except ValueError:
            return [f"{line.where} did not print exactly one JSON object: {out[:200]!r}"]
        missing = [p for p in _phrases(line) if not _has_path(payload, p)]
    else:
        missing = [p for p in _phrases(line) if p not in out]
    return [f"{line.where}: the README promises {missing}, not in:\n    {out[:600]}"] if missing else []


def _run(line: Line) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(line.argv[1:])
    return code, out.getvalue(), err.getvalue()


def _record_gate_evidence() -> None:
    """What the governance_gate DAG records before its gate task: each check, then the documents."""
    from govflow.service.check_table import gate_checks
    from govflow.store import Model, ModelVersion, session_scope
    from govflow.tasks import gate as gate_tasks

    with session_scope() as session:
        versions = [
            (m, v, t)
            for m, v, t in session.query(Model.name, ModelVersion.version, Model.risk_tier)
            .join(ModelVersion.model)
            .all()
        ]
    for number, (model, version, tier) in enumerate(versions, start=1):
        ref = {
            "model": model,
            "version": version,
            "tier": tier,
            "run": {"dag_id": "governance_gate", "run_id": f"readme-{number}", "trigger_kind": "manual"},
        }
        for check in gate_checks():
            gate_tasks.check(ref, check)
        gate_tasks.document(ref)


def _apply(line: Line, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run a fixture line (``export``, ``python include/sample/...``); False when it is not one."""
    if line.argv[0] == "export":
        for assignment in line.argv[1:]:
            name, _, value = assignment.partition("=")
            monkeypatch.setenv(name, value.replace("$PWD", str(cwd)))
        return True
    if line.argv[0] == "python" and len(line.argv) > 1 and line.argv[1].startswith("include/sample/"):
        done = subprocess.run(
            [sys.executable, *line.argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"README.md:{line.lineno}: {line.text}\n{done.stderr[-2000:]}"
        return True
    return False


def test_the_extractor_reads_blocks_markers_continuations_and_comments():
    text = "\n".join(
        [
            "```bash",
            "export A=1  # set",
            "govflow check pii --data 'a # b.csv' \\",
            "    --json   # exit 1: `summary.rows`",
            "```",
            "",
            "<!-- readme-test: skip (needs Airflow) -->",
            "```bash",
            "govflow submit --trigger",
            "```",
            "<!-- readme-test: after governance_gate -->",
            "```sh",
            "govflow gate",
            "```",
            "<!-- submit-example tier=minimal -->",
            "```bash",
            "govflow submit --trigger --wait",
            "```",
            "```text",
            "govflow not a command",
            "```",
        ]
    )
    blocks = readme_blocks(text)
    assert [(b.lineno, b.marker) for b in blocks] == [
        (1, None),
        (8, "skip"),
        (12, "after governance_gate"),
        (16, "skip"),
    ]
    pii = blocks[0].lines[1]
    assert pii.argv == ["govflow", "check", "pii", "--data", "a # b.csv", "--json"]
    assert (pii.lineno, _expected_exit(pii), _phrases(pii)) == (3, 1, ["summary.rows"])
    assert [line.argv[1:] for line in govflow_lines(blocks)] == [
        ["check", "pii", "--data", "a # b.csv", "--json"],
        ["gate"],
    ]


def test_the_readme_examples_run_and_say_what_they_do(tmp_path, monkeypatch):
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    commands = govflow_lines(blocks)
    assert len(commands) >= 15, "README.md lost its command-line examples?"
    # The examples use repository paths (include/sample/...) and write under the scratch folder.
    (tmp_path / "include").symlink_to(ROOT / "include", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    ran, problems = [], []
    for block in blocks:
        if block.marker == "skip" or not any(line.argv[0] == "govflow" for line in block.lines):
            continue
        if block.marker == "after governance_gate":
            _record_gate_evidence()
        for line in block.lines:
            if _apply(line, tmp_path, monkeypatch) or line.argv[0] != "govflow":
                continue
            code, out, err = _run(line)
            ran.append(line)
            problems += _broken_promises(line, code, out, err)
    assert not problems, "\n".join(problems)
    assert {tuple(line.argv[1:3]) for line in ran} >= {("docs", "render"), ("evidence", "export")}
    print("\nREADME commands run:\n" + "\n".join(f"  {shlex.join(line.argv)}" for line in ran))


# The README's stand-in for the governance_gate DAG, run in the shell where its marker is.
_GATE_EVIDENCE = (
    f'PYTHONPATH="{ROOT}${{PYTHONPATH:+:$PYTHONPATH}}" python -c '
    "'from tests.integration.test_readme_commands import _record_gate_evidence as r; r()'"
)


def shell_script(blocks: list[Block], results: Path) -> tuple[str, list[Line]]:
    """One bash script of the README's runnable blocks, in order, and the govflow lines it checks.

    Setup lines (``export``, ``python include/sample/...``) run as written and stop the script when
    they fail; each ``govflow`` line runs as written, its output and status kept in ``results``.
    """
    script = ["set -u", ". .venv/bin/activate  # as the README says: with the .venv active"]
    checked: list[Line] = []
    for block in blocks:
        if block.marker == "skip" or not any(line.argv[0] == "govflow" for line in block.lines):
            continue
        if block.marker == "after governance_gate":
            script.append(f"{_GATE_EVIDENCE} || exit 97")
        for line in block.lines:
            command, _ = _split_comment(line.text)
            if line.argv[0] == "govflow":
                n = len(checked)
                checked.append(line)
                script.append(
                    f"{command} >{results}/{n}.out 2>{results}/{n}.err; echo $? >{results}/{n}.code"
                )
            elif line.argv[0] == "export" or (
                line.argv[0] == "python" and line.argv[1].startswith("include/")
            ):
                script.append(f"{command} || {{ echo 'README.md:{line.lineno} failed' >&2; exit 98; }}")
    return "\n".join(script) + "\n", checked


@pytest.mark.slow
def test_the_readme_blocks_paste_into_a_fresh_shell(tmp_path):
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file():
        pytest.skip("the tests do not run in a virtualenv: there is no .venv/bin/activate to paste")
    scratch, results, home = tmp_path / "checkout", tmp_path / "results", tmp_path / "home"
    for folder in (scratch, results, home):
        folder.mkdir()
    # The checkout's files the blocks name, and its .venv (the one running these tests).
    (scratch / "include").symlink_to(ROOT / "include", target_is_directory=True)
    (scratch / ".venv").symlink_to(venv, target_is_directory=True)
    script, checked = shell_script(readme_blocks(README.read_text(encoding="utf-8")), results)
    assert len(checked) >= 15, "README.md lost its command-line examples?"
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # The code under test: a fresh clone's .venv has this checkout installed (editable); a
        # shared venv may point at another one.
        "PYTHONPATH": str(ROOT / "include"),
        **{k: os.environ[k] for k in ("TMPDIR",) if k in os.environ},
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, f"a setup line failed:\n{done.stderr[-2000:]}"
    problems = []
    for n, line in enumerate(checked):
        code = int((results / f"{n}.code").read_text())
        out, err = (results / f"{n}.out").read_text(), (results / f"{n}.err").read_text()
        problems += _broken_promises(line, code, out, err)
    assert not problems, "\n".join(problems)
    assert not (home / ".govflow").exists(), "a README line wrote ~/.govflow instead of its GOVFLOW_HOME"


def test_the_shell_script_runs_lines_as_written_and_keeps_each_govflow_lines_result(tmp_path):
    blocks = readme_blocks(
        "\n".join(
            [
                "```bash",
                "export GOVFLOW_HOME=$PWD/try  # scratch",
                "govflow check pii --data 'a b.csv' \\",
                "    --json   # exit 1: `summary.rows`",
                "make demo",
                "```",
                "<!-- readme-test: after governance_gate -->",
                "```bash",
                "govflow gate",
                "```",
            ]
        )
    )
    script, checked = shell_script(blocks, tmp_path)
    lines = script.splitlines()
    assert lines[:3] == [
        "set -u",
        ". .venv/bin/activate  # as the README says: with the .venv active",
        "export GOVFLOW_HOME=$PWD/try || { echo 'README.md:2 failed' >&2; exit 98; }",
    ]
    command, _, kept = lines[3].partition(" >")
    assert shlex.split(command) == ["govflow", "check", "pii", "--data", "a b.csv", "--json"]
    assert kept == f"{tmp_path}/0.out 2>{tmp_path}/0.err; echo $? >{tmp_path}/0.code"
    assert (
        lines[4] == f"{_GATE_EVIDENCE} || exit 97"
    )  # make demo is not run; the marker runs the DAG's stand-in
    assert lines[5].startswith(f"govflow gate >{tmp_path}/1.out")
    assert [line.argv[1] for line in checked] == ["check", "gate"]
