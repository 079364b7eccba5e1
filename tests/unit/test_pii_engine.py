"""The scan's lean Presidio engine (#25 speed): only the recognizers the scan asks for and only
spaCy's NER are built, and it judges exactly as Presidio's default engine would. Real Presidio
and spaCy, offline."""

from __future__ import annotations

import random

import pytest

from govflow.checks.pii._engine import LANGUAGE, analyzer_engine, default_engine, spacy_pipeline
from govflow.checks.pii._recognizers import NON_PERSONAL_ENTITIES, PRESCREENS
from govflow.checks.pii._scan import _PLAIN_DECIMAL, _in_decimal

SCANNED = set(PRESCREENS) - NON_PERSONAL_ENTITIES


@pytest.fixture(scope="module")
def default():
    return default_engine()


def _described(recognizer) -> tuple:
    return (
        type(recognizer).__name__,
        recognizer.name,
        tuple(recognizer.supported_entities),
        tuple(recognizer.context or ()),
        tuple((p.name, p.regex, p.score) for p in getattr(recognizer, "patterns", None) or ()),
        tuple(getattr(recognizer, "supported_regions", ()) or ()),
        getattr(recognizer, "leniency", None),
    )


def test_the_pattern_recognizers_are_presidios_defaults_for_the_scanned_entities(default):
    lean = {_described(r) for r in analyzer_engine().registry.recognizers if r.name != "SpacyRecognizer"}
    wanted = {
        _described(r)
        for r in default.registry.recognizers
        if r.name != "SpacyRecognizer" and set(r.supported_entities) & SCANNED
    }
    assert lean == wanted
    # what is left out is never asked for: no pre-screen selects candidates for it
    left_out = {e for r in default.registry.recognizers for e in r.supported_entities} - {
        e for r in analyzer_engine().registry.recognizers for e in r.supported_entities
    }
    assert left_out and not left_out & SCANNED


def test_ner_alone_finds_what_the_whole_pipeline_finds(default):
    assert spacy_pipeline().pipe_names == ["ner"]
    whole = default.nlp_engine.nlp[LANGUAGE]
    assert len(whole.pipe_names) > 1
    texts = [
        "Angela Merkel met Emmanuel Macron in Paris on Tuesday.",
        "Smith, Mr. John",
        "Menomonie",
        "Dr. Okafor and the French delegation arrived from Lagos.",
        "Jean-Pierre de la Cruz; Ana Ruiz; Li Wei",
        "Buddhist monks from Tibet visited the Hispanic community in Texas.",
    ]
    lean = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in spacy_pipeline().pipe(texts)]
    full = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in whole.pipe(texts)]
    assert lean == full
    assert any(lean)


def test_a_plain_decimal_never_keeps_a_phone_number(default):
    """The scan skips the phone recognizer on one-decimal cells: whatever it would find there,
    ``_in_decimal`` drops, so the verdicts are the same without the ~1 ms lookup."""
    phone = next(r for r in default.registry.recognizers if r.name == "PhoneRecognizer")
    rng = random.Random(3)
    texts = [
        f"{sign}{rng.randint(0, 10**digits)}{sep}{rng.randint(1, 10**frac)}"
        for sign in ("", "-", "+", " ")
        for sep in (".", ",")
        for digits in (1, 3, 7, 9)
        for frac in (2, 8, 12)
    ] + ["0.0301961234", "779.4453145", "47.16283333333333", "2125551.25"]
    found = 0
    for text in texts:
        assert _PLAIN_DECIMAL.fullmatch(text), text
        for result in phone.analyze(text, ["PHONE_NUMBER"]):
            found += 1
            assert _in_decimal(text, result.start, result.end), text
    assert found  # the recognizer does find "phones" in decimals: the skip saves real work
    for kept in ("555.123.4567", "2125551234.0", "301961234.0", "1234567890.5", "+1 212 555 1234"):
        assert not _PLAIN_DECIMAL.fullmatch(kept)
