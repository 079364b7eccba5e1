"""`govflow explain`: what drives predictions per group, where a group's errors sit, which inputs are proxies.

    govflow explain --model M --version V [--label L --sensitive S ...] [--json]
    govflow explain --artifact A --data D --label L --sensitive S [--positive-label P] [--json]

Exit status: 0 explained (also when it warns about a proxy), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from govflow.checks.explain import explain_model
from govflow.checks.fairness import MODEL_TASKS
from govflow.cli._common import add_json_flag
from govflow.cli._output import emit, out_file
from govflow.cli._progress import add_quiet_flag, terminal_progress
from govflow.docs import explanation_svg
from govflow.errors import BadInputError, GovflowError
from govflow.policy import load_policy
from govflow.progress import Progress
from govflow.service.explain_version import explain_inputs, explanation_inputs
from govflow.store import session_scope


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser(
        "explain",
        help="explain a model's fairness: importance per group, error slices, proxies",
        usage="govflow explain --model M --version V [options] [--json]\n"
        "       govflow explain --artifact FILE --data FILE --label L --sensitive S [options] [--json]",
        description="Permutation importance overall and per sensitive group, the feature slices where the "
        "worst-off group's errors concentrate, and the inputs that predict a sensitive attribute "
        "(proxies). Reads a registered version (--model/--version) or files (--artifact/--data). "
        "Exit 0 explained (also with proxy warnings), 2 bad input.",
    )
    registry = parser.add_argument_group("a registered version")
    registry.add_argument("--model", help="registered model name")
    registry.add_argument("--version", help="registered version")
    files = parser.add_argument_group("files (no registry)")
    files.add_argument("--artifact", metavar="FILE", help="scikit-learn model (.joblib/.pkl or .skops)")
    files.add_argument("--data", metavar="FILE", help="eval data, CSV or Parquet")
    files.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="TYPE",
        help="a type in a .skops model you reviewed and trust (repeatable)",
    )
    files.add_argument(
        "--allow-pickle",
        action="store_true",
        help="load a .joblib/.pkl model (it runs code; only ever in the sandbox)",
    )
    parser.add_argument("--label", metavar="COLUMN", help="true label column (default: the version's)")
    parser.add_argument(
        "--sensitive",
        action="append",
        metavar="COLUMN",
        help="sensitive column (repeatable; default: the version's)",
    )
    parser.add_argument(
        "--positive-label", metavar="VALUE", help="the favourable label (default 1 for 0/1 labels)"
    )
    parser.add_argument(
        "--task",
        choices=MODEL_TASKS,
        help="binary, multiclass or regression (default: the version's, else detected from the label)",
    )
    parser.add_argument(
        "--proxy-auc-threshold",
        type=float,
        metavar="X",
        help="a feature predicting a sensitive attribute with this AUC is a strong proxy "
        "(default: the tier's policy value, else 0.8)",
    )
    parser.add_argument(
        "--min-group-size", type=int, metavar="N", help="smaller groups are not analysed (default 30)"
    )
    parser.add_argument(
        "--max-rows", type=int, metavar="N", help="work on a seeded sample of at most N rows (50000)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    parser.add_argument(
        "--policy", metavar="FILE", help="policy file (registry mode; default: the configured one)"
    )
    parser.add_argument("--svg", metavar="FILE", help="also write the explanation chart as an SVG file")
    add_json_flag(parser)
    add_quiet_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        svg = out_file(args.svg, suffixes=(".svg",), flag="--svg") if args.svg else None
        with terminal_progress(args) as progress:
            explanation = _explain(args, progress)
        if svg is not None:
            svg.write_text(explanation_svg(explanation) + "\n", encoding="utf-8")
    except GovflowError as err:
        if args.json:
            emit({"command": "explain", "status": "error", "errors": [str(err)]}, as_json=True)
        print(f"govflow: error: {err}", file=sys.stderr)
        return err.exit_code
    emit(explanation, as_json=args.json, lines=_lines(explanation))
    return 0


def _explain(args: argparse.Namespace, progress: Progress) -> dict[str, Any]:
    registry_mode = args.model is not None or args.version is not None
    file_mode = args.artifact is not None or args.data is not None
    if registry_mode == file_mode:
        raise BadInputError(
            "give either --model and --version, or --artifact and --data (with --label and --sensitive)"
        )
    options: dict[str, Any] = {"random_state": args.seed, "progress": progress}
    for name in ("proxy_auc_threshold", "min_group_size", "max_rows"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    if registry_mode:
        if not (args.model and args.version):
            raise BadInputError("--model and --version go together")

        with session_scope() as session:  # a short read; the computation runs outside the transaction
            inputs = explanation_inputs(
                session,
                args.model,
                args.version,
                label=args.label,
                sensitive=args.sensitive,
                positive_label=args.positive_label,
                task=args.task,
            )
        # Resolved once, here: the file given, else the configured policy.
        policy = load_policy(args.policy) if args.policy else load_policy()
        return explain_inputs(inputs, policy=policy, **options)
    if not (args.artifact and args.data and args.label and args.sensitive):
        raise BadInputError("file mode needs --artifact, --data, --label and --sensitive")
    from govflow.cli._check import require_model_format

    require_model_format(argparse.Namespace(tier=None, allow_pickle=args.allow_pickle), args.artifact)

    return explain_model(
        args.data,
        model_path=args.artifact,
        label=args.label,
        sensitive=args.sensitive,
        positive_label=args.positive_label,
        trusted=args.trust,
        task=args.task,
        **options,
    )


def _lines(e: dict[str, Any]) -> list[str]:
    version = e.get("version")
    head = f"explain {version['model']}@{version['version']}" if version else "explain"
    lines = [
        f"{head}: {e['status']}",
        f"  model: {e['model']['kind']}; sensitive: {', '.join(e['sensitive'])}; rows: {e['sample']['note']}",
    ]
    lines += ["", "Findings:"] + [f"  - {f}" for f in e["findings"]]

    importance = e["feature_importance"]
    groups = list(importance["by_group"])
    lines += [
        "",
        f"Permutation importance ({importance['measure']}):"
        if e.get("task")
        else "Permutation importance (share of predictions that change when shuffled):",
        "  " + _row(["feature", "overall", *groups]),
    ]
    per_group = {
        g: {r["feature"]: r["prediction_change"] for r in v["features"]}
        for g, v in importance["by_group"].items()
    }
    # A regression model's change is in the label's units, not a share.
    show = (lambda v: "-" if v is None else f"{v:.3g}") if e.get("task") == "regression" else _pct
    for r in importance["overall"][:10]:
        lines.append(
            "  "
            + _row(
                [
                    r["feature"],
                    show(r["prediction_change"]),
                    *[show(per_group[g].get(r["feature"])) for g in groups],
                ]
            )
        )

    for entry in e["error_analysis"]:
        metrics = ", ".join(
            f"{m['metric']} {m['value']:.3f} vs {m['other_groups']:.3f}" for m in entry["metrics"]
        )
        lines += ["", f"Where {entry['group']}'s {entry['errors']} concentrate ({metrics}):"]
        if not entry["slices"]:
            lines.append("  no slice stands out")
            continue
        width = max(len(s["slice"]) for s in entry["slices"]) + 2
        lines.append(
            "  "
            + _row(
                ["slice", "rows", "error rate", "rest of group", "lift", "other groups", "lift"], first=width
            )
        )
        for s in entry["slices"]:
            lines.append(
                "  "
                + _row(
                    [
                        s["slice"],
                        f"{s['rows']} ({_pct(s['share_of_group'])})",
                        _num(s["error_rate"]),
                        _num(s["error_rate_rest"]),
                        _num(s["lift"]),
                        _num(s["error_rate_other_groups"]),
                        _num(s["lift_other_groups"]),
                    ],
                    first=width,
                )
            )
        for s in entry.get("context", []):
            lines.append(f"  context: {s['slice']} holds {_pct(s['share_of_group'])} of the group")

    proxies = e["proxies"]
    for column, entry in proxies["by_sensitive"].items():
        lines += ["", f"Proxies of {column} (AUC; threshold {proxies['threshold_auc']:.2f}):"]
        joint = entry.get("all_features")
        if joint:
            lines.append(
                "  "
                + _row(
                    [
                        f"all {joint['features']} inputs",
                        _num(joint["auc"]),
                        "STRONG" if joint["strong"] else "",
                    ]
                )
            )
        for r in entry["features"]:
            if r["auc"] is None:
                lines.append("  " + _row([r["feature"], "n/a", r.get("skipped", "")]))
                continue
            lines.append("  " + _row([r["feature"], _num(r["auc"]), "STRONG" if r["strong"] else ""]))
    return lines


def _row(cells: list[str], first: int = 22) -> str:
    return cells[0].ljust(first) + "".join(str(c).rjust(15) for c in cells[1:])


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
