"""Cross-check the governance state against the signed audit trail, both ways, for ``audit verify``.

A row written around govflow (straight into the DB) has no signed event behind
it; a row edited in the DB no longer agrees with its event; a row deleted in the
DB leaves a signed event naming a row that is gone. Once the chain and its
signatures are verified, ``service.signed_facts`` compares every row of every
table the gate reads (models, versions and their stages, check results,
approvals, waivers, gate decisions, the active policy) with its event, field by
field, and every such event with its row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from govflow.service.signed_facts import all_fact_problems
from govflow.signing import Keyring


def state_problems(session: Session, keyring: Keyring | None = None) -> list[dict[str, Any]]:
    """Rows and events that do not agree (see the module docstring); [] when all agree. ``keyring``:
    the keys ``audit verify`` trusts (its ``--public-key`` files too), else the configured ones."""
    return [problem.to_dict() for problem in all_fact_problems(session, keyring)]
