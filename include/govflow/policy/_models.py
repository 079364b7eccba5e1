"""The policy schema: pydantic models of the policy YAML (strict: unknown keys are errors).

A typo in a policy must be refused, not silently ignored, so every model
forbids extra keys and every threshold has a range.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from govflow.errors import PolicyError
from govflow.policy._packs import Pack, load_packs
from govflow.policy._strict import Strict as _Strict
from govflow.policy._strict import entity_names as _entity_names
from govflow.vocab import ARTIFACT_FORMATS, RISK_TIERS, ArtifactFormat, AuthMethod, PolicyCheck, Role

# Defaults, typed so the pydantic fields keep their Literal element types.
_REVIEWER_ROLES: tuple[Role, ...] = ("reviewer", "admin")
_DATA_FREE_CHECKS: tuple[PolicyCheck, ...] = ("documentation",)

_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


# --- PII -------------------------------------------------------------------


class RecognizerPattern(_Strict):
    name: str = Field(min_length=1)
    regex: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as err:
            raise ValueError(f"regex does not compile: {err}") from err
        return value


class CustomRecognizer(_Strict):
    """A pattern recognizer the PII check adds to Presidio's registry (name, entity, patterns, context)."""

    name: str = Field(min_length=1)
    entity: str
    patterns: list[RecognizerPattern] = Field(min_length=1)
    context: list[str] = Field(default_factory=list)

    @field_validator("entity")
    @classmethod
    def _entity(cls, value: str) -> str:
        return _entity_names([value])[0]


class PiiRule(_Strict):
    allowed_entities: list[str] = Field(default_factory=list)

    @field_validator("allowed_entities")
    @classmethod
    def _entities(cls, value: list[str]) -> list[str]:
        return _entity_names(value)


class PiiPolicy(_Strict):
    """Which PII entities may appear in a model's data.

    ``default`` applies to a model without regions. A model serving several
    regions gets the intersection (the strictest rule wins); a sector with a
    rule narrows it further, a sector without one adds no restriction.
    """

    default: PiiRule = Field(default_factory=PiiRule)
    regions: dict[str, PiiRule] = Field(min_length=1)
    sectors: dict[str, PiiRule] = Field(default_factory=dict)
    custom_recognizers: list[CustomRecognizer] = Field(default_factory=list)

    @field_validator("custom_recognizers")
    @classmethod
    def _unique_names(cls, value: list[CustomRecognizer]) -> list[CustomRecognizer]:
        names = [r.name for r in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate recognizer names: {', '.join(duplicates)}")
        return value


# --- tiers -----------------------------------------------------------------


class FairnessThresholds(_Strict):
    max_demographic_parity_difference: float = Field(default=0.1, ge=0.0, le=1.0)
    max_equalized_odds_difference: float = Field(default=0.1, ge=0.0, le=1.0)
    # Groups smaller than this are flagged in the evidence (their rates are noise), never hidden.
    min_group_size: int = Field(default=30, ge=1)
    # An input predicting a sensitive attribute with this ROC AUC or more is flagged as a proxy (explanation).
    max_proxy_auc: float = Field(default=0.8, ge=0.5, le=1.0)
    # Multiclass (the two above are then the largest over the classes, one-vs-rest); None: reported only.
    max_accuracy_difference: float | None = Field(default=None, ge=0.0, le=1.0)
    # Regression, in the label's units (no default fits every target); None: reported only.
    max_mean_prediction_difference: float | None = Field(default=None, ge=0.0)
    max_mean_absolute_error_difference: float | None = Field(default=None, ge=0.0)
    max_worst_group_mean_absolute_error: float | None = Field(default=None, ge=0.0)
    # Seeded bootstrap replicates for 95% intervals on every group metric and disparity; 0: none.
    bootstrap: int = Field(default=0, ge=0, le=10_000)
    bootstrap_seed: int = Field(default=0, ge=0)
    # exclude: small groups are flagged and left out of the judged disparities; interval: every
    # group is judged, and a disparity's whole 95% interval must be within its threshold.
    small_groups: Literal["exclude", "interval"] = "exclude"
    # The gate DAG measures Fairlearn's mitigations (govflow mitigate) when fairness fails or warns.
    mitigate: bool = False

    @model_validator(mode="after")
    def _interval_needs_replicates(self) -> FairnessThresholds:
        if self.small_groups == "interval" and not self.bootstrap:
            raise ValueError("small_groups: interval judges bootstrap intervals: set bootstrap > 0")
        return self


class PerformanceRule(_Strict):
    # How far (absolute) a metric may fall below the value registered with the version; None: 0.05.
    max_drop: float | None = Field(default=None, ge=0.0, le=1.0)
    # How far (absolute) the candidate may fall below the production version on the candidate's eval
    # data, per metric and per group; None: the comparison is reported, not judged.
    max_metric_drop_vs_production: float | None = Field(default=None, ge=0.0, le=1.0)


class PiiThresholds(_Strict):
    # The smallest group of rows sharing their quasi-identifier values (date of birth, age,
    # sex, postcode, race...) a tier accepts; None: k-anonymity is reported, never judged.
    min_k_anonymity: int | None = Field(default=None, ge=1)


class DriftThresholds(_Strict):
    max_share_drifted: float = Field(default=0.3, ge=0.0, le=1.0)
    key_columns: list[str] = Field(default_factory=list)
    # None: keep Evidently's per-column default test and threshold.
    stattest: str | None = None
    stattest_threshold: float | None = Field(default=None, gt=0.0)


class ApprovalRule(_Strict):
    count: int = Field(default=0, ge=0)
    roles: list[Role] = Field(default_factory=lambda: list(_REVIEWER_ROLES))
    waiver_roles: list[Role] = Field(default_factory=lambda: list(_REVIEWER_ROLES))
    # Who signs off a waiver of one check, where not the waiver_roles (e.g. {pii: [dpo]}: the data
    # protection officer signs off PII waivers).
    check_waiver_roles: dict[PolicyCheck, list[Role]] = Field(default_factory=dict)
    # How approvers and waivers must have been authenticated to count; None: any method.
    accepted_auth: list[AuthMethod] | None = None

    def roles_to_waive(self, check: str) -> list[Role]:
        """The roles whose waiver of ``check`` counts (``check_waiver_roles`` where it names the check)."""
        named = {str(name): roles for name, roles in self.check_waiver_roles.items()}
        return list(named.get(check, self.waiver_roles))

    @model_validator(mode="after")
    def _roles_when_needed(self) -> ApprovalRule:
        if self.count and not self.roles:
            raise ValueError("roles must name who may approve when count > 0")
        return self


class ArtifactRule(_Strict):
    """Which model artifact formats a tier accepts, and the skops types trusted beyond skops' defaults."""

    formats: list[ArtifactFormat] = Field(default_factory=lambda: list(ARTIFACT_FORMATS), min_length=1)
    # Reviewed, fully qualified type names (as skops.io.get_untrusted_types prints them).
    trusted_types: list[str] = Field(default_factory=list)


class RecheckRule(_Strict):
    # How often a production model is re-checked by the nightly DAG; None: never.
    every_days: int | None = Field(default=None, ge=1)


class DocumentationRule(_Strict):
    required_sections: list[str] = Field(default_factory=list)

    @field_validator("required_sections")
    @classmethod
    def _slugs(cls, value: list[str]) -> list[str]:
        for section in value:
            if not _SLUG.match(section):
                raise ValueError(f"section {section!r} must be a snake_case slug")
        return value


class TierPolicy(_Strict):
    description: str = ""
    # A prohibited tier (EU AI Act Art. 5 practices) is always rejected.
    prohibited: bool = False
    required_checks: list[PolicyCheck] = Field(default_factory=list)
    # Whether a ``warn`` result blocks like a ``fail`` (then only a waiver lets it through).
    block_on_warn: bool = False
    # Evidence older than this is stale and must be recomputed.
    evidence_max_age_days: int = Field(default=30, ge=1)
    fairness: FairnessThresholds = Field(default_factory=FairnessThresholds)
    drift: DriftThresholds = Field(default_factory=DriftThresholds)
    pii: PiiThresholds = Field(default_factory=PiiThresholds)
    performance: PerformanceRule = Field(default_factory=PerformanceRule)
    approvals: ApprovalRule = Field(default_factory=ApprovalRule)
    artifacts: ArtifactRule = Field(default_factory=ArtifactRule)
    recheck: RecheckRule = Field(default_factory=RecheckRule)
    documentation: DocumentationRule = Field(default_factory=DocumentationRule)

    @field_validator("required_checks")
    @classmethod
    def _no_duplicates(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("required_checks lists a check twice")
        return value


class Tiers(_Strict):
    minimal: TierPolicy
    limited: TierPolicy
    high: TierPolicy
    unacceptable: TierPolicy

    @field_validator("unacceptable")
    @classmethod
    def _unacceptable_prohibited(cls, value: TierPolicy) -> TierPolicy:
        if not value.prohibited:
            raise ValueError("the unacceptable tier must be prohibited: true")
        return value


# --- the whole policy --------------------------------------------------------


class Policy(_Strict):
    """A validated policy. Build it with ``load_policy`` so ``sha256`` and ``source`` are set."""

    version: str = Field(min_length=1)
    name: str = "default"
    description: str = ""
    # Checks that are not computed on a data set (their evidence records no data hash).
    data_free_checks: list[PolicyCheck] = Field(default_factory=lambda: list(_DATA_FREE_CHECKS))
    # Days a production version approved under an earlier policy has to be re-approved after this
    # one is applied (it is flagged non-compliant and its owner alerted nightly until then).
    grace_period_days: int = Field(default=30, ge=0, le=3650)
    # Bundled rule packs (govflow/data/packs) this policy enforces where they apply (sector, regions,
    # tier): a pack's forbidden PII entities narrow the allowed ones. Every pack is reported either way.
    packs: list[str] = Field(default_factory=list)
    pii: PiiPolicy
    tiers: Tiers

    _sha256: str = PrivateAttr(default="")
    _source: str = PrivateAttr(default="")
    _text: str = PrivateAttr(default="")

    @property
    def sha256(self) -> str:
        """sha256 of the canonical file content (UTF-8, LF line endings, no BOM)."""
        return self._sha256

    @property
    def source(self) -> str:
        return self._source

    @property
    def text(self) -> str:
        """The canonical file content, stored with decisions so they can be replayed."""
        return self._text

    def tier(self, name: str) -> TierPolicy:
        if name not in RISK_TIERS:
            raise PolicyError(f"unknown risk tier {name!r}; expected one of: {', '.join(RISK_TIERS)}")
        return getattr(self.tiers, name)

    def allowed_pii_entities(self, regions: Sequence[str], sector: str | None = None) -> frozenset[str]:
        """PII entities a model serving ``regions`` in ``sector`` may have in its data.

        An unknown region is an error (failing closed beats guessing which law applies).
        """
        if isinstance(regions, str):
            regions = [regions]
        by_key = {key.casefold(): rule for key, rule in self.pii.regions.items()}
        if not regions:
            allowed = set(self.pii.default.allowed_entities)
        else:
            per_region: list[set[str]] = []
            for region in regions:
                rule = by_key.get(region.casefold())
                if rule is None:
                    known = ", ".join(sorted(self.pii.regions))
                    raise PolicyError(
                        f"region {region!r} has no PII rule in policy {self.name} {self.version} "
                        f"(known: {known})"
                    )
                per_region.append(set(rule.allowed_entities))
            allowed = set.intersection(*per_region)  # every region's law applies
        if sector:
            sectors = {key.casefold(): rule for key, rule in self.pii.sectors.items()}
            rule = sectors.get(sector.casefold())
            if rule is not None:
                allowed &= set(rule.allowed_entities)
        for pack in self.enforced_packs():
            if pack.pii is not None and pack.applies_to(sector=sector, regions=regions, tier=None):
                allowed -= set(pack.pii.forbidden_entities)
        return frozenset(allowed)

    def enforced_packs(self) -> list[Pack]:
        """The bundled packs this policy names (an unknown name is an error)."""
        if not self.packs:
            return []
        by_id = {pack.id: pack for pack in load_packs()}
        unknown = sorted(set(self.packs) - set(by_id))
        if unknown:
            raise PolicyError(f"policy {self.version} names unknown rule packs: {', '.join(unknown)}")
        return [by_id[name] for name in self.packs]
