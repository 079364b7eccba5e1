"""Which model versions an Airflow DAG run produced governance evidence for (the way back from Airflow)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govflow.access import User
from govflow.service import team_scope
from govflow.store import CheckResultRow, Model, ModelVersion, Run


def versions_of_run(
    session: Session, dag_id: str, run_id: str, *, viewer: User | None = None
) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Model.name, ModelVersion.version)
        .join(ModelVersion, ModelVersion.model_id == Model.id)
        .join(CheckResultRow, CheckResultRow.version_id == ModelVersion.id)
        .join(Run, Run.id == CheckResultRow.run_id)
        .where(Run.dag_id == dag_id, Run.run_id == run_id, team_scope.visible(viewer))
        .distinct()
        .order_by(Model.name, ModelVersion.version)
    ).all()
    return [(r[0], r[1]) for r in rows]


__all__ = ["versions_of_run"]
