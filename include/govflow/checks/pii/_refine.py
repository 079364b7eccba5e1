"""Second look at each column: value evidence Presidio lacks, weighed with the column name.

Runs on the column's uniform profile sample after ``_classify`` has turned
Presidio's findings into entities:
1. names by dictionary (``_names``): a name column in any case is PERSON, and so is a
   column of lists of names (the share of listed items that are names reported); NER's
   PERSON in a values column without dictionary names (species, products, firms)
   is dropped, and so is NER's reading of binomial species names as anything;
2. street addresses, postcodes, coordinates and place names in a column named for
   places (``_values``) are LOCATION;
3. a date column of births (``_dates``) is DATE_OF_BIRTH instead of DATE_TIME;
4. bare digit runs read as phones in a column not named for phones are identifiers;
5. a column named for race, ethnicity, religion or nationality with a few categories is NRP;
6. a column named for an SSN, national id or phone whose values are identifier-shaped
   holds that entity, even when the format is one Presidio's patterns miss.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from govflow.checks.pii._dates import birth_date_reason, event_date_reason
from govflow.checks.pii._masking import mask
from govflow.checks.pii._names import (
    MIN_NER_SUPPORT,
    list_reason,
    list_shares,
    name_column_reason,
    name_shares,
)
from govflow.checks.pii._recognizers import NER_ENTITIES
from govflow.checks.pii._risk import ABOUT_WORDS
from govflow.checks.pii._sampling import ColumnSamples
from govflow.checks.pii._values import (
    ADDRESS_WORDS,
    AMBIGUOUS_GROUP_WORDS,
    MIN_GROUP_SHARE,
    MIN_PLACE_SHARE,
    MIN_SHARE,
    MIN_SHARE_HINTED,
    PLACE_WORDS,
    POSTCODE_WORDS,
    address_share,
    coordinate_column_share,
    coordinate_pair_share,
    group_category_share,
    id_shaped_share,
    place_name_share,
    postcode_share,
)

MAX_EXAMPLES = 3
DICTIONARY = "NameDictionary"
# "Quercus robur", "Homo sapiens neanderthalensis"
_BINOMIAL = re.compile(
    r"^[A-Z][a-z]+ (?:\(?[A-Z][a-z]+\)? )?[a-z]{3,}(?: (?:subsp\.|var\.|ssp\.)?\s?[a-z]{3,})?"
    # the author and year: "Parus major Linnaeus, 1758", "Quercus robur L."
    r"(?:\s+\(?[A-Z][\w.'&, -]*\)?)?$"
)
MIN_BINOMIAL_SHARE = 0.5
_BARE_DIGITS = re.compile(r"\d{6,}(?:\.0)?")  # "1234567890.0": a float-typed id column
# Hinted entities a column name plus identifier-shaped values settle, and the digits they need.
ID_HINTS = {"US_SSN": 7, "NATIONAL_ID": 4, "PHONE_NUMBER": 7}
COORDINATES = "coordinates"
# Special-category groups (GDPR Art. 9) Presidio calls NRP: the header and a few categories settle it.
GROUP_WORDS = frozenset(
    {"race", "ethnicity", "ethnic", "religion", "religious", "faith", "nationality", "citizenship", "caste"}
)
MAX_GROUP_CATEGORIES = 40


def _info(
    entity: str, col: ColumnSamples, hits: Sequence[str], share: float, recognizer: str, evidence: str
) -> dict[str, Any]:
    profile = col.profile
    examples: list[str] = []
    for text in hits:
        masked = mask(entity, text)
        if masked not in examples:
            examples.append(masked)
        if len(examples) >= MAX_EXAMPLES:
            break
    sampled = len(profile.texts) if profile else 0
    return {
        "rate": round(min(1.0, share), 4),
        "estimated_cells": round(share * col.non_empty),
        "candidates": profile.count if profile else 0,
        "sampled": sampled,
        "validated": len(hits),
        "exact": bool(profile and profile.exact),
        "score": 0.85,
        "recognizers": [recognizer],
        "examples": examples,
        "evidence": evidence,
    }


def _add(verdict: dict[str, Any], entity: str, info: dict[str, Any]) -> None:
    entities = verdict["entities"]
    if entity in entities:  # Presidio found it too: the higher estimate wins, the evidence adds up
        found = entities[entity]
        if info["rate"] > found["rate"]:
            for key in ("rate", "estimated_cells", "candidates", "sampled", "validated", "exact"):
                found[key] = info[key]
        found["recognizers"] = sorted({*found["recognizers"], *info["recognizers"]})
        found.setdefault("evidence", info["evidence"])
        return
    entities[entity] = info
    verdict["ruled_out"].pop(entity, None)


def _drop(verdict: dict[str, Any], entity: str, reason: str) -> None:
    if verdict["entities"].pop(entity, None) is not None:
        verdict["ruled_out"][entity] = reason


def _names(
    col: ColumnSamples, verdict: dict[str, Any], cells: list[str], hint: str | None, tokens: set[str]
) -> None:
    if tokens & PLACE_WORDS and hint != "PERSON":  # "county": Harris, Jefferson; "city": Austin
        _drop(verdict, "PERSON", "the column name says a place: names of places after people")
        return
    ner_found = [e for e in NER_ENTITIES if e in verdict["entities"]]
    binomial = sum(1 for c in cells if _BINOMIAL.match(c.strip())) / len(cells)
    if binomial >= MIN_BINOMIAL_SHARE:
        for entity in ner_found:
            _drop(verdict, entity, f"{binomial:.0%} of sampled cells are binomial (species) names")
        return
    shares = name_shares(cells)
    reason = name_column_reason(shares, hinted=hint == "PERSON")
    if reason:
        hits = list(shares.hits)
        _add(verdict, "PERSON", _info("PERSON", col, hits, shares.name_shaped, DICTIONARY, reason))
        for entity in ("LOCATION", "NRP"):
            if entity in verdict["entities"] and "evidence" not in verdict["entities"][entity]:
                _drop(verdict, entity, "a personal-name column: NER reads some names as places or groups")
        return
    lists = list_shares(cells)
    listed = list_reason(lists, hinted=hint == "PERSON") if lists else None
    if lists and listed:
        info = _info("PERSON", col, list(lists.items.hits), lists.items.name_shaped, DICTIONARY, listed)
        _add(verdict, "PERSON", info)
        # Presidio's NER may have found the names too: the list evidence is added either way.
        verdict["entities"]["PERSON"]["evidence"] = listed
        verdict["entities"]["PERSON"]["items"] = {
            "list_cells": round(lists.list_cells, 4),
            "items_per_cell": round(lists.items_per_cell, 2),
            "name_share": round(lists.items.full + lists.items.single, 4),
        }
        return
    groups = verdict["entities"].get("NRP")
    distinct = len({c.strip().casefold() for c in cells})
    if groups is not None and distinct > MAX_GROUP_CATEGORIES and distinct > len(cells) / 2:
        _drop(verdict, "NRP", f"{distinct} distinct values in {len(cells)} sampled cells: not a few groups")
    if "PERSON" in verdict["entities"] and hint != "PERSON" and shares.any_token < MIN_NER_SUPPORT:
        _drop(
            verdict,
            "PERSON",
            f"NER calls them persons but only {shares.any_token:.0%} of sampled cells hold a known name",
        )


def _locations(
    col: ColumnSamples, verdict: dict[str, Any], cells: list[str], hint: str | None, tokens: set[str]
) -> None:
    needed = MIN_SHARE_HINTED if hint == "LOCATION" else MIN_SHARE
    named_address = bool(tokens & ADDRESS_WORDS)
    share = address_share(cells, hinted=named_address)
    if share >= needed:
        hits = [c for c in cells if address_share([c], hinted=named_address)]
        _add(
            verdict,
            "LOCATION",
            _info("LOCATION", col, hits, share, "StreetAddress", f"{share:.0%} street addresses"),
        )
        return
    hinted_postcode = bool(tokens & POSTCODE_WORDS)
    share = postcode_share(cells, hinted=hinted_postcode)
    if share >= (MIN_SHARE_HINTED if hinted_postcode else 0.9):
        hits = [c for c in cells if postcode_share([c], hinted=True)]
        _add(verdict, "LOCATION", _info("LOCATION", col, hits, share, "Postcode", f"{share:.0%} postcodes"))
        verdict["location_kind"] = "postcode"
        return
    if tokens & PLACE_WORDS:
        share = place_name_share(cells)
        if share >= MIN_PLACE_SHARE:
            hits = [c for c in cells if place_name_share([c])]
            evidence = f"the column name says a place and {share:.0%} of sampled cells are place names"
            _add(verdict, "LOCATION", _info("LOCATION", col, hits, share, "PlaceName", evidence))
            return
    share = max(coordinate_pair_share(cells), coordinate_column_share(cells, tokens))
    if share >= MIN_SHARE:
        hits = cells[:MAX_EXAMPLES]
        evidence = f"{share:.0%} precise coordinates"
        _add(verdict, "LOCATION", _info("LOCATION", col, hits, share, "Coordinates", evidence))
        verdict["location_kind"] = COORDINATES


def _birth_dates(verdict: dict[str, Any], cells: list[str], tokens: set[str]) -> None:
    dates = verdict["entities"].get("DATE_TIME")
    if dates is None or verdict.get("kind") == "free_text":
        return
    reason = birth_date_reason(cells, tokens)
    if reason:
        info = verdict["entities"].pop("DATE_TIME")
        info["evidence"] = reason
        verdict["entities"]["DATE_OF_BIRTH"] = info
        return
    event = event_date_reason(tokens)
    if event:
        dates["evidence"] = event


def _groups(col: ColumnSamples, verdict: dict[str, Any], cells: list[str], tokens: set[str]) -> None:
    """A column named for race, ethnicity, religion or nationality holding a few categories is NRP."""
    if not tokens & GROUP_WORDS or tokens & ABOUT_WORDS or "NRP" in verdict["entities"]:
        return
    categories = {c.strip().casefold() for c in cells}
    worded = sum(1 for c in cells if any(ch.isalpha() for ch in c)) / len(cells)
    if len(categories) <= MAX_GROUP_CATEGORIES and worded >= MIN_SHARE:
        words = "/".join(sorted(tokens & GROUP_WORDS))
        if tokens & GROUP_WORDS <= AMBIGUOUS_GROUP_WORDS:
            named = group_category_share(cells)
            if named < MIN_GROUP_SHARE:
                verdict["ruled_out"]["NRP"] = (
                    f"the column name says {words} but {named:.0%} of sampled cells name a group "
                    "of people: a competition's categories"
                )
                return
        evidence = f"the column name says {words}: {len(categories)} categories"
        _add(verdict, "NRP", _info("NRP", col, cells, worded, "ColumnNameAndCategories", evidence))


def _bare_digit_phones(verdict: dict[str, Any], cells: list[str], hint: str | None) -> None:
    """Digit runs with no "+", space or dash fit phone formats by chance (10-digit record ids
    pass as US numbers): without a column name saying phone, they are identifiers."""
    if "PHONE_NUMBER" not in verdict["entities"] or hint == "PHONE_NUMBER":
        return
    bare = sum(1 for c in cells if _BARE_DIGITS.fullmatch(c.strip())) / len(cells)
    if bare >= MIN_SHARE:
        _drop(
            verdict,
            "PHONE_NUMBER",
            f"{bare:.0%} bare digit runs in a column not named for phones: identifiers",
        )


def _hinted_ids(col: ColumnSamples, verdict: dict[str, Any], cells: list[str], hint: str | None) -> None:
    if hint not in ID_HINTS or verdict["entities"]:
        return
    share = id_shaped_share(cells, min_digits=ID_HINTS[hint])
    if share >= MIN_SHARE:
        hits = [c for c in cells if id_shaped_share([c], min_digits=ID_HINTS[hint])]
        evidence = f"the column name says {hint} and {share:.0%} of sampled cells are identifier-shaped"
        _add(verdict, hint, _info(hint, col, hits, share, "ColumnNameAndShape", evidence))


def refine_column(
    col: ColumnSamples, verdict: dict[str, Any], *, hint: str | None, tokens: set[str]
) -> dict[str, Any]:
    """The verdict with the value evidence above applied (changed in place and returned)."""
    cells = [t for t in (col.profile.texts if col.profile else []) if t.strip()]
    if not cells or verdict.get("kind") == "free_text":
        return verdict
    _names(col, verdict, cells, hint, tokens)
    if "PERSON" not in verdict["entities"]:
        _locations(col, verdict, cells, hint, tokens)
    _birth_dates(verdict, cells, tokens)
    _groups(col, verdict, cells, tokens)
    _bare_digit_phones(verdict, cells, hint)
    _hinted_ids(col, verdict, cells, hint)
    return verdict
