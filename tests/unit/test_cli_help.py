"""Every command's --help ends with an example that still parses; shell completion works in bash."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from govflow.cli import build_parser, main
from govflow.cli._examples import EXAMPLES, commands

PARSER = build_parser()
COMMANDS = dict(commands(PARSER))


def _argv(example: str) -> list[str]:
    inner = re.search(r"\$\((govflow [^)]*)\)", example)  # eval "$(govflow completion bash)"
    words = shlex.split(inner.group(1) if inner else example)
    assert words[0] == "govflow", example
    return words[1:]


def test_the_walk_finds_the_commands():
    assert {"check pii", "docs render", "evidence export", "gate", "gate replay", "completion"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_every_command_help_shows_one_example(words, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*words.split(), "--help"])
    help_text = capsys.readouterr().out
    assert exited.value.code == 0
    example = re.search(r"^example:\n  (govflow .+|eval .+)$", help_text, re.MULTILINE)
    assert example, f"`govflow {words} --help` shows no example: add one to cli/_examples.py EXAMPLES"
    assert help_text.count("example:") == 1


@pytest.mark.parametrize("words", sorted(COMMANDS))
def test_every_example_parses_with_the_real_parser(words):
    example = COMMANDS[words].epilog.split("\n", 1)[1].strip()
    args = PARSER.parse_args(_argv(example))
    assert args.handler is COMMANDS[words].get_default("handler"), example


def test_no_example_for_a_command_that_does_not_exist():
    assert set(EXAMPLES) <= set(COMMANDS), set(EXAMPLES) - set(COMMANDS)


@pytest.mark.parametrize("shell, marker", [("bash", "complete "), ("zsh", "#compdef govflow")])
def test_completion_prints_shell_code(shell, marker, capsys):
    assert main(["completion", shell]) == 0
    code = capsys.readouterr().out
    assert marker in code and "_ARGCOMPLETE" in code


def test_completion_refuses_other_shells(capsys):
    assert main(["completion", "fish"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    "line, expected",
    [("govflow che", {"check"}), ("govflow check p", {"pii"}), ("govflow check drift --cur", {"--current"})],
)
def test_bash_completes_commands_and_flags(line, expected, tmp_path):
    """The real thing: bash loads `govflow completion bash` and asks it to complete ``line``."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "govflow").exists()
    words = line.split()
    script = (
        'eval "$(govflow completion bash)"\n'
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}\n"
        f"_python_argcomplete govflow {shlex.quote(words[-1])} {shlex.quote(words[-2])}\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert {w.strip() for w in done.stdout.split()} == expected
