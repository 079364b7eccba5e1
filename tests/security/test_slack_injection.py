"""Attack: a stakeholder contact (registry data anyone with data_scientist can write) that pings a whole
Slack workspace or plants a phishing link in govflow's alert.

Before, the contact went into the webhook text unchanged: `<!channel>` notified everyone.
"""

from __future__ import annotations

import re

import pytest

from govflow.alerts import Message, Recipient, SlackChannel
from govflow.alerts._channels import slack_text

CONTROL = re.compile(r"<[!@#]|<https?:|<mailto:")


@pytest.mark.parametrize(
    "contact",
    [
        "@ana <!channel>",
        "@x <!here|here>",
        "#risk <https://evil.example/login|Reset your password>",
        "@channel",
        "@here",
        "@u <@U024BE7LH>",
        "#a&lt;!channel&gt;",
    ],
)
def test_a_hostile_contact_pings_nobody_and_links_nothing(contact):
    recipients = [Recipient("Ana", "owner", "@ana"), Recipient("Eve", "business", contact)]
    text = slack_text(
        Message(subject="drift on credit-risk", body="share 0.4"), SlackChannel().addresses(recipients)
    )
    assert not CONTROL.search(text), text
    assert "@ana" in text  # a plain mention still works


def test_subject_and_body_are_escaped_too():
    text = slack_text(Message(subject="<!channel> model x", body="see <https://evil|here> & more"), [])
    assert not CONTROL.search(text)
    assert "&lt;!channel&gt;" in text and "&amp; more" in text
