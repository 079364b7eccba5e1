"""Dates of birth apart from other dates: what the column name says, then what the years say.

A date column is ``DATE_OF_BIRTH`` when
1. its name says birth (``dob``, ``birth_date``, ``born``, ``geburtsdatum``...) and the
   sampled dates are plausible birth dates (not in the future, within 120 years); or
2. its name names no event (``admission_date``, ``died``, ``created_at``...: those stay
   ``DATE_TIME``) and the values look like births: dates of one day (no time of day)
   spread over decades (10th to 90th percentile 20+ years apart), a median age
   between 16 and 95, and mostly distinct (one per person, not a few event days).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

BIRTH_WORDS = frozenset(
    {
        "dob",
        "birth",
        "birthday",
        "birthdate",
        "born",
        "bday",
        "geboren",
        "geburtsdatum",
        "geburtstag",
        "naissance",
        "nacimiento",
        "nascita",
        "geboortedatum",
        "fodelsedatum",
    }
)
# Names of dated events: such a column is not a birth date whatever its years look like.
EVENT_WORDS = frozenset(
    [
        "death",
        "died",
        "dod",
        "deceased",
        "admission",
        "admitted",
        "admit",
        "discharge",
        "discharged",
        "visit",
        "created",
        "updated",
        "modified",
        "order",
        "ordered",
        "event",
        "start",
        "started",
        "end",
        "ended",
        "hire",
        "hired",
        "debut",
        "final",
        "game",
        "games",
        "ceremony",
        "application",
        "appdate",
        "season",
        "joined",
        "join",
        "signup",
        "registered",
        "registration",
        "timestamp",
        "time",
        "ts",
        "issued",
        "issue",
        "expiry",
        "expires",
        "expiration",
        "due",
        "paid",
        "payment",
        "shipped",
        "delivered",
        "opened",
        "closed",
        "last",
        "first",
        "transaction",
        "sale",
        "purchase",
        "booking",
        "booked",
        "release",
        "released",
        "published",
        "incident",
        "accident",
        "arrest",
        "arrested",
        "diagnosis",
        "diagnosed",
        "treatment",
        "surgery",
        "appointment",
        "exam",
        "test",
        "sample",
        "collected",
        "reported",
        "onset",
        "enrolled",
        "enrollment",
        "graduation",
        "graduated",
        "married",
        "marriage",
        "divorce",
        "contract",
        "valid",
        "effective",
        "survey",
        "interview",
        "submitted",
        "received",
        "sent",
        "login",
        "logout",
        "activity",
        "scan",
        "since",
        "until",
        "from",
        "to",
        "year",
        "month",
        "day",
        "week",
    ]
)
# A "birth" column naming a place ("birthCity") holds places, not dates.
PLACE_HINT_WORDS = frozenset({"city", "town", "place", "country", "state", "county", "province", "region"})
MAX_AGE = 120
MIN_PLAUSIBLE = 0.8
MIN_SPREAD_YEARS = 20
MEDIAN_AGE = (16, 95)
MIN_DISTINCT = 0.5


def _parsed(cells: Sequence[str]) -> pd.Series:
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about guessed formats
        return pd.to_datetime(pd.Series(list(cells), dtype=object), errors="coerce", format="mixed")


def event_date_reason(tokens: Collection[str]) -> str | None:
    """Why a date column of people holds event dates by its name (``debut``, ``hired``...), or None."""
    words = set(tokens)
    if words & BIRTH_WORDS:
        return None
    named = sorted(words & EVENT_WORDS)
    return f"the column name says an event ({', '.join(named)}): event dates, not births" if named else None


def birth_date_reason(cells: Sequence[str], tokens: Collection[str], today: date | None = None) -> str | None:
    """Why a date column holds dates of birth, or None."""
    if not cells:
        return None
    today = today or date.today()
    parsed = _parsed(cells).dropna()
    if len(parsed) < max(3, 0.5 * len(cells)):
        return None
    years = parsed.dt.year
    ages = today.year - years
    plausible = float(((ages >= 0) & (ages <= MAX_AGE) & (parsed.dt.date <= today)).mean())
    if plausible < MIN_PLAUSIBLE:
        return None
    words = set(tokens)
    if words & BIRTH_WORDS:
        return f"the column name says birth and {plausible:.0%} of sampled dates are plausible birth dates"
    if words & EVENT_WORDS:
        return None
    if words & PLACE_HINT_WORDS:
        return None
    has_time = bool((parsed.dt.normalize() != parsed).any())
    spread = float(years.quantile(0.9) - years.quantile(0.1))
    median_age = float(ages.median())
    distinct = parsed.nunique() / len(parsed)
    if (
        not has_time
        and spread >= MIN_SPREAD_YEARS
        and MEDIAN_AGE[0] <= median_age <= MEDIAN_AGE[1]
        and distinct >= MIN_DISTINCT
    ):
        return (
            f"days spread over {spread:.0f} years (median age {median_age:.0f}), "
            f"{distinct:.0%} distinct: birth dates"
        )
    return None
