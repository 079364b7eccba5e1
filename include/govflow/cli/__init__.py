"""The `govflow` command line: parse, call a service, map domain errors to exit codes.

Exit status: 0 pass/ok, 1 a check failed / a gate rejected / a verification
failed / permission denied, 2 bad input or usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import atexit
import contextvars
import gc
import sys
from collections.abc import Sequence

from govflow import __version__, config
from govflow.cli._completion import autocomplete
from govflow.cli._failures import EXIT_ENVIRONMENT, environment_failure
from govflow.cli._lazy import lazy_subcommands, load_everything
from govflow.cli._parser import Parser, UsageError
from govflow.errors import GovflowError

__all__ = ["COMMANDS", "UsageError", "build_parser", "main"]

DESCRIPTION = (
    "Model governance on Apache Airflow: registry, checks (validation, PII, fairness, drift), "
    "policy gate and approvals, documentation, tamper-evident audit trail. "
    "Exit status: 0 ok, 1 failed/rejected/refused, 2 bad input."
)

# Each module adds the commands listed beside it through `register(subparsers)`, in this order
# (the --help order). A command's module is imported only when a command line reaches it
# (`_lazy`): `govflow check drift` never imports the database, the HTTP client or other checks.
COMMANDS = (
    ("govflow.cli._db", ("db",)),
    ("govflow.cli._registry", ("model", "version")),
    ("govflow.cli._audit", ("audit",)),
    ("govflow.cli._policy", ("policy",)),
    ("govflow.cli._check", ("check",)),
    ("govflow.cli._gate", ("gate", "approve", "waive", "promote")),
    ("govflow.cli._login", ("login", "logout")),
    ("govflow.cli._docs", ("docs", "evidence")),
    ("govflow.cli._submit", ("submit",)),
    ("govflow.cli._explain", ("explain",)),
    ("govflow.cli._mitigate", ("mitigate",)),
    ("govflow.cli._suite", ("suite",)),
    ("govflow.cli._completion", ("completion",)),
    ("govflow.cli._init", ("init",)),
)

# Commands that read the registry or act on what is in it: on a missing governance DB they say so in
# one line instead of creating an empty one (`govflow model list` outside any project used to leave
# an empty ~/.govflow/govflow.db behind). (command, its ACTION's dest, the actions; None: all.)
EXISTING_STATE_COMMANDS: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("model", "model_command", frozenset({"list", "show"})),
    ("version", "version_command", frozenset({"list", "show"})),
    ("audit", "audit_command", frozenset({"log", "verify"})),
    ("docs", "docs_command", None),
    ("evidence", "evidence_command", None),
    ("explain", "", None),
    ("gate", "", None),
    ("approve", "", None),
    ("waive", "", None),
    ("promote", "", None),
    ("mitigate", "", None),
)


def build_parser(*, lazy: bool = False) -> argparse.ArgumentParser:
    """The whole ``govflow`` parser; ``lazy``: command modules imported as parsing reaches them."""
    parser = Parser(prog="govflow", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=_version())
    lazy_subcommands(parser, COMMANDS, dest="command", metavar="COMMAND")
    if not lazy:
        load_everything(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _exit_without_collecting()
    try:
        parser = build_parser(lazy=True)
        autocomplete(parser)  # answers the shell's TAB and exits, when the shell asked
        args = parser.parse_args(argv)
        # A context of its own: the command's acting identity never leaks into the caller's.
        context = contextvars.copy_context()
        context.run(config.EXISTING_STATE_ONLY.set, _reads_existing_state(args))
        return int(context.run(args.handler, args) or 0)
    except GovflowError as err:
        print(f"govflow: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        line = environment_failure(err)
        if line is None:
            raise  # a bug: the traceback is what a developer needs
        print(f"govflow: error: {line}", file=sys.stderr)
        return EXIT_ENVIRONMENT


def _reads_existing_state(args: argparse.Namespace) -> bool:
    command = getattr(args, "command", None)
    for name, dest, actions in EXISTING_STATE_COMMANDS:
        if command == name:
            return actions is None or getattr(args, dest, None) in actions
    return False


def _exit_without_collecting() -> None:
    """Let the process end without the collector's last pass over every object a command loaded.

    At interpreter shutdown CPython collects the whole heap while it tears the modules down: for
    ``submit`` (SQLAlchemy, alembic, botocore's models, s3fs, httpx) 0.4 of a 0.45 CPU-s exit, and on
    a busy 2-core stack twenty concurrent submits spent 33-42 s each between printing the run id and
    exiting (issue #13). Frozen at exit (an atexit hook, so after the command's own exit hooks), those
    objects are left to the OS. A process that goes on (tests calling ``main``) is only affected when
    it exits itself; registering again replaces the hook.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def _version() -> str:
    return f"govflow {__version__}"
