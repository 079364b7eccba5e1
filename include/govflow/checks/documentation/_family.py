"""The documentation family: the model card and Annex IV are complete for the tier's required sections.

Its check is computed by ``govflow.docs`` from the documents themselves; a
failed result's summary lists each missing fact's fix, which the gate passes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govflow.checks.family import RERUN, CheckFamily

INPUTS = "govflow docs check --model M --version V lists every missing fact and its fix"


def failed_fix(summary: Mapping[str, Any]) -> str:
    fixes = list(summary.get("fixes") or ())
    head = "complete the documentation"
    if fixes:
        return f"{head}: " + "; ".join(fixes) + f"; then {RERUN}"
    return f"{head}: {INPUTS}; then {RERUN}"


FAMILY = CheckFamily(
    name="documentation",
    thresholds="documentation",
    log_keys=("complete", "required", "incomplete_sections"),
    fix_inputs=INPUTS,
    fix_failed=failed_fix,
    waivable=False,
    missing_is_caveat=False,
)
