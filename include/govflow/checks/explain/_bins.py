"""Turning one feature column into a few readable slices (ranges or categories).

Error analysis and proxy detection both describe data by slices, never by rows:
a numeric feature becomes quantile ranges (``30 < age <= 41``), a categorical
one its frequent categories plus ``other`` and ``missing``. Categories rarer than
``min_rows`` are pooled into ``other`` so no reported slice singles anyone out,
and identifier-like columns (mostly unique values) are not sliced at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# A column with more distinct values than this share of its rows identifies
# individuals (ids, names, e-mails): it is neither sliced nor reported.
IDENTIFIER_UNIQUE_SHARE = 0.5
MISSING = "missing"


@dataclass(frozen=True)
class Slices:
    """A feature cut into slices: ``codes[i]`` is the slice of row ``i``, described by ``labels[code]``.

    ``values[code]`` is the slice's own value (the category, or the range) and
    None for the pooled ``other`` and ``missing`` slices.
    """

    feature: str
    kind: str  # "numeric" | "categorical"
    codes: np.ndarray
    labels: tuple[str, ...]
    values: tuple[str | None, ...]

    @property
    def count(self) -> int:
        return len(self.labels)


def slice_feature(
    series: pd.Series, *, max_bins: int = 5, max_categories: int = 30, min_rows: int = 10
) -> Slices | None:
    """Cut ``series`` into at most ``max_bins`` quantile ranges or ``max_categories`` categories.

    Returns None when the column cannot be sliced meaningfully (one value only,
    or identifier-like).
    """
    import pandas as pd

    name = str(series.name)
    values = series.reset_index(drop=True)
    distinct = values.nunique(dropna=True)
    if distinct < 1:
        return None
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        if distinct > 50 and distinct > IDENTIFIER_UNIQUE_SHARE * values.notna().sum():
            return None
        return _categorical(name, values, max_categories=max_categories, min_rows=min_rows)
    if distinct <= max_bins:
        return _categorical(name, values, max_categories=max_categories, min_rows=min_rows, numeric=True)
    return _numeric(name, values.astype(float), max_bins=max_bins)


def _numeric(name: str, values: pd.Series, *, max_bins: int) -> Slices:
    import numpy as np

    finite = values.to_numpy()
    present = ~np.isnan(finite)
    quantiles = np.linspace(0, 1, max_bins + 1)[1:-1]
    edges = np.unique(_readable(np.quantile(finite[present], quantiles)))
    # side="left": bin i holds edges[i-1] < x <= edges[i]; the last bin holds x > edges[-1].
    codes = np.searchsorted(edges, np.where(present, finite, 0.0), side="left").astype(np.int64)
    labels = [_range_label(name, edges, i) for i in range(len(edges) + 1)]
    own: list[str | None] = list(labels)
    if not present.all():
        codes[~present] = len(labels)
        labels.append(f"{name} {MISSING}")
        own.append(None)
    return _compact(name, "numeric", codes, labels, own)


def _categorical(
    name: str, values: pd.Series, *, max_categories: int, min_rows: int, numeric: bool = False
) -> Slices:
    import numpy as np

    present = values.notna().to_numpy()
    text = values.map(_fmt if numeric else str).where(values.notna())
    counts = text.value_counts(dropna=True)
    kept = [c for c, n in counts.items() if n >= min_rows][:max_categories]
    index = {c: i for i, c in enumerate(kept)}
    labels = [f"{name} = {c}" for c in kept]
    own: list[str | None] = [*kept, None, None]
    other = len(labels)
    codes = text.map(index).fillna(other).to_numpy(dtype=np.int64)
    rare = len(counts) - len(kept)
    labels.append(f"{name} other ({rare} rarer value{'s' if rare != 1 else ''})")
    missing = len(labels)
    codes[~present] = missing
    labels.append(f"{name} {MISSING}")
    return _compact(name, "categorical", codes, labels, own)


def _compact(name: str, kind: str, codes: np.ndarray, labels: list[str], own: list[str | None]) -> Slices:
    # Drop slices no row falls in (an empty "other" or "missing") and renumber.
    import numpy as np

    used = np.unique(codes)
    remap = np.full(len(labels), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return Slices(
        feature=name,
        kind=kind,
        codes=remap[codes],
        labels=tuple(labels[i] for i in used),
        values=tuple(own[i] for i in used),
    )


def _range_label(name: str, edges: np.ndarray, i: int) -> str:
    if i == 0:
        return f"{name} <= {_fmt(edges[0])}"
    if i == len(edges):
        return f"{name} > {_fmt(edges[-1])}"
    return f"{_fmt(edges[i - 1])} < {name} <= {_fmt(edges[i])}"


def _readable(edges: np.ndarray) -> np.ndarray:
    # Three significant digits: an edge describes a range, not a person's exact value.
    import numpy as np

    out = []
    for edge in edges:
        if edge == 0 or not np.isfinite(edge):
            out.append(float(edge))
            continue
        digits = 3 - int(np.floor(np.log10(abs(edge)))) - 1
        out.append(float(round(edge, digits)))
    return np.asarray(out, dtype=float)


def _fmt(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer():
        return str(int(number))
    return f"{number:.4g}"
