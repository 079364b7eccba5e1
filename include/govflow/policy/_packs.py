"""Rule packs: sector and regional rules as policy code, each obligation citing its source article.

A pack (``govflow/data/packs/*.yaml``) applies to a model when its ``applies``
matches: any listed sector, any listed region and any listed tier (an empty list
matches everything). Its obligations name the checks and document sections that
evidence them. Optional blocks carry a sector's own rules: ``bias_audit`` (a
hiring tool's impact-ratio audit), ``independence`` (model risk management's
independent validation) and ``pii`` (identifiers that must not appear).
Strict like the policy: an unknown key is an error.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
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
    intersectional: bool = True
    min_share: float = Field(default=0.02, ge=0.0, le=1.0)
    cadence_days: int = Field(default=365, ge=1)
    published_summary_fields: list[str] = Field(min_length=1)


class Independence(_Strict):
    reviewer_outside_owner_team: bool = True
    validation_every_days: int = Field(default=365, ge=1)
    challenge_notes_required: bool = True


class PackPii(_Strict):
    forbidden_entities: list[str] = Field(min_length=1)

    def model_post_init(self, _context: object) -> None:
        _entity_names(self.forbidden_entities)


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
