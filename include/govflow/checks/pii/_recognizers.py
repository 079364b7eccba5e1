"""Which entities the scan looks for, the cheap pre-screen for each, and extra recognizers.

A pre-screen is a loose RE2 pattern (run vectorised over whole columns by
pyarrow) that every real value of the entity matches; Presidio's own recognizer
then decides on the candidates. A pre-screen may over-match, never under-match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer, PatternRecognizer

from govflow.checks._result import CheckInputError

# Entities found by the spaCy model (the rest come from pattern recognizers).
NER_ENTITIES = frozenset({"PERSON", "LOCATION", "NRP"})

# Presidio reports these, but they identify things, not people.
NON_PERSONAL_ENTITIES = frozenset({"UUID"})

# entity -> RE2 pre-screen. Entities whose Presidio patterns only ever score
# below the acceptance threshold without context words (US_BANK_NUMBER,
# US_PASSPORT, US_DRIVER_LICENSE) are not listed: they could never be accepted.
PRESCREENS: dict[str, str] = {
    "EMAIL_ADDRESS": r"[^\s@]@[^\s@]+\.[^\s@]{2,}",
    # a digit run not glued to letters (hex digests, UUIDs), an "x123" extension allowed
    "PHONE_NUMBER": r"(?:^|[^0-9A-Za-z])\+?\(?\d[\d ().-]{5,}\d(?:$|[^0-9A-Za-wyz])",
    "US_SSN": r"\d{3}[- .]\d{2}[- .]\d{4}",
    "US_ITIN": r"9\d{2}[- ]\d{2}[- ]\d{4}",
    "UK_NHS": r"\d{3}[- ]?\d{3}[- ]?\d{4}",
    "UK_NINO": r"(?i)[a-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[a-d]",
    "IT_FISCAL_CODE": r"(?i)[a-z]{6}[0-9lmnp-v]{2}[a-z][0-9lmnp-v]{2}[a-z][0-9lmnp-v]{3}[a-z]",
    "ES_NIF": r"(?i)\d{7,8}-?[a-z]",
    "ES_NIE": r"(?i)[x-z]-?\d{7}-?[a-z]",
    "FI_PERSONAL_IDENTITY_CODE": r"(?i)\d{6}[-+a-fu-y]\d{3}[0-9a-y]",
    "CREDIT_CARD": r"[13456]\d{3}[- ]?\d{3,4}[- ]?\d{3,4}[- ]?\d{3,5}",
    "IBAN_CODE": r"(?i)[a-z]{2}\d{2}[ -]?[a-z0-9]{4}[ -]?[a-z0-9]{4}",
    "IP_ADDRESS": r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:.]*",
    "MAC_ADDRESS": r"(?i:[0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}[:-][0-9a-f]{2}"
    r"[:-][0-9a-f]{2}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})",
    "CRYPTO": r"[13][a-km-zA-HJ-NP-Z1-9]{25}|bc1[a-z0-9]{25}",
    "MEDICAL_LICENSE": r"(?i)[a-z][a-z9]\d{7}",
    "URL": r"(?i)https?://|www\.|[a-z0-9-]\.[a-z]{2,}",
    "DATE_TIME": r"\d[/.-]\d|(?i:\d-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-\d)",
}

# Cells worth showing to the NER model: a capitalised word (values columns), and
# two capitalised words in a row, particles allowed (names hidden in free text).
CAPITALISED_WORD = r"\p{Lu}\p{Ll}"
CAPITALISED_PAIR = (
    r"\p{Lu}[\p{Ll}'’-]*\p{Ll}\s+(?:\p{Ll}{1,4}\s+){0,2}\p{Lu}[\p{L}'’-]*\p{Ll}"  # "Cato de Gruijter"
    r"|\b(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.?\s+\p{Lu}\p{Ll}"  # a title and a surname: "Dr. Okafor"
)

# Street addresses (Presidio has no recognizer for them): house number, street
# words and a postcode, number-first (US/UK/FR) or number-after (DE/NL/ES/IT).
# Written in the common subset of RE2 and the `regex` module.
_WORD = r"\pL[\pL\pN_'.-]*"
_POSTCODE = r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|\d{4}\s?[A-Z]{2}|\d{4,5})"
_PLACE = r"(?:\pL[\pL\pN_'. ()-]*,\s*){0,2}"
# The town after the postcode belongs to the address too ("12345 Berlin", "Bonassola (SP)").
_TOWN = r"(?:,?[ \t]+[\pL(][\pL'.()-]*){0,3}"
ADDRESS_PATTERNS = (
    (
        "Street address (number first)",
        rf"\b\d{{1,5}}[A-Za-z]?,?\s+(?:{_WORD}\s+){{0,5}}{_WORD}(?:\s+(?:Apt\.?|Suite|Unit|Flat|No\.?)\s*\w+)?"
        rf",\s*{_PLACE}{_POSTCODE}\b{_TOWN}",
    ),
    (
        "Street address (number after)",
        rf"\b{_WORD}(?:\s+{_WORD}){{0,5}}?,?\s+\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,4}}[A-Za-z]?)?"
        rf"(?:\s+\pL+\.?\s*\d{{1,4}})*\s*,\s*{_PLACE}{_POSTCODE}\b{_TOWN}",
    ),
)
ADDRESS_SCORE = 0.6
# Looser than the patterns (RE2 turns their bounded repeats of Unicode classes
# into a slow automaton): a house number next to a word, then a comma.
PRESCREENS["LOCATION"] = r"[\pL\pN_'.-],?\s+\d{1,5}[^,]*,|\d{1,5}[A-Za-z]?,?\s+\pL\pL[^,]*,"

# Minimum recognizer score to accept a finding (Presidio's phone recognizer
# tops out at 0.4 without context words; validated patterns score 1.0).
DEFAULT_MIN_SCORE = 0.5
# URLs without a scheme score 0.5, and "B.Sc" or "Univ.Prof" in a name pass as
# domains: only URLs with a scheme count.
MIN_SCORE = {"PHONE_NUMBER": 0.4, "URL": 0.6}
# A finding at or above this score passed a checksum/format validator.
STRONG_SCORE = 0.8


def min_score(entity: str, custom: Mapping[str, float] | None = None) -> float:
    if custom and entity in custom:
        return custom[entity]
    return MIN_SCORE.get(entity, DEFAULT_MIN_SCORE)


def street_address_recognizer() -> PatternRecognizer:
    """A Presidio PatternRecognizer for postal street addresses (entity LOCATION)."""
    import regex
    from presidio_analyzer import Pattern, PatternRecognizer

    gate = regex.compile(PRESCREENS["LOCATION"])

    class StreetAddressRecognizer(PatternRecognizer):
        # NER samples are analysed for LOCATION too; the address patterns' nested repeats are slow
        # on text without a house number beside a comma, which the looser pre-screen rules out.
        def analyze(self, text: str, *args: Any, **kwargs: Any) -> Any:
            if not gate.search(text):
                return []
            return super().analyze(text, *args, **kwargs)

    return StreetAddressRecognizer(
        supported_entity="LOCATION",
        name="StreetAddressRecognizer",
        patterns=[Pattern(name, regex, ADDRESS_SCORE) for name, regex in ADDRESS_PATTERNS],
        context=["address", "street", "addr"],
        supported_language="en",
    )


def national_id_recognizers() -> list[EntityRecognizer]:
    """Presidio's country recognizers the default English registry leaves out."""
    from presidio_analyzer.predefined_recognizers import (
        EsNieRecognizer,
        EsNifRecognizer,
        FiPersonalIdentityCodeRecognizer,
        ItFiscalCodeRecognizer,
        UkNinoRecognizer,
    )

    # Distinctive formats with checksums only: bare digit runs (PESEL, Aadhaar) would make
    # every numeric id column a candidate.
    classes = (
        UkNinoRecognizer,
        ItFiscalCodeRecognizer,
        EsNifRecognizer,
        EsNieRecognizer,
        FiPersonalIdentityCodeRecognizer,
    )
    return [cls(supported_language="en") for cls in classes]


@dataclass(frozen=True)
class CustomRecognizer:
    """An organisation-specific regex recognizer (e.g. employee ids) from policy YAML."""

    name: str
    entity: str
    patterns: tuple[tuple[str, float], ...]
    context: tuple[str, ...] = ()

    @property
    def prescreen(self) -> str:
        return "|".join(f"(?:{regex})" for regex, _ in self.patterns)

    @property
    def min_score(self) -> float:
        # Accept the recognizer's best pattern even when it is declared weak.
        return min(DEFAULT_MIN_SCORE, max(score for _, score in self.patterns))

    def to_presidio(self) -> PatternRecognizer:
        from presidio_analyzer import Pattern, PatternRecognizer

        return PatternRecognizer(
            supported_entity=self.entity,
            name=self.name,
            patterns=[
                Pattern(f"{self.name} {i}", regex, score) for i, (regex, score) in enumerate(self.patterns)
            ],
            context=list(self.context) or None,  # type: ignore[arg-type]  # None: no context words
            supported_language="en",
        )


def _field(spec: Any, name: str, default: Any = None) -> Any:
    if isinstance(spec, Mapping):
        return spec.get(name, default)
    return getattr(spec, name, default)


def custom_recognizers(specs: Sequence[Any]) -> list[CustomRecognizer]:
    """Normalise recognizer specs (objects or dicts with name, entity, patterns
    [{regex, score}], context) and check every regex compiles."""
    import regex as re

    out: list[CustomRecognizer] = []
    for i, spec in enumerate(specs or ()):
        name = str(_field(spec, "name") or f"custom_{i}")
        entity = _field(spec, "entity")
        if not entity or not isinstance(entity, str):
            raise CheckInputError(f"custom recognizer {name!r}: missing entity name")
        patterns = []
        for pattern in _field(spec, "patterns") or ():
            regex, score = _field(pattern, "regex"), _field(pattern, "score", 0.5)
            try:
                re.compile(regex)
                score = float(score)
            except (re.error, TypeError, ValueError) as err:
                raise CheckInputError(
                    f"custom recognizer {name!r}: invalid pattern {regex!r}: {err}"
                ) from err
            if not 0.0 <= score <= 1.0:
                raise CheckInputError(f"custom recognizer {name!r}: score {score} is not in [0, 1]")
            patterns.append((regex, score))
        if not patterns:
            raise CheckInputError(f"custom recognizer {name!r}: no patterns")
        context = tuple(str(c) for c in (_field(spec, "context") or ()))
        out.append(
            CustomRecognizer(name=name, entity=entity.upper(), patterns=tuple(patterns), context=context)
        )
    return out
