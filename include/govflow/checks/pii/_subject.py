"""What a table is about: people, something else, or unknown; decided before places,
dates and keys are judged, because their meaning depends on it.

A table is about people (``person``) when any of these holds, each a reason:
1. a values column holds people's names (PERSON, not in free text);
2. a column named for births holds dates of birth, or year/month/day columns make one (``_parts``);
3. a values column holds contact details or personal identifiers (email, phone,
   national ids, cards, bank accounts);
4. a column's name says a person's key (``customer_id``, ``playerID``) and its values
   are identifier-shaped;
5. a column's name is said only of people (``native-country``, ``marital_status``);
6. a sex (or gender) column and an age column stand together.
A sex or an age column alone (penguins have a sex) leaves it ``unknown``; none of these
makes it ``other`` (airports, parks, products, countries).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from govflow.checks.pii._dates import BIRTH_WORDS
from govflow.checks.pii._hints import column_tokens, person_id_words
from govflow.checks.pii._ids import MIN_SHAPED, id_shaped
from govflow.checks.pii._parts import BirthGroup
from govflow.checks.pii._risk import fits_kind, qi_kind

SubjectKind = Literal["person", "other", "unknown"]
# Entities that say nothing about the rows' subject on their own.
_NOT_ABOUT_PEOPLE_ALONE = frozenset(
    {"PERSON", "LOCATION", "DATE_TIME", "NRP", "URL", "DATE_OF_BIRTH", "PERSON_ID"}
)


# Quasi-identifier kinds whose names are said only of people ("native-country", "marital status").
_SAID_OF_PEOPLE = frozenset({"nationality", "marital_status"})


class Subject(TypedDict):
    """``summary.subject`` and ``summary.subject_reasons`` of the PII evidence."""

    subject: SubjectKind
    reasons: list[str]


def decide_subject(
    verdicts: Mapping[str, dict[str, Any]],
    headers: Mapping[str, str],
    profiles: Mapping[str, Sequence[str]],
    groups: Sequence[BirthGroup],
) -> Subject:
    reasons: list[str] = []
    for key, verdict in verdicts.items():
        entities = verdict["entities"]
        header = headers[key]
        values = verdict.get("kind") != "free_text"
        if "PERSON" in entities and values:
            reasons.append(f"names of people in {header}")
        if "DATE_OF_BIRTH" in entities and set(column_tokens(header)) & BIRTH_WORDS:
            reasons.append(f"dates of birth in {header}")
        contact = sorted(set(entities) - _NOT_ABOUT_PEOPLE_ALONE)
        if contact and values:
            reasons.append(f"{', '.join(contact)} in {header}")
        cells = profiles.get(key, ())
        keyed = person_id_words(column_tokens(header))
        if keyed and cells and sum(map(id_shaped, cells)) / len(cells) >= MIN_SHAPED:
            reasons.append(f"{header} names a person's key")
    for group in groups:
        reasons.append(f"a date of birth in parts ({', '.join(headers[c] for c in group['columns'])})")
    sexes = [k for k, h in headers.items() if qi_kind(h) == "sex" and fits_kind("sex", profiles.get(k, ()))]
    ages = [k for k, h in headers.items() if qi_kind(h) == "age" and fits_kind("age", profiles.get(k, ()))]
    for key, header in headers.items():
        kind = qi_kind(header)
        if kind in _SAID_OF_PEOPLE and fits_kind(kind, profiles.get(key, ())):
            reasons.append(f"{header} is said only of people ({kind})")
    if sexes and ages:
        reasons.append(f"sex and age together ({headers[sexes[0]]}, {headers[ages[0]]})")
    if reasons:
        return Subject(subject="person", reasons=reasons)
    weak = [f"{headers[k]} alone (sex)" for k in sexes] + [f"{headers[k]} alone (age)" for k in ages]
    if weak:
        return Subject(subject="unknown", reasons=weak)
    return Subject(
        subject="other",
        reasons=["no names, birth dates, contact details, person keys, or sex with age"],
    )
