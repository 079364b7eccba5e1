"""Which open gate notices a gate outcome settles, so a model's open alerts are its open problems."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from govflow.service.registry import list_versions
from govflow.store import session_scope

__all__ = ["settled_gate_notices"]


def settled_gate_notices(outcome: Mapping[str, Any], *, db_url: str | None) -> Callable[[str], bool]:
    """Which open gate notices of the model this outcome settles (keys ``gate:<version>:<decision>``).

    Always this version's earlier ones (pending, then rejected). An approval also settles itself (a
    notice: nothing to do) and those of every version registered before it, which the approved one
    supersedes (an older version's rejection left open beside the production version read as an
    open problem of a compliant model). Newer versions still waiting keep theirs."""
    version, decision = outcome["version"], outcome["decision"]
    this_key = f"gate:{version}:{decision}"
    newer: set[str] = set()
    if decision == "approved":
        with session_scope(db_url) as session:
            versions = list_versions(session, model=outcome["model"])
            this_id = next((v.id for v in versions if v.version == version), None)
            newer = {v.version for v in versions if this_id is None or v.id > this_id}

    def settles(key: str) -> bool:
        head, _, _ = key.rpartition(":")
        if not head.startswith("gate:"):
            return False
        of = head[len("gate:") :]
        if of == version:
            return decision == "approved" or key != this_key
        return decision == "approved" and of not in newer

    return settles
