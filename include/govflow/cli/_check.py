"""`govflow check ...` and `govflow suite ...`: run one check on files and report it."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from govflow.checks import CheckResult
from govflow.cli._output import emit
from govflow.policy import load_policy

# One module per check adds its subcommand via `register(check_subparsers)`.
CHECK_COMMAND_MODULES = (
    "govflow.cli._check_validation",
    "govflow.cli._check_pii",
    "govflow.cli._check_fairness",
    "govflow.cli._check_drift",
)
EXIT_BY_STATUS = {"pass": 0, "warn": 0, "fail": 1, "error": 2}


def register(groups: argparse._SubParsersAction) -> None:
    check = groups.add_parser("check", help="run one governance check on data files")
    checks = check.add_subparsers(dest="check", metavar="CHECK")
    checks.required = True
    for name in CHECK_COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        module.register(checks)


def report(result: CheckResult, *, as_json: bool) -> int:
    """Print a check result and return its exit status (error results also get a stderr line)."""
    import sys

    payload = result.to_dict()
    lines = [f"{result.check}: {result.status}"] + [f"  {k}: {v}" for k, v in result.summary.items()]
    emit(payload, as_json=as_json, lines=lines)
    if result.status == "error":
        print(f"govflow: error: {'; '.join(result.errors) or 'check errored'}", file=sys.stderr)
    return EXIT_BY_STATUS[result.status]


def add_tier_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tier", metavar="TIER", help="take thresholds from this risk tier of the policy")
    parser.add_argument(
        "--policy", metavar="FILE", help="policy file for --tier (default: the configured policy)"
    )


def tier_options(args: argparse.Namespace, kind: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """A check's threshold options: ``defaults``, or the ``kind`` thresholds of ``--tier`` in the
    policy; an explicit flag (an ``args`` attribute of the same name) beats both."""
    options = dict(defaults)
    if args.tier:
        thresholds = getattr(load_policy(args.policy).tier(args.tier), kind)
        options = {name: getattr(thresholds, name) for name in options}
    for name in options:
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    return options
