"""govflow as another team's Airflow gets it: the built wheel, in a venv that never saw this checkout.

1. The wheel is built with the standard backend (PEP 517: ``python -m build`` when installed,
   else ``pip wheel``) from a copy of ``pyproject.toml``, ``README.md`` and ``include/govflow``.
2. A new venv gets the lock's third-party packages and then the wheel with ``-c requirements.txt``
   (pip checks the wheel's requirements against the lock). By default the third-party packages
   are hard-linked from the venv running the tests, without govflow's editable install (its
   ``.pth``, finder and dist-info): the venv was ready in 229-374 s on the shared 2-core machine
   at load 15-16 (wheel build 98-148 s; the whole module 15.7 min there), where installing the
   lock from the index into a fresh venv took 24.4 min. ``GOVFLOW_WHEEL_TEST_FRESH=1`` does that.
3. Only the wheel and the ``govflow init`` folder exist where the commands run: the working folder
   is a temporary one, no PYTHONPATH, and ``govflow.__file__`` must be inside the new venv.
4. ``airflow plugins`` lists govflow, ``airflow providers list`` lists it, ``airflow dags list``
   shows both DAGs from the two-line DAG file, ``dag.test()`` of governance_gate decides a sample
   model (minimal tier: approved, promoted), and a started api-server serves ``/governance/``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

TRAIN = """
import sys, numpy as np, pandas as pd, skops.io
from sklearn.linear_model import LogisticRegression
rng = np.random.default_rng(7)
n = 400
frame = pd.DataFrame({"age": rng.integers(18, 80, n), "hours": rng.integers(10, 60, n),
                      "segment": rng.choice(["a", "b", "c"], n)})
frame["label"] = (frame["hours"] + rng.normal(0, 5, n) > 35).astype(int)
model = LogisticRegression().fit(frame[["age", "hours"]], frame["label"])
frame.to_csv(sys.argv[1] + "/train.csv", index=False)
skops.io.dump(model, sys.argv[1] + "/model.skops")
"""

GATE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.dags["governance_gate"].test(run_conf={"model": sys.argv[2], "version": "1.0"})
with create_session() as session:
    row = session.scalars(XComModel.get_many(run_id=run.run_id, dag_ids=run.dag_id, task_ids="finish",
                                             key="return_value")).first()
    outcome = XComModel.deserialize_value(row) if row is not None else None
print(json.dumps({"state": str(run.state), "outcome": outcome}, default=str))
"""


def _run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done.stdout


def _json(stdout: str) -> Any:
    """The JSON an ``airflow ... --output json`` printed last (Airflow logs warnings to stdout first)."""
    return json.loads(stdout.strip().splitlines()[-1])


def _build_wheel(out: Path, scratch: Path) -> Path:
    source = scratch / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "include" / "govflow",
        source / "include" / "govflow",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    try:
        import build  # noqa: F401 - only to know whether the build frontend is installed

        argv = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)]
    except ImportError:
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)]
    _run(argv, dict(os.environ), scratch)
    (wheel,) = out.glob("govflow-*.whl")
    return wheel


def _link_third_party(venv: Path) -> None:
    """The lock's packages from the running venv, hard-linked, without anything govflow installed."""
    source = Path(sysconfig.get_paths()["purelib"])
    target = Path(
        _run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            {"PATH": "/usr/bin:/bin"},
            venv,
        ).strip()
    )
    for entry in source.iterdir():
        name = entry.name.lower()
        if name.startswith(("govflow", "__editable__")) or name in ("pip", "_distutils_hack"):
            continue
        if entry.suffix == ".pth" and str(REPO) in entry.read_text(errors="replace"):
            continue
        if (target / entry.name).exists():
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, copy_function=os.link, symlinks=True)
        else:
            os.link(entry, target / entry.name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, env, work): the wheel installed in a new venv; env and working folder away from REPO."""
    scratch = tmp_path_factory.mktemp("wheel")
    started = time.monotonic()
    wheel = _build_wheel(scratch / "dist", scratch)
    built = time.monotonic()
    work = scratch / "elsewhere"
    work.mkdir()
    shutil.copy(wheel, work / wheel.name)  # the only thing of this checkout out there
    venv = scratch / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], {"PATH": os.environ["PATH"]}, work)
    fresh = os.environ.get("GOVFLOW_WHEEL_TEST_FRESH") == "1"
    if not fresh:
        _link_third_party(venv)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch / "home"),
        "LANG": "C.UTF-8",
        "AIRFLOW_HOME": str(scratch / "airflow"),
        "GOVFLOW_HOME": str(scratch / "govflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(work / "deploy" / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(scratch / "no-plugins"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "GOVFLOW_DEV_MODE": "1",  # the bundled demo users hold the roles (no roles file here)
        # pip's own settings of this machine (index mirrors, certificates), nothing else of ours.
        **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},
    }
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        if key in os.environ:
            env[key] = os.environ[key]
    (scratch / "home").mkdir()
    (scratch / "no-plugins").mkdir()
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            str(work / wheel.name),
            "-c",
            str(REPO / "requirements.txt"),
        ],
        env,
        work,
        timeout=1800,
    )
    _run([str(venv / "bin" / "python"), "-m", "pip", "check"], env, work)
    print(
        f"wheel built in {built - started:.0f}s, venv ready in {time.monotonic() - built:.0f}s "
        f"({'fresh from the index' if fresh else 'lock hard-linked'})"
    )
    return venv, env, work


def test_the_package_comes_from_the_venv_not_the_checkout(installed):
    venv, env, work = installed
    where = json.loads(
        _run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import json, sys, govflow, govflow.data; "
                "print(json.dumps([govflow.__file__, str(govflow.data.default_policy()), sys.path]))",
            ],
            env,
            work,
        )
    )
    assert Path(where[0]).is_relative_to(venv) and Path(where[1]).is_relative_to(venv), where
    assert not any(str(REPO) in entry for entry in where[2]), where[2]


def test_airflow_sees_the_plugin_the_provider_and_both_dags(installed):
    venv, env, work = installed
    python = str(venv / "bin" / "python")
    out = _run([str(venv / "bin" / "govflow"), "init", "deploy"], env, work)
    assert len(out.splitlines()) == 4, out
    _run([python, "-m", "airflow", "db", "migrate"], env, work, timeout=900)

    plugins = _json(_run([python, "-m", "airflow", "plugins", "--output", "json"], env, work))
    assert "govflow" in {p["name"] for p in plugins}, plugins
    providers = _json(_run([python, "-m", "airflow", "providers", "list", "--output", "json"], env, work))
    assert any(p.get("package_name") == "govflow" for p in providers), providers
    # What the dag-processor does: parse the DAG folder (the two-line file) into the metadata DB.
    _run([python, "-m", "airflow", "dags", "reserialize"], env, work, timeout=900)
    dags = _json(_run([python, "-m", "airflow", "dags", "list", "--output", "json"], env, work))
    assert {"governance_gate", "nightly_compliance"} <= {d["dag_id"] for d in dags}, dags


def test_governance_gate_decides_a_sample_model(installed):
    venv, env, work = installed
    python, govflow = str(venv / "bin" / "python"), str(venv / "bin" / "govflow")
    if not (work / "deploy").exists():
        _run([govflow, "init", "deploy"], env, work)
        _run([python, "-m", "airflow", "db", "migrate"], env, work, timeout=900)
    model_dir = work / "model"
    model_dir.mkdir()
    _run([python, "-c", TRAIN, str(model_dir)], env, work)
    _run(
        [
            govflow,
            "model",
            "register",
            "--name",
            "wheel-check",
            "--owner",
            "Ana",
            "--risk-tier",
            "minimal",
            "--region",
            "EU",
            "--use-case",
            "a model to prove the installed wheel",
            "--as",
            "alice",
        ],
        env,
        work,
    )
    _run(
        [
            govflow,
            "submit",
            "--model",
            "wheel-check",
            "--version",
            "1.0",
            "--artifact",
            str(model_dir / "model.skops"),
            "--training-data",
            str(model_dir / "train.csv"),
            "--reference-data",
            str(model_dir / "train.csv"),
            "--as",
            "alice",
        ],
        env,
        work,
    )
    result = json.loads(
        _run([python, "-c", GATE, env["AIRFLOW__CORE__DAGS_FOLDER"], "wheel-check"], env, work, timeout=1200)
        .strip()
        .splitlines()[-1]
    )
    assert result["outcome"]["decision"] == "approved", result
    shown = json.loads(
        _run([govflow, "version", "show", "--model", "wheel-check", "--version", "1.0", "--json"], env, work)
    )
    assert shown["stage"] == "production", shown


def test_the_api_server_serves_the_governance_view(installed, tmp_path):
    venv, env, work = installed
    python = str(venv / "bin" / "python")
    if not (work / "deploy").exists():
        _run([str(venv / "bin" / "govflow"), "init", "deploy"], env, work)
        _run([python, "-m", "airflow", "db", "migrate"], env, work, timeout=900)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"admin": "wheel-test-pw"}))
    server_env = env | {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "wheel-test-secret-" + "x" * 32,
    }
    log = open(tmp_path / "api-server.log", "w")  # noqa: SIM115 - closed after the server stops
    server = subprocess.Popen(
        [python, "-m", "airflow", "api-server", "--port", str(port), "--host", "127.0.0.1"],
        env=server_env,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "api-server.log"
            ).read_text()[-4000:]
            time.sleep(2)
        token = httpx.post(
            f"{base}/auth/token", json={"username": "admin", "password": "wheel-test-pw"}, timeout=30
        ).json()["access_token"]
        page = httpx.get(f"{base}/governance/", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert page.status_code == 200, page.text[:500]
        assert "Governance" in page.text and "<html" in page.text.lower(), page.text[:500]
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
        log.close()
