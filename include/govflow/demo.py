"""The demo: govflow's main job on the embedded default (SQLite for Airflow and govflow, no servers).

    python -m govflow.demo [--project-dir DIR]        (what `make demo` runs)

1. trains the bundled sample model (UCI Adult income classifier, Fairlearn-mitigated);
2. registers the model (high risk tier) and submits the version, as a training job would;
3. runs the governance_gate DAG to the end with ``dag.test()``: validation, PII,
   fairness and drift, documentation, the policy gate, then the two approvals the
   policy wants, given by reviewers rita and rob through Airflow's REST API (the
   API app runs in-process), then promotion and notification;
4. prints the decision with its reasons and where the model card and evidence are;
5. runs nightly_compliance once and prints its summary;
6. says how to open the Airflow UI (``make up``) on the same state.

State lives in GOVFLOW_HOME (default ./.govflow) and AIRFLOW_HOME (default ./.airflow);
Airflow's task logs of each DAG run go to GOVFLOW_HOME/demo/<dag>.log.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from govflow.airflow_client import AirflowClient
from govflow.errors import GovflowError, NotFoundError
from govflow.localairflow import find_project, local_airflow_env
from govflow.service import gate as gate_service
from govflow.service import registry
from govflow.service.checks import latest_check_results
from govflow.service.docs import document_links, record_notes
from govflow.service.pipeline import CheckConfig
from govflow.service.registry import get_version
from govflow.store import session_scope
from govflow.store.audit import authenticated_as

MODEL = "income-classifier"
REVIEWERS = ("rita", "rob")
SUBMITTER = "alice"


def airflow_env(project: Path, airflow_home: Path) -> dict[str, str]:
    """The Airflow settings of the demo: govflow.localairflow's, shared with `make up` and the e2e tests."""
    return local_airflow_env(home=airflow_home, project=project)


# --- the parent: a readable walk through ---------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m govflow.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", type=Path, default=_default_project(), help="the govflow checkout")
    parser.add_argument("--skip-nightly", action="store_true", help="do not run nightly_compliance")
    parser.add_argument("--run-dag", help=argparse.SUPPRESS)  # internal: the child that runs one DAG
    parser.add_argument("--conf", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--answers", default="", help=argparse.SUPPRESS)  # "rita=approve,rob=reject"
    parser.add_argument("--review", help=argparse.SUPPRESS)  # internal: the reviewers' process
    args = parser.parse_args(argv)
    answers = dict(item.split("=", 1) for item in args.answers.split(",") if item)
    if args.review:
        return _review(args.review, answers, Path(args.conf))
    if args.run_dag:
        return _child(args.run_dag, json.loads(args.conf), answers)

    project = args.project_dir.resolve()
    if not (project / "dags" / "govflow_dags.py").is_file():
        print(
            f"govflow demo: error: {project} is not a govflow checkout (no dags/govflow_dags.py); "
            "pass --project-dir",
            file=sys.stderr,
        )
        return 2
    home = Path(os.environ.get("GOVFLOW_HOME") or project / ".govflow").resolve()
    airflow_home = Path(os.environ.get("AIRFLOW_HOME") or project / ".airflow").resolve()
    os.environ["GOVFLOW_HOME"] = str(home)
    os.environ.update(airflow_env(project, airflow_home))
    work = home / "demo"
    work.mkdir(parents=True, exist_ok=True)

    _say("1. Training the sample model (UCI Adult, Fairlearn-mitigated logistic regression)")
    trained = _train(project, work)
    print(f"   metrics: {trained['metrics']}")

    _say("2. Registering the model and submitting the new version (as alice, a data scientist)")
    version = _register_and_submit(trained)
    print(f"   {MODEL}@{version} registered (high risk tier, regions EU, sector finance)")

    _say("3. Running governance_gate (Airflow dag.test on SQLite; reviewers approve over the REST API)")
    _migrate_airflow(airflow_home, work)
    gate = run_dag(
        "governance_gate",
        {"model": MODEL, "version": version},
        work,
        answers={name: "approve" for name in REVIEWERS},
    )
    print(
        f"   run {gate.get('run_id')}: {gate.get('state')}; approvals given: "
        f"{', '.join(a['by'] for a in gate.get('approvals', [])) or 'none'}"
    )

    _say("4. The decision")
    code = _print_outcome(version)

    if not args.skip_nightly:
        _say("5. Running nightly_compliance once (drift, PII, fairness, performance on the newest batch)")
        nightly = run_dag("nightly_compliance", {}, work)
        _print_nightly(nightly)

    _say("Next")
    print(
        "   make up          -> Airflow UI at http://localhost:8080 with these runs, and the Governance view"
    )
    passwords = ".airflow/simple_auth_manager_passwords.json.generated"
    print(f"                       (log in as admin; passwords: {passwords})")
    # Run inside the checkout, the CLI finds .govflow (govflow.config.home): no GOVFLOW_HOME to export.
    print(f"   {_govflow_command()} version show --model {MODEL} --version {version}")
    print(f"   Airflow task logs of this demo: {work}/governance_gate.log, {work}/nightly_compliance.log")
    return code


def _registered(session: Any, version: str) -> bool:
    try:
        get_version(session, MODEL, version)
    except NotFoundError:
        return False
    return True


def _govflow_command() -> str:
    """How the user's shell reaches the CLI: the checkout's venv's (`make demo` puts it on its own PATH,
    the user's shell does not have it), relative to the working folder; else plain ``govflow``."""
    script = Path(sys.executable).parent / "govflow"
    try:
        return str(script.relative_to(Path.cwd())) if script.is_file() else "govflow"
    except ValueError:
        return "govflow"


def _default_project() -> Path:
    return find_project() or Path.cwd()


def _say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def _train(project: Path, work: Path) -> dict[str, Any]:
    number = len(list(work.glob("model-*"))) + 1
    out = work / f"model-{number}"
    result = subprocess.run(
        [
            sys.executable,
            str(project / "include" / "sample" / "train_model.py"),
            "--out",
            str(out),
            "--mitigate",
            "--batches",
            "3",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    trained = json.loads(result.stdout)
    trained["number"] = number
    return trained


def _register_and_submit(trained: dict[str, Any]) -> str:
    number = trained["number"]
    # The production data batches the nightly DAG reads (a serving system would append them).
    batches = Path(trained["batches"]).parent.parent / "batches"
    config = CheckConfig(
        label=trained["label"],
        prediction=trained["prediction"],
        score=trained["score"],
        positive_label=trained["positive_label"],
        sensitive=tuple(trained["sensitive"]),
        suite=trained["suite"],
    )
    # The demo registers as its training job's user without proving it: dev-mode impersonation.
    with authenticated_as("dev"), session_scope() as session:
        try:
            registry.get_model(session, MODEL)
        except NotFoundError:
            registry.register_model(
                session,
                name=MODEL,
                owner="olga.owner@bank.example",
                risk_tier="high",
                actor=SUBMITTER,
                team="Retail credit analytics",
                use_case="Flags applications whose income is likely above 50K "
                "for a faster manual credit review (demonstration)",
                business_goals=["shorter review queues", "consistent treatment of applicants"],
                stakeholders=[
                    "Dana Privacy:dpo:dana.dpo@bank.example",
                    "Sam Sponsor:sponsor:sam@bank.example",
                    "Model risk:risk:#model-risk",
                ],
                regions=["EU"],
                sector="finance",
                data_protection_notes="Census microdata without direct identifiers; sex and race are "
                "used only to measure fairness (AI Act Art. 10(5)).",
                batches_uri=str(batches),
            )
        # A re-run (or a DB that outlived .govflow/demo's model folders) bumps past what is registered.
        while _registered(session, f"1.0.{number}"):
            number += 1
        version = f"1.0.{number}"
        registry.register_version(
            session,
            model=MODEL,
            version=version,
            artifact=trained["artifact"],
            training_data=trained["training_data"],
            reference_data=trained["reference_data"],
            eval_data=trained["eval_data"],
            actor=SUBMITTER,
            code_version="sample/train_model.py",
            framework="scikit-learn",
            params=trained["params"] | {"governance": config.to_params()},
            metrics=trained["metrics"],
        )
        record_notes(
            session, MODEL, version, Path(trained["notes"]).read_text(encoding="utf-8"), actor=SUBMITTER
        )
    batches.mkdir(exist_ok=True)
    for batch in sorted(Path(trained["batches"]).glob("*.csv")):
        (batches / batch.name).write_bytes(batch.read_bytes())
    return version


def _migrate_airflow(airflow_home: Path, work: Path) -> None:
    airflow_home.mkdir(parents=True, exist_ok=True)
    with open(work / "airflow-db-migrate.log", "w") as log:
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def run_dag(
    dag_id: str,
    conf: dict[str, Any],
    work: Path,
    *,
    answers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run one DAG to its end with dag.test() in a child process (its Airflow logs go to
    ``work/<dag_id>.log``); reviewers in ``answers`` ({name: approve|reject}) answer its approval
    requests over the REST API. Returns the run's id, state, answers given and (nightly) summary."""
    import signal

    result_file = work / f"{dag_id}.result.json"
    result_file.unlink(missing_ok=True)
    timeout = float(os.environ.get("GOVFLOW_DEMO_TIMEOUT") or 900)
    with open(work / f"{dag_id}.log", "w") as log:
        # Its own process group, so a run that hangs is stopped together with its reviewers' process.
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "govflow.demo",
                "--run-dag",
                dag_id,
                "--conf",
                json.dumps(conf),
                "--answers",
                ",".join(f"{k}={v}" for k, v in (answers or {}).items()),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=(env or dict(os.environ)) | {"GOVFLOW_DEMO_RESULT": str(result_file)},
        )
        try:
            code = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            raise RuntimeError(
                f"{dag_id} did not finish within {timeout:.0f}s (see {work / (dag_id + '.log')}; "
                "GOVFLOW_DEMO_TIMEOUT sets the limit)"
            ) from None
    if code != 0 or not result_file.exists():
        raise RuntimeError(f"{dag_id} did not complete (see {work / (dag_id + '.log')})")
    return json.loads(result_file.read_text())


def _print_outcome(version: str) -> int:
    with session_scope() as session:
        row = get_version(session, MODEL, version)
        decision = gate_service.latest_decision(session, row.id)
        shown = gate_service.decision_to_dict(decision, model=MODEL, version=version) if decision else None
        checks = latest_check_results(session, row.id)
        links = document_links(session, row.id)
        stage = row.stage
    if shown is None:
        print("   no decision was recorded")
        return 1
    print(f"   {MODEL}@{version}: {shown['decision'].upper()} -> stage {stage}")
    for reason in shown["reasons"]:
        print(f"   - {reason['message']}")
    if shown["approvals"]["approved_by"]:
        print(
            f"   approved by {', '.join(shown['approvals']['approved_by'])} "
            f"({shown['approvals']['required']} required by policy {shown['policy_version']})"
        )
    for note in shown["notes"]:
        print(f"   note: {note}")
    print("   evidence:")
    for name, result in sorted(checks.items()):
        print(f"     {name:<13} {result.status:<5} {result.evidence_uri}")
        if result.status != "pass":
            print(f"     {'':<13} {_why(result)}")
    print("   documents:")
    for link in links:
        print(f"     {link.get('kind')} ({link.get('format')}): {link.get('uri') or link}")
    return 0 if shown["decision"] == "approved" else 1


# Summary keys that say why a check did not simply pass.
_WHY_KEYS = (
    "exceeded",
    "strong_proxies",
    "insufficient_groups",
    "drifted_columns",
    "entities_not_allowed",
    "incomplete_sections",
    "failed",
    "dropped",
)


def _why(result) -> str:
    summary = result.summary or {}
    parts = [f"{key}: {summary[key]}" for key in _WHY_KEYS if summary.get(key)]
    return "; ".join(parts + list(result.errors or [])) or "see the evidence"


def _print_nightly(nightly: dict[str, Any]) -> None:
    summary = nightly.get("summary") or {}
    print(
        f"   run {nightly.get('run_id')}: {nightly.get('state')}; audit chain "
        f"{'intact' if (summary.get('audit') or {}).get('ok') else 'BROKEN'} "
        f"({(summary.get('audit') or {}).get('events')} events)"
    )
    for model in summary.get("models", []):
        checks = ", ".join(f"{k} {v}" for k, v in sorted(model["checks"].items()))
        problems = ", ".join(model["problems"]) or "none"
        print(f"   {model['model']}@{model['version']}: {checks}; problems: {problems}")


# --- the child: one DAG run with dag.test(), reviewers answering over REST ------------------


def _child(dag_id: str, conf: dict[str, Any], answers: dict[str, str]) -> int:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]).dags[dag_id]
    given_file = Path(os.environ["GOVFLOW_DEMO_RESULT"]).with_suffix(".answers.json")
    given_file.unlink(missing_ok=True)
    # The reviewers run in their own process (Airflow's API app, in-process there): two threads
    # importing Airflow's modules at once in this process can deadlock on the import locks.
    reviewers = (
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "govflow.demo",
                "--review",
                dag_id,
                "--answers",
                ",".join(f"{k}={v}" for k, v in answers.items()),
                "--conf",
                str(given_file),
            ]
        )
        if answers
        else None
    )
    try:
        run = dag.test(run_conf=conf or None)
    finally:
        if reviewers:
            reviewers.terminate()
            reviewers.wait(timeout=30)
    result: dict[str, Any] = {"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state)}
    if answers:
        result["approvals"] = json.loads(given_file.read_text()) if given_file.exists() else []
    if dag_id == "nightly_compliance":
        result["summary"] = _xcom(run, "summary")
    Path(os.environ["GOVFLOW_DEMO_RESULT"]).write_text(json.dumps(result, default=str))
    return 0


def _xcom(run, task_id: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, dag_ids=run.dag_id, task_ids=task_id, key="return_value")
        ).first()
        return XComModel.deserialize_value(row) if row is not None else None


def _review(dag_id: str, answers: dict[str, str], given_file: Path) -> int:
    """Answer the DAG's approval requests as ``answers`` says, until terminated; record what was given."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    transport = in_process_transport()
    clients = {name: AirflowClient("http://airflow.local", name, transport=transport) for name in answers}
    given: list[dict[str, Any]] = []
    first_seen: dict[tuple[str, int], float] = {}
    while True:
        for action in clients[next(iter(answers))].required_actions(dag_id):
            ti = action["task_instance"]
            # Answer a request once its task has parked (awaiting_input): an answer landing while
            # it parks can be lost by Airflow 3.3.2 (docs/airflow-hitl-fast-answer-repro.md, race 2)
            # and dag.test() then waits forever. A state we do not see still gets answered, later.
            seen = first_seen.setdefault((ti["dag_run_id"], ti["map_index"]), time.monotonic())
            if ti.get("state") != "awaiting_input" and time.monotonic() - seen < 20:
                continue
            assigned = {u["id"] for u in action.get("assigned_users") or []}
            # Each reviewer answers once per run: the policy counts distinct approvers.
            done = {g["by"] for g in given if g["run_id"] == ti["dag_run_id"]}
            name = next((n for n in answers if n in assigned and n not in done), None)
            if name is None:
                continue
            verdict = answers[name]
            answer = clients[name].approve if verdict == "approve" else clients[name].reject
            answer(
                dag_id,
                ti["dag_run_id"],
                ti["task_id"],
                map_index=ti["map_index"],
                comment=f"{verdict.rstrip('e')}ed after reviewing the evidence",
            )
            given.append(
                {"by": name, "verdict": verdict, "run_id": ti["dag_run_id"], "map_index": ti["map_index"]}
            )
            given_file.write_text(json.dumps(given))
        time.sleep(1.0)


def in_process_transport():
    """An httpx transport into Airflow's API app in this process (the same routes as the api-server)."""
    import httpx
    from airflow.api_fastapi.app import create_app
    from starlette.testclient import TestClient

    client = TestClient(create_app(), base_url="http://airflow.local")

    # Starlette's TestClient speaks httpx2 when that is installed (openlineage pulls it in), so its
    # transport cannot serve an httpx client: hand each request over and copy the answer back.
    class InProcess(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = client.request(
                request.method, str(request.url), headers=dict(request.headers), content=request.read()
            )
            # The body is already decoded: its encoding and length headers no longer apply.
            headers = [
                (k, v)
                for k, v in answer.headers.items()
                if k.lower() not in ("content-encoding", "content-length")
            ]
            return httpx.Response(answer.status_code, headers=headers, content=answer.content)

    return InProcess()


if __name__ == "__main__":
    start = time.monotonic()

    try:
        code = main()
    except (GovflowError, RuntimeError, subprocess.CalledProcessError) as err:
        print(f"govflow demo: error: {err}", file=sys.stderr)
        sys.exit(1)
    if "--run-dag" not in sys.argv and "--review" not in sys.argv:
        print(f"\n(done in {time.monotonic() - start:.0f}s)")
    sys.exit(code)
