"""Benchmark: the audit trail before (hash chain only) and after (each event signed with Ed25519).

Appends ``--events`` events (``--batch`` per transaction, as a busy gate would)
to two fresh SQLite DBs (or ``--pg``: two PostgreSQL databases), one with the
old unsigned append, one with govflow's signed ``append_event``, then verifies
each: the old chain-only recomputation vs. govflow's chain + signature check.
Prints times, events per second and the signed/unsigned ratios. Verify checks a
signature every store.audit.SIGNATURE_EVERY events and at the head (each one
proves every event before it); ``--every 1`` checks every single signature.

    python bench/bench_audit.py                 # 100,000 events, SQLite
    python bench/bench_audit.py --events 10000  # a quick run
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path


def append_unsigned(session, *, actor, action, subject, payload):  # type: ignore[no-untyped-def]
    """The append before signing (store.audit at a1642e3): hash chain, no signature."""
    from sqlalchemy import select

    from govflow.hashing import canonical_json
    from govflow.store import AuditEvent
    from govflow.store.audit import GENESIS_HASH, event_hash

    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last.seq + 1) if last else 1
    prev_hash = last.hash if last else GENESIS_HASH
    ts = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    text = canonical_json(payload)
    digest = event_hash(
        seq=seq, ts=ts, actor=actor, action=action, subject=subject, payload=text, prev_hash=prev_hash
    )
    session.add(
        AuditEvent(
            seq=seq,
            ts=ts,
            actor=actor,
            action=action,
            subject=subject,
            payload=text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    session.flush()


def verify_unsigned(session) -> int:  # type: ignore[no-untyped-def]
    """The verify before signing: recompute the chain only."""
    from sqlalchemy import select

    from govflow.store import AuditEvent
    from govflow.store.audit import GENESIS_HASH, event_hash

    prev, count, after = GENESIS_HASH, 0, 0
    while True:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(5000)
        ).all()
        if not rows:
            return count
        for e in rows:
            ok = e.prev_hash == prev and e.hash == event_hash(
                seq=e.seq,
                ts=e.ts,
                actor=e.actor,
                action=e.action,
                subject=e.subject,
                payload=e.payload,
                prev_hash=e.prev_hash,
            )
            if not ok:
                raise SystemExit(f"baseline verify failed at {e.seq}")
            prev, count = e.hash, count + 1
        after = rows[-1].seq


def fill(url: str, first: int, stop: int, batch: int, append) -> float:  # type: ignore[no-untyped-def]
    from govflow.store import session_scope

    started = time.perf_counter()
    for start in range(first, stop, batch):
        with session_scope(url) as session:
            for i in range(start, min(start + batch, stop)):
                append(
                    session,
                    actor="airflow",
                    action="check.recorded",
                    subject=f"version:credit-risk@{i // 50}",
                    payload={"check": "drift", "status": "pass", "i": i},
                )
    return time.perf_counter() - started


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--every", type=int, default=None, help="check a signature every N events")
    parser.add_argument("--pg", metavar="ADMIN_URL", help="use two throwaway PostgreSQL databases")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    os.environ["GOVFLOW_HOME"] = str(home)
    from govflow.store import session_scope
    from govflow.store.audit import append_event, verify_chain

    urls = {name: f"sqlite:///{home / name}.db" for name in ("unsigned", "signed")}
    if args.pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        suffix = os.getpid()
        with admin.connect() as conn:
            for name in urls:
                conn.execute(text(f"DROP DATABASE IF EXISTS bench_audit_{name}_{suffix}"))
                conn.execute(text(f"CREATE DATABASE bench_audit_{name}_{suffix}"))
        urls = {
            name: make_url(args.pg).set(database=f"bench_audit_{name}_{suffix}").render_as_string(False)
            for name in urls
        }

    from govflow.signing import signing_key
    from govflow.store import get_engine

    for url in urls.values():
        get_engine(url)  # migrations outside the timings
    signing_key()  # the local key is generated once, outside the timings
    print(f"{args.events} events, {args.batch} per transaction, {'PostgreSQL' if args.pg else 'SQLite'}")
    # Alternate slices between the two, so machine noise (2 shared cores) hits both alike.
    t_append_old = t_append_new = 0.0
    step = max(args.batch, args.events // 10)
    for first in range(0, args.events, step):
        stop = min(first + step, args.events)
        t_append_old += fill(urls["unsigned"], first, stop, args.batch, append_unsigned)
        t_append_new += fill(urls["signed"], first, stop, args.batch, append_event)
    every = {"signature_every": args.every} if args.every else {}
    with session_scope(urls["unsigned"]) as s:
        n_old, t_verify_old = timed(lambda: verify_unsigned(s))
    with session_scope(urls["signed"]) as s:
        report, t_verify_new = timed(lambda: verify_chain(s, **every))
    assert n_old == args.events and report.ok and report.events == args.events, report

    def line(what: str, old: float, new: float) -> None:
        print(
            f"{what:<7} unsigned {old:7.2f} s ({args.events / old:8.0f} ev/s)   "
            f"signed {new:7.2f} s ({args.events / new:8.0f} ev/s)   ratio signed/unsigned {new / old:5.2f}x"
        )

    line("append", t_append_old, t_append_new)
    line("verify", t_verify_old, t_verify_new)

    if args.pg:
        from govflow.store import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            for url in urls.values():
                conn.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))


if __name__ == "__main__":
    main()
