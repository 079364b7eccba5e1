"""Train the bundled sample model (UCI Adult income classifier), the way a training job would.

    python include/sample/train_model.py --out OUT [--mitigate] [--batches N]

Writes into OUT:
  model.skops       the fitted scikit-learn pipeline (or the fairness-mitigated wrapper), saved
                    with skops: it loads without running code from the file (no pickle)
  eval_scored.csv   the eval data plus the model's `prediction` and `score` columns
                    (what govflow's fairness and performance checks read)
  metrics.json      accuracy, ROC AUC, precision, recall, F1 on the eval data
  batches/          N "production" data batches, labeled and scored, for nightly re-checks
and, under the names the README's per-tier `govflow submit` blocks use (run them inside OUT):
  train.csv, reference.csv  the training data (the drift baseline is the training data)
  eval.csv          the scored eval data (the same rows as eval_scored.csv)
  suite.yaml        the expectation suite of the data; notes.yaml the documentation notes
  params.json       the training parameters
and prints one JSON object with those paths and the metrics.

`--mitigate` post-processes the classifier with Fairlearn's ThresholdOptimizer
(equalized odds across `sex`), the usual fix when the plain model fails the
fairness check. Everything is seeded: the same input gives the same files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABEL = "income"
POSITIVE = ">50K"
NEGATIVE = "<=50K"
SENSITIVE = "sex"
CATEGORICAL = ["workclass", "education", "marital-status", "occupation", "relationship", "native-country"]
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
SEED = 7


def train(
    out: Path,
    *,
    mitigate: bool = False,
    batches: int = 1,
    train_csv: Path = HERE / "adult" / "train.csv",
    eval_csv: Path = HERE / "adult" / "eval.csv",
) -> dict:
    import pandas as pd
    import skops.io
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    out.mkdir(parents=True, exist_ok=True)
    train_df = pd.read_csv(train_csv)
    eval_df = pd.read_csv(eval_csv)
    x_train, x_eval = _features(train_df), _features(eval_df)
    y_train = (train_df[LABEL] == POSITIVE).astype(int)
    y_eval = (eval_df[LABEL] == POSITIVE).astype(int)

    features = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL), (StandardScaler(), NUMERIC)
    )
    classifier = make_pipeline(features, LogisticRegression(max_iter=2000, random_state=SEED))
    classifier.fit(x_train, y_train)
    scores = classifier.predict_proba(x_eval)[:, 1]

    model = classifier
    if mitigate:
        from fairlearn.postprocessing import ThresholdOptimizer

        model = ThresholdOptimizer(
            estimator=classifier, constraints="equalized_odds", prefit=True, predict_method="predict_proba"
        )
        model.fit(x_train, y_train, sensitive_features=train_df[SENSITIVE])
        predicted = model.predict(x_eval, sensitive_features=eval_df[SENSITIVE], random_state=SEED)
    else:
        predicted = (scores >= 0.5).astype(int)

    metrics = {
        "accuracy": round(float(accuracy_score(y_eval, predicted)), 4),
        "roc_auc": round(float(roc_auc_score(y_eval, scores)), 4),
        "precision": round(float(precision_score(y_eval, predicted)), 4),
        "recall": round(float(recall_score(y_eval, predicted)), 4),
        "f1": round(float(f1_score(y_eval, predicted)), 4),
    }
    scored = eval_df.assign(
        prediction=[POSITIVE if p else NEGATIVE for p in predicted], score=scores.round(6)
    )

    paths = {
        "artifact": out / "model.skops",
        "training_data": Path(train_csv).resolve(),
        "reference_data": Path(train_csv).resolve(),
        "eval_data": out / "eval_scored.csv",
        "metrics_file": out / "metrics.json",
        "batches": out / "batches",
    }
    params = {
        "algorithm": "LogisticRegression"
        + (" + Fairlearn ThresholdOptimizer (equalized_odds on sex)" if mitigate else ""),
        "max_iter": 2000,
        "random_state": SEED,
        "threshold": "optimized per group" if mitigate else 0.5,
        "categorical_features": CATEGORICAL,
        "numeric_features": NUMERIC,
    }
    skops.io.dump(_portable(model), paths["artifact"])
    scored.to_csv(paths["eval_data"], index=False)
    paths["metrics_file"].write_text(json.dumps(metrics, indent=2) + "\n")
    paths["batches"].mkdir(exist_ok=True)
    # Production batches: slices of the scored eval data, as a serving log would hold them.
    size = max(1, len(scored) // max(1, batches))
    for index in range(batches):
        part = scored.iloc[index * size : (index + 1) * size]
        part.to_csv(paths["batches"] / f"batch-{index + 1:04d}.csv", index=False)
    _job_folder(out, train_csv=Path(train_csv), eval_scored=paths["eval_data"], params=params)
    return {
        **{k: str(v) for k, v in paths.items()},
        "metrics": metrics,
        "params": params,
        "notes": str(HERE / "adult_notes.yaml"),
        "suite": str(HERE.parent / "govflow" / "data" / "suites" / "adult.yaml"),
        "mitigated": mitigate,
        "label": LABEL,
        "positive_label": POSITIVE,
        "prediction": "prediction",
        "score": "score",
        "sensitive": [SENSITIVE],
    }


def _job_folder(out: Path, *, train_csv: Path, eval_scored: Path, params: dict) -> None:
    """The files a training job hands `govflow submit`, named as in the README's per-tier blocks."""
    import shutil

    shutil.copyfile(train_csv, out / "train.csv")
    shutil.copyfile(train_csv, out / "reference.csv")
    shutil.copyfile(eval_scored, out / "eval.csv")
    shutil.copyfile(HERE.parent / "govflow" / "data" / "suites" / "adult.yaml", out / "suite.yaml")
    shutil.copyfile(HERE / "adult_notes.yaml", out / "notes.yaml")
    (out / "params.json").write_text(json.dumps(params, indent=2) + "\n")


def _portable(model):  # type: ignore[no-untyped-def]
    """The model without fitting-only pandas state skops cannot store (ThresholdOptimizer keeps its
    trade-off curves, used for plotting, as DataFrames); predictions are unchanged."""
    for name in ("_tradeoff_curve", "_overall_tradeoff_curve"):
        if hasattr(model, name):
            delattr(model, name)
    if hasattr(model, "_y_min"):
        model._y_min = None
    return model


def _features(frame):  # type: ignore[no-untyped-def]
    # Missing categories (empty fields) become their own category.
    data = frame[CATEGORICAL + NUMERIC].copy()
    data[CATEGORICAL] = data[CATEGORICAL].fillna("missing")
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--mitigate", action="store_true", help="equalized-odds post-processing (Fairlearn)")
    parser.add_argument("--batches", type=int, default=1, help="production data batches to write")
    args = parser.parse_args(argv)
    result = train(args.out, mitigate=args.mitigate, batches=args.batches)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
