"""Table-level decisions after each column has its own verdict (step 5 of ``_scan``):

1. year/month/day columns of one birth become DATE_OF_BIRTH together (``_parts``);
2. the table's subject is decided (``_subject``);
3. in a table about people: person keys become PERSON_ID (``_ids``), a column named for
   names whose values are shaped like names is PERSON (names no dictionary knows), an age beside an
   event date becomes DATE_OF_BIRTH (``_parts``), and dates named for events keep
   DATE_TIME with the reason;
4. in a table not (known to be) about people: place names (a facility's city, a product's
   country) are not personal locations, and dates that looked like births only by
   their spread are plain dates. Street addresses and postcodes stay: they point at a home
   whatever the table says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from govflow.checks.pii._dates import BIRTH_WORDS
from govflow.checks.pii._hints import NAME_PARTS, column_tokens, names_a_name_part, person_id_words
from govflow.checks.pii._ids import person_id_reason
from govflow.checks.pii._masking import mask
from govflow.checks.pii._names import name_shares
from govflow.checks.pii._parts import BirthGroup, age_groups, group_info, lone_birth_parts, part_groups
from govflow.checks.pii._subject import Subject, decide_subject

MAX_EXAMPLES = 3
MIN_NAME_SHAPED = 0.9
MIN_NAME_DISTINCT = 0.3
MIN_NAMES = 20
# LOCATION found this way points at a home whatever the table is about.
_HOME_RECOGNIZERS = frozenset({"StreetAddress", "Postcode"})
# Coordinates have their own rule (``_scan._coordinates_need_people``).
_KEPT_PLACES = _HOME_RECOGNIZERS | {"Coordinates"}
_KEY_MISREADINGS = frozenset({"LOCATION", "PHONE_NUMBER", "DATE_TIME"})


class PersonIdentifier(TypedDict):
    column: str
    evidence: str


class TableFacts(TypedDict):
    """What the PII summary says about the table as a whole."""

    subject: Subject
    person_identifiers: list[PersonIdentifier]
    birth_date_groups: list[BirthGroup]


def _add_birth(verdict: dict[str, Any], group: BirthGroup, cells: Sequence[str]) -> None:
    info = group_info(group, cells, verdict.get("non_empty", len(cells)))
    verdict["entities"].pop("DATE_TIME", None)
    verdict["entities"]["DATE_OF_BIRTH"] = info
    verdict["ruled_out"].pop("DATE_OF_BIRTH", None)


def _person_id(verdict: dict[str, Any], reason: str, cells: Sequence[str]) -> None:
    examples: list[str] = []
    for cell in cells:
        masked = mask("PERSON_ID", cell.strip())
        if masked not in examples and len(examples) < MAX_EXAMPLES:
            examples.append(masked)
    non_empty = verdict.get("non_empty", len(cells))
    verdict["entities"]["PERSON_ID"] = {
        "rate": 1.0,
        "estimated_cells": non_empty,
        "candidates": non_empty,
        "sampled": len(cells),
        "validated": len(cells),
        "exact": False,
        "score": 0.85,
        "recognizers": ["PersonKey"],
        "examples": examples,
        "evidence": reason,
    }


def _named_people(verdict: dict[str, Any], cells: Sequence[str], tokens: Sequence[str]) -> None:
    """A column named for names, in a table about people, of name-shaped values the
    dictionary does not know (rare, foreign or invented names) holds names. Only a column
    named for a part of a person's name (``last_name``) may repeat its values freely
    (families share a surname); a bare ``name`` (``clinic_name``) must vary like names do."""
    if verdict.get("name_hint") != "PERSON" or verdict["entities"] or not cells:
        return
    _name_shaped(verdict, cells, "the column name says names", may_repeat=names_a_name_part(tokens))


def _name_part_beside_names(
    verdicts: dict[str, dict[str, Any]], headers: Mapping[str, str], profiles: Mapping[str, Sequence[str]]
) -> None:
    """``baker_last`` beside ``baker_first`` (or ``baker``) holding names: the other part of the
    same people's names, when its values are shaped like names."""
    named = {k: set(column_tokens(headers[k])) for k, v in verdicts.items() if "PERSON" in v["entities"]}
    for key, verdict in verdicts.items():
        tokens = set(column_tokens(headers[key]))
        stem = tokens - NAME_PARTS
        if verdict["entities"] or verdict.get("kind") == "free_text" or not tokens & NAME_PARTS or not stem:
            continue
        sibling = next((k for k, t in named.items() if k != key and stem <= t), None)
        if sibling is not None:
            why = f"a part of a name beside {headers[sibling]}, which holds names"
            _name_shaped(verdict, profiles.get(key, ()), why, may_repeat=False)


def _name_shaped(verdict: dict[str, Any], cells: Sequence[str], why: str, *, may_repeat: bool) -> None:
    if not cells:
        return
    shares = name_shares(cells)
    distinct = shares.distinct / shares.cells
    varied = may_repeat or distinct >= MIN_NAME_DISTINCT
    if shares.name_shaped < MIN_NAME_SHAPED or not varied or shares.distinct < MIN_NAMES:
        return
    examples: list[str] = []
    for cell in cells:
        masked = mask("PERSON", cell.strip())
        if masked not in examples and len(examples) < MAX_EXAMPLES:
            examples.append(masked)
    non_empty = verdict.get("non_empty", len(cells))
    verdict["entities"]["PERSON"] = {
        "rate": round(shares.name_shaped, 4),
        "estimated_cells": round(shares.name_shaped * non_empty),
        "candidates": non_empty,
        "sampled": len(cells),
        "validated": round(shares.name_shaped * len(cells)),
        "exact": False,
        "score": 0.85,
        "recognizers": ["NameShape"],
        "examples": examples,
        "evidence": f"{why}, the table is about people, {shares.name_shaped:.0%} "
        f"of sampled cells are shaped like names ({distinct:.0%} distinct)",
    }
    verdict["ruled_out"].pop("PERSON", None)


def _not_personal(verdict: dict[str, Any], subject: Subject) -> None:
    entities, ruled_out = verdict["entities"], verdict["ruled_out"]
    place = entities.get("LOCATION")
    if place is not None and not set(place.get("recognizers", ())) & _KEPT_PLACES:
        del entities["LOCATION"]
        ruled_out["LOCATION"] = f"places in a table about {subject['subject']} subjects, not people"
    born = entities.get("DATE_OF_BIRTH")
    if born is not None and "group" not in born:
        evidence = str(born.get("evidence", ""))
        if "name says birth" not in evidence:
            entities["DATE_TIME"] = entities.pop("DATE_OF_BIRTH")
            ruled_out["DATE_OF_BIRTH"] = "birth-like spread of dates in a table not about people"


def table_rules(
    verdicts: dict[str, dict[str, Any]],
    headers: Mapping[str, str],
    profiles: Mapping[str, Sequence[str]],
) -> TableFacts:
    """Apply the rules above to the column verdicts (in place); the table's facts."""
    groups, events = part_groups(headers, profiles)
    for group in groups:
        for column in group["columns"]:
            _add_birth(verdicts[column], group, profiles[column])
    for column, reason in events.items():
        verdicts[column]["ruled_out"].setdefault("DATE_OF_BIRTH", reason)
    subject = decide_subject(verdicts, headers, profiles, groups)
    identifiers: list[PersonIdentifier] = []
    if subject["subject"] == "person":
        for key, verdict in verdicts.items():
            tokens = column_tokens(headers[key])
            # A named person key ("Customer ID": C-12345) read as a postcode or a phone is the key.
            misread = person_id_words(tokens) and set(verdict["entities"]) <= _KEY_MISREADINGS
            if (verdict["entities"] and not misread) or verdict.get("kind") == "free_text":
                continue
            keyed = person_id_reason(tokens, profiles.get(key, ()))
            if keyed:
                for entity in list(verdict["entities"]):
                    del verdict["entities"][entity]
                    verdict["ruled_out"][entity] = "the column name says a person's key"
                _person_id(verdict, keyed, profiles[key])
                identifiers.append(PersonIdentifier(column=key, evidence=keyed))
        for key, verdict in verdicts.items():
            _named_people(verdict, profiles.get(key, ()), column_tokens(headers[key]))
        _name_part_beside_names(verdicts, headers, profiles)
        grouped = {c for g in groups for c in g["columns"]}
        for part in lone_birth_parts(headers, profiles, grouped):
            column = part["columns"][0]
            if not verdicts[column]["entities"]:
                _add_birth(verdicts[column], part, profiles[column])
        event_dates = [
            k
            for k, v in verdicts.items()
            if "DATE_TIME" in v["entities"]
            and v.get("kind") != "free_text"
            and not set(column_tokens(headers[k])) & BIRTH_WORDS
        ]
        for group in age_groups(headers, profiles, event_dates):
            age = group["columns"][0]
            if not verdicts[age]["entities"]:
                _add_birth(verdicts[age], group, profiles[age])
                groups.append(group)
    else:
        for verdict in verdicts.values():
            _not_personal(verdict, subject)
    return TableFacts(subject=subject, person_identifiers=identifiers, birth_date_groups=groups)
