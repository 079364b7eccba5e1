"""Benchmark: the gate with its signed-fact check (service.signed_facts) beside the gate without it.

Builds a trail of ``--events`` signed, chained events (default 100,000) in a
fresh SQLite DB (or ``--pg ADMIN_URL``: a throwaway PostgreSQL database): one
high-risk version registered through govflow with its five check results and
two approvals, the rest filler events of ``--versions`` other versions (check
results, approvals, decisions) written around it, so its facts are spread over
the whole trail. Then, ``--repeat`` times each, in a transaction rolled back
afterwards:

- the gate without the check (``evaluate_gate`` with ``require_signed_facts``
  replaced by a no-op: what the gate cost before);
- the gate with it (``evaluate_gate`` as shipped);
- the check alone (``version_fact_problems``: events by subject, hashes and
  signatures, field-by-field comparison both ways, evidence re-read, seal).

Prints the median and p90 wall-clock ms per version, the median CPU ms of this
process (what the work costs when the machine is not shared), and the ratios;
the goal is a check under 50 ms per version with 100k events.

    python bench/bench_signed_facts.py                  # 100,000 events, SQLite
    python bench/bench_signed_facts.py --events 10000   # a quick run
    python bench/bench_signed_facts.py --pg postgresql+psycopg2://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

MODEL, VERSION = "bench-credit", "1.0"
CHECKS = ("validation", "pii", "fairness", "drift", "documentation")


def filler(session, count: int, versions: int) -> None:  # type: ignore[no-untyped-def]
    """``count`` signed events appended in bulk (the chain and signatures exactly as append_event)."""
    from sqlalchemy import insert, select

    from govflow.hashing import canonical_json
    from govflow.signing import signing_key
    from govflow.store import AuditEvent
    from govflow.store.audit import GENESIS_HASH, event_hash, signed_message

    key = signing_key()
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    actions = ("check.recorded", "check.recorded", "check.recorded", "approval.recorded", "gate.evaluated")
    rows = []
    for i in range(count):
        seq += 1
        subject = f"version:fill-{i % versions}@1"
        action = actions[i % len(actions)]
        payload = canonical_json({"check": CHECKS[i % 5], "status": "pass", "result_id": 10_000_000 + i})
        ts = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        digest = event_hash(
            seq=seq, ts=ts, actor="bench", action=action, subject=subject, payload=payload, prev_hash=prev
        )
        rows.append(
            {
                "seq": seq,
                "ts": ts,
                "actor": "bench",
                "action": action,
                "subject": subject,
                "payload": payload,
                "prev_hash": prev,
                "hash": digest,
                "auth_method": None,
                "signature": key.sign(signed_message(digest)),
                "key_id": key.key_id,
            }
        )
        prev = digest
        if len(rows) == 5000:
            session.execute(insert(AuditEvent), rows)
            rows = []
    if rows:
        session.execute(insert(AuditEvent), rows)


def build(files: dict[str, Path], events: int, versions: int) -> None:
    from govflow.checks import CheckResult
    from govflow.service import gate, registry
    from govflow.service.checks import record_check_result
    from govflow.service.runs import ensure_run
    from govflow.store import session_scope

    with session_scope() as s:
        registry.register_model(s, name=MODEL, owner="Ana", risk_tier="high", actor="alice")
        row = registry.register_version(
            s,
            model=MODEL,
            version=VERSION,
            artifact=files["artifact"],
            training_data=files["training"],
            actor="alice",
        )
    for part in range(4):  # the version's facts spread through the trail
        with session_scope() as s:
            filler(s, events // 4, versions)
        with session_scope() as s:
            row = registry.get_version(s, MODEL, VERSION)
            run = ensure_run(s, dag_id="governance_gate", run_id="r1")
            for check in CHECKS[part::4]:
                record_check_result(
                    s,
                    version=row,
                    run=run,
                    data_sha256=None if check == "documentation" else row.training_data_sha256,
                    result=CheckResult(check=check, status="pass", summary={}),
                )
    for reviewer in ("rita", "rob"):
        with session_scope() as s:
            gate.approve(s, MODEL, VERSION, reviewer, comment="ok", auth_method="airflow")
    with session_scope() as s:
        assert gate.evaluate_gate(s, MODEL, VERSION, "airflow", auth_method="system").decision == "approved"


def timed(call: Callable[[object], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and this process's CPU ms per call (on a shared, busy machine they differ a lot)."""
    from govflow.store import session_scope

    wall, cpu = [], []
    for _ in range(repeat):
        with session_scope() as s:
            start, start_cpu = time.perf_counter(), time.process_time()
            call(s)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            s.rollback()  # nothing stored, nothing sealed: every round sees the same trail
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=5_000, help="filler versions the events are about")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--pg", metavar="ADMIN_URL", help="use a throwaway PostgreSQL database")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-signed-facts-"))
    os.environ["GOVFLOW_HOME"] = str(home)
    production_like_identity()  # the bundled demo users name the reviewers
    files = {"artifact": home / "model.skops", "training": home / "train.csv"}
    files["artifact"].write_bytes(b"bench model bytes")
    files["training"].write_text("x,y\n1,0\n2,1\n")
    admin = name = None
    if args.pg:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = f"bench_signed_facts_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        os.environ["GOVFLOW_DB_URL"] = make_url(args.pg).set(database=name).render_as_string(False)
    try:
        run(args, files)
    finally:
        if admin is not None:
            from govflow.store import dispose_engines

            dispose_engines()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_like_identity() -> None:
    """The bundled demo users as an operator-owned roles file, and a decision key in an operator
    folder: a PostgreSQL governance DB (or a configured key) is a production deployment, where dev
    mode is refused and no key is generated in the state volume."""
    from govflow import data, signing

    operator = Path(tempfile.mkdtemp(prefix="bench-operator-"))
    signing.generate_key_files(operator / "decision.pem")
    os.environ["GOVFLOW_SIGNING_KEY_FILE"] = str(operator / "decision.pem")
    os.environ["GOVFLOW_TRUSTED_KEYS_DIR"] = str(operator)
    os.environ["GOVFLOW_ROLES_FILE"] = str(data.demo_users())
    os.environ.pop("GOVFLOW_DEV_MODE", None)


def run(args: argparse.Namespace, files: dict[str, Path]) -> None:
    from sqlalchemy import func, select

    from govflow.service import gate, registry
    from govflow.service.signed_facts import version_fact_problems
    from govflow.signing import Keyring
    from govflow.store import AuditEvent, session_scope

    start = time.perf_counter()
    build(files, args.events, args.versions)
    with session_scope() as s:
        total = s.scalar(select(func.count()).select_from(AuditEvent))
    backend = "PostgreSQL" if args.pg else "SQLite"
    print(f"trail: {total} events ({backend}), built in {time.perf_counter() - start:.1f} s")

    def decide(s):  # type: ignore[no-untyped-def]
        return gate.evaluate_gate(s, MODEL, VERSION, "airflow", auth_method="system")

    def check(s):  # type: ignore[no-untyped-def]
        problems = version_fact_problems(
            s, registry.get_version(s, MODEL, VERSION), keyring=Keyring.trusted()
        )
        assert not problems, problems

    real = gate.require_signed_facts
    gate.require_signed_facts = lambda *a, **k: None  # type: ignore[assignment]
    try:
        timed(decide, 3)  # warm-up: imports, caches, the SQLite page cache
        without = timed(decide, args.repeat)
    finally:
        gate.require_signed_facts = real  # type: ignore[assignment]
    with_check = timed(decide, args.repeat)
    alone = timed(check, args.repeat)

    def line(label: str, times: tuple[list[float], list[float]]) -> str:
        wall, cpu = times
        p90 = sorted(wall)[int(0.9 * (len(wall) - 1))]
        return (
            f"{label:<34} wall median {statistics.median(wall):7.2f} ms  p90 {p90:7.2f} ms  "
            f"cpu median {statistics.median(cpu):7.2f} ms"
        )

    print(line("gate without the signed-fact check", without))
    print(line("gate with the signed-fact check", with_check))
    print(line("signed-fact check alone", alone))
    ratio = statistics.median(with_check[0]) / statistics.median(without[0])
    cpu_ratio = statistics.median(with_check[1]) / statistics.median(without[1])
    verdict = "under" if statistics.median(alone[0]) < 50 else "OVER"
    print(
        f"ratio with/without: {ratio:.2f}x wall, {cpu_ratio:.2f}x cpu; "
        f"check {verdict} the 50 ms per version goal (wall)"
    )


if __name__ == "__main__":
    main()
