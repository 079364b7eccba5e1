"""The validation family: the data against an expectation suite (Great Expectations)."""

from __future__ import annotations

from pathlib import Path

from govflow.checks.family import CheckFamily, DocPart, FactPart
from govflow.checks.running import Pipeline
from govflow.checks.validation import _runner as runner
from govflow.checks.validation import _view as view

FAMILY = CheckFamily(
    name="validation",
    pipeline=Pipeline(run=runner.run, registered=runner.data_file, also_reads=("reference_data",), gate=True),
    summary_sentence=view.summary_sentence,
    log_keys=("evaluated", "failed", "rows"),
    fix_inputs="give an expectation suite (submit --suite FILE) or --reference-data to infer one from",
    fix_failed=(
        "fix the data so the failed expectations hold (listed in the evidence) and submit a new version"
    ),
    views=view.document_views,
    page_view=view.page_view,
    caveats=view.caveats,
    caveat_rank=30,
    facts=(FactPart(section="training_data", build=view.validation_fact, before="training_data"),),
    parts=(DocPart("annex_iv.data", 10, "annex_iv.data"),),
    templates=Path(__file__).resolve().parent / "templates",
)
