"""Partitioned monitoring sources: nightly reads only the partitions of a model's source it has not checked.

A model's monitoring source is its ``batches_uri`` with the version's
``params["monitoring"]`` (set at registration) saying how it is partitioned:

  ``partition``            the partition column of a ``conn://CONN/SCHEMA.TABLE`` (a day; a timestamp
                           column is partitioned by its day), or the key of a prefix's partition
                           folders (``.../ds=2026-12-01/part-*.parquet``)
  ``labels``               where late labels land: a table or prefix (or one file) joined to the
                           predictions by ``key``; unset, labels arrive later in the same rows
  ``key``                  the join column between predictions and labels
  ``min_label_coverage``   the share of a partition's rows that must be labeled (default 0.95)
  ``labels_stale_days``    flag the model when a checked partition has waited this long for labels

Two stages, each claiming a partition once per model (``monitored_partitions``):
``predictions`` (drift, PII) claims every partition not yet claimed as soon as it lands;
``labels`` (fairness, performance) claims a landed partition once its label coverage reaches
``min_label_coverage``. A claim records the run: a retried task of the same run finds its
claims and reads the same partitions again (idempotent), a later run skips them.

A read is canonical: partitions in key order; a table partition's rows ordered by every column
(``datasources.partition_csv``), a prefix partition's part files by name. The rows are written
as one CSV in the worker's cache; its sha256 is the read's hash (the result's ``data_sha256``)
and the result's summary names the partitions it covers (and, for labels, the window and the
label coverage).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govflow import config, storage
from govflow.datasources import is_table_uri, partition_csv, partition_keys, table_copy
from govflow.errors import BadInputError
from govflow.hashing import sha256_bytes
from govflow.service.batches import read_once
from govflow.service.fact_rows import FactProblem, signed_events
from govflow.signing import Keyring
from govflow.store import AuditEvent, Model, MonitoredPartition, Run
from govflow.store.audit import append_event
from govflow.timeutil import iso_utc

__all__ = [
    "CLAIM_ACTION",
    "LABELS",
    "PREDICTIONS",
    "Claim",
    "MonitoringSource",
    "PartitionRead",
    "claim",
    "claim_problems",
    "claimed_by_run",
    "claims_subject",
    "list_partitions",
    "read_partitions",
    "signed_claims",
    "stale_labels",
    "unclaimed",
]

PREDICTIONS = "predictions"
LABELS = "labels"
_KEYS = ("partition", "labels", "key", "min_label_coverage", "labels_stale_days")
_DATA = (".csv", ".parquet")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitoringSource:
    uri: str
    partition: str
    labels: str | None = None
    key: str | None = None
    min_label_coverage: float = 0.95
    labels_stale_days: int | None = None

    @classmethod
    def of(cls, batches_uri: str | None, monitoring: Mapping[str, Any] | None) -> MonitoringSource | None:
        """The source, or None when the model's batches are not partitioned (the newest file is read)."""
        raw = dict(monitoring or {})
        if not batches_uri or not raw.get("partition"):
            return None
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise BadInputError(f"params.monitoring.{unknown[0]}: unknown key; expected {', '.join(_KEYS)}")
        if raw.get("labels") and not raw.get("key"):
            raise BadInputError("params.monitoring.key: a label source needs the key column to join on")
        coverage = float(raw.get("min_label_coverage", 0.95))
        if not 0 < coverage <= 1:
            raise BadInputError("params.monitoring.min_label_coverage: must be in (0, 1]")
        stale = raw.get("labels_stale_days")
        return cls(
            uri=batches_uri,
            partition=str(raw["partition"]),
            labels=raw.get("labels"),
            key=raw.get("key"),
            min_label_coverage=coverage,
            labels_stale_days=int(stale) if stale is not None else None,
        )


@dataclass(frozen=True)
class PartitionRead:
    """The rows of some partitions, in canonical order, as one CSV in the worker's cache."""

    path: str
    sha256: str
    columns: list[str]
    rows: dict[str, int]  # partition -> rows
    labeled: dict[str, int]  # partition -> labeled rows (labels stage), else empty

    @property
    def partitions(self) -> list[str]:
        return list(self.rows)

    def coverage(self, partition: str | None = None) -> float:
        keys = [partition] if partition else self.partitions
        rows = sum(self.rows[k] for k in keys)
        return round(sum(self.labeled.get(k, 0) for k in keys) / rows, 4) if rows else 0.0


# --- listing and reading ------------------------------------------------------------------


def list_partitions(source: MonitoringSource) -> dict[str, Any]:
    """partition key -> what reads it (a table: the value; a prefix: its part files, by name); listed
    once per model in a nightly task (``batches.batches_listed_once``)."""
    return dict(read_once("partitions", f"{source.uri}#{source.partition}", lambda: _listed(source)))


def _listed(source: MonitoringSource) -> dict[str, Any]:
    if is_table_uri(source.uri):
        return partition_keys(source.uri, source.partition)
    found: dict[str, Any] = {}
    prefix = f"{source.partition}="
    for uri in storage.glob(source.uri, f"{prefix}*/*"):
        if not uri.endswith(_DATA):
            continue
        folder = uri.rstrip("/").rsplit("/", 2)[-2]
        found.setdefault(folder.removeprefix(prefix), []).append(uri)
    return {key: sorted(parts) for key, parts in sorted(found.items())}


def read_partitions(
    source: MonitoringSource,
    listing: Mapping[str, Any],
    keys: list[str],
    *,
    label: str | None = None,
) -> PartitionRead:
    """The rows of ``keys`` (in key order); with ``label``, joined to the label source when there is one,
    and each partition's labeled rows counted."""
    import pandas as pd

    frames = []
    rows: dict[str, int] = {}
    labeled: dict[str, int] = {}
    labels = _labels(source, label) if label and source.labels else None
    for key in sorted(keys):
        frame = _partition_frame(source, listing[key])
        if labels is not None:
            frame = frame.drop(columns=[label], errors="ignore").merge(labels, on=source.key, how="left")
        rows[key] = len(frame)
        if label:
            labeled[key] = int(frame[label].notna().sum()) if label in frame.columns else 0
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    text = data.to_csv(index=False, lineterminator="\n").encode("utf-8")
    digest = sha256_bytes(text)
    name = f"{source.partition}={min(keys)}..{max(keys)}.csv" if keys else "empty.csv"
    target = config.home() / "cache" / "partitions" / digest[:2] / digest / name
    # Written on every read, never reused: a file already there is in the state volume, where whoever
    # writes it could have put other rows under this read's name (the check would then judge those,
    # recorded under the partitions' names). The caller compares the sha256 of what the check read.
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".read-")
    with os.fdopen(handle, "wb") as out:
        out.write(text)
    os.replace(temporary, target)
    return PartitionRead(str(target), digest, [str(c) for c in data.columns], rows, labeled)


def _partition_frame(source: MonitoringSource, handle: Any) -> Any:
    import pandas as pd

    if is_table_uri(source.uri):
        text = b"".join(partition_csv(source.uri, source.partition, [handle]))
        return pd.read_csv(io.BytesIO(text))
    return pd.concat([_read_file(uri) for uri in handle], ignore_index=True)


def _read_file(uri: str) -> Any:
    import pandas as pd

    data = io.BytesIO(storage.read_bytes(uri))
    return pd.read_parquet(data) if uri.endswith(".parquet") else pd.read_csv(data)


def _labels(source: MonitoringSource, label: str) -> Any:
    """The label source's (key, label) columns, one row per key (the last one wins)."""
    import pandas as pd

    assert source.key is not None  # MonitoringSource.of requires it with labels
    where = str(source.labels)
    if is_table_uri(where):
        frame = pd.read_csv(table_copy(where))
    elif where.endswith(_DATA):
        frame = _read_file(where)
    else:
        parts = [u for u in storage.glob(where, "**") if u.endswith(_DATA)]
        frame = pd.concat([_read_file(u) for u in sorted(parts)], ignore_index=True) if parts else None
    if frame is None or source.key not in frame.columns or label not in frame.columns:
        return pd.DataFrame({source.key: [], label: []})
    return frame[[source.key, label]].drop_duplicates(subset=source.key, keep="last")


# --- claims ---------------------------------------------------------------------------------
#
# A claim is a fact nightly acts on (a claimed partition is never read again), so it is a signed
# one: each ``claim`` appends a ``partition.claimed`` event (the check-result key may sign it) naming
# the model, source, stage, partitions and run. Only claims such an event names count; a row in
# ``monitored_partitions`` is the lock that makes one task win a race, never the claim itself. A DB
# writer who inserts rows (to mark new partitions as checked, so nightly skips them) or edits their
# run or time changes nothing nightly reads; a forged row in the way of a real claim is replaced.

CLAIM_ACTION = "partition.claimed"


@dataclass(frozen=True)
class Claim:
    """A signed claim of one partition for one stage."""

    partition: str
    stage: str
    run: tuple[str, str]  # (dag_id, run_id)
    claimed_at: dt.datetime


def claims_subject(model_name: str) -> str:
    return f"partitions:{model_name}"


def claimed_by_run(session: Session, *, run: Run, model: Any, source: str, stage: str) -> list[str]:
    """The partitions ``run`` claimed for ``stage`` (a retry reads these again)."""
    mine = (run.dag_id, run.run_id)
    held = _claims(session, model=model, source=source).get(stage, {})
    return sorted(key for key, c in held.items() if c.run == mine)


def unclaimed(session: Session, *, model: Any, source: str, stage: str, listed: list[str]) -> list[str]:
    """Of ``listed``, the partitions ``stage`` has not claimed; the labels stage only takes landed ones."""
    claims = _claims(session, model=model, source=source)
    done = claims.get(stage, {})
    ready = claims.get(PREDICTIONS, {}) if stage == LABELS else dict.fromkeys(listed)
    return [key for key in listed if key in ready and key not in done]


def claim(
    session: Session,
    *,
    run: Run,
    model: Model,
    source: str,
    stage: str,
    read: PartitionRead,
    keys: list[str],
) -> list[str]:
    """Claim ``keys`` for ``run``; a partition another task claimed first is left to it.
    Returns every partition ``run`` holds for the stage."""
    signed = _claims(session, model=model, source=source).get(stage, {})
    won = [key for key in keys if key not in signed and _lock(session, model, source, stage, run, read, key)]
    if won:
        append_event(
            session,
            actor=f"pipeline:{run.dag_id}",
            action=CLAIM_ACTION,
            subject=claims_subject(model.name),
            payload={
                "model": model.name,
                "source": source,
                "stage": stage,
                "partitions": won,
                "run": {"dag_id": run.dag_id, "run_id": run.run_id},
                "rows": {key: read.rows.get(key) for key in won},
                "claimed_at": iso_utc(dt.datetime.now(dt.UTC)),
            },
        )
    return claimed_by_run(session, run=run, model=model, source=source, stage=stage)


def _lock(
    session: Session, model: Model, source: str, stage: str, run: Run, read: PartitionRead, key: str
) -> bool:
    """Insert the claim's row (the unique key decides a race); a row no signed claim names (written
    around govflow) is removed first. False when another task holds the partition."""
    row = MonitoredPartition(
        model_id=model.id,
        source=source,
        stage=stage,
        partition=key,
        run_id=run.id,
        rows=read.rows.get(key),
        labeled_rows=read.labeled.get(key) if read.labeled else None,
    )
    for attempt in range(2):
        try:
            with session.begin_nested():
                session.add(row)
            return True
        except IntegrityError:
            if attempt or key in _claims(session, model=model, source=source).get(stage, {}):
                return False  # claimed by a racing task (of this run, or another)
            with session.begin_nested():
                session.execute(
                    delete(MonitoredPartition).where(
                        MonitoredPartition.model_id == model.id,
                        MonitoredPartition.source == source,
                        MonitoredPartition.stage == stage,
                        MonitoredPartition.partition == key,
                    )
                )
            log.warning("claim of partition %s (%s, %s) had no signed event: replaced", key, source, stage)
            row = MonitoredPartition(**{c: getattr(row, c) for c in _ROW_FIELDS})
    return False


def claim_problems(session: Session, keyring: Keyring | None = None) -> list[FactProblem]:
    """For ``audit verify``: each claim row that no signed claim names with its run (written around
    govflow; nightly already ignores it). ``keyring``: the keys the verifier trusts."""
    keyring = keyring or Keyring.trusted()
    problems = []
    signed: dict[tuple[int, str], dict[str, dict[str, Claim]]] = {}
    query = (
        select(MonitoredPartition, Model, Run)
        .join(Model, MonitoredPartition.model_id == Model.id)
        .join(Run, MonitoredPartition.run_id == Run.id)
        .order_by(MonitoredPartition.id)
    )
    for row, model, run in session.execute(query):
        claims = signed.setdefault(
            (model.id, row.source), _claims(session, model=model, source=row.source, keyring=keyring)
        )
        found = claims.get(row.stage, {}).get(row.partition)
        if found is None or found.run != (run.dag_id, run.run_id):
            problems.append(
                FactProblem(
                    "monitored_partitions",
                    row.id,
                    f"the claim of partition {row.partition} ({row.stage}) of {model.name} by run "
                    f"{run.run_id} has no signed partition.claimed event: written around govflow",
                )
            )
    return problems


_ROW_FIELDS = ("model_id", "source", "stage", "partition", "run_id", "rows", "labeled_rows")


def _claims(
    session: Session, *, model: Model, source: str, keyring: Keyring | None = None
) -> dict[str, dict[str, Claim]]:
    """stage -> partition -> its first signed claim (events that are edited, unsigned or forged, or
    about another model or source, claim nothing)."""
    return signed_claims(session, {model.name: source}, keyring=keyring).get(model.name, {})


def signed_claims(
    session: Session,
    sources: Mapping[str, str],
    *,
    since: str | None = None,
    keyring: Keyring | None = None,
) -> dict[str, dict[str, dict[str, Claim]]]:
    """model -> stage -> partition -> its first signed claim, for each model's source (``sources``:
    model name -> source; one query for all of them). ``since``: only claims signed at or after this
    audit timestamp (``iso_utc``; the trail's ``ts`` strings sort as the times do)."""
    found: dict[str, dict[str, dict[str, Claim]]] = {}
    if not sources:
        return found
    subjects = {claims_subject(name): name for name in sources}
    where = AuditEvent.subject.in_(list(subjects)) & (AuditEvent.action == CLAIM_ACTION)
    if since is not None:
        where = where & (AuditEvent.ts >= since)
    for event in signed_events(session, where, keyring or Keyring.trusted()):
        p, name = event.payload, subjects[event.subject]
        run: dict[str, Any] = p["run"] if isinstance(p.get("run"), dict) else {}
        if (
            p.get("model") != name
            or p.get("source") != sources[name]
            or not isinstance(p.get("partitions"), list)
        ):
            continue
        try:
            at = dt.datetime.fromisoformat(str(p.get("claimed_at")))
        except ValueError:
            continue
        for key in p["partitions"]:
            found.setdefault(name, {}).setdefault(str(p.get("stage")), {}).setdefault(
                str(key),
                Claim(str(key), str(p.get("stage")), (str(run.get("dag_id")), str(run.get("run_id"))), at),
            )
    return found


def stale_labels(
    session: Session, *, model: Model, source: MonitoringSource, now: dt.datetime
) -> dict[str, Any] | None:
    """The oldest landed partition still waiting for labels longer than ``labels_stale_days``, or None."""
    if source.labels_stale_days is None:
        return None
    claims = _claims(session, model=model, source=source.uri)
    waiting = sorted(
        (c for key, c in claims.get(PREDICTIONS, {}).items() if key not in claims.get(LABELS, {})),
        key=lambda c: c.claimed_at,
    )
    if not waiting:
        return None
    landed = waiting[0].claimed_at
    landed = landed.replace(tzinfo=dt.UTC) if landed.tzinfo is None else landed
    days = (now - landed).total_seconds() / 86400
    if days < source.labels_stale_days:
        return None
    return {
        "partition": waiting[0].partition,
        "waiting": len(waiting),
        "days": round(days, 1),
        "limit_days": source.labels_stale_days,
    }
