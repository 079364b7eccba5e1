"""Each entity's cheap pre-screen over a chunk's distinct values: RE2 through pyarrow for whole
columns, the `regex` module for windows and for a few values of a pattern slow to compile."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from typing import Any

from govflow.checks.pii._classify import NER_PAIR, NER_WORD
from govflow.checks.pii._names import name_like
from govflow.checks.pii._recognizers import (
    CAPITALISED_PAIR,
    CAPITALISED_WORD,
    PRESCREENS,
    CustomRecognizer,
)

# pyarrow compiles the RE2 pattern on every call: with Unicode classes (\p{Lu}) that takes 1-4 ms,
# more than the `regex` module's compiled pattern needs for fewer distinct values than these
# (measured: the compile over the per-value cost of the compiled pattern).
COMPILED_BELOW = 1000
_COMPILED_BELOW = {CAPITALISED_PAIR: 5000, CAPITALISED_WORD: 1500, PRESCREENS["LOCATION"]: 500}


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    import regex

    return regex.compile(pattern)


@functools.lru_cache(maxsize=256)
def _runs_in_re2(pattern: str) -> bool:
    """RE2 lacks look-arounds and back-references: custom patterns may need the slow path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array(["x"]), pattern)
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


class Prescreen:
    """One entity's pre-screen: RE2 for whole columns, the `regex` module for windows
    and for a few distinct values of a pattern that is slow to compile."""

    def __init__(
        self,
        key: str,
        pattern: str,
        size: int,
        window_pattern: str | None = None,
        window_prefer: Callable[[str, Any], bool] | None = None,
    ):
        self.key, self.pattern, self.size = key, pattern, size
        self.finder = _compiled(pattern)
        # What a long cell is cut around (``_sampling.windows``): the pre-screen's matches by default.
        self.window_finder = _compiled(window_pattern) if window_pattern else self.finder
        self.window_prefer = window_prefer
        self.vectorised = _runs_in_re2(pattern)
        slow_to_compile = "\\p" in pattern
        # The path depends on the number of distinct values only, so the same data takes the same
        # path; the `regex` module reads \d and \s as Unicode, a superset of RE2's (more candidates).
        self.compiled_below = _COMPILED_BELOW.get(pattern, COMPILED_BELOW) if slow_to_compile else 0

    def mask(self, array: Any) -> Any:
        import numpy as np
        import pyarrow.compute as pc

        if self.vectorised and len(array) >= self.compiled_below:
            return (
                pc.match_substring_regex(array, self.pattern).fill_null(False).to_numpy(zero_copy_only=False)
            )
        return np.fromiter(
            (v is not None and self.finder.search(v) is not None for v in array.to_pylist()),
            dtype=bool,
            count=len(array),
        )


def prescreens(
    customs: Sequence[CustomRecognizer], scanned: Collection[str], sample_size: int, ner_sample_size: int
) -> list[Prescreen]:
    patterns = {entity: PRESCREENS[entity] for entity in PRESCREENS if entity in scanned}
    for c in customs:  # an organisation's recognizer may add patterns to a known entity
        patterns[c.entity] = f"{patterns[c.entity]}|{c.prescreen}" if c.entity in patterns else c.prescreen
    screens = [Prescreen(entity, pattern, sample_size) for entity, pattern in patterns.items()]
    # Both NER samples cut a long cell around its capitalised pairs (where names are), so a cell
    # in both samples is one text and the model reads it once.
    # Pairs that hold a given name or follow a title come first ("said Director Leon Rodriguez").
    screens += [
        Prescreen(
            NER_WORD,
            CAPITALISED_WORD,
            ner_sample_size,
            window_pattern=CAPITALISED_PAIR,
            window_prefer=name_like,
        ),
        Prescreen(NER_PAIR, CAPITALISED_PAIR, ner_sample_size, window_prefer=name_like),
    ]
    return screens
