"""UTC times as govflow stores and shows them (one format everywhere, as in the audit trail)."""

from __future__ import annotations

import datetime as dt


def utc(value: dt.datetime | str) -> dt.datetime:
    """An aware UTC datetime (naive values, as SQLite returns them, are taken as UTC)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def iso_utc(value: dt.datetime | str | None) -> str | None:
    """ISO 8601 in UTC, always with microseconds (so the strings sort as the times do); None stays None."""
    if value is None:
        return None
    return utc(value).isoformat(timespec="microseconds")
