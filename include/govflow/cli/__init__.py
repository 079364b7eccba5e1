"""The `govflow` command line: parse, call a service, map domain errors to exit codes.

Exit status: 0 pass/ok, 1 a check failed / a gate rejected / a verification
failed / permission denied, 2 bad input or usage (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextvars
import sys
from collections.abc import Sequence

from govflow import __version__
from govflow.cli import (
    _audit,
    _check,
    _completion,
    _db,
    _docs,
    _explain,
    _gate,
    _login,
    _policy,
    _registry,
    _submit,
    _suite,
)
from govflow.cli._completion import autocomplete
from govflow.cli._examples import add_examples
from govflow.cli._failures import EXIT_ENVIRONMENT, environment_failure
from govflow.cli._parser import Parser, UsageError
from govflow.errors import GovflowError

__all__ = ["COMMAND_MODULES", "UsageError", "build_parser", "main"]

DESCRIPTION = (
    "Model governance on Apache Airflow: registry, checks (validation, PII, fairness, drift), "
    "policy gate and approvals, documentation, tamper-evident audit trail. "
    "Exit status: 0 ok, 1 failed/rejected/refused, 2 bad input."
)

# Each module adds its command group through `register(subparsers)`, in this order (the --help order).
COMMAND_MODULES = (
    _db,
    _registry,
    _audit,
    _policy,
    _check,
    _gate,
    _login,
    _docs,
    _submit,
    _explain,
    _suite,
    _completion,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="govflow", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=_version())
    groups = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    groups.required = True
    for module in COMMAND_MODULES:
        module.register(groups)
    add_examples(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        autocomplete(parser)  # answers the shell's TAB and exits, when the shell asked
        args = parser.parse_args(argv)
        # A context of its own: the command's acting identity never leaks into the caller's.
        return int(contextvars.copy_context().run(args.handler, args) or 0)
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


def _version() -> str:
    return f"govflow {__version__}"
