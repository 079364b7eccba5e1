"""Rendering the model card and the Annex IV document, as Markdown or one self-contained HTML file.

The documents' own templates are here; what a check family shows lives in its partials
(``govflow.checks.<family>/templates/<slot>.<fmt>.j2``), which the documents include slot by
slot: ``parts(slot, fmt)`` lists every family's partials of a slot by rank.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from govflow.checks.family import families, template_loader
from govflow.docs._context import CHECKS
from govflow.docs._numbers import fmt_number
from govflow.docs._svg import history_chart
from govflow.errors import BadInputError

if TYPE_CHECKING:
    import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
KINDS: tuple[str, ...] = ("model_card", "annex_iv")
FORMATS: tuple[str, ...] = ("md", "html")
Format = Literal["md", "html"]


@functools.cache
def environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES_DIR)), template_loader()]),
        # HTML templates escape every value; Markdown ones escape through the `md` filter.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, num=_num, pct=_pct, short=_short)
    env.globals["parts"] = parts
    return env


def parts(slot: str, fmt: str) -> list[str]:
    """The template names of every family's partials of ``slot``, by rank (then family order)."""
    found = [
        (part.rank, index, f"{declared.name}/{part.template}.{fmt}.j2")
        for index, declared in enumerate(families())
        for part in declared.parts
        if part.slot == slot
    ]
    return [name for _, _, name in sorted(found)]


def render_document(context: Mapping[str, Any], *, kind: str, fmt: str) -> str:
    """One document (``model_card`` or ``annex_iv``) in ``md`` or ``html``."""
    if kind not in KINDS:
        raise BadInputError(f"unknown document kind {kind!r}: choose one of {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise BadInputError(f"unknown document format {fmt!r}: choose one of {', '.join(FORMATS)}")
    template = environment().get_template(f"{kind}.{fmt}.j2")
    text = template.render(**_template_context(context, fmt))
    return _tidy(text) if fmt == "md" else text


def render_documents(context: Mapping[str, Any], *, fmt: str, kinds: Sequence[str] = KINDS) -> dict[str, str]:
    """``{kind: text}`` for each requested document."""
    return {kind: render_document(context, kind=kind, fmt=fmt) for kind in kinds}


def _template_context(context: Mapping[str, Any], fmt: str) -> dict[str, Any]:
    sections = context["sections"]
    required = context["required_sections"]
    incomplete = [sid for sid in required if not sections[sid].complete]
    extra: dict[str, Any] = {
        "required_complete": len(required) - len(incomplete),
        "incomplete": incomplete,
        "charts": {},
    }
    if fmt == "html":
        extra["charts"] = _charts(context)
    return {**context, **extra}


def _charts(context: Mapping[str, Any]) -> dict[str, Any]:
    charts: dict[str, Any] = {"history": ""}
    for declared in families():
        charts.update(declared.charts(context))
    if context.get("history"):
        charts["history"] = history_chart(context["history"], CHECKS)
    return charts


def _tidy(text: str) -> str:
    # Templates are easier to read with spare blank lines; the output keeps at most one.
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip() + "\n"


# --- filters ----------------------------------------------------------------


def md_escape(value: Any) -> str:
    """Text safe inside Markdown (and its tables): no raw HTML, no column breaks, no links or images.

    Escaped brackets mean ``[x](javascript:...)``, ``![](https://tracker/...)`` and
    reference links cannot form; the backslash goes first so typed escapes cannot undo ours.
    """
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _num(value: Any) -> str:
    return fmt_number(value)


def _pct(value: Any) -> str:
    return f"{float(value) * 100:.0f}%"


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text[:12] + "..." if len(text) > 12 else text or "n/a"
