"""The PII family: personal data in every column, judged against the entities the policy allows."""

from __future__ import annotations

from pathlib import Path

from govflow.checks.family import CheckFamily, DocPart, FactPart
from govflow.checks.pii import _runner as runner
from govflow.checks.pii import _view as view
from govflow.checks.running import Pipeline

FAMILY = CheckFamily(
    name="pii",
    pipeline=Pipeline(run=runner.run, registered=runner.data_file, gate=True, nightly=True, heavy=True),
    thresholds="pii",
    summary_sentence=view.summary_sentence,
    log_keys=("rows", "columns_with_pii", "entities_not_allowed"),
    fix_inputs="register the training data (submit --training-data FILE)",
    fix_failed=(
        "drop or mask the personal-data columns named in the evidence and submit a new version, "
        "or change the policy's allowed entities for the model's regions"
    ),
    views=view.document_views,
    page_view=view.page_view,
    caveats=view.caveats,
    caveat_rank=40,
    facts=(FactPart(section="data_governance", build=view.data_governance_facts, before="data_hashes"),),
    parts=(
        DocPart("annex_iv.data", 20, "annex_iv.data"),
        DocPart("model_card.quantitative", 50, "model_card.quantitative"),
    ),
    diff_rows=view.diff_rows,
    templates=Path(__file__).resolve().parent / "templates",
)
