"""The pipeline's drift runner reads Parquet string columns as dictionaries (the fast path) and decides
exactly as on the same data in CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd

from govflow.policy import load_policy
from govflow.service.check_runners import runner
from tests._helpers import version_inputs

run_drift = runner("drift")  # the pipelines' drift runner (the family's, with the service's context)


def test_parquet_and_csv_give_the_same_drift_result(tmp_path):
    rng = np.random.default_rng(0)

    def frame(shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "amount": rng.normal(shift, 1, 3000),
                # (no empty strings: CSV cannot tell them from a missing value, Parquet can)
                "city": rng.choice(["Lyon", "lyon", None, "Paris"], 3000),
                "label": rng.integers(0, 2, 3000),
            }
        )

    reference, current = frame(0.0), frame(0.3)
    for suffix, write in (("parquet", pd.DataFrame.to_parquet), ("csv", pd.DataFrame.to_csv)):
        for name, df in (("reference", reference), ("current", current)):
            write(df, tmp_path / f"{name}.{suffix}", index=False)
    policy = load_policy()
    parquet, csv = (
        run_drift(
            str(tmp_path / f"current.{s}"),
            version_inputs(str(tmp_path / f"reference.{s}"), tier="high", label="label"),
            policy,
        )
        for s in ("parquet", "csv")
    )
    assert parquet.summary["drifted_columns"] == ["amount"]
    assert parquet.summary == csv.summary
    assert parquet.details["columns"]["city"] == csv.details["columns"]["city"]
