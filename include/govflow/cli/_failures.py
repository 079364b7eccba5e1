"""Failures of the environment (database unreachable or refusing, files unwritable) as one line, exit 2.

They are not bugs in govflow, so the user gets what to fix, not a traceback;
and no line ever shows a database password (URLs are redacted, and so is the
configured URL's password wherever it appears).
"""

from __future__ import annotations

import os

from govflow import config

EXIT_ENVIRONMENT = 2


def environment_failure(err: BaseException) -> str | None:
    """One line describing ``err`` if it is an environment failure, else None (a bug: let it raise)."""
    from sqlalchemy.exc import SQLAlchemyError  # only to classify: sqlalchemy is loaded by now if it failed

    if isinstance(err, SQLAlchemyError):
        orig = getattr(err, "orig", None)
        detail = str(orig if orig is not None else err).strip().splitlines()
        return _redact(f"database error ({type(orig or err).__name__}): {detail[0] if detail else err}")
    if isinstance(err, OSError):
        where = f": {err.filename}" if err.filename else ""
        return _redact(f"{err.strerror or err}{where}")
    return None


def _redact(line: str) -> str:
    # Here, not at the top: the store loads SQLAlchemy, which every command would then pay for,
    # and this runs only when a command has already failed.
    from govflow.store import redact_url

    line = redact_url(line)
    password = _configured_password()
    return line.replace(password, "***") if password else line


def _configured_password() -> str | None:
    from sqlalchemy.engine import make_url

    try:
        return make_url(os.environ.get("GOVFLOW_DB_URL") or config.db_url()).password or None
    except Exception:  # noqa: BLE001 - an unparsable URL has no password we could know
        return None
