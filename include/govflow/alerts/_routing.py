"""Who hears about a problem: the model's owner and stakeholders, by severity.

Rules (the same for every model; the model's registration says who is who):

- severity ``info``      -> the owner
- severity ``warning``   -> the owner and every stakeholder except the ones whose role
                            only wants critical news (sponsor, business, executive, product)
- severity ``critical``  -> the owner and every stakeholder

A contact that looks like an e-mail address (``name@host.tld``) gets e-mail; a
contact starting with ``@`` or ``#`` is a Slack handle or channel and is named
in the Slack message. Other contacts are recorded but nothing is sent to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")
# Stakeholder roles that only want to hear about critical problems.
CRITICAL_ONLY_ROLES = frozenset({"sponsor", "business", "executive", "product"})
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Recipient:
    name: str
    role: str
    contact: str

    @property
    def email(self) -> str | None:
        return self.contact if _EMAIL_RE.match(self.contact) else None

    @property
    def slack(self) -> str | None:
        return self.contact if self.contact.startswith(("@", "#")) else None

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "contact": self.contact}


def severity_rank(severity: str) -> int:
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(
            f"unknown alert severity {severity!r}: choose one of {', '.join(SEVERITIES)}"
        ) from None


def route(owner: str, stakeholders: Iterable[Mapping[str, Any]], severity: str) -> list[Recipient]:
    """The recipients of a problem of ``severity`` for a model with this owner and stakeholders."""
    rank = severity_rank(severity)
    recipients = [Recipient(name=owner, role="owner", contact=owner)]
    for person in stakeholders:
        role = str(person.get("role") or "").strip().lower()
        wanted = "critical" if role in CRITICAL_ONLY_ROLES else "warning"
        if rank >= severity_rank(wanted):
            recipients.append(
                Recipient(
                    name=str(person.get("name") or ""),
                    role=role,
                    contact=str(person.get("contact") or "").strip(),
                )
            )
    unique: dict[str, Recipient] = {}
    for recipient in recipients:  # one message per contact, the first role wins
        unique.setdefault(recipient.contact.lower(), recipient)
    return list(unique.values())
