"""A held-out case: UCI German Credit (bundled), sex from ``status_sex``, a known disparity.

A logistic regression trained on the first 400 applicants, evaluated on the
other 600: its equalized-odds difference between women and men is over the
high tier's limit on the held-out half of the evaluation rows; govflow's
``mitigate`` with ThresholdOptimizer (equalized odds) brings it within the
limit, and every number equals Fairlearn's own ThresholdOptimizer fitted and
scored on the same split.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference
from fairlearn.postprocessing import ThresholdOptimizer
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from govflow.checks.fairness.mitigation import mitigate, split_rows
from govflow.policy import load_policy

GERMAN = Path(__file__).resolve().parents[2] / "include" / "sample" / "german" / "german.csv"
FEMALE = ("A92", "A95")  # status_sex codes of women (values_maps: "female : ...")
SEED = 0


@pytest.fixture(scope="module")
def german() -> tuple[pd.DataFrame, object, list[str]]:
    frame = pd.read_csv(GERMAN)
    frame["good"] = (frame["credit"] == 1).astype(int)  # 1 good, 2 bad in the original coding
    frame["sex"] = np.where(frame["status_sex"].isin(FEMALE), "female", "male")
    categorical = [c for c in frame.columns if frame[c].dtype == object and c != "sex"]
    numeric = [c for c in frame.columns if frame[c].dtype != object and c not in ("credit", "good")]
    features = categorical + numeric
    encode = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), categorical), ("num", StandardScaler(), numeric)]
    )
    train = frame.iloc[:400]
    model = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(train[features], train["good"])
    return frame.iloc[400:].reset_index(drop=True), model, features


def test_threshold_mitigation_brings_germans_disparity_within_the_policy_like_fairlearn(german) -> None:  # type: ignore[no-untyped-def]
    frame, model, features = german
    limit = load_policy().tier("high").fairness.max_equalized_odds_difference
    assert limit is not None
    result = mitigate(
        frame, model=model, label="good", sensitive=["sex"], positive_label=1, methods=["threshold"],
        constraint="equalized_odds", limits={"equalized_odds_difference": limit}, bootstrap=0,
        random_state=SEED,
    )  # fmt: skip
    ev = result.evidence
    (candidate,) = ev["candidates"]
    assert ev["baseline"]["disparity"] > limit >= candidate["disparity"]
    assert ev["recommendation"]["candidate"] == candidate["name"] and ev["recommendation"]["within_limit"]

    # Fairlearn directly, on the same split.
    y = frame["good"].to_numpy()
    groups = frame["sex"].to_numpy(dtype=object)
    fit, held = split_rows(y, groups, regression=False, held_out=0.5, seed=SEED)
    x = frame[features]
    direct = ThresholdOptimizer(
        estimator=model, constraints="equalized_odds", prefit=True, predict_method="predict_proba"
    ).fit(x.iloc[fit], y[fit], sensitive_features=groups[fit])
    predicted = direct.predict(x.iloc[held], sensitive_features=groups[held], random_state=SEED)
    before = model.predict(x.iloc[held])
    assert ev["split"]["held_out_rows"] == len(held) == 300
    assert candidate["disparity"] == round(
        equalized_odds_difference(y[held], predicted, sensitive_features=groups[held]), 4
    )
    assert candidate["primary_metric"] == round(accuracy_score(y[held], predicted), 4)
    assert ev["baseline"]["disparity"] == round(
        equalized_odds_difference(y[held], before, sensitive_features=groups[held]), 4
    )
    assert ev["baseline"]["primary_metric"] == round(accuracy_score(y[held], before), 4)
    print("german", ev["baseline"]["disparity"], ev["baseline"]["primary_metric"], candidate)
