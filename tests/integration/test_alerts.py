"""Alerts: routed by owner, stakeholders and severity; sent through Airflow's SMTP notifier to a
local SMTP sink; always recorded; one alert per open problem; retries re-send only what failed."""

from __future__ import annotations

import json
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest

from govflow.alerts import Problem, Recipient, SlackChannel, route
from govflow.service.alerts import raise_alerts

OWNER = "olga@bank.example"
STAKEHOLDERS = [
    "Dana Privacy:dpo:dana@bank.example",
    "Sam Sponsor:sponsor:sam@bank.example",
    "Risk channel:risk:#model-risk",
]


@pytest.fixture
def smtp_sink(monkeypatch, tmp_path):
    sink, server = start_sink()
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("AIRFLOW_CONN_GOVFLOW_SMTP", _smtp_conn(sink.port))
    monkeypatch.delenv("AIRFLOW_CONN_GOVFLOW_SLACK", raising=False)
    yield sink
    server.shutdown()
    server.server_close()


def _smtp_conn(port: int) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {
                "disable_tls": True,
                "disable_ssl": True,
                "from_email": "govflow@bank.example",
                "retry_limit": 0,
                "timeout": 5,
            },
        }
    )


@pytest.fixture
def model(db_url):
    from govflow.service.registry import register_model
    from govflow.store import session_scope

    with session_scope() as session:
        register_model(
            session,
            name="credit-risk",
            owner=OWNER,
            risk_tier="high",
            actor="alice",
            stakeholders=STAKEHOLDERS,
        )
    return "credit-risk"


def _problem(key="nightly:drift", severity="critical"):
    return Problem(
        key=key,
        severity=severity,
        subject=f"credit-risk: {key}",
        body="share of drifted columns 0.45 > 0.30 (age, hours-per-week)",
    )


def _audit_actions():
    from govflow.store import session_scope
    from govflow.store.audit import list_events

    with session_scope() as session:
        return [e.action for e in list_events(session)]


def test_routing_by_severity():
    stakeholders = [
        {"name": "Dana", "role": "dpo", "contact": "dana@x.org"},
        {"name": "Sam", "role": "sponsor", "contact": "sam@x.org"},
    ]
    contacts = {
        s: [r.contact for r in route("o@x.org", stakeholders, s)] for s in ("info", "warning", "critical")
    }
    assert contacts == {
        "info": ["o@x.org"],
        "warning": ["o@x.org", "dana@x.org"],
        "critical": ["o@x.org", "dana@x.org", "sam@x.org"],
    }
    with pytest.raises(ValueError, match="unknown alert severity 'loud'"):
        route("o@x.org", stakeholders, "loud")
    assert Recipient("n", "r", "#chan").slack == "#chan" and Recipient("n", "r", "#chan").email is None


def test_critical_problem_emails_owner_and_all_stakeholders(smtp_sink, model):
    report = raise_alerts(model, [_problem()], actor="pipeline:nightly_compliance")

    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    assert sorted(mail.recipients) == ["dana@bank.example", OWNER, "sam@bank.example"]
    assert mail.sender == "govflow@bank.example"
    assert mail.message["Subject"] == "credit-risk: nightly:drift"
    assert "share of drifted columns 0.45" in mail.message.get_payload(0).get_payload(decode=True).decode()
    by_channel = {r["channel"]: r for r in report}
    assert by_channel["email"]["delivery"] == "sent"
    # No Slack connection: still recorded, with the Slack channel among the recipients, nothing sent.
    assert by_channel["slack"]["delivery"] == "unconfigured"
    assert "#model-risk" in by_channel["slack"]["recipients"]


def test_warning_skips_critical_only_stakeholders(smtp_sink, model):
    raise_alerts(model, [_problem(severity="warning")], actor="t")
    assert sorted(smtp_sink.messages[0].recipients) == ["dana@bank.example", OWNER]


def test_open_problem_alerts_once_and_again_after_it_was_resolved(smtp_sink, model):
    from govflow.store import Alert, session_scope

    raise_alerts(model, [_problem()], actor="t", resolve_prefix="nightly:")
    events_after_first = _audit_actions()
    raise_alerts(model, [_problem()], actor="t", resolve_prefix="nightly:")  # the next night, same problem
    assert len(smtp_sink.messages) == 1
    assert _audit_actions() == events_after_first

    raise_alerts(model, [], actor="t", resolve_prefix="nightly:")  # fixed: the open alerts close
    with session_scope() as session:
        assert all(row.resolved_at is not None for row in session.query(Alert))
    assert _audit_actions().count("alert.resolved") == 2  # email + slack rows

    raise_alerts(model, [_problem()], actor="t", resolve_prefix="nightly:")  # it comes back: a new alert
    assert len(smtp_sink.messages) == 2


def test_failed_delivery_is_recorded_and_retried_once(smtp_sink, model, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_GOVFLOW_SMTP", _smtp_conn(1))  # nothing listens on port 1
    report = raise_alerts(model, [_problem()], actor="t")
    email = next(r for r in report if r["channel"] == "email")
    assert email["delivery"] == "failed" and email["error"]

    monkeypatch.setenv("AIRFLOW_CONN_GOVFLOW_SMTP", _smtp_conn(smtp_sink.port))
    raise_alerts(model, [_problem()], actor="t")  # a task retry
    raise_alerts(model, [_problem()], actor="t")  # and another: already sent, nothing more
    assert len(smtp_sink.messages) == 1
    assert _audit_actions().count("alert.raised") == 2  # email + slack, once each


def test_email_without_an_address_is_recorded_not_sent_while_a_webhook_still_posts(
    smtp_sink, db_url, monkeypatch
):
    from govflow.service.registry import register_model
    from govflow.store import session_scope

    with session_scope() as session:
        register_model(session, name="no-mail", owner="olga", risk_tier="high", actor="alice")
    sent = []
    monkeypatch.setattr(SlackChannel, "configured", lambda self: True)
    monkeypatch.setattr(SlackChannel, "send", lambda self, message, recipients: sent.append(message.subject))
    report = raise_alerts("no-mail", [_problem()], actor="t")
    assert {r["channel"]: r["delivery"] for r in report} == {"email": "no_recipients", "slack": "sent"}
    assert smtp_sink.messages == [] and sent == ["credit-risk: nightly:drift"]


def test_slack_webhook_channel_sends_text_with_mentions(smtp_sink, model, monkeypatch):
    sent = []
    monkeypatch.setattr(SlackChannel, "configured", lambda self: True)
    monkeypatch.setattr(
        SlackChannel,
        "send",
        lambda self, message, recipients: sent.append((message.subject, self.addresses(recipients))),
    )
    report = raise_alerts(model, [_problem()], actor="t")
    assert sent == [("credit-risk: nightly:drift", ["#model-risk"])]
    assert {r["channel"]: r["delivery"] for r in report} == {"email": "sent", "slack": "sent"}


# -- a tiny SMTP server on loopback that keeps every message it receives --------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data)


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Received] = field(default_factory=list)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        self._say("220 sink ESMTP")
        sender, recipients = "", []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 sink")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                self._say("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>").split(">")[0])
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                sink.messages.append(Received(sender, list(recipients), b"".join(chunks)))
                self._say("250 queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self._say("250 OK")
            elif verb == "NOOP":
                self._say("250 OK")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not implemented")

    def _say(self, text: str) -> None:
        self.wfile.write(text.encode("ascii") + b"\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_sink() -> tuple[SmtpSink, _Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    sink = SmtpSink(host="127.0.0.1", port=server.server_address[1])
    server.sink = sink  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return sink, server
