"""Person identifiers (PERSON_ID): the key of a person in a table about people.

A column keys a person when, in a table whose subject is people (``_subject``):
1. its values are identifier-shaped: one token of letters, digits and ``-_./:#`` (no
   spaces, no fractions, no dates) in 90% of sampled cells; and
2. its name says a key (``id``, ``key``, ``code``, ``number``, ``bib``, ``ticket``...) and
   the values are near-unique per row (half of the sampled cells distinct), or the name
   says a person's key (``customer_id``, ``playerID``) and the values repeat per person
   (20% distinct, 20 values at least); or, whatever the name, the values are codes
   derived from names (``smithjo01``) and near-unique.
A key named for a thing (``teamID``, ``test_id``, ``park_key``) is never a person's.
Row ids of things never reach this rule: the table is not about people.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from govflow.checks.pii._hints import ID_WORDS, PERSON_WORDS, person_id_words

_ID_SHAPED = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-./:#]{0,39}")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")
_FRACTION = re.compile(r"[-+]?\d*\.\d*[1-9]\d*")
_NAME_CODE = re.compile(r"[a-z][a-z'.]{2,}\d{1,3}")
MIN_SHAPED = 0.9
MIN_DISTINCT_ROW = 0.5
MIN_DISTINCT_PERSON = 0.2
MIN_VALUES = 20
MIN_NAME_CODES = 0.8
MIN_DISTINCT_CODES = 0.9
THING_WORDS = frozenset(
    {
        "team",
        "lg",
        "league",
        "park",
        "school",
        "game",
        "award",
        "franchise",
        "test",
        "order",
        "product",
        "item",
        "sku",
        "clinic",
        "ad",
        "job",
        "store",
        "batch",
        "transaction",
        "invoice",
        "series",
        "season",
        "episode",
        "event",
        "race",
        "study",
        "sample",
        "device",
        "session",
        "request",
        "file",
        "year",
        "phone",
        "card",
        "zip",
        "postal",
        "house",
        "room",
        "flight",
        "vehicle",
        "version",
        "model",
        "shipment",
        "shipping",
        "parcel",
        "package",
        "tracking",
        "delivery",
        "payment",
        "booking",
        "reservation",
        "claim",
        "case",
        "contract",
        "policy",
        "loan",
    }
)


def id_shaped(cell: str) -> bool:
    text = cell.strip()
    return (
        bool(_ID_SHAPED.fullmatch(text)) and not _DATE_LIKE.fullmatch(text) and not _FRACTION.fullmatch(text)
    )


def person_id_reason(tokens: Collection[str], cells: Sequence[str]) -> str | None:
    """Why a column of a table about people keys a person, or None."""
    words = set(tokens)
    if not cells or words & THING_WORDS:
        return None
    shaped = sum(map(id_shaped, cells)) / len(cells)
    if shaped < MIN_SHAPED:
        return None
    distinct_values = len({c.strip() for c in cells})
    distinct = distinct_values / len(cells)
    if person_id_words(words) and distinct >= MIN_DISTINCT_PERSON and distinct_values >= MIN_VALUES:
        return f"the column name says a person's key; {shaped:.0%} identifier-shaped, {distinct:.0%} distinct"
    if words & ID_WORDS and distinct >= MIN_DISTINCT_ROW and distinct_values >= MIN_VALUES:
        return f"the column name says a key; {shaped:.0%} identifier-shaped, {distinct:.0%} distinct per row"
    codes = sum(1 for c in cells if _NAME_CODE.fullmatch(c.strip())) / len(cells)
    if codes >= MIN_NAME_CODES and distinct >= MIN_DISTINCT_CODES:
        return f"{codes:.0%} codes derived from names (letters then digits), {distinct:.0%} distinct"
    return None


__all__ = ["PERSON_WORDS", "person_id_reason"]
