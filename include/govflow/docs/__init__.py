"""Documentation: model cards and EU AI Act Annex IV technical documentation from registry and evidence.

    from govflow.docs import DocInputs, build_context, render_documents, documentation_check
    context = build_context(inputs)                   # facts with explicit gaps, completeness per section
    texts = render_documents(context, fmt="html")     # {"model_card": "...", "annex_iv": "..."}
    result = documentation_check(context, policy.tier("high").documentation.required_sections)

An explanation (from ``govflow.checks.explain``) is shown by ``card_view`` and
``explanation_svg``. What a document shows of each check family (its views of the stored
evidence, facts, caveats and template partials) is declared by the family
(``govflow.checks.family``); ``base_view``, ``merged_summary``, ``interval``, ``number``,
``fact`` and ``scrub_text`` are the helpers those views build on.
Pure functions of their inputs; ``govflow.service.docs`` gathers the inputs from the DB and
stores what is rendered.
"""

from govflow.docs._check import documentation_check
from govflow.docs._context import DocInputs, build_context
from govflow.docs._evidence import BaseView, base_view, interval, merged_summary
from govflow.docs._explain_card import card_view
from govflow.docs._notes import NOTE_KEYS, parse_notes, validate_notes
from govflow.docs._numbers import fmt_number, number
from govflow.docs._render import FORMATS, KINDS, render_document, render_documents
from govflow.docs._scrub import scrub, scrub_text
from govflow.docs._sections import SECTIONS, Fact, SectionStatus, fact
from govflow.docs._svg import drift_chart, explanation_svg, frontier_chart, group_metrics_chart

__all__ = [
    "FORMATS",
    "KINDS",
    "NOTE_KEYS",
    "SECTIONS",
    "BaseView",
    "DocInputs",
    "Fact",
    "SectionStatus",
    "base_view",
    "build_context",
    "card_view",
    "documentation_check",
    "drift_chart",
    "explanation_svg",
    "fact",
    "fmt_number",
    "frontier_chart",
    "group_metrics_chart",
    "interval",
    "merged_summary",
    "number",
    "parse_notes",
    "render_document",
    "render_documents",
    "scrub",
    "scrub_text",
    "validate_notes",
]
