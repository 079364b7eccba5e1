"""Seeded bootstrap intervals for group metrics and disparities, without a Python loop over rows.

1. Each group is resampled on its own (stratified: a group keeps its size, so
   a small group's interval shows its own noise and no replicate loses it).
2. Classification: a group's rows are fully described by its confusion cells,
   so a replicate is one multinomial draw of the group's size over its cell
   shares: ``(replicates, groups, K, K)`` counts in one call per group.
3. Regression: rows are sorted by group once; a replicate draws row offsets
   inside each group's block and sums the gathered values per block
   (``np.add.reduceat``): one vectorised pass per replicate. A group of more
   than ``NORMAL_ABOVE`` rows is not resampled row by row: its resampled sums
   (of prediction, |error|, error^2) are drawn from their normal limit, with the
   mean and covariance the resampling has (n x mean, n x covariance of the
   rows): the central limit theorem at that size, and one draw per replicate
   instead of a pass over the rows. The evidence states which groups used it.
4. The metric and disparity functions run on all replicates at once; the 95%
   interval is the 2.5th and 97.5th percentile (NaN replicates ignored).
"""

from __future__ import annotations

from typing import Any

CONFIDENCE = 0.95
# Above this many rows a group's resampled sums are drawn from their normal limit (see 3.).
NORMAL_ABOVE = 20_000


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
    out = np.zeros((n_boot, n_groups, 4))
    out[:, :, 0] = sizes
    large = [g for g in present if sizes[g] > NORMAL_ABOVE]
    for g in large:
        block = values[starts[g] : starts[g] + sizes[g]]
        out[:, g, 1:] = rng.multivariate_normal(
            sizes[g] * block.mean(axis=0), sizes[g] * np.cov(block, rowvar=False), size=n_boot
        )
        out[:, g, 2:] = np.maximum(out[:, g, 2:], 0.0)  # sums of |error| and error^2 are never negative
    small = np.asarray([g for g in present if sizes[g] <= NORMAL_ABOVE], dtype=np.int64)
    if len(small):
        rows = np.concatenate([np.arange(starts[g], starts[g] + sizes[g]) for g in small])
        row_start = np.repeat(_offsets(sizes[small]), sizes[small])
        row_size = np.repeat(sizes[small], sizes[small]).astype(np.float64)
        local = values[rows]
        for b in range(n_boot):
            offsets = (rng.random(len(local)) * row_size).astype(np.int64)
            out[b, small, 1:] = np.add.reduceat(local[row_start + offsets], _offsets(sizes[small]), axis=0)
    return out


def normal_groups(sizes: Any) -> list[int]:
    """Group codes whose bootstrap uses the normal limit of the resampled sums (regression)."""
    return [int(g) for g, n in enumerate(sizes) if n > NORMAL_ABOVE]


def _offsets(sizes: Any) -> Any:
    import numpy as np

    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)


def interval(replicates: Any) -> Any:
    """(n_boot, ...) -> (2, ...): the 95% percentile interval over the replicates."""
    import numpy as np

    tail = (1 - CONFIDENCE) / 2 * 100
    return np.nanpercentile(replicates, [tail, 100 - tail], axis=0)
