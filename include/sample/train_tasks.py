"""Train the bundled regression and multiclass sample models, the way a training job would.

    python include/sample/train_tasks.py --task regression|multiclass --out OUT [--baseline]

regression  scikit-learn's bundled diabetes data (442 patients; the target is a
            disease-progression score one year on); a Ridge regression;
            sensitive feature ``sex`` (coded 1/2 in the data, kept as ``sex_1``/``sex_2``).
multiclass  a seeded synthetic emergency-triage table (``routine``, ``urgent``,
            ``emergency``) from vital signs; a multinomial logistic regression;
            sensitive features ``sex`` and ``age_band``. The label depends on
            the vitals only, and the recorded heart rate of one group is
            shifted (a measurement bias), so the model's errors differ by group.

Writes into OUT: ``model.skops`` (skops: loads without running code from the
file), ``train.csv``, ``eval.csv`` (inputs, label, sensitive columns; the gate
scores the model on it), ``eval_scored.csv`` (plus a ``prediction`` column)
and ``metrics.json``; prints one JSON object with the paths, the metrics and
the ``params.governance`` block to submit with. Everything is seeded: the same
call writes the same files. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SEED = 11
TRIAGE = ("routine", "urgent", "emergency")


def diabetes_frame() -> Any:
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(scaled=False, as_frame=True).frame
    frame["sex"] = frame["sex"].map(lambda v: f"sex_{int(v)}")
    return frame.rename(columns={"target": "progression"})


def triage_frame(rows: int = 4000, seed: int = SEED) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, rows)
    sex = rng.choice(["female", "male"], rows)
    heart_rate = rng.normal(85, 18, rows)
    temperature = rng.normal(37.2, 0.8, rows)
    oxygen = np.clip(rng.normal(96, 2.5, rows), 80, 100)
    severity = (
        0.04 * (heart_rate - 85) + 1.2 * (temperature - 37.2) - 0.5 * (oxygen - 96) + 0.02 * (age - 50)
    ) + rng.normal(0, 0.6, rows)
    label = np.digitize(severity, [0.4, 1.6])
    # Measurement bias: one group's recorded heart rate reads low, so its urgency is under-estimated.
    recorded = heart_rate - np.where(sex == "female", 8.0, 0.0)
    return pd.DataFrame(
        {
            "age": age,
            "age_band": np.where(age < 40, "18-39", np.where(age < 65, "40-64", "65+")),
            "sex": sex,
            "heart_rate": recorded.round(1),
            "temperature": temperature.round(2),
            "oxygen_saturation": oxygen.round(1),
            "triage": np.asarray(TRIAGE, dtype=object)[label],
        }
    )


def train(out: Path, *, task: str, baseline: bool = False) -> dict[str, Any]:
    """``baseline``: a naive model (the mean, or the most frequent class) with the same inputs:
    a challenger worse than the real model, for champion-vs-challenger runs."""
    import skops.io
    from sklearn.compose import make_column_transformer
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        mean_absolute_error,
        r2_score,
        root_mean_squared_error,
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out.mkdir(parents=True, exist_ok=True)
    if task == "regression":
        frame, label, sensitive = diabetes_frame(), "progression", ["sex"]
        numeric = ["age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
        categorical = ["sex"]
        estimator: Any = DummyRegressor() if baseline else Ridge(alpha=1.0)
    elif task == "multiclass":
        frame, label, sensitive = triage_frame(), "triage", ["sex", "age_band"]
        numeric = ["age", "heart_rate", "temperature", "oxygen_saturation"]
        categorical = ["sex"]
        estimator = (
            DummyClassifier(strategy="most_frequent")
            if baseline
            else LogisticRegression(max_iter=2000, random_state=SEED)
        )
    else:
        raise SystemExit(f"unknown task {task!r}: choose regression or multiclass")
    split = int(len(frame) * 0.65)
    train_df, eval_df = frame.iloc[:split].reset_index(drop=True), frame.iloc[split:].reset_index(drop=True)
    features = numeric + categorical
    model = make_pipeline(
        make_column_transformer(
            (StandardScaler(), numeric), (OneHotEncoder(handle_unknown="ignore"), categorical)
        ),
        estimator,
    )
    model.fit(train_df[features], train_df[label])
    predicted = model.predict(eval_df[features])
    if task == "regression":
        metrics = {
            "mean_absolute_error": round(float(mean_absolute_error(eval_df[label], predicted)), 4),
            "root_mean_squared_error": round(float(root_mean_squared_error(eval_df[label], predicted)), 4),
            "r2": round(float(r2_score(eval_df[label], predicted)), 4),
        }
    else:
        metrics = {
            "accuracy": round(float(accuracy_score(eval_df[label], predicted)), 4),
            "macro_f1": round(float(f1_score(eval_df[label], predicted, average="macro")), 4),
        }
    paths = {
        "artifact": out / "model.skops",
        "training_data": out / "train.csv",
        "reference_data": out / "train.csv",
        "eval_data": out / "eval.csv",
        "eval_scored": out / "eval_scored.csv",
        "metrics_file": out / "metrics.json",
    }
    skops.io.dump(model, paths["artifact"])
    train_df.to_csv(paths["training_data"], index=False)
    eval_df.to_csv(paths["eval_data"], index=False)
    eval_df.assign(prediction=predicted).to_csv(paths["eval_scored"], index=False)
    paths["metrics_file"].write_text(json.dumps(metrics, indent=2) + "\n")
    return {
        **{k: str(v) for k, v in paths.items()},
        "metrics": metrics,
        "params": {"algorithm": type(estimator).__name__, "random_state": SEED, "features": features},
        "governance": {"label": label, "sensitive": sensitive, "task": task},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=["regression", "multiclass"])
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--baseline", action="store_true", help="a naive model (mean / most frequent class)")
    args = parser.parse_args(argv)
    json.dump(train(args.out, task=args.task, baseline=args.baseline), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
