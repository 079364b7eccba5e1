"""The performance family: metrics against the registered ones, and the candidate against production."""

from __future__ import annotations

from pathlib import Path

from govflow.checks.family import CheckFamily, DocPart
from govflow.checks.performance import _runner as runner
from govflow.checks.performance import _view as view
from govflow.checks.running import Pipeline

FAMILY = CheckFamily(
    name="performance",
    pipeline=Pipeline(
        run=runner.run,
        registered=runner.data_file,
        also_reads=("artifact",),
        gate=True,
        nightly=True,
        on_batch=runner.on_batch,
    ),
    thresholds="performance",
    summary_sentence=view.summary_sentence,
    fix_inputs="register the version's offline --metrics and a labeled batch with predictions",
    fix_failed="retrain or investigate the drop against the registered --metrics",
    views=view.document_views,
    page_view=view.page_view,
    parts=(DocPart("model_card.quantitative", 20, "model_card.quantitative"),),
    templates=Path(__file__).resolve().parent / "templates",
)
