"""Delivery through Airflow notifiers, configured as Airflow connections.

- e-mail: ``SmtpNotifier`` over the connection ``govflow_smtp`` (GOVFLOW_ALERT_SMTP_CONN_ID)
- Slack:  ``SlackWebhookNotifier`` over ``govflow_slack`` (GOVFLOW_ALERT_SLACK_CONN_ID)

A channel whose connection does not exist is "unconfigured": the alert is still
recorded, and nothing is sent. Connections come from wherever Airflow finds
them (``AIRFLOW_CONN_*`` env vars, a secrets backend, the metadata DB).
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from govflow.alerts._routing import Recipient

DEFAULT_FROM = "govflow@localhost"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str  # plain text; no raw PII ever goes in here (summaries only)


class Channel:
    name: str = ""
    conn_env: str = ""  # the environment variable that names the connection
    default_conn_id: str = ""
    # Whether there is nobody to send to without an address (e-mail); a webhook posts to its channel anyway.
    needs_addresses: bool = False

    def conn_id(self) -> str:
        return os.environ.get(self.conn_env) or self.default_conn_id

    def addresses(self, recipients: Sequence[Recipient]) -> list[str]:
        raise NotImplementedError

    def configured(self) -> bool:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            BaseHook.get_connection(self.conn_id())
        except AirflowNotFoundException:
            return False
        return True

    def send(self, message: Message, recipients: Sequence[Recipient]) -> None:
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"
    conn_env, default_conn_id = "GOVFLOW_ALERT_SMTP_CONN_ID", "govflow_smtp"
    needs_addresses = True

    def addresses(self, recipients: Sequence[Recipient]) -> list[str]:
        return [r.email for r in recipients if r.email]

    def send(self, message: Message, recipients: Sequence[Recipient]) -> None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        notifier = SmtpNotifier(
            to=self.addresses(recipients),
            from_email=os.environ.get("GOVFLOW_ALERT_FROM") or _conn_from(self.conn_id()) or DEFAULT_FROM,
            subject=message.subject,
            html_content=f"<pre>{html.escape(message.body)}</pre>",
            smtp_conn_id=self.conn_id(),
        )
        # notify() directly: the text is final, there is no template to render.
        notifier.notify({})


class SlackChannel(Channel):
    name = "slack"
    conn_env, default_conn_id = "GOVFLOW_ALERT_SLACK_CONN_ID", "govflow_slack"

    def addresses(self, recipients: Sequence[Recipient]) -> list[str]:
        return [r.slack for r in recipients if r.slack]

    def send(self, message: Message, recipients: Sequence[Recipient]) -> None:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        text = slack_text(message, self.addresses(recipients))
        SlackWebhookNotifier(slack_webhook_conn_id=self.conn_id(), text=text).notify({})


# A plain @user or #channel name; anything else in a stakeholder's contact is shown as text.
_SLACK_NAME = re.compile(r"[@#][A-Za-z0-9][A-Za-z0-9._-]{0,79}")
# Names Slack treats as broadcasts when names are linked: never pinged from registry data.
_BROADCASTS = frozenset({"@channel", "@here", "@everyone", "@group"})


def slack_escape(text: str) -> str:
    """Slack's own escaping: ``<!channel>``, ``<!here>``, ``<@U..>`` and ``<url|label>`` become plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(message: Message, mentions: Sequence[str]) -> str:
    """The Slack message: every piece of registry text escaped; only plain @name/#channel mentions kept."""
    names = [m for m in mentions if _SLACK_NAME.fullmatch(m) and m.lower() not in _BROADCASTS]
    others = [slack_escape(m) for m in mentions if m not in names]
    cc = " ".join(names + [f"`{m.replace('`', '')}`" for m in others])
    text = f"*{slack_escape(message.subject)}*\n{slack_escape(message.body)}"
    return text + (f"\ncc {cc}" if cc else "")


def default_channels() -> list[Channel]:
    return [EmailChannel(), SlackChannel()]


def _conn_from(conn_id: str) -> str | None:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id).extra_dejson.get("from_email")
