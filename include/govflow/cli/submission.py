"""The training job's submission as a library call: what `govflow submit` registers, and the DAG
it triggers. For code that submits on a user's behalf without the CLI's process (the production
demo registers as alice, then triggers the gate with alice's own Airflow client)."""

from __future__ import annotations

from govflow.cli._submit import DAG_ID, SUBMITTER_ROLES, register_submission

__all__ = ["DAG_ID", "SUBMITTER_ROLES", "register_submission"]
