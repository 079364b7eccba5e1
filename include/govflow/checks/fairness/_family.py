"""The fairness family: disparities between sensitive groups, and the explanation riding in its evidence."""

from __future__ import annotations

from pathlib import Path

from govflow.checks.fairness import _mitigation_view as mitigation
from govflow.checks.fairness import _runner as runner
from govflow.checks.fairness import _view as view
from govflow.checks.fairness._bom import bom_part
from govflow.checks.family import CheckFamily, DocPart, FactPart
from govflow.checks.running import Pipeline

FAMILY = CheckFamily(
    name="fairness",
    pipeline=Pipeline(
        run=runner.run,
        registered=runner.data_file,
        also_reads=("artifact",),
        gate=True,
        nightly=True,
        heavy=True,
        on_batch=runner.on_batch,
    ),
    thresholds="fairness",
    summary_sentence=view.summary_sentence,
    log_keys=(
        "demographic_parity_difference",
        "equalized_odds_difference",
        "insufficient_groups",
        "strong_proxies",
        "rows",
    ),
    fix_inputs=(
        "register held-out data with labels and predictions: submit --eval-data FILE --label COL "
        "--prediction COL --sensitive COL [--positive-label VALUE]"
    ),
    fix_failed=view.failed_fix,
    views=view.document_views,
    page_view=view.page_view,
    caveats=view.caveats,
    caveat_rank=10,
    facts=(
        FactPart(section="fairness", build=view.section_facts),
        FactPart(section="accuracy_robustness", build=view.per_group_accuracy, before="robustness"),
    ),
    parts=(
        DocPart("model_card.factors", 10, "model_card.factors"),
        DocPart("model_card.metrics", 10, "thresholds"),
        DocPart("model_card.quantitative", 10, "model_card.quantitative"),
        DocPart("model_card.quantitative", 30, "model_card.explanation"),
        DocPart("model_card.quantitative", 40, "model_card.mitigation"),
        DocPart("annex_iv.groups", 10, "annex_iv.groups"),
        DocPart("annex_iv.metrics", 10, "thresholds"),
    ),
    charts=view.charts,
    diff_rows=view.diff_rows,
    bom=bom_part,
    bom_details=True,
    templates=Path(__file__).resolve().parent / "templates",
    attachments=mitigation.attachments,
)
