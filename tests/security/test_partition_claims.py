"""Nightly's partition claims are signed facts: a DB writer cannot mark new data as checked.

Before: nightly skipped every partition with a row in ``monitored_partitions``, so whoever could
write the governance DB inserted a row for a partition that had just landed (or moved an old
claim onto it) and nightly never read it: drift or PII in the new data went unseen. Now only
claims a signed ``partition.claimed`` event names count; a row is only the lock of a race.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select

from govflow.hashing import sha256_bytes
from govflow.service.audit import verify_audit
from govflow.service.partitions import PREDICTIONS, MonitoringSource, list_partitions, read_partitions
from govflow.store import CheckResultRow, Model, MonitoredPartition, Run, session_scope
from tests.integration.test_nightly_partitions import _night, _production, _put, _rows, _run
from tests.integration.test_pipeline_retries import counts, files, policy  # noqa: F401  (fixtures)


def _forge_claim(partition: str, night: dict) -> None:
    """What a DB writer does: a claim row for ``partition``, by an earlier nightly run."""
    with session_scope() as s:
        model = s.scalar(select(Model).where(Model.name == "scorer"))
        run = s.scalar(select(Run).where(Run.run_id == night["run_id"]))
        s.add(
            MonitoredPartition(
                model_id=model.id,
                source=model.batches_uri,
                stage=PREDICTIONS,
                partition=partition,
                run_id=run.id,
            )
        )


def test_a_claim_row_without_its_signed_event_does_not_hide_new_data(db_url, files):  # noqa: F811
    root = f"memory://claims-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=1))
    assert _run(_night(1), "drift")["summary"]["partitions"] == ["2026-12-01"]

    _put(f"{root}/ds=2026-12-02/part-0000.csv", _rows("2026-12-02", labeled=False, seed=2))
    _put(f"{root}/ds=2026-12-03/part-0000.csv", _rows("2026-12-03", labeled=False, seed=3))
    _forge_claim("2026-12-02", _night(1))  # "already checked last night"
    drift = _run(_night(2), "drift")
    assert drift["summary"]["partitions"] == ["2026-12-02", "2026-12-03"], drift
    assert _run(_night(2), "pii")["summary"]["partitions"] == ["2026-12-02", "2026-12-03"]
    assert _run(_night(3), "drift")["status"] == "skipped"  # the real claims still count


def test_audit_verify_names_a_claim_row_written_around_govflow(db_url, files):  # noqa: F811
    root = f"memory://claims-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=1))
    _run(_night(1), "drift")
    with session_scope() as s:
        assert verify_audit(s).ok
    _forge_claim("2026-12-02", _night(1))
    with session_scope() as s:
        report = verify_audit(s)
    assert not report.ok
    assert [p["location"].split()[0] for p in report.problems] == ["monitored_partitions"]
    assert "2026-12-02" in report.problems[0]["problem"]


def test_a_read_planted_in_the_partition_cache_is_not_what_the_check_judges(db_url, files):  # noqa: F811
    """The state-volume writer puts other rows at the path tonight's read will have (its name is the
    sha256 of the canonical rows, which anyone who can read the source computes); the read used to
    keep a file already there, so drift judged the planted rows under the real partition's name."""
    root = f"memory://claims-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=1))
    source = MonitoringSource.of(root, {"partition": "ds"})
    listing = list_partitions(source)
    real = read_partitions(source, listing, ["2026-12-01"])
    planted = _rows("2026-12-01", labeled=False, seed=9).to_csv(index=False).encode()
    Path(real.path).write_bytes(planted)

    assert _run(_night(1), "drift")["summary"]["partitions"] == ["2026-12-01"]
    with session_scope() as s:
        judged = s.scalar(select(CheckResultRow.data_sha256).where(CheckResultRow.check == "drift"))
    assert judged == real.sha256 != sha256_bytes(planted)


def test_audit_verify_trusts_its_public_key_files_for_claims_too(db_url, files, tmp_path, monkeypatch):  # noqa: F811
    """A key rotated out of the trusted folder is trusted again by ``--public-key``: for every event,
    and for nightly's claims too (their check ignored the given keys and called each claim forged)."""
    import os
    import shutil

    from govflow.signing import generate_key_files

    root = f"memory://claims-{secrets.token_hex(4)}/scorer/preds"
    _production(files, root, {"partition": "ds"})
    _put(f"{root}/ds=2026-12-01/part-0000.csv", _rows("2026-12-01", labeled=False, seed=1))
    _run(_night(1), "drift")
    keys = Path(os.environ.get("GOVFLOW_TRUSTED_KEYS_DIR") or Path(os.environ["GOVFLOW_HOME"]) / "keys")
    rotated = tmp_path / "rotated"
    shutil.copytree(keys, rotated)
    (tmp_path / "trusted").mkdir()  # the folder now trusts only the new key
    monkeypatch.setenv("GOVFLOW_TRUSTED_KEYS_DIR", str(tmp_path / "trusted"))
    monkeypatch.setenv("GOVFLOW_SIGNING_KEY_FILE", generate_key_files(tmp_path / "new" / "new.pem").source)
    with session_scope() as s:
        assert not verify_audit(s).ok  # the old key's events are untrusted now
        report = verify_audit(s, public_keys=sorted(rotated.glob("*.pub")))
    assert report.ok, report.problems
