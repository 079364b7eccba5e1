"""`govflow check validation --data F --suite S [--json]`: a table against an expectation suite."""

from __future__ import annotations

import argparse

from govflow.checks.validation import validate_table
from govflow.cli._check import report
from govflow.cli._common import add_json_flag
from govflow.cli._progress import add_quiet_flag, terminal_progress


def register(checks: argparse._SubParsersAction) -> None:
    parser = checks.add_parser(
        "validation",
        help="validate a table against a Great Expectations suite (YAML/JSON)",
        description="Validate a CSV/Parquet table against an expectation suite. "
        "Exit 0 pass/warn, 1 an expectation failed, 2 bad input.",
    )
    parser.add_argument("--data", required=True, metavar="FILE", help="CSV or Parquet file to validate")
    parser.add_argument(
        "--suite", required=True, metavar="SUITE", help="expectation suite (.yaml, .yml or .json)"
    )
    parser.add_argument(
        "--pii-column",
        action="append",
        default=[],
        metavar="COLUMN",
        help="column that may hold personal data: its raw values are kept out of the output (repeatable; "
        "columns named like name/email/phone/ssn/address/dob are treated so anyway)",
    )
    add_json_flag(parser)
    add_quiet_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    with terminal_progress(args) as progress:
        result = validate_table(args.data, args.suite, pii_columns=args.pii_column, progress=progress)
    code = report(result, as_json=args.json)
    if not args.json and result.status in ("fail", "warn"):
        # People need to see which expectations failed, not just the counts.
        for entry in result.details.get("expectations", []):
            if not entry["success"]:
                where = f" {entry['column']}" if entry.get("column") else ""
                count = (
                    f" unexpected={entry['unexpected_count']}"
                    if entry.get("unexpected_count") is not None
                    else ""
                )
                reason = f" ({entry['error']})" if entry.get("error") else ""
                print(f"  FAILED {entry['type']}{where}{count}{reason}")
    return code
