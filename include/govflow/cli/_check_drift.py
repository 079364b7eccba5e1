"""`govflow check drift --reference R --current C [...] [--json]`."""

from __future__ import annotations

import argparse

from govflow.checks.drift import detect_drift
from govflow.cli._check import add_tier_flags, report, tier_options
from govflow.cli._common import add_json_flag
from govflow.cli._engine import add_engine_flag, collect_at_exit_if_duckdb, table_data
from govflow.cli._output import out_file
from govflow.cli._progress import add_quiet_flag, terminal_progress


def register(checks: argparse._SubParsersAction) -> None:
    parser = checks.add_parser(
        "drift",
        help="per-column data drift of current vs. reference data (Evidently)",
        description="Test every column (or --column ones) of the current data against the reference data "
        "with Evidently's per-column drift tests. Exit 0 pass/warn, 1 too many or a key column drifted, "
        "2 bad input.",
    )
    parser.add_argument("--reference", required=True, metavar="FILE", help="reference data, CSV or Parquet")
    parser.add_argument("--current", required=True, metavar="FILE", help="current data, CSV or Parquet")
    parser.add_argument(
        "--column",
        action="append",
        dest="columns",
        metavar="COLUMN",
        help="test only this column (repeatable; default: all)",
    )
    parser.add_argument(
        "--key-column",
        action="append",
        dest="key_columns",
        metavar="COLUMN",
        help="fail if this column drifts (repeatable; default: the tier's)",
    )
    parser.add_argument(
        "--max-share-drifted",
        type=float,
        metavar="X",
        help="fail when the share of drifted columns exceeds this (default 0.5, or the tier's)",
    )
    parser.add_argument(
        "--stattest",
        metavar="NAME",
        help="Evidently stattest for every column, e.g. ks, psi, wasserstein (default: Evidently's choice)",
    )
    parser.add_argument(
        "--stattest-threshold",
        type=float,
        metavar="X",
        help="threshold for every column's test (default: each test's own)",
    )
    parser.add_argument("--html-report", metavar="PATH", help="also write Evidently's HTML report to PATH")
    add_engine_flag(parser)
    add_tier_flags(parser)
    add_json_flag(parser)
    add_quiet_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    options = tier_options(
        args,
        "drift",
        {"max_share_drifted": 0.5, "key_columns": [], "stattest": None, "stattest_threshold": None},
    )

    html_report = (
        out_file(args.html_report, suffixes=(".html",), flag="--html-report") if args.html_report else False
    )
    with terminal_progress(args) as progress:
        result = detect_drift(
            table_data(args.reference),
            table_data(args.current),
            engine=args.engine,
            columns=args.columns,
            html_report=html_report,
            progress=progress,
            **options,
        )
    collect_at_exit_if_duckdb()
    code = report(result, as_json=args.json)
    if not args.json and result.status != "error":
        for name, entry in result.details["columns"].items():
            mark = "DRIFTED" if entry["drifted"] else "ok"
            bound = entry.get("score_bound")
            within = f" (bound [{bound[0]:.4g}, {bound[1]:.4g}])" if bound else ""
            print(
                f"  {mark} {name}: {entry['method']} score={entry['score']:.4g}{within} "
                f"threshold={entry['threshold']:.4g}"
            )
        for name, reason in result.details.get("skipped_columns", {}).items():
            print(f"  SKIPPED {name}: {reason}")
    return code
