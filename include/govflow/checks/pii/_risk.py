"""Re-identification risk: k-anonymity and the share of unique rows on the quasi-identifiers.

1. Candidate quasi-identifier columns are named by their header (age, sex, gender,
   race, ethnicity, postcode/zip, date of birth, marital status, nationality...) or
   look like dates in the first chunk (a date of birth may be named ``d1``).
2. While the table streams, each candidate's cells are hashed per row (8 bytes a
   row and column: memory grows with rows, not with cell sizes or distinct values).
3. After the scan, a candidate is kept if its values fit its kind (ages 0-120, a
   few sex or race categories) or the scan found a date of birth or postcode in it.
4. The kept columns' row hashes are combined; equivalence classes are the distinct
   combined hashes (pandas/numpy ``unique``). k-anonymity is the smallest class,
   ``unique_share`` the share of rows alone in theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from govflow.checks.pii._dates import BIRTH_WORDS
from govflow.checks.pii._hints import column_tokens
from govflow.checks.pii._values import (
    AMBIGUOUS_GROUP_WORDS,
    MIN_GROUP_SHARE,
    POSTCODE_WORDS,
    group_category_share,
)

# kind -> header words; the first kind whose word is a token of the name wins.
QI_WORDS: dict[str, frozenset[str]] = {
    "date_of_birth": BIRTH_WORDS,
    "age": frozenset({"age", "ages", "edad", "alter", "eta", "leeftijd"}),
    "sex": frozenset({"sex", "gender", "geschlecht", "sexe", "sexo", "genere", "geslacht"}),
    "race": frozenset({"race", "ethnicity", "ethnic", "ethnicgroup", "raza", "etnia"}),
    "postcode": POSTCODE_WORDS,
    "marital_status": frozenset({"marital", "familienstand"}),
    "nationality": frozenset({"nationality", "citizenship", "nationalite", "nacionalidad", "birthplace"}),
}
# Multi-word names ("native-country", "country of birth").
QI_PHRASES: dict[str, tuple[frozenset[str], ...]] = {
    "nationality": (
        frozenset({"native", "country"}),
        frozenset({"country", "birth"}),
        frozenset({"place", "birth"}),
    ),
}
_BIRTH_PLACE = frozenset({"city", "town", "place", "country", "state", "county", "province", "region"})
# How many distinct values (in the sampled cells) a categorical kind may have.
MAX_CATEGORIES = {"sex": 10, "race": 40, "marital_status": 20}
MIN_FIT = 0.8
_HASH_MULTIPLIER = 1099511628211  # FNV prime: mixes the per-column hashes into one row hash


# Headers about an attribute rather than the attribute ("race_source", "sex_ratio", "age_pct").
ABOUT_WORDS = frozenset(
    {"source", "method", "flag", "imputed", "confidence", "ratio", "pct", "percent", "share", "rate", "count"}
    | {"total", "mean", "avg", "median", "std", "min", "max", "sum", "num", "diff", "gap", "id"}
)


def qi_kind(name: str) -> str | None:
    """The quasi-identifier kind a column name suggests, or None."""
    tokens = set(column_tokens(name))
    if tokens & ABOUT_WORDS:
        return None
    if tokens & _BIRTH_PLACE:  # "birthCity", "country of birth": a place, not a date
        return next((k for k, phrases in QI_PHRASES.items() if any(p <= tokens for p in phrases)), None)
    for kind, words in QI_WORDS.items():
        if tokens & words:
            return kind
    for kind, phrases in QI_PHRASES.items():
        if any(p <= tokens for p in phrases):
            return kind
    return None


def fits_kind(kind: str, cells: Sequence[str], header: str = "") -> bool:
    """Whether sampled cells fit a quasi-identifier kind (an ``age`` column of ages...)."""
    if not cells:
        return False
    named = set(column_tokens(header)) & QI_WORDS["race"]
    # a "race" of 5k and 10k runs: the categories must name groups of people
    if (
        kind == "race"
        and named
        and named <= AMBIGUOUS_GROUP_WORDS
        and group_category_share([c for c in cells if c.strip()]) < MIN_GROUP_SHARE
    ):
        return False
    if kind == "age":

        def is_age(cell: str) -> bool:
            try:
                return 0 <= float(cell) <= 120
            except ValueError:  # "30-39" bands are ages too
                parts = cell.replace("+", "").split("-")
                return all(p.strip().isdigit() and int(p) <= 120 for p in parts if p.strip())

        return sum(map(is_age, cells)) / len(cells) >= MIN_FIT
    if kind in MAX_CATEGORIES:
        return len({c.strip().casefold() for c in cells}) <= MAX_CATEGORIES[kind]
    return True


@dataclass
class RiskAccumulator:
    """Per-row hashes of the candidate columns, gathered chunk by chunk."""

    candidates: dict[str, str]  # column key -> kind ("date" when only the values suggest it)
    hashes: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0

    def offer(self, chunk: Any) -> None:
        import pandas as pd

        self.rows += len(chunk)
        for key in self.candidates:
            hashed = pd.util.hash_pandas_object(chunk[key], index=False).to_numpy()
            self.hashes.setdefault(key, []).append(hashed)

    def measure(self, columns: Sequence[str]) -> dict[str, Any]:
        """k-anonymity and unique rows on ``columns`` (all of them candidates)."""
        import numpy as np

        if not columns or not self.rows:
            return {"k_anonymity": None, "unique_rows": None, "unique_share": None, "classes": None}
        combined = np.zeros(self.rows, dtype=np.uint64)
        for key in columns:
            column = np.concatenate(self.hashes[key]).astype(np.uint64)
            combined = combined * np.uint64(_HASH_MULTIPLIER) + column
        _, counts = np.unique(combined, return_counts=True)
        unique_rows = int((counts == 1).sum())
        return {
            "k_anonymity": int(counts.min()),
            "unique_rows": unique_rows,
            "unique_share": round(unique_rows / self.rows, 4),
            "classes": len(counts),
        }
