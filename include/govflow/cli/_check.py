"""`govflow check ...` and `govflow suite ...`: run one check on files and report it."""

from __future__ import annotations

import argparse
from typing import Any

from govflow.checks import CheckResult
from govflow.cli._lazy import lazy_subcommands
from govflow.cli._output import emit

# One module per check adds its subcommand via `register(check_subparsers)`; imported when used.
CHECK_COMMANDS = (
    ("govflow.cli._check_validation", ("validation",)),
    ("govflow.cli._check_pii", ("pii",)),
    ("govflow.cli._check_fairness", ("fairness",)),
    ("govflow.cli._check_drift", ("drift",)),
)
EXIT_BY_STATUS = {"pass": 0, "warn": 0, "fail": 1, "error": 2}


def register(groups: argparse._SubParsersAction) -> None:
    check = groups.add_parser("check", help="run one governance check on data files")
    lazy_subcommands(check, CHECK_COMMANDS, dest="check", metavar="CHECK")


def report(result: CheckResult, *, as_json: bool) -> int:
    """Print a check result and return its exit status (error results also get a stderr line)."""
    import sys

    payload = result.to_dict()
    lines = [f"{result.check}: {result.status}"] + [f"  {k}: {v}" for k, v in result.summary.items()]
    emit(payload, as_json=as_json, lines=lines)
    if result.status == "error":
        print(f"govflow: error: {'; '.join(result.errors) or 'check errored'}", file=sys.stderr)
    return EXIT_BY_STATUS[result.status]


def add_tier_flags(parser: argparse.ArgumentParser, *, model_artifacts: bool = False) -> None:
    parser.add_argument(
        "--tier", metavar="TIER", help="take thresholds (and accepted model formats) from this risk tier"
    )
    parser.add_argument(
        "--policy", metavar="FILE", help="policy file for --tier (default: the configured policy)"
    )
    if model_artifacts:
        parser.add_argument(
            "--allow-pickle",
            action="store_true",
            help="without --tier: load a .joblib/.pkl model (it runs code; only ever in the sandbox)",
        )


def require_model_format(args: argparse.Namespace, path: str | None) -> None:
    """Refuse a model file the run does not accept, before anything reads it (one line, exit 2).

    With ``--tier``: the tier's ``artifacts.formats`` (the default policy accepts no pickle on any
    tier). Without: skops and ONNX; a pickle only with ``--allow-pickle`` (then in the sandbox).
    """
    if not path:
        return
    from govflow.checks import CheckInputError, require_format
    from govflow.errors import BadInputError

    if args.tier:
        from govflow.policy import load_policy

        policy = load_policy(args.policy)
        accepted: list[str] = list(policy.tier(args.tier).artifacts.formats)
        where = f"the {args.tier} tier (policy {policy.version})"
    elif getattr(args, "allow_pickle", False):
        accepted, where = ["skops", "onnx", "pickle"], "this run"
    else:
        accepted, where = ["skops", "onnx"], "this run without --allow-pickle"
    try:
        require_format(path, accepted, where=where)
    except CheckInputError as err:
        raise BadInputError(str(err)) from err


def tier_options(args: argparse.Namespace, kind: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """A check's threshold options: ``defaults``, or the ``kind`` thresholds of ``--tier`` in the
    policy; an explicit flag (an ``args`` attribute of the same name) beats both."""
    options = dict(defaults)
    if args.tier:
        # Here, not at the top: the policy's models are pydantic, which a check without --tier
        # never needs (a third of a short `govflow check` run's imports).
        from govflow.policy import load_policy

        thresholds = getattr(load_policy(args.policy).tier(args.tier), kind)
        options = {name: getattr(thresholds, name) for name in options}
    for name in options:
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    return options
