"""How govflow's errors end an Airflow task.

A user's mistake or a refused fact fails the same way on every try, so its task fails for good
instead of waiting out the DAG's retries (two 30 s delays per task, for every ``all_done`` task
after it too). An unavailable service (object store, Airflow's API, a DB connection) is raised
unchanged and retried. An ``all_done`` task whose upstream failed gets ``None`` for its return
value from Airflow: it fails at once too (not skipped, so the run still ends red).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from govflow.errors import BadInputError, GovflowError, PermissionDeniedError


class UpstreamMissingError(GovflowError):
    """An upstream task failed before handing on what this task needs (a version, a decision)."""


def final_errors() -> tuple[type[Exception], ...]:
    from govflow.service.gate import PromotionRefusedError
    from govflow.service.policy import PolicyNotActiveError
    from govflow.service.signed_facts import UnsignedFactError
    from govflow.tasks.nightly import AuditChainBrokenError

    return (
        BadInputError,
        PermissionDeniedError,
        UpstreamMissingError,
        UnsignedFactError,
        PromotionRefusedError,
        PolicyNotActiveError,
        AuditChainBrokenError,  # a broken chain does not heal by waiting: the run fails at once
    )


def require_upstream(value: object) -> None:
    if value is None:
        raise UpstreamMissingError("nothing to do: an upstream task failed (its log says why)")


@contextmanager
def task_outcome() -> Iterator[None]:
    """Run a task's body: a final error fails the task without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except final_errors() as err:
        raise AirflowFailException(f"{type(err).__name__}: {err}") from err
