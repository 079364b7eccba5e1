"""Rule packs as policy code: the bundled packs load, cite their sources and compose with the policy."""

from __future__ import annotations

import datetime as dt

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


# --- each pack's own rules: what the obligation they evidence still lacks -------------------------

AUDITED = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_the_hiring_audit_needs_its_categories_their_intersection_and_a_yearly_audit():
    rule = packs()["hiring-bias-audit"].bias_audit
    assert rule is not None
    soon = AUDITED + dt.timedelta(days=30)
    assert rule.gaps(features=["sex", "race"], audited_at=AUDITED, now=soon) == []
    assert rule.gaps(features=["Gender", "Ethnicity"], audited_at=AUDITED, now=soon) == [
        "category sex (no sensitive feature sex)",
        "intersectional categories (sex x race_ethnicity)",
    ]  # gender is not named as an alias of sex by the pack: said, not guessed
    assert rule.gaps(features=["sex"], audited_at=AUDITED, now=soon) == [
        "category race_ethnicity (no sensitive feature ethnicity/race/race_ethnicity)",
        "intersectional categories (sex x race_ethnicity)",
    ]
    # 6 RCNY § 5-301: an audit within one year before use; a day past the cadence it is overdue.
    assert rule.gaps(features=["sex", "race"], audited_at=AUDITED, now=AUDITED + dt.timedelta(days=365)) == []
    assert rule.gaps(features=["sex", "race"], audited_at=AUDITED, now=AUDITED + dt.timedelta(days=366)) == [
        "an audit within 365 days (last on 2026-03-01, due 2027-03-01)"
    ]
    assert rule.gaps(features=[], audited_at=None, now=soon) == []  # no audit: the check is missing


def test_model_risk_management_needs_an_independent_validation_on_cadence_with_challenge_notes():
    rule = packs()["model-risk-management"].independence
    assert rule is not None
    soon = AUDITED + dt.timedelta(days=10)
    assert rule.gaps(validations=[], now=soon) == {
        "validation": ["an approval by a reviewer outside the owner's team"],
        "effective_challenge": ["challenge notes (an independent approval's comment)"],
    }
    assert rule.gaps(validations=[(AUDITED, "challenged the cut-off")], now=soon) == {
        "validation": [],
        "effective_challenge": [],
    }
    late = AUDITED + dt.timedelta(days=400)
    assert rule.gaps(validations=[(AUDITED, " ")], now=late) == {
        "validation": ["a validation within 365 days (last on 2026-03-01)"],
        "effective_challenge": ["challenge notes (an independent approval's comment)"],
    }


def test_a_pack_names_its_own_aliases_for_a_category():
    pack = packs()["hiring-bias-audit"].model_copy(deep=True)
    assert pack.bias_audit is not None
    rule = pack.bias_audit.model_copy(update={"aliases": {"sex": ["sex", "gender"]}})
    assert rule.gaps(features=["gender", "race"], audited_at=AUDITED, now=AUDITED) == []


def test_the_health_identifiers_no_recognizer_detects_are_named_until_the_policy_adds_them():
    """HIPAA Safe Harbor's 18 identifiers are forbidden; a passing scan says nothing of those it
    cannot see (fax numbers, record numbers, vehicle and device ids, biometrics, face images...)."""
    from govflow.checks.pii import detected_entities

    rule = packs()["health-deidentification"].pii
    assert rule is not None
    [gap] = rule.gaps(detected=detected_entities())
    named = gap.removeprefix("a recognizer for ").split(" (")[0].split(", ")
    assert {"FAX_NUMBER", "MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_NUMBER", "FACE_IMAGE"} <= set(named)
    assert not {"EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "PERSON", "IP_ADDRESS", "PERSON_ID"} & set(named)
    everything = detected_entities(named)  # the policy's custom recognizers for each of them
    assert rule.gaps(detected=everything) == []
