"""`govflow check fairness --data F --label L --prediction P --sensitive S [...] [--json]`."""

from __future__ import annotations

import argparse
from typing import Any

from govflow.checks.fairness import (
    BINARY_METRICS,
    MODEL_TASKS,
    REGRESSION_METRICS,
    SMALL_GROUP_RULES,
    evaluate_fairness,
)
from govflow.cli._check import add_tier_flags, report, require_model_format, tier_options
from govflow.cli._common import add_json_flag
from govflow.cli._engine import add_engine_flag, collect_at_exit_if_duckdb, table_data
from govflow.cli._progress import add_quiet_flag, terminal_progress


def register(checks: argparse._SubParsersAction) -> None:
    parser = checks.add_parser(
        "fairness",
        help="group fairness of binary, multiclass or regression predictions (Fairlearn)",
        description="Per-group metrics and disparities of predictions vs. labels, per sensitive feature "
        "(several --sensitive: their intersections, keys joined with '|'). "
        "Exit 0 pass/warn, 1 a disparity above its maximum, 2 bad input.",
    )
    parser.add_argument("--data", required=True, metavar="FILE", help="evaluation data, CSV or Parquet")
    parser.add_argument(
        "--label", required=True, metavar="COLUMN", help="column with the true outcome (class or number)"
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
    parser.add_argument(
        "--task",
        choices=MODEL_TASKS,
        help="the model's task (default: detected from the label; the output says how)",
    )
    for flag, what in (
        ("--max-accuracy-difference", "multiclass: fail above this (default: reported only, or the tier's)"),
        ("--max-mean-prediction-difference", "regression, label units: fail above this"),
        ("--max-mean-absolute-error-difference", "regression, label units: fail above this"),
        ("--max-worst-group-mean-absolute-error", "regression: bounded group loss, fail above this"),
    ):
        parser.add_argument(flag, type=float, metavar="X", help=what)
    parser.add_argument(
        "--bootstrap",
        type=int,
        metavar="N",
        help="N seeded bootstrap replicates: 95%% intervals (<metric>_ci) on each group metric and disparity",
    )
    parser.add_argument("--bootstrap-seed", type=int, metavar="S", help="the bootstrap's seed (default 0)")
    parser.add_argument(
        "--small-groups",
        choices=SMALL_GROUP_RULES,
        help="exclude: judge groups of at least --min-group-size rows (default); "
        "interval: judge every group by the upper end of each disparity's interval (needs --bootstrap)",
    )
    add_engine_flag(parser)
    add_tier_flags(parser, model_artifacts=True)
    add_json_flag(parser)
    add_quiet_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    require_model_format(args, args.model)
    options = tier_options(
        args,
        "fairness",
        {
            "min_group_size": 30,
            "max_demographic_parity_difference": 0.1,
            "max_equalized_odds_difference": 0.1,
            "max_accuracy_difference": None,
            "max_mean_prediction_difference": None,
            "max_mean_absolute_error_difference": None,
            "max_worst_group_mean_absolute_error": None,
            "bootstrap": 0,
            "bootstrap_seed": 0,
            "small_groups": "exclude",
        },
    )

    with terminal_progress(args) as progress:
        result = evaluate_fairness(
            table_data(args.data),
            engine=args.engine,
            label=args.label,
            prediction=args.prediction,
            sensitive=args.sensitive,
            positive_label=args.positive_label,
            model_path=args.model,
            trusted_types=args.trust,
            progress=progress,
            task=args.task,
            **options,
        )
    collect_at_exit_if_duckdb()
    code = report(result, as_json=args.json)
    if not args.json and result.status != "error":
        _print_groups(result.summary, result.details["by_group"])
    return code


def _print_groups(summary: dict[str, Any], by_group: dict[str, dict[str, Any]]) -> None:
    columns = {
        "binary": list(BINARY_METRICS),
        "regression": list(REGRESSION_METRICS),
    }.get(summary["task"], ["accuracy", *(f"selection_rate.{c}" for c in summary.get("classes", []))])
    print("  group: count " + " ".join(columns))
    for key, entry in by_group.items():
        flag = "  (insufficient)" if entry["insufficient"] else ""
        cells = []
        for name in columns:
            interval = entry.get(f"{name}_ci")
            cells.append(
                f"{entry[name]:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")
            )
        print(f"  {key}: {entry['count']} {' '.join(cells)}{flag}")
