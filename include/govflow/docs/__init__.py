"""Documentation: model cards and EU AI Act Annex IV technical documentation from registry and evidence.

    from govflow.docs import DocInputs, build_context, render_documents, documentation_check
    context = build_context(inputs)                   # facts with explicit gaps, completeness per section
    texts = render_documents(context, fmt="html")     # {"model_card": "...", "annex_iv": "..."}
    result = documentation_check(context, policy.tier("high").documentation.required_sections)

An explanation (from ``govflow.checks.explain``) is shown by ``card_view`` and
``explanation_svg``. ``fairness_view``, ``drift_view``, ``validation_view`` and ``pii_view``
whitelist what a document (or the version page) may show of a check's stored evidence.
Pure functions of their inputs; ``govflow.service.docs`` gathers the inputs from the DB and
stores what is rendered.
"""

from govflow.docs._check import documentation_check
from govflow.docs._context import DocInputs, build_context
from govflow.docs._explain_card import card_view
from govflow.docs._notes import NOTE_KEYS, parse_notes, validate_notes
from govflow.docs._render import FORMATS, KINDS, render_document, render_documents
from govflow.docs._scrub import scrub, scrub_text
from govflow.docs._sections import SECTIONS, Fact, SectionStatus
from govflow.docs._svg import explanation_svg
from govflow.docs._views import drift_view, fairness_view, pii_view, validation_view

__all__ = [
    "FORMATS",
    "KINDS",
    "NOTE_KEYS",
    "SECTIONS",
    "DocInputs",
    "Fact",
    "SectionStatus",
    "build_context",
    "card_view",
    "documentation_check",
    "drift_view",
    "explanation_svg",
    "fairness_view",
    "parse_notes",
    "pii_view",
    "render_document",
    "render_documents",
    "scrub",
    "scrub_text",
    "validate_notes",
    "validation_view",
]
