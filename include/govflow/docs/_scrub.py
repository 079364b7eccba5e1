"""A last safety net for free text shown in documents: mask e-mail addresses and long numbers.

Evidence already holds only counts, rates and masked examples; free text typed
by people (use case, notes, reasons) is the one place raw contact details or
account numbers could slip into a document, so it is masked here the same way
the PII check masks examples (``j***@e***.com``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from govflow.checks.pii import mask

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){11,30}\b")
# 9+ digits, optionally split by spaces, dots or dashes: phone, card, account and national id numbers.
_LONG_NUMBER = re.compile(r"(?<![\w.])\+?\d(?:[ .-]?\d){8,}(?![\w])")


def scrub_text(text: str) -> str:
    text = _EMAIL.sub(lambda m: mask("EMAIL_ADDRESS", m.group(0)), text)
    text = _IBAN.sub(lambda m: m.group(0)[:2] + "******", text)
    return _LONG_NUMBER.sub(lambda m: m.group(0)[:1] + "***", text)


def scrub(value: Any) -> Any:
    """``scrub_text`` applied to every string inside ``value`` (dict keys included).

    ``Markup`` (markup built by code, e.g. an SVG chart whose labels were escaped
    and scrubbed when it was drawn) is left alone: its numbers are coordinates.
    """
    from markupsafe import Markup

    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
