"""The drift family: current data against the reference data, column by column."""

from __future__ import annotations

from pathlib import Path

from govflow.checks.drift import _runner as runner
from govflow.checks.drift import _view as view
from govflow.checks.family import CheckFamily, DocPart, FactPart
from govflow.checks.running import Pipeline

FAMILY = CheckFamily(
    name="drift",
    pipeline=Pipeline(
        run=runner.run,
        registered=runner.data_file,
        also_reads=("reference_data", "training_data"),
        gate=True,
        nightly=True,
    ),
    thresholds="drift",
    summary_sentence=view.summary_sentence,
    log_keys=("share_drifted", "drifted_columns"),
    fix_inputs=(
        "register --eval-data (drift compares it with --reference-data, which defaults to the training data)"
    ),
    fix_failed=(
        "retrain on current data, or register a --reference-data that matches what the model will meet"
    ),
    views=view.document_views,
    page_view=view.page_view,
    caveats=view.caveats,
    caveat_rank=20,
    facts=(
        FactPart(section="accuracy_robustness", build=view.drift_check_fact, before="robustness"),
        FactPart(section="monitoring", build=view.drift_history, before="recipients"),
    ),
    parts=(
        DocPart("model_card.quantitative", 40, "model_card.quantitative"),
        DocPart("annex_iv.groups", 20, "annex_iv.groups"),
    ),
    charts=view.charts,
    diff_rows=view.diff_rows,
    templates=Path(__file__).resolve().parent / "templates",
)
