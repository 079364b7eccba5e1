"""`govflow mitigate`: what a fairness mitigation would cost, measured before anyone retrains.

    govflow mitigate --model M --version V [--method threshold|reductions|reweight]
                     [--constraint C] [--register NEW_VERSION] [--json]

Exit status: 0 measured (and registered with --register), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from govflow.access import require_role
from govflow.checks.fairness.mitigation import CONSTRAINTS, METHODS
from govflow.cli._common import add_actor_flag, add_json_flag
from govflow.cli._identity import actor_of
from govflow.cli._output import emit
from govflow.errors import GovflowError
from govflow.policy import load_policy
from govflow.service.mitigate import (
    mitigate_version,
    mitigation_inputs,
    register_challenger,
    save_evidence,
)
from govflow.store import session_scope

REGISTRAR_ROLES = ("data_scientist",)  # who may register a challenger (admins pass too)


def register(groups: argparse._SubParsersAction) -> None:
    parser = groups.add_parser(
        "mitigate",
        help="measure fairness mitigations (Fairlearn) of a version; register the chosen one as a challenger",
        usage="govflow mitigate --model M --version V [--method METHOD] [--constraint C] "
        "[--register NEW_VERSION] [--json]",
        description="Fits Fairlearn's ThresholdOptimizer, reductions (ExponentiatedGradient; GridSearch with "
        "BoundedGroupLoss for regressors) and reweighting on part of the version's registered data, scores "
        "each on held-out rows (primary metric vs the disparity the policy judges, bootstrap intervals) "
        "and recommends one with its cost (kept as the version's measured mitigations: its documents, fix "
        "texts and nightly alerts show them). --register writes the challenger as data (skops, no pickle) "
        "and "
        "registers it as a new version derived from this one. Exit 0 measured, 2 bad input.",
    )
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument("--version", required=True, help="registered version to mitigate")
    parser.add_argument(
        "--method", action="append", choices=METHODS, help="candidate method (repeatable; default: all)"
    )
    parser.add_argument(
        "--constraint",
        choices=CONSTRAINTS,
        help="fairness constraint (default: the disparity furthest over the policy's limit)",
    )
    parser.add_argument("--register", metavar="NEW_VERSION", help="register the recommended candidate")
    parser.add_argument("--candidate", metavar="NAME", help="with --register: this candidate instead")
    parser.add_argument(
        "--bootstrap", type=int, metavar="N", help="bootstrap replicates (default: policy, else 200)"
    )
    parser.add_argument(
        "--max-iter", type=int, default=50, metavar="N", help="ExponentiatedGradient iterations"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    parser.add_argument("--policy", metavar="FILE", help="policy file (default: the configured one)")
    add_actor_flag(parser)
    add_json_flag(parser)
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        payload = _mitigate(args)
    except GovflowError as err:
        if args.json:
            emit({"command": "mitigate", "status": "error", "errors": [str(err)]}, as_json=True)
        print(f"govflow: error: {err}", file=sys.stderr)
        return err.exit_code
    emit(payload, as_json=args.json, lines=_lines(payload))
    return 0


def _mitigate(args: argparse.Namespace) -> dict[str, Any]:
    actor = None
    if args.register:
        actor = actor_of(args)
        require_role(actor, REGISTRAR_ROLES, action="register model versions")
    policy = load_policy(args.policy) if args.policy else load_policy()
    with session_scope() as session:  # a short read; fitting runs outside the transaction
        inputs = mitigation_inputs(session, args.model, args.version)
    result = mitigate_version(
        inputs,
        policy=policy,
        methods=args.method,
        constraint=args.constraint,
        bootstrap=args.bootstrap,
        random_state=args.seed,
        max_iter=args.max_iter,
    )
    # What the version's documents, fix texts and nightly alerts show as its measured mitigations.
    save_evidence(inputs.model, inputs.version, result.evidence, measured_by="cli")
    payload = {"command": "mitigate", **result.evidence}
    if args.register:
        assert actor is not None
        with session_scope() as session:
            payload["registered"] = register_challenger(
                session,
                inputs,
                result,
                new_version=args.register,
                actor=actor,
                policy=policy,
                candidate=args.candidate,
            )
    return payload


def _lines(p: dict[str, Any]) -> list[str]:
    version = p["version"]
    lines = [
        f"mitigate {version['model']}@{version['version']}: {p['status']} "
        f"({p['constraint']}; {p['disparity_metric']} limit {p['limit']})",
        f"  held-out rows: {p['split']['held_out_rows']} of {p['split']['rows']} "
        f"(fit on {p['split']['fit_rows']}); bootstrap {p['bootstrap']['replicates']}",
        "",
        f"  {'candidate':34}{p['primary_metric']:>22}{p['disparity_metric']:>32}",
    ]
    for c in [p["baseline"], *p["candidates"]]:
        iv = c["intervals"]
        lines.append(
            f"  {c['name']:34}{_with(c['primary_metric'], iv['primary']):>22}"
            f"{_with(c['disparity'], iv['disparity']):>32}"
        )
    for method, why in p["skipped"].items():
        lines.append(f"  {method}: skipped ({why})")
    lines += ["", "Findings:"] + [f"  - {f}" for f in p["findings"]]
    if "registered" in p:
        r = p["registered"]
        lines += [
            "",
            f"Registered {r['model']}@{r['version']} (derived from {r['derived_from']}, {r['candidate']}): "
            f"{r['artifact']}",
            f"  next: govflow submit --model {r['model']} --version {r['version']} --trigger "
            "(the gate decides)",
        ]
    return lines


def _with(value: float, interval: list[float] | None) -> str:
    return f"{value:.4f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "")
