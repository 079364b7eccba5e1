"""Rule packs: sector and regional rules as policy code, each obligation citing its source article.

A pack (``govflow/data/packs/*.yaml``) applies to a model when its ``applies``
matches: any listed sector, any listed region and any listed tier (an empty list
matches everything). Its obligations name the checks and document sections that
evidence them. Optional blocks carry a sector's own rules: ``bias_audit`` (a
hiring tool's impact-ratio audit: its categories, intersections and cadence), ``independence``
(model risk management's independent validation, its cadence and recorded challenge) and ``pii``
(identifiers that must not appear). Each block's ``gaps`` says, as a pure function of the
evidence it is given, what the obligation it evidences still lacks.
Strict like the policy: an unknown key is an error.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Sequence
from pathlib import Path

import yaml
from pydantic import Field, ValidationError

from govflow import data
from govflow.errors import PolicyError
from govflow.policy._strict import Strict as _Strict
from govflow.policy._strict import entity_names as _entity_names
from govflow.vocab import PolicyCheck


class Applies(_Strict):
    sectors: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)


class Obligation(_Strict):
    id: str = Field(min_length=1)
    article: str = Field(min_length=1)  # the source's own citation, e.g. "Art. 9" or "§ 5-301(b)"
    title: str = Field(min_length=1)
    checks: list[PolicyCheck] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)


class BiasAudit(_Strict):
    categories: list[str] = Field(min_length=1)
    # The column names that audit a category (default: the category's name and its ``_`` parts,
    # so ``race_ethnicity`` is audited by a ``race``, ``ethnicity`` or ``race_ethnicity`` column).
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    intersectional: bool = True
    min_share: float = Field(default=0.02, ge=0.0, le=1.0)
    cadence_days: int = Field(default=365, ge=1)
    published_summary_fields: list[str] = Field(min_length=1)
    obligation: str = "bias_audit"  # the obligation whose evidence this block adds to

    def columns_for(self, category: str) -> set[str]:
        names = self.aliases.get(category) or [category, *category.split("_")]
        return {n.casefold() for n in names}

    def gaps(self, *, features: Sequence[str], audited_at: dt.datetime | None, now: dt.datetime) -> list[str]:
        """What the latest fairness audit (on ``features``, at ``audited_at``) lacks at ``now``:
        a category no sensitive feature audits, their intersection, an audit older than the cadence."""
        if audited_at is None:
            return []  # no fairness result: the obligation's check is already missing
        have = {f.casefold() for f in features}
        uncovered = [c for c in self.categories if not self.columns_for(c) & have]
        missing = [
            f"category {c} (no sensitive feature {'/'.join(sorted(self.columns_for(c)))})" for c in uncovered
        ]
        if self.intersectional and len(self.categories) > 1 and uncovered:
            missing.append(f"intersectional categories ({' x '.join(self.categories)})")
        due = audited_at + dt.timedelta(days=self.cadence_days)
        if now > due:
            missing.append(
                f"an audit within {self.cadence_days} days (last on {audited_at.date().isoformat()}, "
                f"due {due.date().isoformat()})"
            )
        return missing


class Independence(_Strict):
    reviewer_outside_owner_team: bool = True
    validation_every_days: int = Field(default=365, ge=1)
    challenge_notes_required: bool = True
    validation_obligation: str = "validation"  # the obligations whose evidence this block adds to
    challenge_obligation: str = "effective_challenge"

    def gaps(
        self, *, validations: Sequence[tuple[dt.datetime, str]], now: dt.datetime
    ) -> dict[str, list[str]]:
        """Per obligation, what the independent approvals (``(when, comment)`` of approvals by
        reviewers outside the owner's team) lack at ``now``: one at all, one within the cadence, a
        recorded challenge (a comment) where the pack requires it."""
        gaps: dict[str, list[str]] = {self.validation_obligation: [], self.challenge_obligation: []}
        if not validations:
            gaps[self.validation_obligation].append("an approval by a reviewer outside the owner's team")
        else:
            last = max(when for when, _ in validations)
            if now - last > dt.timedelta(days=self.validation_every_days):
                gaps[self.validation_obligation].append(
                    f"a validation within {self.validation_every_days} days "
                    f"(last on {last.date().isoformat()})"
                )
        if self.challenge_notes_required and not any(note.strip() for _, note in validations):
            gaps[self.challenge_obligation].append("challenge notes (an independent approval's comment)")
        return gaps


class PackPii(_Strict):
    forbidden_entities: list[str] = Field(min_length=1)
    obligation: str = "safe_harbor"  # the obligation whose evidence this block adds to

    def model_post_init(self, _context: object) -> None:
        _entity_names(self.forbidden_entities)

    def gaps(self, *, detected: Collection[str]) -> list[str]:
        """The forbidden identifiers no recognizer of the scan (``detected``) reports: a passing PII
        check says nothing about them until the policy adds custom recognizers for them."""
        undetected = sorted(set(self.forbidden_entities) - set(detected))
        if not undetected:
            return []
        return [f"a recognizer for {', '.join(undetected)} (none detects them: add custom_recognizers)"]


class Pack(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    source: str = Field(min_length=1)
    applies: Applies = Field(default_factory=Applies)
    obligations: list[Obligation] = Field(default_factory=list)
    bias_audit: BiasAudit | None = None
    independence: Independence | None = None
    pii: PackPii | None = None

    def applies_to(self, *, sector: str | None, regions: Sequence[str], tier: str | None) -> bool:
        """Whether the pack covers this model (a ``tier`` of None: any tier)."""

        def hit(wanted: list[str], have: Sequence[str]) -> bool:
            return not wanted or bool({w.casefold() for w in wanted} & {h.casefold() for h in have})

        return (
            hit(self.applies.sectors, [sector] if sector else [])
            and hit(self.applies.regions, regions)
            and (tier is None or hit(self.applies.tiers, [tier]))
        )


def load_packs(folder: Path | None = None) -> list[Pack]:
    """Every bundled pack (sorted by id); a bad pack is refused with its file and field."""
    if folder is None:
        return list(_bundled())
    return _load(folder)


@functools.cache
def _bundled() -> tuple[Pack, ...]:
    # Read once per process: the gate asks on every decision (500 in a policy impact report).
    return tuple(_load(data.bundled("packs")))


def _load(folder: Path) -> list[Pack]:
    packs = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            packs.append(Pack.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (ValidationError, yaml.YAMLError, ValueError) as err:
            raise PolicyError(f"rule pack {path.name}: {' '.join(str(err).split())}") from err
    return sorted(packs, key=lambda p: p.id)
