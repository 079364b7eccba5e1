"""Production models for the benchmark and the fault tests, without going through the gate.

The sample model's files are published once per seeding (``s3://<bucket>/seed/<tag>/``),
each model gets its own production batches (``s3://<bucket>/models/<model>/batches/``),
and each version is registered and moved to production directly by the registry service
(audited like any promotion, with ``decision_id`` 0: a seeded fleet, not a governed one),
so a nightly_compliance run has exactly these models due.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from govflow.artifacts import upload_file
from govflow.policy import load_policy
from govflow.service import registry
from govflow.service.pipeline import CheckConfig
from govflow.service.policy import require_active
from govflow.store import session_scope

SEEDER = "prod-seed"


def seed_production_models(
    trained: dict[str, Any],
    names: list[str],
    *,
    bucket: str,
    tag: str,
    sources: Mapping[str, tuple[str, dict[str, Any]]] | None = None,
) -> None:
    """``sources``: model -> (batches URI, params.monitoring) of models monitored by partition
    (``_partitioned``); the others get the newest sample batch under their own prefix."""
    shared = f"s3://{bucket}/seed/{tag}"
    uris = {
        "artifact": f"{shared}/{Path(trained['artifact']).name}",
        "training_data": f"{shared}/train.csv",
        "reference_data": f"{shared}/reference.csv",
        "eval_data": f"{shared}/eval.csv",
    }
    for key, uri in uris.items():
        upload_file(trained[key], uri)
    batches = sorted(Path(trained["batches"]).glob("*.csv"))
    config = CheckConfig(
        label=trained["label"],
        prediction=trained["prediction"],
        score=trained["score"],
        positive_label=trained["positive_label"],
        sensitive=tuple(trained["sensitive"]),
    )
    # What the first gate run would have done: the check workers judge under an active policy, and
    # cannot activate one themselves (it needs the decision key, which the seeder holds).
    with session_scope() as session:
        require_active(session, load_policy())
    for name in names:
        batches_uri, monitoring = (sources or {}).get(name, (f"s3://{bucket}/models/{name}/batches/", None))
        if monitoring is None:
            upload_file(batches[-1], f"{batches_uri}{batches[-1].name}")
        extra = {"monitoring": monitoring} if monitoring else {}
        with session_scope() as session:
            registry.register_model(
                session,
                name=name,
                owner="olga.owner@bank.example",
                risk_tier="high",
                actor=SEEDER,
                stakeholders=["Model risk:risk:#model-risk"],
                regions=["EU"],
                sector="finance",
                batches_uri=batches_uri,
            )
            registry.register_version(
                session,
                model=name,
                version="1.0",
                artifact=uris["artifact"],
                training_data=uris["training_data"],
                reference_data=uris["reference_data"],
                eval_data=uris["eval_data"],
                actor=SEEDER,
                framework="scikit-learn",
                params=trained["params"] | {"governance": config.to_params()} | extra,
                metrics=trained["metrics"],
            )
            registry.promote_to_production(session, model=name, version="1.0", actor=SEEDER, decision_id=0)
