"""`govflow check fairness --data F --label L --prediction P --sensitive S [...] [--json]`."""

from __future__ import annotations

import argparse

from govflow.checks.fairness import evaluate_fairness
from govflow.cli._check import add_tier_flags, report, tier_options
from govflow.cli._common import add_json_flag
from govflow.cli._progress import add_quiet_flag, terminal_progress


def register(checks: argparse._SubParsersAction) -> None:
    parser = checks.add_parser(
        "fairness",
        help="group fairness of binary predictions (Fairlearn)",
        description="Per-group rates and disparities of binary predictions vs. labels, per sensitive feature "
        "(several --sensitive: their intersections, keys joined with '|'). "
        "Exit 0 pass/warn, 1 a disparity above its maximum, 2 bad input.",
    )
    parser.add_argument("--data", required=True, metavar="FILE", help="evaluation data, CSV or Parquet")
    parser.add_argument(
        "--label", required=True, metavar="COLUMN", help="column with the true binary outcome"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--prediction", metavar="COLUMN", help="column with the model's predictions")
    source.add_argument(
        "--model", metavar="PATH", help="scikit-learn model (.joblib/.pkl or .skops) to predict with"
    )
    parser.add_argument(
        "--sensitive",
        required=True,
        action="append",
        metavar="COLUMN",
        help="sensitive feature column (repeatable)",
    )
    parser.add_argument(
        "--positive-label",
        metavar="VALUE",
        help="the favourable outcome (default 1 for 0/1, -1/1 or boolean labels)",
    )
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="TYPE",
        help="a type in a .skops model you reviewed and trust (repeatable)",
    )
    parser.add_argument(
        "--min-group-size",
        type=int,
        metavar="N",
        help="groups with fewer rows are flagged insufficient (default 30, or the tier's)",
    )
    parser.add_argument(
        "--max-demographic-parity-difference",
        type=float,
        metavar="X",
        help="fail above this (default 0.1, or the tier's)",
    )
    parser.add_argument(
        "--max-equalized-odds-difference",
        type=float,
        metavar="X",
        help="fail above this (default 0.1, or the tier's)",
    )
    add_tier_flags(parser)
    add_json_flag(parser)
    add_quiet_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    options = tier_options(
        args,
        "fairness",
        {
            "min_group_size": 30,
            "max_demographic_parity_difference": 0.1,
            "max_equalized_odds_difference": 0.1,
        },
    )

    with terminal_progress(args) as progress:
        result = evaluate_fairness(
            args.data,
            label=args.label,
            prediction=args.prediction,
            sensitive=args.sensitive,
            positive_label=args.positive_label,
            model_path=args.model,
            trusted_types=args.trust,
            progress=progress,
            **options,
        )
    code = report(result, as_json=args.json)
    if not args.json and result.status != "error":
        print("  group: count selection_rate accuracy TPR FPR FNR")
        for key, entry in result.details["by_group"].items():
            flag = "  (insufficient)" if entry["insufficient"] else ""
            print(
                f"  {key}: {entry['count']} {entry['selection_rate']:.3f} {entry['accuracy']:.3f} "
                f"{entry['true_positive_rate']:.3f} {entry['false_positive_rate']:.3f} "
                f"{entry['false_negative_rate']:.3f}{flag}"
            )
    return code
