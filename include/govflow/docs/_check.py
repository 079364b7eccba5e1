"""The ``documentation`` check: are the sections the policy requires for the tier complete?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govflow.checks import CheckResult, library_versions
from govflow.docs._sections import SECTIONS

CHECK = "documentation"


def documentation_check(context: Mapping[str, Any], required_sections: Sequence[str]) -> CheckResult:
    """``pass`` when every required section is complete, ``fail`` naming the incomplete ones.

    A required id the catalogue does not know can never be documented, so it is an
    ``error`` (a policy/catalogue mismatch to fix), not a silent pass.
    """
    versions = library_versions("jinja2")
    unknown = [sid for sid in required_sections if sid not in SECTIONS]
    if unknown:
        return CheckResult.error(
            CHECK,
            f"unknown documentation section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}",
            library_versions=versions,
        )
    statuses = context["sections"]
    required = list(dict.fromkeys(required_sections))
    incomplete = [sid for sid in required if not statuses[sid].complete]
    scores = {sid: statuses[sid].score for sid in required}
    summary = {
        "required": len(required),
        "complete": len(required) - len(incomplete),
        "incomplete_sections": incomplete,
        "score": round(sum(scores.values()) / len(scores), 4) if scores else 1.0,
        # What to give for each missing fact (the gate's reason repeats it): flags, notes, commands.
        "fixes": _fixes(context.get("facts") or {}, incomplete),
    }
    details = {
        "sections": {sid: status.to_dict() for sid, status in statuses.items()},
        "missing": {sid: list(statuses[sid].missing) for sid in incomplete},
    }
    return CheckResult(
        check=CHECK,
        status="fail" if incomplete else "pass",
        summary=summary,
        details=details,
        library_versions=versions,
    )


def _fixes(facts: Mapping[str, Mapping[str, Any]], sections: Sequence[str]) -> list[str]:
    gaps = [
        f"{fact.label}: {fact.gap}"
        for sid in sections
        for fact in (facts.get(sid) or {}).values()
        if fact.counted and not fact.documented
    ]
    return list(dict.fromkeys(gaps))
