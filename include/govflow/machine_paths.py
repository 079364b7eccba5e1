"""Machine paths out of text people read: each absolute path (or file:// URI) becomes its file name.

A page, document or alert read on another machine gains nothing from ``/home/ci/.govflow/demo/
model-1/train.csv`` but the name, and it tells a reader how the host is laid out. Object-store URIs
(``s3://bucket/key``) stay: they name the data wherever it is read. The regex takes a ``/`` that
does not follow a word character, ``:``, ``/`` or ``.`` (so ``s3://b/k``, ``a/b`` and ``./x`` stay),
followed by at least two path segments; the last segment is kept.
"""

from __future__ import annotations

import re
from typing import Any

_SEGMENT = r"[^\s/'\"<>:,;()\[\]{}|`]+"
_ABSOLUTE = re.compile(rf"(?<![\w:/.~-])(?:/{_SEGMENT})*/(?P<name>{_SEGMENT})")
_FILE_URI = re.compile(rf"file://(?:/{_SEGMENT})*/(?P<name>{_SEGMENT})")


def file_names_only(text: str) -> str:
    """``text`` with every absolute path and file:// URI replaced by its last segment."""
    text = _FILE_URI.sub(lambda m: m.group("name"), text)
    return _ABSOLUTE.sub(_name_of, text)


def for_people(value: Any) -> Any:
    """``value`` (what a read page or its API twin returns) with ``file_names_only`` applied to every
    string in it, except links: values of keys ending in ``url`` or ``href`` and everything under
    ``links`` (relative links like ``/dags/x/runs/y`` would lose their folders). Other objects are
    returned as they are."""
    if isinstance(value, str):
        return file_names_only(value) if "/" in value else value
    if isinstance(value, dict):
        return {k: v if _is_link(k) else for_people(v) for k, v in value.items()}
    if isinstance(value, list):
        return [for_people(v) for v in value]
    if isinstance(value, tuple):
        return tuple(for_people(v) for v in value)
    return value


def _is_link(key: object) -> bool:
    return isinstance(key, str) and (key.endswith(("url", "href")) or key == "links")


def _name_of(match: re.Match[str]) -> str:
    whole = match.group(0)
    # A lone "/x" (a URL path like /api, a ratio "a /b") is not a machine path: two segments at least.
    return match.group("name") if whole.count("/") >= 2 else whole
