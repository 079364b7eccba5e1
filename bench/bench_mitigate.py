"""Benchmark: `govflow mitigate`'s engine beside calling Fairlearn directly, on generated data.

For each size (default 100,000 and 1,000,000 rows of a table with a known
disparity: two groups, the minority's label noisier and its base rate lower),
a logistic regression is fitted once, then:

- naive: what a data scientist writes by hand: split the rows, fit
  ``ThresholdOptimizer`` (prefit, equalized odds) on one half, predict the other
  half with a seed, compute accuracy and ``equalized_odds_difference`` with
  Fairlearn, and the same two numbers for each of ``--bootstrap`` resamples
  by calling Fairlearn's metric functions again;
- govflow: ``checks.fairness.mitigation.mitigate`` with the same split,
  method and replicates (the challenger kept as data and applied by govflow,
  intervals from per-group counts).

Both must print the same point numbers; the times show what the bookkeeping
costs (or saves). ``--reductions`` also times ExponentiatedGradient (slow: 50
refits of the model) on the smallest size only.

    python bench/bench_mitigate.py                     # 100k and 1M rows, 50 replicates
    python bench/bench_mitigate.py --rows 20000 --bootstrap 20
"""

from __future__ import annotations

import argparse
import time


def table(rows: int, seed: int = 0):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    group = np.where(rng.random(rows) < 0.35, "B", "A")
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    noise = np.where(group == "B", 1.5, 0.4)
    shift = np.where(group == "B", -0.8, 0.3)
    label = (x1 + 0.5 * x2 + shift + rng.normal(size=rows) * noise > 0).astype(int)
    x3 = (group == "B") + rng.normal(scale=0.3, size=rows)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "group": group, "label": label})


def naive(frame, model, bootstrap: int, seed: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    import numpy as np
    from fairlearn.metrics import equalized_odds_difference
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.metrics import accuracy_score

    from govflow.checks.fairness.mitigation import split_rows

    started = time.perf_counter()
    y, groups = frame["label"].to_numpy(), frame["group"].to_numpy(dtype=object)
    fit, held = split_rows(y, groups, regression=False, held_out=0.5, seed=seed)
    x = frame[["x1", "x2", "x3"]]
    optimizer = ThresholdOptimizer(
        estimator=model, constraints="equalized_odds", prefit=True, predict_method="predict_proba"
    ).fit(x.iloc[fit], y[fit], sensitive_features=groups[fit])
    pred = optimizer.predict(x.iloc[held], sensitive_features=groups[held], random_state=seed)
    yh, gh = y[held], groups[held]
    accuracy = accuracy_score(yh, pred)
    eod = equalized_odds_difference(yh, pred, sensitive_features=gh)
    rng = np.random.default_rng(seed)
    for _ in range(bootstrap):
        d = rng.integers(0, len(held), len(held))
        accuracy_score(yh[d], pred[d])
        equalized_odds_difference(yh[d], pred[d], sensitive_features=gh[d])
    return time.perf_counter() - started, float(accuracy), float(eod)


def ours(frame, model, bootstrap: int, seed: int) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    from govflow.checks.fairness.mitigation import mitigate

    started = time.perf_counter()
    result = mitigate(
        frame,
        model=model,
        label="label",
        sensitive=["group"],
        methods=["threshold"],
        constraint="equalized_odds",
        limits={"equalized_odds_difference": 0.1},
        bootstrap=bootstrap,
        random_state=seed,
    )
    candidate = result.evidence["candidates"][0]
    return time.perf_counter() - started, candidate["primary_metric"], candidate["disparity"]


def reductions(frame, model, seed: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    from fairlearn.reductions import EqualizedOdds, ExponentiatedGradient
    from sklearn.base import clone

    from govflow.checks.fairness.mitigation import mitigate

    x, y, g = frame[["x1", "x2", "x3"]], frame["label"], frame["group"]
    started = time.perf_counter()
    ExponentiatedGradient(clone(model), constraints=EqualizedOdds()).fit(x, y, sensitive_features=g)
    direct = time.perf_counter() - started
    started = time.perf_counter()
    mitigate(
        frame,
        model=model,
        label="label",
        sensitive=["group"],
        methods=["reductions"],
        constraint="equalized_odds",
        bootstrap=0,
        random_state=seed,
        held_out_share=0.5,
    )
    return direct, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="table sizes (default 100000, 1000000)")
    parser.add_argument("--bootstrap", type=int, default=50, help="bootstrap replicates (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reductions", action="store_true", help="also time ExponentiatedGradient")
    args = parser.parse_args()
    import fairlearn.metrics  # imports warmed up: neither side pays them
    import fairlearn.postprocessing  # noqa: F401
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    head = f"{'rows':>10} {'naive s':>9} {'govflow s':>10} {'ratio':>6}"
    print(f"{head}  accuracy (naive/govflow)  EOD (naive/govflow)")
    for rows in args.rows or [100_000, 1_000_000]:
        frame = table(rows, args.seed)
        with threadpool_limits(limits=1):
            model = LogisticRegression().fit(frame[["x1", "x2", "x3"]], frame["label"])
            t_naive, acc_n, eod_n = naive(frame, model, args.bootstrap, args.seed)
        t_ours, acc_o, eod_o = ours(frame, model, args.bootstrap, args.seed)
        same = "same" if (round(acc_n, 4), round(eod_n, 4)) == (acc_o, eod_o) else "DIFFERENT"
        print(
            f"{rows:>10} {t_naive:>9.2f} {t_ours:>10.2f} {t_ours / t_naive:>6.2f}  "
            f"{acc_n:.4f}/{acc_o:.4f}          {eod_n:.4f}/{eod_o:.4f} ({same})"
        )
    if args.reductions:
        rows = min(args.rows or [100_000])
        frame = table(rows, args.seed)
        model = LogisticRegression().fit(frame[["x1", "x2", "x3"]], frame["label"])
        with threadpool_limits(limits=1):
            direct, wrapped = reductions(frame, model, args.seed)
        print(
            f"ExponentiatedGradient on {rows} rows: Fairlearn directly {direct:.2f} s (all rows); "
            f"govflow {wrapped:.2f} s (fit on half, scored on the other half)"
        )


if __name__ == "__main__":
    main()
