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
"""

from __future__ import annotations

import contextlib
import io
import json
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
            expected = _expected_exit(line)
            if code != expected:
                said = (err.strip() or out.strip())[-600:]
                problems.append(f"{line.where} exited {code}, the README says {expected}:\n    {said}")
                continue
            if "--json" in line.argv:
                try:
                    payload = json.loads(out)
                except ValueError:
                    problems.append(f"{line.where} did not print exactly one JSON object: {out[:200]!r}")
                    continue
                missing = [p for p in _phrases(line) if not _has_path(payload, p)]
            else:
                missing = [p for p in _phrases(line) if p not in out]
            if missing:
                problems.append(f"{line.where}: the README promises {missing}, not in:\n    {out[:600]}")
    assert not problems, "\n".join(problems)
    assert {tuple(line.argv[1:3]) for line in ran} >= {("docs", "render"), ("evidence", "export")}
    print("\nREADME commands run:\n" + "\n".join(f"  {shlex.join(line.argv)}" for line in ran))
