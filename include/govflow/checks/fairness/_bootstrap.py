"""Seeded bootstrap intervals for group metrics and disparities, without a Python loop over rows.

1. Each group is resampled on its own (stratified: a group keeps its size, so
   a small group's interval shows its own noise and no replicate loses it).
2. Classification: a group's rows are fully described by its confusion cells,
   so a replicate is one multinomial draw of the group's size over its cell
   shares: ``(replicates, groups, K, K)`` counts in one call per group.
3. Regression: rows are sorted by group once; a replicate draws row offsets
   inside each group's block and sums the gathered values per block
   (``np.add.reduceat``): one vectorised pass per replicate.
4. The metric and disparity functions run on all replicates at once; the 95%
   interval is the 2.5th and 97.5th percentile (NaN replicates ignored).
"""

from __future__ import annotations

from typing import Any

CONFIDENCE = 0.95


def cell_replicates(counts: Any, n_boot: int, seed: int) -> Any:
    """counts (groups, K, K) -> (n_boot, groups, K, K) stratified multinomial replicates."""
    import numpy as np

    rng = np.random.default_rng(seed)
    groups = counts.shape[0]
    flat = counts.reshape(groups, -1)
    out = np.empty((n_boot, *flat.shape), dtype=np.int64)
    for g in range(groups):
        n = int(flat[g].sum())
        out[:, g, :] = rng.multinomial(n, flat[g] / n, size=n_boot) if n else 0
    return out.reshape(n_boot, *counts.shape)


def regression_replicates(codes: Any, y_true: Any, y_pred: Any, n_groups: int, n_boot: int, seed: int) -> Any:
    """-> (n_boot, groups, 4): rows, sum of predictions, sum of |error|, sum of error^2 per replicate."""
    import numpy as np

    rng = np.random.default_rng(seed)
    order = np.argsort(codes, kind="stable")
    error = y_pred[order] - y_true[order]
    values = np.stack([y_pred[order], np.abs(error), error * error], axis=1)
    sizes = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    present = np.flatnonzero(sizes)
    row_start = np.repeat(starts[present], sizes[present])
    row_size = np.repeat(sizes[present], sizes[present]).astype(np.float64)
    out = np.zeros((n_boot, n_groups, 4))
    out[:, :, 0] = sizes
    for b in range(n_boot):
        offsets = (rng.random(len(values)) * row_size).astype(np.int64)
        out[b, present, 1:] = np.add.reduceat(values[row_start + offsets], starts[present], axis=0)
    return out


def interval(replicates: Any) -> Any:
    """(n_boot, ...) -> (2, ...): the 95% percentile interval over the replicates."""
    import numpy as np

    tail = (1 - CONFIDENCE) / 2 * 100
    return np.nanpercentile(replicates, [tail, 100 - tail], axis=0)


def as_pair(bounds: Any, *index: int) -> list[float]:
    return [round(float(bounds[(0, *index)]), 6), round(float(bounds[(1, *index)]), 6)]
