"""Bounded uniform samples of a column's candidate cells, kept while streaming chunks.

Each pre-screen (an entity's cheap regex) selects candidate cells in every chunk;
a reservoir keeps a uniform random sample of at most ``size`` of them over the
whole file (priority sampling: each candidate gets a random key, the smallest
keys win), and counts all of them. Presidio then judges the sample, and
``count * hits / sample`` estimates how many cells hold the entity: exact when
the sample holds every candidate, which is the case for sparse PII.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Cells longer than this are judged on windows around their pre-screen matches.
MAX_WINDOW_CHARS = 600
_WINDOW_MARGIN = 120
_MAX_WINDOWS = 8
_MAX_RANKED = 200  # matches of one cell a ``prefer`` function ranks
# Short values are compared by shape (length and character classes) to spot
# validators that pass a random fraction of one uniform format.
SHAPE_MAX_CHARS = 64


def value_shape(value: str) -> tuple[int, frozenset[str]] | None:
    """``(length, character classes)`` of a short value; None for long text."""
    if len(value) > SHAPE_MAX_CHARS:
        return None
    classes = set()
    for ch in set(value):  # each distinct character once
        if ch.isdigit():
            classes.add("9")
        elif ch.isalpha():
            classes.add("A" if ch.isupper() else "a")
        else:
            classes.add(ch)
    return len(value), frozenset(classes)


def windows(value: str, finder: Any | None, prefer: Callable[[str, Any], bool] | None = None) -> str:
    """The text Presidio sees for a cell: the cell itself, or for a long cell the
    pieces around a few pre-screen matches (bounded work on a 10 MB cell): the first ones,
    or with ``prefer`` the matches it prefers first (NER samples: where a name is likely)."""
    if len(value) <= MAX_WINDOW_CHARS:
        return value
    chosen = []
    if finder is not None:
        matches = finder.finditer(value)
        if prefer is None:
            chosen = [m for _, m in zip(range(_MAX_WINDOWS), matches, strict=False)]
        else:
            ranked = [m for _, m in zip(range(_MAX_RANKED), matches, strict=False)]
            ranked.sort(key=lambda m: not prefer(value, m))  # stable: preferred first, each in order
            chosen = sorted(ranked[:_MAX_WINDOWS], key=lambda m: m.start())
    spans: list[list[int]] = []
    for match in chosen:
        start, end = max(0, match.start() - _WINDOW_MARGIN), min(len(value), match.end() + _WINDOW_MARGIN)
        if spans and start <= spans[-1][1]:  # overlapping windows are one piece: no text twice
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    if not spans:
        return value[:MAX_WINDOW_CHARS]
    return "\n\n".join(value[start:end] for start, end in spans)


@dataclass
class Sample:
    """One reservoir: a uniform sample of the cells a pre-screen selected."""

    size: int
    count: int = 0
    keys: Any = None  # numpy array of the kept items' random keys
    texts: list[str] = field(default_factory=list)

    def offer(
        self,
        values: Any,
        codes: Any,
        mask: Any,
        draws: Any,
        finder: Any | None,
        prefer: Callable[[str, Any], bool] | None = None,
    ) -> None:
        """Consider the cells where boolean numpy ``mask`` is set: cell ``i`` holds
        ``values[codes[i]]`` (a pyarrow dictionary) and has the random key ``draws[i]``."""
        import numpy as np

        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.count += len(idx)
        keys = draws[idx]
        if self.keys is not None and len(self.keys) >= self.size:
            better = keys < self.keys.max()
            idx, keys = idx[better], keys[better]
        if len(idx) > self.size:
            best = np.argpartition(keys, self.size)[: self.size]
            idx, keys = idx[best], keys[best]
        if not len(idx):
            return
        picked = values.take(codes[idx]).to_pylist()
        texts = [windows(v, finder, prefer) for v in picked]
        all_keys = keys if self.keys is None else np.concatenate([self.keys, keys])
        all_texts = self.texts + texts
        if len(all_keys) > self.size:
            keep = np.argpartition(all_keys, self.size)[: self.size]
            all_keys = all_keys[keep]
            all_texts = [all_texts[i] for i in keep]
        self.keys, self.texts = all_keys, all_texts

    def sort_by_key(self) -> None:
        """Order items by their random key: any prefix is then itself a uniform sample."""
        if self.keys is None or not len(self.texts):
            return
        order = self.keys.argsort()
        self.keys = self.keys[order]
        self.texts = [self.texts[i] for i in order]

    def truncate(self, size: int) -> None:
        """Keep the first ``size`` items (after ``sort_by_key``: a smaller uniform sample)."""
        self.keys = None if self.keys is None else self.keys[:size]
        self.texts = self.texts[:size]

    @property
    def shapes(self) -> list[Any]:
        """Each item's ``value_shape``, computed when asked (only pattern entities' samples are).
        The text is the cell itself up to ``MAX_WINDOW_CHARS``, and a longer cell has no shape."""
        return [value_shape(t) for t in self.texts]

    @property
    def exact(self) -> bool:
        return self.count == len(self.texts)


@dataclass
class ColumnSamples:
    """Everything the scan keeps about one column: counts and bounded samples."""

    name: str
    non_empty: int = 0
    profile: Sample | None = None  # uniform sample of all non-empty cells
    by_prescreen: dict[str, Sample] = field(default_factory=dict)  # entity (or "ner:*") -> sample
