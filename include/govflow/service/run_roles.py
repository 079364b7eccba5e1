"""Who may start and who may answer a governance_gate run.

1. A run whose conf names files (``artifact``, ``training_data``...) registers a version, so the
   user Airflow authenticated as triggering it needs the role registering needs (data_scientist,
   or admin), exactly as ``govflow version register`` does: a reviewer cannot submit a model by
   triggering the DAG instead of using the CLI.
2. Each approval request of a run goes to its own reviewers: the eligible reviewers are dealt
   round-robin over the requests, so no one is assigned two requests of one run (one answer per
   person is all the gate counts, and a second answer by the same person would leave the run
   waiting for ever).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govflow.access import Directory, load_users, require_role
from govflow.errors import PermissionDeniedError

__all__ = ["FILE_KEYS", "REGISTRAR_ROLES", "require_registrar", "reviewer_groups"]

REGISTRAR_ROLES = ("data_scientist",)  # admins pass too
FILE_KEYS = ("artifact", "training_data", "reference_data", "eval_data")


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


def reviewer_groups(reviewers: Sequence[str], requests: int) -> list[list[str]]:
    """``reviewers`` dealt over ``requests`` requests, none in two; empty groups are dropped."""
    ordered = sorted(dict.fromkeys(reviewers))
    groups = [ordered[i :: max(requests, 1)] for i in range(max(requests, 0))]
    return [group for group in groups if group]
