"""An open alert silences tonight's alert only if a signed event raised it.

Before: nightly did not alert a problem that had an open row in ``alerts`` (so a problem alerts once,
not every night), and any such row counted. A DB writer who inserted an open, "sent" row for
``nightly:drift`` (or edited an old alert's problem to it) kept the owner and stakeholders from ever
hearing about drift in a production model.
"""

from __future__ import annotations

from sqlalchemy import select

from govflow.service.alerts import raise_alerts
from govflow.store import Alert, Model, session_scope
from tests.integration.test_alerts import _problem, model, smtp_sink  # noqa: F401  (fixtures)


def _open_row(problem: str, channel: str) -> None:
    with session_scope() as s:
        found = s.scalar(select(Model).where(Model.name == "credit-risk"))
        s.add(
            Alert(
                model_id=found.id,
                problem_key=problem,
                severity="critical",
                channel=channel,
                recipients=[],
                message="(forged)",
                delivery_status="sent",
            )
        )


def test_an_open_alert_row_without_its_signed_event_does_not_silence_the_alert(smtp_sink, model):  # noqa: F811
    for channel in ("email", "slack"):
        _open_row("nightly:drift", channel)
    raise_alerts(model, [_problem()], actor="pipeline:nightly_compliance", resolve_prefix="nightly:")
    assert len(smtp_sink.messages) == 1
    raise_alerts(model, [_problem()], actor="pipeline:nightly_compliance", resolve_prefix="nightly:")
    assert len(smtp_sink.messages) == 1  # the real alert is open and signed: once, not every night


def test_an_old_alert_edited_to_name_tonights_problem_does_not_silence_it(smtp_sink, model):  # noqa: F811
    raise_alerts(model, [_problem("nightly:pii")], actor="pipeline:nightly_compliance")
    with session_scope() as s:
        for row in s.scalars(select(Alert)):
            row.problem_key = "nightly:drift"  # what UPDATE alerts SET problem_key = ... does
    raise_alerts(model, [_problem()], actor="pipeline:nightly_compliance")
    assert len(smtp_sink.messages) == 2
