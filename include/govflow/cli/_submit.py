"""`govflow submit`: register a version (what a training job produced) and start its governance_gate run.

    govflow submit --model M --version V --artifact model.joblib --training-data train.csv \\
        [--reference-data ref.csv] [--eval-data eval.csv] [--label y --prediction p --sensitive sex] \\
        --trigger [--wait]

With ``--trigger`` the governance_gate DAG is started through Airflow's REST API
(GOVFLOW_AIRFLOW_URL, GOVFLOW_AIRFLOW_USER, GOVFLOW_AIRFLOW_PASSWORD) and the
run id is printed; with ``--wait`` the command follows the run and exits with
the gate's outcome: 0 approved (and promoted), 1 rejected, still pending
approval or the run failed, 2 bad input. A training pipeline can therefore
fail on rejection. A trigger that fails (Airflow unreachable, refused credentials) leaves the
version registered and says so in one line, with the settings to fix and the command to re-run
(the same submit: the identical version is found, not registered twice).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from govflow.access import require_role
from govflow.airflow_client import AirflowClient
from govflow.checks.fairness import MODEL_TASKS
from govflow.cli._common import add_actor_flag, add_json_flag
from govflow.cli._identity import actor_of
from govflow.cli._mlflow import add_from_mlflow_flag, registration
from govflow.cli._output import emit
from govflow.cli._params import json_object
from govflow.errors import BadInputError, GovflowError
from govflow.service import registry
from govflow.service.docs import record_notes
from govflow.service.pipeline import CheckConfig
from govflow.store import session_scope

DAG_ID = "governance_gate"
SUBMITTER_ROLES = ("data_scientist",)  # admins pass too
EXIT_BY_DECISION = {"approved": 0, "rejected": 1, "pending_approval": 1}


def register(groups: argparse._SubParsersAction) -> None:
    sub = groups.add_parser(
        "submit",
        help="register a model version and trigger its governance_gate run",
        description=__doc__.splitlines()[0],
    )
    sub.add_argument("--model", required=True, help="registered model (govflow model register)")
    sub.add_argument("--version", required=True)
    sub.add_argument("--artifact", help="the trained model file (required unless --from-mlflow)")
    sub.add_argument("--training-data", help="required unless --from-mlflow logged a training dataset")
    sub.add_argument("--reference-data", help="data to compare against for drift (default: training data)")
    sub.add_argument("--eval-data", help="held-out data with labels (and predictions) for fairness")
    sub.add_argument("--code-version", help="e.g. the git commit of the training code")
    sub.add_argument("--framework")
    sub.add_argument("--params", help="JSON object (or @file.json) of training parameters")
    sub.add_argument(
        "--metrics", help="JSON object (or @file.json) of offline metrics (nightly compares with them)"
    )
    add_from_mlflow_flag(sub)
    checks = sub.add_argument_group("how the checks read the data (stored with the version)")
    checks.add_argument("--label", help="column with the true outcome")
    checks.add_argument("--prediction", help="column with the model's prediction")
    checks.add_argument("--score", help="column with the model's score/probability (for ROC AUC)")
    checks.add_argument("--positive-label", help="the favourable outcome (default: 1/true)")
    checks.add_argument(
        "--sensitive", action="append", default=[], help="sensitive feature column (repeatable)"
    )
    checks.add_argument("--suite", help="expectation suite (YAML/JSON) for data validation")
    checks.add_argument(
        "--task",
        choices=MODEL_TASKS,
        help="binary, multiclass or regression (default: detected from the label)",
    )
    sub.add_argument(
        "--notes", help="documentation notes YAML (limitations, oversight, ...) for the model card"
    )
    sub.add_argument(
        "--trigger", action="store_true", help="start governance_gate through Airflow's REST API"
    )
    sub.add_argument(
        "--wait", action="store_true", help="with --trigger: wait for the outcome and exit with it"
    )
    sub.add_argument("--timeout", type=float, default=86400.0, help="seconds --wait waits (default one day)")
    sub.add_argument("--poll", type=float, default=5.0, help=argparse.SUPPRESS)
    add_actor_flag(sub)
    add_json_flag(sub)
    sub.set_defaults(handler=_submit)


def _submit(args: argparse.Namespace) -> int:
    if args.wait and not args.trigger:
        raise BadInputError("--wait needs --trigger")
    actor = actor_of(args)
    require_role(actor, SUBMITTER_ROLES, action="submit model versions")
    payload = register_submission(args, actor)
    if not args.trigger:
        emit(
            payload,
            as_json=args.json,
            lines=[
                f"registered {args.model}@{args.version}; start the gate with "
                "--trigger (or trigger governance_gate in Airflow)"
            ],
        )
        return 0

    with AirflowClient() as client:
        try:
            run = client.trigger(
                DAG_ID,
                {"model": args.model, "version": args.version, "submitted_by": actor, "trigger_kind": "rest"},
                note=f"submitted by {actor}",
            )
        except (GovflowError, httpx.HTTPError) as err:
            # The version is registered: say so, and how to start its run, instead of leaving a
            # registered-but-never-gated version the user does not know about.
            hint = _retrigger_hint(args, client.url, err)
            if isinstance(err, GovflowError):  # keep its kind (and exit status), say what to do
                err.args = (hint,)
                raise
            raise BadInputError(hint) from err
        payload |= {
            "dag_id": DAG_ID,
            "run_id": run["dag_run_id"],
            "state": run.get("state"),
            "airflow_url": client.url,
        }
        if not args.wait:
            emit(
                payload,
                as_json=args.json,
                lines=[
                    f"registered {args.model}@{args.version}",
                    f"triggered {DAG_ID} run {run['dag_run_id']}",
                ],
            )
            return 0
        if not args.json:
            print(f"triggered {DAG_ID} run {run['dag_run_id']}; waiting for the outcome", file=sys.stderr)
        payload |= wait_for_outcome(
            client, run["dag_run_id"], timeout=args.timeout, poll=args.poll, quiet=args.json
        )
    emit(payload, as_json=args.json, lines=_lines(payload))
    return EXIT_BY_DECISION.get(payload.get("decision") or "", 1)


def _retrigger_hint(args: argparse.Namespace, url: str, err: Exception) -> str:
    detail = " ".join(str(err).split()) or type(err).__name__
    return (
        f"{args.model}@{args.version} is registered, but starting {DAG_ID} at {url} failed ({detail}); "
        "set GOVFLOW_AIRFLOW_URL (and GOVFLOW_AIRFLOW_PASSWORD, or run inside the project whose .airflow "
        "holds the generated passwords, or set AIRFLOW_HOME) and run the same submit again: the identical "
        f"version is found, not registered twice (or trigger {DAG_ID} in Airflow with conf "
        f'{{"model": "{args.model}", "version": "{args.version}"}})'
    )


def register_submission(args: argparse.Namespace, actor: str) -> dict[str, Any]:
    """Register the version (or find the identical one a retried job registered) and its notes."""
    params = _json_arg(args.params, "--params")
    config = CheckConfig(
        label=args.label,
        prediction=args.prediction,
        score=args.score,
        positive_label=args.positive_label,
        sensitive=tuple(args.sensitive),
        suite=str(Path(args.suite).resolve()) if args.suite else None,
        task=args.task,
    )
    if args.suite and not Path(args.suite).is_file():
        raise BadInputError(f"suite not found: {args.suite}")
    if config.to_params():
        params["governance"] = config.to_params()
    notes = _read_notes(args.notes)
    metrics = _json_arg(args.metrics, "--metrics")
    with registration(args, params=params, metrics=metrics) as given, session_scope() as session:
        row, registered = registry.find_or_register_version(
            session, model=args.model, version=args.version, actor=actor, **given
        )
        if notes is not None:
            record_notes(session, args.model, args.version, notes, actor=actor)
        return {
            "model": args.model,
            "version": args.version,
            "registered": registered,
            "stage": row.stage,
            "artifact_sha256": row.artifact_sha256,
        }


def wait_for_outcome(client, run_id: str, *, timeout: float, poll: float, quiet: bool) -> dict[str, Any]:
    """Follow the run to its end; tell the user (stderr) when it waits for reviewers."""
    told: set[tuple[str, Any]] = set()

    def progress(run: dict[str, Any]) -> bool:
        if not quiet:
            new = [a for a in client.required_actions(DAG_ID, run_id) if _action_key(a) not in told]
            told.update(map(_action_key, new))
            if new:
                who = sorted({u["name"] for a in new for u in a.get("assigned_users") or []})
                print(
                    f"waiting for {len(new)} approval(s) in Airflow's Required Actions, by any of: "
                    f"{', '.join(who) or 'any reviewer'}",
                    file=sys.stderr,
                )
        return False

    run = client.wait_for_run(DAG_ID, run_id, timeout=timeout, poll=poll, until=progress)
    result: dict[str, Any] = {"state": run["state"]}
    if run["state"] != "success":
        failed = [t["task_id"] for t in client.task_instances(DAG_ID, run_id) if t.get("state") == "failed"]
        result |= {
            "decision": None,
            "error": f"{DAG_ID} run {run_id} {run['state']}"
            + (f" at task(s) {', '.join(sorted(set(failed)))}" if failed else ""),
        }
        return result
    outcome = client.xcom(DAG_ID, run_id, "finish")
    if isinstance(outcome, str):  # some XCom backends hand back the JSON text
        outcome = json.loads(outcome)
    keys = (
        "decision",
        "stage",
        "reasons",
        "fixes",
        "notes",
        "approved_by",
        "decision_id",
        "documents",
        "evidence",
    )
    return result | {k: outcome.get(k) for k in keys}


def _action_key(action: dict[str, Any]) -> tuple[str, Any]:
    return action["task_instance"]["task_id"], action["task_instance"].get("map_index")


def _lines(payload: dict[str, Any]) -> list[str]:
    lines = [f"{payload['model']}@{payload['version']}: run {payload.get('run_id')} {payload.get('state')}"]
    if payload.get("error"):
        return [*lines, payload["error"]]
    lines.append(f"decision: {payload.get('decision')} (stage {payload.get('stage')})")
    fixes = {f["reason"]: f["fix"] for f in payload.get("fixes") or []}
    for reason in payload.get("reasons") or []:
        lines.append(f"  - {reason}")
        if reason in fixes:
            lines.append(f"    fix: {fixes[reason]}")
    if payload.get("approved_by"):
        lines.append(f"approved by: {', '.join(payload['approved_by'])}")
    for document in payload.get("documents") or []:
        lines.append(f"{document['kind']} ({document['format']}): {document['uri']}")
    return lines


def _json_arg(value: str | None, flag: str) -> dict[str, Any]:
    if value and value.startswith("@"):
        path = Path(value[1:])
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as err:
            raise BadInputError(f"{flag}: cannot read {path}: {err.strerror or err}") from err
    return json_object(value, what=flag)


def _read_notes(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise BadInputError(f"--notes: cannot read {path}: {err.strerror or err}") from err
