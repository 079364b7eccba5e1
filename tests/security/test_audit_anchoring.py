"""Attacks on the audit trail by someone who can write to the governance DB but does not hold the key.

Before signing and checkpoints, deleting the newest events or editing one event
and re-hashing every later one passed `govflow audit verify`.
"""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy import text

from govflow import store
from govflow.cli import main
from govflow.service.audit import write_checkpoint
from govflow.signing import generate_key_files
from govflow.store import session_scope
from govflow.store.audit import append_event, event_hash, verify_chain


def _append(n: int) -> None:
    for i in range(n):
        with session_scope() as s:
            append_event(s, actor="tester", action="test.event", subject=f"thing:{i}", payload={"i": i})


def _raw(db_url: str, *statements: str, params: list[dict] | None = None) -> None:
    """Tamper with direct DB access: switch the append-only triggers off first."""
    engine = store.make_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for i, statement in enumerate(statements):
            conn.execute(text(statement), (params or [{}] * len(statements))[i])
    engine.dispose()


def _verify(capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["audit", "verify", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def _rehash_from(db_url: str, seq: int, *, payload: str) -> None:
    """Edit event ``seq`` and recompute every later hash, as the old verify could not detect."""
    engine = store.make_engine(db_url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_events ORDER BY seq"))]
    engine.dispose()
    statements, params = [], []
    prev = rows[seq - 2]["hash"] if seq > 1 else "0" * 64
    for row in rows[seq - 1 :]:
        if row["seq"] == seq:
            row["payload"] = payload
        row["prev_hash"] = prev
        row["hash"] = event_hash(
            seq=row["seq"],
            ts=row["ts"],
            actor=row["actor"],
            action=row["action"],
            subject=row["subject"],
            payload=row["payload"],
            prev_hash=prev,
            auth_method=row["auth_method"],
        )
        prev = row["hash"]
        statements.append(
            "UPDATE audit_events SET payload=:payload, prev_hash=:prev_hash, hash=:hash WHERE seq=:seq"
        )
        params.append({k: row[k] for k in ("payload", "prev_hash", "hash", "seq")})
    _raw(db_url, *statements, params=params)


def test_a_signed_intact_trail_verifies_with_its_checkpoint(db_url, capsys, govflow_home):
    _append(4)
    assert main(["audit", "checkpoint", "--json"]) == 0
    checkpoint = json.loads(capsys.readouterr().out)
    assert checkpoint["seq"] == 4 and checkpoint["location"].startswith(str(govflow_home))
    code, report = _verify(capsys)
    assert code == 0, report
    assert report["checkpoints_checked"] == 1
    with session_scope() as s:
        rows = s.execute(text("SELECT signature, key_id FROM audit_events")).all()
    assert rows and all(sig and key for sig, key in rows)


def test_cut_tail_is_reported_by_the_checkpoint(db_url, capsys):
    _append(5)
    assert main(["audit", "checkpoint", "--json"]) == 0  # anchors seq 5, then logs itself as seq 6
    _raw(db_url, "DELETE FROM audit_events WHERE seq >= 4")
    code, report = _verify(capsys)
    assert code == 1
    assert report["first_broken_seq"] == 4
    assert "were deleted" in report["checkpoint_problems"][0]["problem"]


def test_cut_tail_is_reported_from_a_checkpoint_kept_elsewhere(db_url, capsys, tmp_path):
    _append(3)
    out = tmp_path / "offsite" / "cp.json"
    assert main(["audit", "checkpoint", "--out", str(out), "--json"]) == 0
    _raw(db_url, "DELETE FROM audit_events WHERE seq >= 3")
    assert _verify(capsys)[0] == 0  # nothing in the artifact store knows about the cut...
    code, report = _verify(capsys, "--checkpoint", str(out))
    assert code == 1 and report["first_broken_seq"] == 3  # ...but the offsite checkpoint does


def test_rewritten_and_rehashed_chain_is_reported_at_the_edited_event(db_url, capsys):
    _append(5)
    _rehash_from(db_url, 2, payload='{"i":"forged"}')
    code, report = _verify(capsys)
    assert code == 1
    assert report["first_broken_seq"] == 2
    assert "not written by govflow's signing key" in report["problem"]


def test_a_row_written_without_the_key_is_reported(db_url, capsys):
    _append(2)
    with session_scope() as s:
        head = s.execute(text("SELECT hash FROM audit_events WHERE seq = 2")).scalar_one()
    forged = {
        "seq": 3,
        "ts": "2026-12-01T00:00:00.000000+00:00",
        "actor": "rita",
        "action": "approval.recorded",
        "subject": "version:m@1",
        "payload": "{}",
        "prev_hash": head,
    }
    forged["hash"] = event_hash(**forged)
    _raw(
        db_url,
        "INSERT INTO audit_events (seq, ts, actor, action, subject, payload, prev_hash, hash) "
        "VALUES (:seq, :ts, :actor, :action, :subject, :payload, :prev_hash, :hash)",
        params=[forged],
    )
    code, report = _verify(capsys)
    assert code == 1 and report["first_broken_seq"] == 3
    assert "not signed" in report["problem"]


def test_a_row_signed_with_an_untrusted_key_is_reported(db_url, capsys, tmp_path, monkeypatch):
    _append(1)
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", str(generate_key_files(tmp_path / "mine.pem").source))
    _append(1)  # the attacker's own key: the trusted keys folder does not hold its public half
    monkeypatch.delenv("GOVFLOW_SIGNING_KEY_FILE")
    code, report = _verify(capsys)
    assert code == 1 and report["first_broken_seq"] == 2
    assert "not a trusted key" in report["problem"]
    # Trusting it explicitly (a rotated-out key's .pub) makes the trail verify again.
    assert _verify(capsys, "--public-key", str(tmp_path / "mine.pub"))[0] == 0


def test_a_forged_checkpoint_is_reported(db_url, capsys, tmp_path, monkeypatch, production_deployment):
    # A configured key makes a production deployment (its trusted keys outside the state volume).
    _append(2)
    decision = os.environ["GOVFLOW_SIGNING_KEY_FILE"]
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", str(generate_key_files(tmp_path / "evil.pem").source))
    out = tmp_path / "cp.json"
    with session_scope() as s:
        write_checkpoint(s, actor="mallory", out=out)
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", decision)
    code, report = _verify(capsys, "--checkpoint", str(out))
    assert code == 1
    assert "forged or altered" in report["checkpoint_problems"][0]["problem"]


def test_checkpoint_refuses_to_anchor_a_broken_chain(db_url, capsys):
    _append(3)
    _raw(db_url, "DELETE FROM audit_events WHERE seq = 2")
    assert main(["audit", "checkpoint"]) == 2
    assert "refusing to checkpoint a broken audit chain" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["not-a-key", "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----"])
def test_a_bad_signing_key_is_one_line_and_writes_nothing(db_url, capsys, monkeypatch, value):
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY", value)
    with pytest.raises(Exception, match="not an Ed25519 private key"), session_scope() as s:
        append_event(s, actor="a", action="x", subject="y")
    monkeypatch.delenv("GOVFLOW_SIGNING_KEY")
    with session_scope() as s:
        assert s.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one() == 0


@pytest.mark.parametrize("every", [1, 4, 1000])
def test_bisection_names_the_first_forged_event_whatever_the_sampling(db_url, every):
    _append(10)
    _rehash_from(db_url, 3, payload='{"i":"forged"}')
    with session_scope() as s:
        report = verify_chain(s, signature_every=every)
    assert (report.ok, report.first_broken_seq, report.events) == (False, 3, 2)


def test_a_forgery_before_a_break_is_named_first(db_url):
    _append(8)
    _rehash_from(db_url, 2, payload='{"i":"forged"}')
    _raw(db_url, "DELETE FROM audit_events WHERE seq = 6")
    with session_scope() as s:
        report = verify_chain(s, signature_every=1000)
    assert report.first_broken_seq == 2


def test_the_nightly_audit_task_anchors_the_head_and_catches_a_later_cut(db_url):
    from govflow.tasks import nightly

    _append(4)
    first = nightly.verify_audit()
    assert first["ok"] and first["checkpoint"]["seq"] == 4
    _append(2)  # seq 5 is the checkpoint's own event; 6 and 7 follow
    _raw(db_url, "DELETE FROM audit_events WHERE seq >= 3")
    second = nightly.verify_audit()
    assert not second["ok"] and second["first_broken_seq"] == 3
    assert "checkpoint" not in second  # a broken trail is never anchored
    assert "were deleted" in second["problem"]


def test_nightly_reads_only_the_newest_checkpoint_and_still_catches_a_cut(db_url, monkeypatch):
    """Reading every checkpoint each night grows with the trail's age; the newest valid one catches
    what the older ones would (the chain is verified event by event first). A junk file newer than
    it is still reported."""
    from govflow import storage
    from govflow.service import audit
    from govflow.tasks import nightly

    _append(3)
    assert nightly.verify_audit()["checkpoint"]["seq"] == 3  # its own event is seq 4
    _append(3)
    assert nightly.verify_audit()["checkpoint"]["seq"] == 7
    _append(1)
    read: list[str] = []
    real_read = audit._read
    monkeypatch.setattr(audit, "_read", lambda location: read.append(location) or real_read(location))
    assert nightly.verify_audit()["ok"]
    assert len(read) == 1 and "000000000007-" in read[0]  # the newest anchor only, not all three

    storage.write_bytes(f"{audit.checkpoint_root()}/999999999999-junk.json", b"not a checkpoint")
    _raw(db_url, "DELETE FROM audit_events WHERE seq >= 6")
    read.clear()
    report = nightly.verify_audit()
    assert not report["ok"] and "checkpoint" not in report
    assert "were deleted" in report["problem"] or any(
        "were deleted" in p["problem"] for p in report["checkpoint_problems"]
    )
    assert any("not a govflow checkpoint" in p["problem"] for p in report["checkpoint_problems"])
    assert report["first_broken_seq"] == 6
    assert len(read) == 2  # the junk, then the newest real checkpoint (of seq 9)


def test_a_signing_key_file_other_users_can_read_is_refused(db_url, tmp_path, monkeypatch):
    key = generate_key_files(tmp_path / "shared.pem")
    (tmp_path / "shared.pem").chmod(0o644)
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", key.source)
    with pytest.raises(Exception, match="readable or writable by other users"), session_scope() as s:
        append_event(s, actor="a", action="x", subject="y")


def test_concurrent_first_uses_agree_on_one_local_key(govflow_home):
    import multiprocessing as mp

    from govflow.signing import LOCAL_KEY_NAME

    ctx = mp.get_context("fork")
    with ctx.Pool(4) as pool:
        key_ids = pool.map(_local_key_id, range(8))
    assert len(set(key_ids)) == 1
    assert (govflow_home / "keys" / LOCAL_KEY_NAME).stat().st_mode & 0o777 == 0o600


def _local_key_id(_: int) -> str:
    from govflow import signing

    signing._cache.clear()
    signing._last = None
    return signing.signing_key().key_id


def _legacy_rows(db_url: str, n: int) -> None:
    """Events as a release before signing wrote them: hash-chained, no signature."""
    prev, params = "0" * 64, []
    for seq in range(1, n + 1):
        row = {
            "seq": seq,
            "ts": f"2026-11-0{seq}T00:00:00.000000+00:00",
            "actor": "alice",
            "action": "legacy.event",
            "subject": f"thing:{seq}",
            "payload": "{}",
            "prev_hash": prev,
        }
        row["hash"] = prev = event_hash(**row)
        params.append(row)
    insert = (
        "INSERT INTO audit_events (seq, ts, actor, action, subject, payload, prev_hash, hash) "
        "VALUES (:seq, :ts, :actor, :action, :subject, :payload, :prev_hash, :hash)"
    )
    _raw(db_url, *[insert] * n, params=params)


def test_a_trail_from_before_signing_is_vouched_for_by_the_first_signed_event(db_url, capsys):
    _legacy_rows(db_url, 3)
    code, report = _verify(capsys)
    assert code == 1 and "no event is signed" in report["problem"]
    assert main(["audit", "checkpoint", "--json"]) == 0  # adds audit.signing_started, then anchors
    code, report = _verify(capsys)
    assert code == 0, report
    _append(2)
    assert _verify(capsys)[0] == 0
    _rehash_from(db_url, 2, payload='{"forged":true}')  # editing a legacy event now breaks the signed ones
    code, report = _verify(capsys)
    assert code == 1 and report["first_broken_seq"] == 4


def test_stripping_every_signature_does_not_pass(db_url, capsys):
    _append(3)
    _raw(db_url, "UPDATE audit_events SET signature = NULL, key_id = NULL")
    code, report = _verify(capsys)
    assert code == 1 and "no event is signed" in report["problem"]
