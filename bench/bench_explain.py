"""Benchmark: the fairness explanation vs. the fairness check's own time and unbounded permutation importance.

The demo model (include/sample/train_model.py, UCI Adult) is explained on
``--rows`` eval rows (the Adult eval sample resampled with a seed; the label
as 0/1 so the fairness check can predict with the model artifact too). Both
read the same CSV file and load the same artifact, as the governance pipeline
does. Prints:

- the fairness check's time (``evaluate_fairness`` with the model artifact),
- the explanation's time (``explain_model``: bounded samples) and the ratio,
- the same two on in-memory frames (no CSV parsing: the stricter ratio),
- the naive baseline: the same scikit-learn ``permutation_importance`` run on
  every row instead of a bounded sample (same repeats, same per-group scoring);
  its time, and how far the bounded sample's importances are from it.

    python bench/bench_explain.py                  # 100,000 rows (the target: a few times the fairness check)
    python bench/bench_explain.py --rows 20000     # a quick run
    python bench/bench_explain.py --no-naive       # skip the slow unbounded baseline
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE = Path(__file__).resolve().parents[1] / "include" / "sample"


def train_demo(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("govflow_sample_train", SAMPLE / "train_model.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return Path(module.train(out)["artifact"])


def make_eval(rows: int, seed: int) -> pd.DataFrame:
    adult = pd.read_csv(SAMPLE / "adult" / "eval.csv")
    frame = adult.sample(n=rows, replace=True, random_state=seed).reset_index(drop=True)
    for column in ("workclass", "occupation", "native-country"):  # as the training script feeds the model
        frame[column] = frame[column].fillna("missing")
    frame["income"] = (frame["income"] == ">50K").astype(np.int64)
    return frame


def naive_importance(
    model,
    frame: pd.DataFrame,
    n_repeats: int,  # type: ignore[no-untyped-def]
    seed: int,
) -> dict[str, dict[str, float]]:
    """The same computation without bounds: one permutation_importance run on every row, scored per group.

    Scored like the explanation (agreement with the model's own predictions), so an
    importance is the share of predictions that change when a feature is shuffled.
    """
    from sklearn.inspection import permutation_importance

    features = list(model.feature_names_in_)
    x = frame[features]
    baseline = model.predict(x)
    groups = {
        "overall": np.ones(len(frame), dtype=bool),
        **{g: (frame["sex"] == g).to_numpy() for g in sorted(frame["sex"].unique())},
    }

    def score(estimator, data, rows):  # type: ignore[no-untyped-def]
        same = estimator.predict(data) == baseline[rows]
        return {name: float(np.mean(same[mask[rows]])) for name, mask in groups.items()}

    result = permutation_importance(
        model, x, np.arange(len(x)), scoring=score, n_repeats=n_repeats, random_state=seed
    )
    return {name: dict(zip(features, result[name].importances_mean.tolist(), strict=True)) for name in groups}


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-naive", action="store_true", help="skip the unbounded permutation-importance baseline"
    )
    args = parser.parse_args()

    import joblib

    from govflow.checks.explain import explain_model
    from govflow.checks.fairness import evaluate_fairness

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        artifact = train_demo(folder / "demo")
        frame = make_eval(args.rows, args.seed)
        data = folder / "eval.csv"
        frame.to_csv(data, index=False)
        fairness_options = {"label": "income", "sensitive": ["sex"], "model_path": artifact}
        explain_options = {"model_path": artifact, "label": "income", "sensitive": "sex"}
        # Warm up imports on a small frame, not timed.
        evaluate_fairness(frame.iloc[:2000], **fairness_options)
        explain_model(frame.iloc[:2000], **explain_options)

        fairness, fairness_s = timed(evaluate_fairness, data, **fairness_options)
        assert fairness.status != "error", fairness.errors
        explanation, explain_s = timed(explain_model, data, **explain_options)
        _, fairness_mem_s = timed(evaluate_fairness, frame, **fairness_options)
        _, explain_mem_s = timed(explain_model, frame, **explain_options)

        print(
            f"rows: {args.rows:,} (UCI Adult eval resampled, seed {args.seed}); groups: "
            f"{explanation['groups']['sizes']}; explanation used {explanation['sample']['note']}, "
            f"{explanation['feature_importance']['rows']} rows x "
            f"{explanation['feature_importance']['n_repeats']} "
            "repeats for importance"
        )
        print(f"fairness check (model artifact, CSV):   {fairness_s:8.3f} s")
        print(
            f"explanation (CSV):                      {explain_s:8.3f} s   "
            f"ratio {explain_s / fairness_s:.1f}x"
        )
        print(f"fairness check (in-memory frame):       {fairness_mem_s:8.3f} s")
        print(
            f"explanation (in-memory frame):          {explain_mem_s:8.3f} s   "
            f"ratio {explain_mem_s / fairness_mem_s:.1f}x"
        )
        print(
            f"strong proxies: {explanation['summary']['strong_proxies']}; "
            f"top features: {explanation['summary']['top_features']}"
        )

        if args.no_naive:
            return
        model = joblib.load(artifact)
        full, naive_s = timed(
            naive_importance, model, frame, explanation["feature_importance"]["n_repeats"], args.seed
        )
        importance = explanation["feature_importance"]
        ours = {"overall": {r["feature"]: r["prediction_change"] for r in importance["overall"]}}
        ours.update(
            {
                g: {r["feature"]: r["prediction_change"] for r in v["features"]}
                for g, v in importance["by_group"].items()
            }
        )
        print(
            f"naive: permutation_importance on all {args.rows:,} rows, scored per group: {naive_s:8.3f} s   "
            f"(the explanation, with everything else, is {naive_s / explain_mem_s:.1f}x faster)"
        )
        for name, values in full.items():
            top_full = sorted(values, key=lambda f: -values[f])[:3]
            top_ours = sorted(ours[name], key=lambda f: -ours[name][f])[:3]
            diff = max(abs(values[f] - ours[name][f]) for f in values)
            print(
                f"  {name:<8} top-3 all rows {top_full}  bounded sample {top_ours}  "
                f"largest importance difference {diff:.4f}"
            )


if __name__ == "__main__":
    main()
