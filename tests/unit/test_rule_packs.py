"""Rule packs as policy code: the bundled packs load, cite their sources and compose with the policy."""

from __future__ import annotations

import pytest

from govflow.errors import PolicyError
from govflow.policy import load_policy, parse_policy
from govflow.policy._packs import load_packs


def packs():
    return {pack.id: pack for pack in load_packs()}


def test_the_bundled_packs_cite_every_obligation():
    bundled = packs()
    assert set(bundled) == {
        "eu-ai-act-high-risk",
        "hiring-bias-audit",
        "model-risk-management",
        "health-deidentification",
    }
    assert all(o.article and o.title for p in bundled.values() for o in p.obligations)
    eu = bundled["eu-ai-act-high-risk"]
    assert [o.article for o in eu.obligations] == [f"Art. {n}" for n in (9, 10, 11, 12, 13, 14, 15, 72)]
    hiring = bundled["hiring-bias-audit"].bias_audit
    assert (
        hiring is not None
        and hiring.min_share == 0.02
        and hiring.cadence_days == 365
        and hiring.intersectional
    )
    assert "impact_ratio" in hiring.published_summary_fields
    mrm = bundled["model-risk-management"].independence
    assert mrm is not None and mrm.reviewer_outside_owner_team and mrm.challenge_notes_required
    health = bundled["health-deidentification"].pii
    assert health is not None and len(health.forbidden_entities) == 18  # Safe Harbor's (A)-(R)


def test_packs_apply_by_sector_region_and_tier():
    bundled = packs()
    eu = bundled["eu-ai-act-high-risk"]
    assert eu.applies_to(sector=None, regions=["EU", "US"], tier="high")
    assert not eu.applies_to(sector=None, regions=["US"], tier="high")
    assert not eu.applies_to(sector=None, regions=["EU"], tier="minimal")
    assert bundled["hiring-bias-audit"].applies_to(sector="Employment", regions=[], tier="limited")


def _with_packs(names):
    base = load_policy()
    body = base.text.replace(f'version: "{base.version}"', f'version: "{base.version}"\npacks: {names}')
    return parse_policy(body, source="packs.yaml")


def test_an_enforced_health_pack_forbids_its_identifiers():
    plain = load_policy().allowed_pii_entities(["EU"], "health")
    assert "DATE_TIME" in plain  # the default policy's health sector rule allows dates
    enforced = _with_packs("[health-deidentification]")
    assert "DATE_TIME" not in enforced.allowed_pii_entities(["EU"], "health")
    assert enforced.allowed_pii_entities(["EU"], "finance") == load_policy().allowed_pii_entities(
        ["EU"], "finance"
    )


def test_an_unknown_pack_is_refused():
    with pytest.raises(PolicyError, match="unknown rule packs: no-such-pack"):
        _with_packs("[no-such-pack]").allowed_pii_entities(["EU"])


def test_a_bad_pack_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "bad.yaml").write_text("id: x\nname: y\nsource: z\nobligations: [{id: a, article: b}]\n")
    with pytest.raises(PolicyError, match=r"rule pack bad\.yaml: .*title"):
        load_packs(tmp_path)
