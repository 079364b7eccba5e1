"""Machine paths out of text people read: each absolute path (or file:// URI) becomes its file name.

A page, document or alert read on another machine gains nothing from ``/home/ci/.govflow/demo/
model-1/train.csv`` but the name, and it tells a reader how the host is laid out. Object-store URIs
(``s3://bucket/key``) stay: they name the data wherever it is read. The regex takes a ``/`` that
does not follow a word character, ``:``, ``/`` or ``.`` (so ``s3://b/k``, ``a/b`` and ``./x`` stay),
followed by at least two path segments; the last segment is kept.
"""

from __future__ import annotations

import re

_SEGMENT = r"[^\s/'\"<>:,;()\[\]{}|`]+"
_ABSOLUTE = re.compile(rf"(?<![\w:/.~-])(?:/{_SEGMENT})*/(?P<name>{_SEGMENT})")
_FILE_URI = re.compile(rf"file://(?:/{_SEGMENT})*/(?P<name>{_SEGMENT})")


def file_names_only(text: str) -> str:
    """``text`` with every absolute path and file:// URI replaced by its last segment."""
    text = _FILE_URI.sub(lambda m: m.group("name"), text)
    return _ABSOLUTE.sub(_name_of, text)


def _name_of(match: re.Match[str]) -> str:
    whole = match.group(0)
    # A lone "/x" (a URL path like /api, a ratio "a /b") is not a machine path: two segments at least.
    return match.group("name") if whole.count("/") >= 2 else whole
