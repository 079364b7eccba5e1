"""Who may start and who may answer a governance_gate run.

1. A run whose conf names files (``artifact``, ``training_data``...) registers a version, so the
   user Airflow authenticated as triggering it needs the role registering needs (data_scientist,
   or admin), exactly as ``govflow version register`` does: a reviewer cannot submit a model by
   triggering the DAG instead of using the CLI.
2. A version registered from an asset event (its ``extra`` naming files) is submitted by the
   person who triggered the run that emitted the event (Airflow's ``triggering_user_name`` of
   the event's source run, which the DAG passes as ``SOURCE_RUN`` over anything the extra says),
   and that person needs the registrar role too. An event nobody can be named for (posted
   through the REST API, or from a scheduled run) registers nothing: a service account as
   submitter would let a reviewer who emits the event approve the version themselves.
3. Each approval request of a run goes to its own reviewers: the eligible reviewers (sorted) are
   split into consecutive groups, one per request, so no one is assigned two requests of one run
   (one answer per person is all the gate counts, and a second answer by the same person would
   leave the run waiting for ever). The price: a request waits for its own group only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from govflow.access import Directory, load_users, require_role
from govflow.errors import PermissionDeniedError

__all__ = [
    "FILE_KEYS",
    "REGISTRAR_ROLES",
    "SOURCE_RUN",
    "event_submitter",
    "require_registrar",
    "reviewer_groups",
]

REGISTRAR_ROLES = ("data_scientist",)  # admins pass too
FILE_KEYS = ("artifact", "training_data", "reference_data", "eval_data")
# Key the DAG sets on each asset event's extra (after the extra's own keys): [dag_id, run_id] of
# the run that emitted it, or [None, None] for an event posted through the REST API.
SOURCE_RUN = "__source_run__"
SourceUser = Callable[[str, str], "str | None"]


def require_registrar(
    conf: Mapping[str, Any], *, triggering_user: str | None, users: Directory | None = None
) -> None:
    """PermissionDeniedError unless a conf that names files was triggered by a registrar."""
    named = [key for key in FILE_KEYS if conf.get(key)]
    if not named:
        return
    if not triggering_user:
        raise PermissionDeniedError(
            f"permission denied: a governance_gate run whose conf names {named[0]} registers a version "
            "and needs a triggering user with role data_scientist; this run has none"
        )
    require_role(
        triggering_user,
        REGISTRAR_ROLES,
        action=f"register a version by triggering governance_gate with {named[0]} in its conf",
        users=users or load_users(),
    )


def _airflow_source_user(dag_id: str, run_id: str) -> str | None:
    from govflow.airflow_client import AirflowClient, task_api_url

    with AirflowClient(task_api_url()) as client:
        return client.get_run(dag_id, run_id).get("triggering_user_name") or None


def event_submitter(
    event: Mapping[str, Any],
    *,
    source_user: SourceUser | None = None,
    users: Directory | None = None,
) -> str | None:
    """The person an asset event that names files registers its version as (a registrar), or None
    when it names no files (it can only point at a registered version). PermissionDeniedError
    when nobody can be named or they may not register."""
    named = [key for key in FILE_KEYS if event.get(key)]
    if not named:
        return None
    source = event.get(SOURCE_RUN)
    dag_id, run_id = source if isinstance(source, (list, tuple)) and len(source) == 2 else (None, None)
    who = (source_user or _airflow_source_user)(dag_id, run_id) if dag_id and run_id else None
    if not who:
        raise PermissionDeniedError(
            f"permission denied: an asset event names {named[0]} of "
            f"{event.get('model')}@{event.get('version')} but no person triggered the run that "
            "emitted it: register the version with govflow version register, "
            "or emit the event from a run a data scientist triggered"
        )
    require_role(
        who, REGISTRAR_ROLES, action="register a version through an asset event", users=users or load_users()
    )
    return str(who)


def reviewer_groups(reviewers: Sequence[str], requests: int) -> list[list[str]]:
    """``reviewers`` (sorted) split into ``requests`` consecutive groups of near-equal size, none in
    two (the first groups take the extra ones); empty groups are dropped."""
    ordered = sorted(dict.fromkeys(reviewers))
    count = max(requests, 0)
    size, extra = divmod(len(ordered), count) if count else (0, 0)
    groups, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        groups.append(ordered[start:end])
        start = end
    return [group for group in groups if group]
