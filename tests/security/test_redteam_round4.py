"""Red team, round 4: what rounds 1-3 left open.

- dev mode declared back on: ``GOVFLOW_ENV=development`` overrode the production signals
  (tests/security/test_dev_mode.py: test_declaring_a_development_machine_overrides_no_production_signal);
- the DB writer and the state-volume writer cut the newest ``policy.applied`` (back to a laxer
  policy an admin had replaced) and delete the policy chain's seal: a missing policy seal was
  tolerated, while every other chain refused one;
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select, text

from govflow import data, store
from govflow.policy import load_policy
from govflow.service import gate
from govflow.service.gate import UnsignedFactError
from govflow.service.policy import apply_policy
from govflow.store import AuditEvent, session_scope
from govflow.store.seals import POLICY_CHAIN, _subject_seal_location
from tests._helpers import checked_version

MODEL, VERSION = "credit-risk", "1.0"
DEFAULT = data.default_policy()


def _sql(url: str, *statements: str) -> None:
    """What a DB writer does: plain SQL (the append-only trigger dropped where it touches events)."""
    engine = store.make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _lax(tmp_path: Path) -> Path:
    policy = yaml.safe_load(DEFAULT.read_text())
    policy["version"] = "lax"
    for tier in ("minimal", "limited", "high"):
        policy["tiers"][tier]["approvals"] = {"count": 0}
    path = tmp_path / "lax.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def _decide(policy_path: Path) -> str:
    with session_scope() as s:
        return gate.evaluate_gate(
            s, MODEL, VERSION, "airflow", auth_method="system", policy=load_policy(policy_path)
        ).decision


def _apply(path: Path) -> None:
    with session_scope() as s:
        apply_policy(s, load_policy(path), "admin", auth_method="airflow")


def test_cutting_the_newest_policy_and_its_seal_is_refused(db_url, sample_files, tmp_path):
    """An admin replaced a lax policy (no approvals) with the default (two for high); the DB writer
    deletes that policy.applied and makes the lax row active again, and the state-volume writer
    deletes the policy chain's seal. The lax policy's event is intact and signed, so only the seal
    (that named the cut one) can tell: before, its absence was taken as "not sealed yet"."""
    lax = _lax(tmp_path)
    checked_version(sample_files)
    _apply(lax)
    _apply(DEFAULT)
    assert _decide(DEFAULT) == "pending_approval"  # a sealed commit after the default's policy.applied
    with session_scope() as s:
        newest = s.scalar(
            select(AuditEvent.seq)
            .where(AuditEvent.action == "policy.applied")
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    _sql(
        db_url,
        "UPDATE policies SET active = false WHERE version <> 'lax'",
        "UPDATE policies SET active = true WHERE version = 'lax'",
        f"DELETE FROM audit_events WHERE seq = {newest}",
    )
    Path(_subject_seal_location(POLICY_CHAIN)).unlink()

    with pytest.raises(UnsignedFactError, match="audit seal of policy is missing"):
        _decide(lax)


def test_the_first_use_of_the_bundled_default_needs_no_seal_yet(db_url, sample_files):
    """The bundled default applied on first use is appended in the deciding transaction itself (its
    seal is written on commit): that is the one missing policy seal that is not a cut."""
    checked_version(sample_files)
    assert _decide(DEFAULT) == "pending_approval"
    assert Path(_subject_seal_location(POLICY_CHAIN)).is_file()
