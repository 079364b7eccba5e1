"""Dates of birth written in parts: year/month/day columns, or an age beside a reference date.

1. Columns are grouped by what their names say besides the part (``birthYear``,
   ``birthMonth``, ``birthDay`` -> the group ``birth``); a part is a year (``year``, ``yr``,
   ``y``), a month (``month``, ``mo``, ``m``) or a day (``day``, ``d``).
2. A group with a year and a month whose name says birth, and whose values fit (past
   years, months 1-12, days 1-31), is one DATE_OF_BIRTH: every part column
   holds it, and the group is named. A group named for an event (``deathYear``) is not.
3. In a table about people, a day or a month of birth standing alone (``dayOfBirth``, the day
   of the month or of the year; ``birth_month``) is DATE_OF_BIRTH too: every element of a
   birth date but the year identifies (HIPAA's Safe Harbor). A year of birth alone is not.
4. In a table about people, an ``age`` column beside an event date (the day of the visit,
   the race, the death) gives the year of birth (the day, with fractional ages): the age
   column holds DATE_OF_BIRTH, with the reference date named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypedDict

from govflow.checks.pii._dates import BIRTH_WORDS, EVENT_WORDS
from govflow.checks.pii._hints import column_tokens
from govflow.checks.pii._masking import mask
from govflow.checks.pii._risk import fits_kind, qi_kind

PART_WORDS = {
    "year": frozenset({"year", "yr", "yyyy", "y"}),
    "month": frozenset({"month", "mo", "mm", "mon", "m"}),
    "day": frozenset({"day", "dd", "d"}),
}
_FILLER = frozenset({"of", "the"})
MIN_FIT = 0.9
OLDEST_YEAR = 1700
MAX_EXAMPLES = 3


class BirthGroup(TypedDict):
    """Columns that together give a date of birth."""

    columns: list[str]
    kind: str  # "year/month/day" or "age + reference date"
    precision: str  # "day", "month" or "year"
    evidence: str


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _fit(part: str, cells: Sequence[str], today: date, *, day_of_year: bool = False) -> float:
    if not cells:
        return 0.0
    # Registers of the dead reach back centuries: a year of birth is any past year since 1700.
    low, high = {"year": (OLDEST_YEAR, today.year), "month": (1, 12), "day": (1, 31)}[part]
    if part == "day" and day_of_year:
        high = 366
    ok = 0
    for cell in cells:
        value = _number(cell)
        ok += value is not None and value == int(value) and low <= value <= high
    return ok / len(cells)


def _part(header: str) -> tuple[str, frozenset[str]] | None:
    words = set(column_tokens(header))
    kinds = [kind for kind, names in PART_WORDS.items() if words & names]
    if len(kinds) != 1:
        return None
    return kinds[0], frozenset(words - PART_WORDS[kinds[0]] - _FILLER)


def part_groups(
    headers: Mapping[str, str], profiles: Mapping[str, Sequence[str]], today: date | None = None
) -> tuple[list[BirthGroup], dict[str, str]]:
    """Birth-date groups of year/month/day columns, and ``{column: reason}`` for part columns of
    an event (``deathYear``) that are not births."""
    today = today or date.today()
    by_prefix: dict[frozenset[str], dict[str, str]] = {}
    for key, header in headers.items():
        found = _part(header)
        if found is None or not found[1]:
            continue
        part, prefix = found
        if _fit(part, profiles.get(key, ()), today) >= MIN_FIT:
            by_prefix.setdefault(prefix, {}).setdefault(part, key)
    groups: list[BirthGroup] = []
    events: dict[str, str] = {}
    for prefix, parts in by_prefix.items():
        if "year" not in parts or "month" not in parts:
            continue
        columns = [parts[p] for p in ("year", "month", "day") if p in parts]
        named = ", ".join(headers[c] for c in columns)
        if prefix & BIRTH_WORDS:
            groups.append(
                BirthGroup(
                    columns=columns,
                    kind="year/month/day",
                    precision="day" if "day" in parts else "month",
                    evidence=f"the parts of one date of birth ({named}): names say birth, values fit",
                )
            )
        elif prefix & EVENT_WORDS or prefix & {"death", "died"}:
            for column in columns:
                events[column] = f"a part of an event date ({named}), not of a birth"
    return groups, events


def lone_birth_parts(
    headers: Mapping[str, str], profiles: Mapping[str, Sequence[str]], grouped: set[str]
) -> list[BirthGroup]:
    """Day or month columns of a birth outside any year/month/day group (one column each)."""
    today = date.today()
    found = []
    for key, header in headers.items():
        part = _part(header)
        if key in grouped or part is None or part[0] == "year" or not part[1] & BIRTH_WORDS:
            continue
        cells = profiles.get(key, ())
        if _fit(part[0], cells, today, day_of_year=True) < MIN_FIT:
            continue
        found.append(
            BirthGroup(
                columns=[key],
                kind="part alone",
                precision=part[0],
                evidence=f"the {part[0]} of a birth in {header}: every element of a birth date "
                "but the year identifies a person",
            )
        )
    return found


def age_groups(
    headers: Mapping[str, str],
    profiles: Mapping[str, Sequence[str]],
    event_dates: Sequence[str],
) -> list[BirthGroup]:
    """Ages beside an event date in a table about people: the year (or day) of birth."""
    if not event_dates:
        return []
    reference = event_dates[0]
    groups = []
    for key, header in headers.items():
        cells = profiles.get(key, ())
        if qi_kind(header) != "age" or not fits_kind("age", cells):
            continue
        numbers = [v for v in map(_number, cells) if v is not None]
        fractional = sum(1 for v in numbers if v != int(v)) > len(numbers) / 2
        precision = "day" if fractional else "year"
        groups.append(
            BirthGroup(
                columns=[key, reference],
                kind="age + reference date",
                precision=precision,
                evidence=f"{header} with the date in {headers[reference]} gives the {precision} of birth",
            )
        )
    return groups


def group_info(group: BirthGroup, cells: Sequence[str], non_empty: int) -> dict[str, Any]:
    """The DATE_OF_BIRTH evidence of one member column (masked examples only)."""
    examples: list[str] = []
    for cell in cells:
        masked = mask("DATE_OF_BIRTH", cell)
        if masked not in examples and len(examples) < MAX_EXAMPLES:
            examples.append(masked)
    return {
        "rate": 1.0,
        "estimated_cells": non_empty,
        "candidates": non_empty,
        "sampled": len(cells),
        "validated": len(cells),
        "exact": False,
        "score": 0.85,
        "recognizers": ["BirthDateParts"],
        "examples": examples,
        "evidence": group["evidence"],
        "group": list(group["columns"]),
    }
