"""`govflow suite infer --reference R --out S.yaml`: propose an expectation suite for review."""

from __future__ import annotations

import argparse

from govflow.checks.validation import infer_suite, write_suite
from govflow.cli._common import add_json_flag
from govflow.cli._output import emit, out_file
from govflow.cli._progress import add_quiet_flag, terminal_progress
from govflow.errors import BadInputError


def register(groups: argparse._SubParsersAction) -> None:
    suite = groups.add_parser("suite", help="expectation suites for data validation")
    actions = suite.add_subparsers(dest="suite_command", metavar="ACTION")
    actions.required = True

    infer = actions.add_parser(
        "infer",
        help="propose a suite from reference data (for a person to review)",
        description="Propose an expectation suite from reference data: column list and order, type "
        "families, null-rate bounds, numeric ranges and value sets of low-cardinality text columns. "
        "The suite is marked needs_review.",
    )
    infer.add_argument("--reference", required=True, metavar="FILE", help="reference CSV or Parquet file")
    infer.add_argument(
        "--out", required=True, metavar="SUITE", help="where to write the suite (.yaml, .yml or .json)"
    )
    infer.add_argument("--name", help="suite name (default: the reference file's name)")
    infer.add_argument(
        "--pii-column",
        action="append",
        default=[],
        metavar="COLUMN",
        help="column that may hold personal data: no ranges or value sets are proposed for it (repeatable)",
    )
    infer.add_argument(
        "--max-categories",
        type=int,
        default=50,
        metavar="N",
        help="propose a value set for text columns with at most N distinct values (default 50)",
    )
    infer.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_json_flag(infer)
    add_quiet_flag(infer)
    infer.set_defaults(handler=_infer)


def _infer(args: argparse.Namespace) -> int:
    if args.max_categories < 0:
        raise BadInputError("--max-categories must be 0 or more")
    out = out_file(args.out, suffixes=(".yaml", ".yml", ".json"))  # before the data is read
    with terminal_progress(args) as progress:
        document = infer_suite(
            args.reference,
            name=args.name,
            pii_columns=args.pii_column,
            max_categories=args.max_categories,
            progress=progress,
        )
    path = write_suite(document, out, overwrite=args.force)
    govflow_meta = document["meta"]["govflow"]
    payload = {
        "suite": str(path),
        "name": document["name"],
        "expectations": len(document["expectations"]),
        "columns": govflow_meta["reference"]["columns"],
        "rows": govflow_meta["reference"]["rows"],
        "needs_review": True,
        "notes": govflow_meta.get("notes", []),
    }
    lines = [
        f"wrote file {path}: {payload['expectations']} expectations over {payload['columns']} columns "
        f"(from {payload['rows']} rows); review it before use",
        *[f"  note: {n}" for n in payload["notes"]],
    ]
    emit(payload, as_json=args.json, lines=lines)
    return 0
