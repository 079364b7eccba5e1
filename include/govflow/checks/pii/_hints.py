"""What a column's *name* suggests it holds, reported apart from what its content shows.

A column called ``email`` holding hashes gets ``name_hint: EMAIL_ADDRESS`` and no
entities: the content decides the entities, the hint is a separate signal.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

# token sets (after splitting the name into lower-case words) -> hinted entity; first match wins
_RULES: tuple[tuple[str, tuple[frozenset[str], ...]], ...] = (
    (
        "EMAIL_ADDRESS",
        (frozenset({"email"}), frozenset({"mail"}), frozenset({"e", "mail"}), frozenset({"emailaddress"})),
    ),
    # tokens drop digits: "ipv4" and "ipv6" are the token "ipv"
    ("IP_ADDRESS", (frozenset({"ip"}), frozenset({"ipaddress"}), frozenset({"ipv"}))),
    (
        "PHONE_NUMBER",
        tuple(
            frozenset({w})
            for w in ("phone", "telephone", "tel", "mobile", "cell", "fax", "msisdn", "phonenumber")
        ),
    ),
    ("US_SSN", (frozenset({"ssn"}), frozenset({"social", "security"}))),
    (
        "CREDIT_CARD",
        (
            frozenset({"credit", "card"}),
            frozenset({"card", "number"}),
            frozenset({"card", "no"}),
            frozenset({"cc", "number"}),
            frozenset({"creditcard"}),
            frozenset({"pan"}),
        ),
    ),
    ("IBAN_CODE", (frozenset({"iban"}),)),
    (
        "NATIONAL_ID",
        tuple(
            frozenset(w.split())
            for w in (
                "national id",
                "nationalid",
                "nino",
                "nin",
                "nif",
                "nie",
                "fiscal",
                "codice fiscale",
                "passport",
                "tax id",
                "taxid",
                "tin",
                "personnummer",
                "bsn",
                "pesel",
                "id card",
                "identity",
            )
        ),
    ),
    # A date the name says is a birth date; the scan still needs dates in the cells to report it.
    (
        "DATE_OF_BIRTH",
        tuple(
            frozenset({w})
            for w in (
                "dob",
                "birth",
                "birthday",
                "birthdate",
                "born",
                "geburtsdatum",
                "naissance",
                "nacimiento",
            )
        ),
    ),
    (
        "LOCATION",
        tuple(
            frozenset({w})
            for w in (
                "address",
                "street",
                "addr",
                "zip",
                "zipcode",
                "postcode",
                "postal",
                "plz",
                "city",
                "latitude",
                "longitude",
                "lat",
                "lon",
                "lng",
                "coordinates",
                "gps",
            )
        ),
    ),
)
_NAME_WORDS = frozenset(
    {
        "name",
        "names",
        "firstname",
        "lastname",
        "surname",
        "surnames",
        "fullname",
        "forename",
        "forenames",
        "givenname",
        "familyname",
        "fname",
        "lname",
        "nombre",
        "apellido",
        "apellidos",
        "nom",
        "prenom",
        "vorname",
        "nachname",
        "cognome",
        "voornaam",
        "achternaam",
        "sobrenome",
    }
)
# Headers that are a name part only when they stand alone ("last" but not "last_login").
_NAME_ALONE = frozenset({"first", "last", "given", "middle", "initials", "author", "patient"})
# "product_name", "file_name": a name, but not a person's.
_NOT_A_PERSON = frozenset(
    {
        "product",
        "company",
        "file",
        "host",
        "item",
        "brand",
        "org",
        "organisation",
        "organization",
        "dag",
        "model",
        "column",
        "table",
        "field",
        "team",
        "city",
        "street",
        "country",
        "category",
        "project",
        "app",
        "service",
        "domain",
        "display",
        "user",
        "account",
        "business",
        "store",
        "shop",
        "vendor",
        "merchant",
        # taxonomy, places and things named in data sets
        "scientific",
        "species",
        "taxon",
        "genus",
        "common",
        "latin",
        "vernacular",
        "place",
        "site",
        "station",
        "venue",
        "location",
        "state",
        "region",
        "event",
        "job",
        "department",
        "school",
        "hospital",
        "dataset",
        "feature",
        "variable",
    }
)


_BIRTH_PLACE_WORDS = frozenset({"city", "town", "place", "country", "state", "county", "province", "region"})
# Words that name a person's key ("customer_id", "playerID", "bib_num"); see ``_ids``.
PERSON_WORDS = frozenset(
    {
        "person",
        "people",
        "customer",
        "client",
        "member",
        "patient",
        "subject",
        "user",
        "employee",
        "emp",
        "staff",
        "player",
        "passenger",
        "student",
        "account",
        "participant",
        "contestant",
        "voter",
        "driver",
        "host",
        "guest",
        "owner",
        "author",
        "applicant",
        "borrower",
        "candidate",
        "respondent",
        "citizen",
        "resident",
        "runner",
        "athlete",
        "holder",
    }
)


ID_WORDS = frozenset(
    {
        "id",
        "ids",
        "key",
        "code",
        "number",
        "num",
        "no",
        "nr",
        "ref",
        "uid",
        "uuid",
        "bib",
        "ticket",
        "identifier",
    }
)


def person_id_words(tokens: Collection[str]) -> bool:
    """A name that says a person's key: ``customer_id``, ``playerID``, ``Passenger No``."""
    words = set(tokens)
    if words & PERSON_WORDS and words & ID_WORDS:
        return True
    return any(t.endswith("id") and t[:-2] in PERSON_WORDS for t in words)


def column_tokens(name: str) -> list[str]:
    """``customerEmail2`` -> ``["customer", "email"]``; ``date_of_birth`` -> ``["date", "of", "birth"]``."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return [t for t in re.split(r"[^a-z]+", spaced.lower()) if t]


# A part of a person's name ("last_name", "surname", "baker_last"): said of people, never of things.
NAME_PARTS = frozenset({"first", "last", "given", "family", "middle", "maiden", "sur", "fore"})
# The name words that say which part of a name (not "name", "fullname", "nombre", "nom").
_NAME_PART_WORDS = _NAME_WORDS - {"name", "names", "fullname", "nombre", "nom"}


def names_a_name_part(tokens: Iterable[str]) -> bool:
    """``last_name``, ``surname``, ``firstName``: a part of a person's name (not ``clinic_name``)."""
    words = set(tokens)
    return bool(words & _NAME_PART_WORDS) or bool(words & NAME_PARTS and words & {"name", "names"})


def name_hint(name: str, custom: Iterable[tuple[str, Iterable[str]]] = ()) -> str | None:
    """The entity a column name suggests, or None. ``custom`` pairs an entity with
    its recognizer's context words (organisation-specific ids)."""
    tokens = set(column_tokens(name))
    joined = "".join(column_tokens(name))
    for entity, words in custom:
        for word in words:
            word_tokens = set(column_tokens(word))
            if word_tokens and (word_tokens <= tokens or "".join(column_tokens(word)) == joined):
                return entity
    for entity, alternatives in _RULES:
        if any(alt <= tokens for alt in alternatives):
            # "birthCity", "birth_state": the place of a birth, not its date
            if entity == "DATE_OF_BIRTH" and tokens & _BIRTH_PLACE_WORDS:
                return "LOCATION"
            return entity
    if person_id_words(tokens):
        return "PERSON_ID"
    if (tokens & _NAME_WORDS and not tokens & _NOT_A_PERSON) or joined in _NAME_ALONE:
        return "PERSON"
    return None
