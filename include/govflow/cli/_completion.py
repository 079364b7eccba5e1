"""`govflow completion bash|zsh`: the shell code that completes govflow's commands and flags.

The code (argcomplete's) calls back into ``govflow`` on TAB with ``_ARGCOMPLETE`` set; ``main``
then answers from the same parser that runs the commands, so completion never drifts from them.
"""

from __future__ import annotations

import argparse
import sys

from govflow.cli._lazy import load_everything

SHELLS = ("bash", "zsh")


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser(
        "completion",
        help="print shell code that completes govflow commands and flags (bash, zsh)",
        description="Print the shell code for tab completion of govflow's commands, flags and file names. "
        'Load it from your shell\'s start-up file: bash: eval "$(govflow completion bash)" in ~/.bashrc; '
        'zsh: eval "$(govflow completion zsh)" in ~/.zshrc, after compinit.',
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["govflow"], shell=args.shell))
    return 0


def autocomplete(parser: argparse.ArgumentParser) -> None:
    """Answer a completion request from the shell code above, if this is one (else do nothing)."""
    import os

    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete  # only when completing: it is not needed to run a command

    load_everything(parser)  # completion walks the whole command tree, not just the commands typed
    argcomplete.autocomplete(parser)
