"""Validation benchmark: govflow's validate_table beside a plain Great Expectations 1.x run.

Both validate the same in-memory frame (the UCI Adult eval sample resampled to
ROWS rows, with known injected faults) against the reviewed suite
include/govflow/data/suites/adult.yaml. Prints both times, their ratio, and whether every
expectation got the same verdict and unexpected count. govflow adds suite
checks, PII withholding and evidence shaping around the same GX call, so the
ratio should stay close to 1.

Run: ``python bench/validation_bench.py [ROWS]`` (default 1,000,000).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "include" / "govflow" / "data" / "suites" / "adult.yaml"
SAMPLE = ROOT / "include" / "sample" / "adult" / "eval.csv"
AGE_FAULTS = 1_000
SEX_FAULTS = 250


def make_frame(rows: int):
    import numpy as np
    import pandas as pd

    base = pd.read_csv(SAMPLE)
    frame = base.sample(n=rows, replace=True, random_state=7).reset_index(drop=True)
    rng = np.random.default_rng(7)
    faulty = rng.choice(rows, size=AGE_FAULTS + SEX_FAULTS, replace=False)
    frame.loc[faulty[:AGE_FAULTS], "age"] = 150
    frame.loc[faulty[AGE_FAULTS:], "sex"] = "Unknown"
    return frame


def plain_gx(frame):
    """What a user would write with GX 1.x directly (progress bars off, as in govflow)."""
    import great_expectations as gx
    import yaml
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    document = yaml.safe_load(SUITE.read_text())
    context = gx.get_context(
        mode="ephemeral",
        project_config=DataContextConfig(
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            store_backend_defaults=InMemoryStoreBackendDefaults(),
        ),
    )
    batch = (
        context.data_sources.add_pandas("p")
        .add_dataframe_asset("t")
        .add_batch_definition_whole_dataframe("b")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(
        name="adult",
        expectations=[
            ExpectationConfiguration(type=e["type"], kwargs=e["kwargs"]).to_domain_obj()
            for e in document["expectations"]
        ],
    )
    result = batch.validate(suite)
    return sorted(
        (
            r.expectation_config.type,
            str(r.expectation_config.kwargs.get("column")),
            r.success,
            r.result.get("unexpected_count"),
        )
        for r in result.results
    )


def main() -> int:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    frame = make_frame(rows)
    import great_expectations  # noqa: F401 - import once, outside both timings

    from govflow.checks.validation import load_suite, validate_table

    started = time.perf_counter()
    naive = plain_gx(frame)
    naive_s = time.perf_counter() - started

    started = time.perf_counter()
    result = validate_table(frame, SUITE)
    govflow_s = time.perf_counter() - started

    specs = load_suite(SUITE).expectations
    ours = sorted(
        (e["type"], str(e["column"]), e["success"], e["unexpected_count"])
        for e in result.details["expectations"]
    )
    same = ours == naive
    failed = {
        (e["type"], e["column"]): e["unexpected_count"]
        for e in result.details["expectations"]
        if not e["success"]
    }
    print(f"rows={rows:,} expectations={len(specs)}")
    print(f"plain GX 1.x batch.validate   {naive_s:8.2f} s")
    print(f"govflow validate_table        {govflow_s:8.2f} s")
    print(f"ratio govflow / plain GX      {govflow_s / naive_s:8.2f} x")
    print(f"same verdicts and unexpected counts: {same}")
    print(f"status={result.status} failed={failed}")
    expected = {
        ("expect_column_values_to_be_between", "age"): AGE_FAULTS,
        ("expect_column_values_to_be_in_set", "sex"): SEX_FAULTS,
    }
    print(f"injected faults found exactly: {failed == expected}")
    return 0 if same and failed == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
