"""`govflow check pii --data F [--policy P] [--region R]... [--sector S] [--json]`."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from govflow.checks import CheckResult
from govflow.checks.pii import scan_pii
from govflow.cli._check import report
from govflow.cli._common import add_json_flag
from govflow.cli._progress import add_quiet_flag, terminal_progress
from govflow.errors import GovflowError
from govflow.policy import load_policy


def register(checks: argparse._SubParsersAction) -> None:
    parser = checks.add_parser(
        "pii",
        help="which PII entities each column holds (Presidio, offline)",
        description="Classify every column of a CSV or Parquet table by the PII entities its content holds "
        "(rates and masked examples, never raw values), and what its name suggests. With --policy/--region/"
        "--sector the policy says which entities are allowed; without them none is. "
        "Quasi-identifiers give k-anonymity and the share of unique rows "
        "(--min-k-anonymity or --tier judges it). "
        "Exit 0 pass/warn, 1 an entity that is not allowed or k below the minimum, 2 bad input.",
    )
    parser.add_argument("--data", required=True, metavar="FILE", help="data to scan, CSV or Parquet")
    parser.add_argument(
        "--policy", metavar="FILE", help="policy YAML (default with --region/--sector: the configured policy)"
    )
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        default=[],
        metavar="REGION",
        help="a region the model serves (repeatable; the strictest rule wins)",
    )
    parser.add_argument(
        "--sector", metavar="SECTOR", help="the model's sector (narrows the allowed entities)"
    )
    parser.add_argument(
        "--tier", metavar="TIER", help="take min_k_anonymity from this risk tier of the policy"
    )
    parser.add_argument(
        "--min-k-anonymity",
        type=int,
        metavar="K",
        help="fail when fewer than K rows share their quasi-identifier values (beats --tier)",
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=50_000, metavar="N", help="rows read at a time (default 50000)"
    )
    add_json_flag(parser)
    add_quiet_flag(parser)
    parser.set_defaults(handler=_run)


def _policy_options(
    args: argparse.Namespace,
) -> tuple[frozenset[str], list[Any], dict[str, Any], int | None]:
    """Allowed entities, custom recognizers, the policy note for the evidence and min_k_anonymity."""
    if not (args.policy or args.regions or args.sector or args.tier):
        note: dict[str, Any] = {"source": None, "note": "no policy given: no entity is allowed"}
        return frozenset(), [], note, args.min_k_anonymity
    policy = load_policy(args.policy)
    allowed = policy.allowed_pii_entities(args.regions, args.sector)
    note = {
        "source": str(args.policy) if args.policy else "configured policy",
        "sha256": getattr(policy, "sha256", None),
        "regions": list(args.regions),
        "sector": args.sector,
        "allowed_entities": sorted(allowed),
    }
    min_k = args.min_k_anonymity
    if min_k is None and args.tier:
        min_k = policy.tier(args.tier).pii.min_k_anonymity
        note["tier"] = args.tier
    return allowed, list(policy.pii.custom_recognizers), note, min_k


def _run(args: argparse.Namespace) -> int:
    try:
        allowed, recognizers, note, min_k = _policy_options(args)
    except GovflowError as err:  # a bad policy or an unknown region: an error result, one JSON object
        return report(CheckResult.error("pii", str(err)), as_json=args.json)
    with terminal_progress(args) as progress:
        result = scan_pii(
            args.data,
            allowed_entities=allowed,
            custom_recognizers=recognizers,
            chunk_rows=args.chunk_rows,
            min_k_anonymity=min_k,
            progress=progress,
        )
    if result.status != "error":
        result = dataclasses.replace(result, details={**result.details, "policy": note})
    code = report(result, as_json=args.json)
    if not args.json and result.status != "error":
        for name, column in result.details["columns"].items():
            found = ", ".join(f"{e} {info['rate']:.2%}" for e, info in column["entities"].items()) or "no PII"
            hint = f" (name suggests {column['name_hint']})" if column["name_hint"] else ""
            print(f"  {name}: {found}{hint}")
        summary = result.summary
        if summary.get("quasi_identifiers"):
            print(
                f"  re-identification: k-anonymity {summary['k_anonymity']}, "
                f"{summary['unique_share']:.1%} of rows unique on {', '.join(summary['quasi_identifiers'])}"
            )
    return code
