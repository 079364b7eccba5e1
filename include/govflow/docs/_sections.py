"""The documentation sections, their facts, and how complete each section is.

A section is a policy id (``model_details``, ``fairness``...). Each holds
facts; a fact is either documented (a value with its source) or a gap with
the reason it is unknown. Both documents (model card and Annex IV) are built
from the same facts, so a section's completeness does not depend on which
document shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Section ids as the policy names them (tiers.*.documentation.required_sections),
# with the two extra ids govflow adds for Annex IV points 6-8.
SECTIONS: dict[str, str] = {
    "model_details": "Model details",
    "intended_use": "Intended use",
    "training_data": "Training data",
    "evaluation": "Evaluation and testing",
    "fairness": "Fairness across groups",
    "limitations": "Limitations and caveats",
    "risk_management": "Risk management",
    "data_governance": "Data and data governance",
    "human_oversight": "Human oversight",
    "accuracy_robustness": "Accuracy and robustness",
    "monitoring": "Post-market monitoring",
    "transparency": "Transparency",
    "lifecycle": "Changes over the lifecycle",
    "conformity": "Standards and conformity",
}

Source = str  # registry | evidence | policy | gate | notes | audit


@dataclass(frozen=True)
class Fact:
    """One documented value, or a gap that says why it is unknown (never a blank)."""

    key: str
    label: str
    value: Any = None
    source: Source = "registry"
    gap: str | None = None
    # False for facts that come later by design (the gate decision, approvals): shown, as "Pending"
    # when missing, but never counted, or documentation could not be complete before the gate runs.
    counted: bool = True

    @property
    def documented(self) -> bool:
        return self.gap is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "source": self.source,
            "gap": self.gap,
            "documented": self.documented,
            "counted": self.counted,
        }


def fact(key: str, label: str, value: Any, *, source: Source, gap: str, counted: bool = True) -> Fact:
    """A documented fact when ``value`` holds something, else the gap ``gap``."""
    if _is_empty(value):
        return Fact(key=key, label=label, source=source, gap=gap, counted=counted)
    return Fact(key=key, label=label, value=value, source=source, counted=counted)


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (Mapping, Sequence, set, frozenset)):
        return len(value) == 0
    return False


@dataclass(frozen=True)
class SectionStatus:
    id: str
    title: str
    documented: int
    total: int
    missing: tuple[str, ...]
    required: bool

    @property
    def score(self) -> float:
        # A section without facts has nothing documented: it cannot count as complete.
        return round(self.documented / self.total, 4) if self.total else 0.0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.documented == self.total

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": self.score,
            "documented": self.documented,
            "total": self.total,
            "missing": list(self.missing),
            "complete": self.complete,
            "required": self.required,
        }


def section_status(section_id: str, facts: Iterable[Fact], *, required: bool) -> SectionStatus:
    facts = [f for f in facts if f.counted]
    return SectionStatus(
        id=section_id,
        title=SECTIONS.get(section_id, section_id),
        documented=sum(f.documented for f in facts),
        total=len(facts),
        missing=tuple(f.label for f in facts if not f.documented),
        required=required,
    )


def completeness(
    facts: Mapping[str, Mapping[str, Fact]], required: Sequence[str]
) -> dict[str, SectionStatus]:
    """The status of every known section, plus any required id the catalogue does not know (score 0)."""
    wanted = set(required)
    statuses = {
        sid: section_status(sid, facts.get(sid, {}).values(), required=sid in wanted) for sid in SECTIONS
    }
    for sid in required:
        if sid not in statuses:
            statuses[sid] = section_status(sid, (), required=True)
    return statuses
