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
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govflow import config, storage
from govflow.datasources import is_table_uri, partition_csv, partition_keys, table_copy
from govflow.errors import BadInputError
from govflow.hashing import sha256_bytes
from govflow.store import Model, MonitoredPartition, Run

__all__ = [
    "LABELS",
    "PREDICTIONS",
    "MonitoringSource",
    "PartitionRead",
    "claim",
    "claimed_by_run",
    "list_partitions",
    "read_partitions",
    "stale_labels",
    "unclaimed",
]

PREDICTIONS = "predictions"
LABELS = "labels"
_KEYS = ("partition", "labels", "key", "min_label_coverage", "labels_stale_days")
_DATA = (".csv", ".parquet")


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
    """partition key -> what reads it (a table: the value; a prefix: its part files, by name)."""
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
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(text)
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


def claimed_by_run(session: Session, *, run: Run, model: Any, source: str, stage: str) -> list[str]:
    """The partitions ``run`` claimed for ``stage`` (a retry reads these again)."""
    return list(
        session.scalars(
            select(MonitoredPartition.partition)
            .where(
                MonitoredPartition.run_id == run.id,
                MonitoredPartition.model_id == model.id,
                MonitoredPartition.source == source,
                MonitoredPartition.stage == stage,
            )
            .order_by(MonitoredPartition.partition)
        )
    )


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
    for key in keys:
        try:
            with session.begin_nested():
                session.add(
                    MonitoredPartition(
                        model_id=model.id,
                        source=source,
                        stage=stage,
                        partition=key,
                        run_id=run.id,
                        rows=read.rows.get(key),
                        labeled_rows=read.labeled.get(key) if read.labeled else None,
                    )
                )
        except IntegrityError:
            continue  # claimed by a racing task (of this run, or another)
    return claimed_by_run(session, run=run, model=model, source=source, stage=stage)


def _claims(session: Session, *, model: Model, source: str) -> dict[str, dict[str, MonitoredPartition]]:
    found: dict[str, dict[str, MonitoredPartition]] = {}
    for row in session.scalars(
        select(MonitoredPartition).where(
            MonitoredPartition.model_id == model.id, MonitoredPartition.source == source
        )
    ):
        found.setdefault(row.stage, {})[row.partition] = row
    return found


def stale_labels(
    session: Session, *, model: Model, source: MonitoringSource, now: dt.datetime
) -> dict[str, Any] | None:
    """The oldest landed partition still waiting for labels longer than ``labels_stale_days``, or None."""
    if source.labels_stale_days is None:
        return None
    claims = _claims(session, model=model, source=source.uri)
    waiting = sorted(
        (row for key, row in claims.get(PREDICTIONS, {}).items() if key not in claims.get(LABELS, {})),
        key=lambda row: row.claimed_at,
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
