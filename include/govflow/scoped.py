"""Values remembered for one block of work (a nightly task, one model's checks), then forgotten.

A context variable bound to a dict inside ``kept_in(var)``, and None outside it: a lookup through
``remembered`` runs once per key inside the block and every time outside, so a long-lived process
(the web server) never serves a copy kept for someone else. Nested blocks share the outer one's dict.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["kept_in", "remembered"]

T = TypeVar("T")


@contextmanager
def kept_in(var: ContextVar[dict[Any, Any] | None]) -> Iterator[None]:
    token = var.set(var.get() if var.get() is not None else {})
    try:
        yield
    finally:
        var.reset(token)


def remembered(var: ContextVar[dict[Any, Any] | None], key: Hashable, find: Callable[[], T]) -> T:
    """``find()``, or inside ``kept_in(var)`` what it returned for ``key`` earlier in the block."""
    kept = var.get()
    if kept is None:
        return find()
    if key not in kept:
        kept[key] = find()
    return kept[key]
