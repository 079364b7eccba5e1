"""Alerts that reach the right people: problems, routing and channels (no state).

    from govflow.alerts import Problem
    from govflow.service.alerts import raise_alerts
    raise_alerts("credit-risk", [Problem(key="nightly:drift", severity="critical", subject=..., body=...)],
                 actor="pipeline:nightly_compliance", resolve_prefix="nightly:")

Recording, deduplicating and delivering alerts is a state change, so it is a
use case in ``service.alerts``. Each problem is routed by the model's owner, stakeholders and its severity
(``_routing``), recorded in the ``alerts`` table (one row per channel, with its
recipients), then sent through Airflow's SMTP and Slack notifiers when their
connections exist (``_channels``). An open alert for the same problem and
channel is not raised again (so a nightly problem alerts once, not every
night); it closes when a later run no longer reports it (``resolve_prefix``),
and a new occurrence after that alerts again. Retrying a task re-sends only
what was not delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

from govflow.alerts._channels import Channel, EmailChannel, Message, SlackChannel, default_channels
from govflow.alerts._routing import SEVERITIES, Recipient, route, severity_rank

__all__ = [
    "SEVERITIES",
    "Channel",
    "EmailChannel",
    "Message",
    "Problem",
    "Recipient",
    "SlackChannel",
    "default_channels",
    "route",
    "severity_rank",
]


@dataclass(frozen=True)
class Problem:
    key: str  # the same problem gets the same key run after run (e.g. "nightly:drift")
    severity: str
    subject: str
    body: str

    def __post_init__(self) -> None:
        severity_rank(self.severity)  # refuses unknown severities early
