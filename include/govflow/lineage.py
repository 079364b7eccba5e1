"""OpenLineage events for governance runs, emitted through Airflow's OpenLineage provider.

One COMPLETE event per gate outcome: the job is the governance DAG's decide step, the
inputs are the version's training, reference, eval and batch data and its model
artifact, the outputs are the check evidence and the gate decision, and the run carries
a ``govflow_modelVersion`` facet (model, version, stage, decision, policy) plus the DAG
version that ran it. Every dataset carries a ``govflow_content`` facet with its sha256,
so a lineage graph node is bound to exact bytes. The provider's adapter uses whatever
transport Airflow is configured with (``[openlineage] transport``; the file transport in
tests); with none configured nothing is emitted. Emission never fails a governance run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govflow import storage

__all__ = ["LineageDataset", "emit", "gate_event"]

log = logging.getLogger(__name__)
SCHEMA_BASE = "https://github.com/govflow/govflow/blob/main/docs/lineage/"


@dataclass(frozen=True)
class LineageDataset:
    role: str  # training_data, artifact, evidence:fairness, gate_decision...
    uri: str
    sha256: str | None = None


def dataset_name(uri: str) -> tuple[str, str]:
    """(namespace, name) per OpenLineage naming: file paths, object stores, warehouse tables."""
    where = storage.resolve(uri)
    if where.kind == "table":
        conn, _, table = where.path.partition("/")
        return f"{where.scheme}://{conn}", table
    if where.kind == "remote":
        bucket, _, key = where.path.lstrip("/").partition("/")
        return f"{where.scheme}://{bucket}", key
    return "file", where.path


def gate_event(
    *,
    namespace: str,
    run: Mapping[str, Any],
    model_version: Mapping[str, Any],
    inputs: Sequence[LineageDataset],
    outputs: Sequence[LineageDataset],
    event_time: str,
) -> Any:
    """The COMPLETE RunEvent of one gate outcome (openlineage-python's ``event_v2``)."""
    import attr
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.generated.base import DatasetFacet, RunFacet

    @attr.define
    class ContentFacet(DatasetFacet):
        sha256: str | None = attr.field(default=None)
        role: str = attr.field(default="")

        @staticmethod
        def _get_schema() -> str:
            return SCHEMA_BASE + "ContentFacet.json"

    @attr.define
    class ModelVersionFacet(RunFacet):
        model: str = attr.field()
        version: str = attr.field()
        stage: str | None = attr.field(default=None)
        decision: str | None = attr.field(default=None)
        decisionId: int | None = attr.field(default=None)
        policySha256: str | None = attr.field(default=None)
        dagVersion: dict[str, Any] | None = attr.field(default=None)

        @staticmethod
        def _get_schema() -> str:
            return SCHEMA_BASE + "ModelVersionFacet.json"

    def facets(item: LineageDataset) -> dict[str, Any]:
        return {"govflow_content": ContentFacet(sha256=item.sha256, role=item.role)}

    key = f"{run['dag_id']}/{run['run_id']}/{model_version['model']}@{model_version['version']}"
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=event_time,
        run=Run(
            runId=str(uuid.uuid5(uuid.NAMESPACE_URL, f"govflow:{key}:{model_version.get('decision_id')}")),
            facets={
                "govflow_modelVersion": ModelVersionFacet(
                    model=str(model_version["model"]),
                    version=str(model_version["version"]),
                    stage=model_version.get("stage"),
                    decision=model_version.get("decision"),
                    decisionId=model_version.get("decision_id"),
                    policySha256=model_version.get("policy_sha256"),
                    dagVersion=run.get("dag_version"),
                )
            },
        ),
        job=Job(namespace=namespace, name=f"{run['dag_id']}.decide"),
        inputs=[InputDataset(*dataset_name(i.uri), facets=facets(i)) for i in inputs],
        outputs=[OutputDataset(*dataset_name(o.uri), facets=facets(o)) for o in outputs],
        producer="https://github.com/govflow/govflow",
    )


def namespace() -> str:
    from airflow.providers.openlineage import conf

    return conf.namespace()


def emit(event: Any) -> bool:
    """Send ``event`` through the provider's adapter; False when OpenLineage is off or failed."""
    try:
        from airflow.providers.openlineage import conf
        from airflow.providers.openlineage.plugins.adapter import OpenLineageAdapter

        if conf.is_disabled():
            return False
        OpenLineageAdapter().emit(event)
        return True
    except Exception as err:  # noqa: BLE001 - lineage is a mirror: it never fails governance
        log.warning("OpenLineage emission failed: %s", str(err).splitlines()[0] if str(err) else err)
        return False
