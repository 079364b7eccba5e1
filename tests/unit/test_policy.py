"""Policy-as-code: loading, the interface the checks' callers use, and refusing bad policies."""

from __future__ import annotations

import copy
import hashlib

import pytest
import yaml
from pydantic import ValidationError

from govflow.data import default_policy
from govflow.errors import PolicyError
from govflow.policy import load_policy, parse_policy

DEFAULT = default_policy()


@pytest.fixture(scope="module")
def policy():
    return load_policy(DEFAULT)


@pytest.fixture()
def data():
    return yaml.safe_load(DEFAULT.read_text())


def write(tmp_path, data, name="policy.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --- the default policy -------------------------------------------------------------


def test_default_policy_loads_with_all_eu_ai_act_tiers(policy):
    assert policy.version == "2026.12.1"
    assert policy.tier("unacceptable").prohibited
    assert not any(policy.tier(t).prohibited for t in ("minimal", "limited", "high"))
    high = policy.tier("high")
    assert high.required_checks == ["validation", "pii", "fairness", "drift", "documentation"]
    assert (high.approvals.count, high.approvals.roles) == (2, ["reviewer", "admin"])
    assert high.recheck.every_days == 1
    assert "human_oversight" in high.documentation.required_sections
    assert high.evidence_max_age_days == 7


def test_default_policy_without_a_path_comes_from_config(monkeypatch, tmp_path, data):
    monkeypatch.delenv("GOVFLOW_POLICY", raising=False)
    assert load_policy().sha256 == load_policy(DEFAULT).sha256
    data["version"] = "custom-9"
    monkeypatch.setenv("GOVFLOW_POLICY", str(write(tmp_path, data)))
    assert load_policy().version == "custom-9"


def test_tier_interface_for_fairness_and_drift(policy):
    high = policy.tier("high")
    assert high.fairness.max_demographic_parity_difference == 0.1
    assert high.fairness.max_equalized_odds_difference == 0.1
    assert high.fairness.min_group_size == 50
    assert high.drift.max_share_drifted == 0.3
    assert high.drift.key_columns == []
    assert high.drift.stattest is None and high.drift.stattest_threshold is None
    assert policy.tier("minimal").fairness.min_group_size == 30  # schema default


def test_unknown_tier_is_a_clear_error(policy):
    with pytest.raises(
        PolicyError, match="unknown risk tier 'medium'; expected one of: minimal, limited, high, unacceptable"
    ):
        policy.tier("medium")


def test_custom_recognizer_interface(policy):
    (employee,) = policy.pii.custom_recognizers
    assert (employee.name, employee.entity) == ("employee_id", "EMPLOYEE_ID")
    assert employee.patterns[0].regex == r"\bEMP-\d{6}\b" and employee.patterns[0].score == 0.9
    assert "employee" in employee.context
    import re

    assert re.search(employee.patterns[0].regex, "id EMP-004211 ok")
    assert not re.search(employee.patterns[0].regex, "EMP-0042")


@pytest.mark.parametrize(
    ("regions", "sector", "expected"),
    [
        (["EU"], None, {"DATE_TIME", "LOCATION", "NRP", "PERSON_ID"}),
        (["US"], None, {"DATE_TIME", "LOCATION", "NRP", "US_DRIVER_LICENSE", "PERSON_ID"}),
        (["EU", "US"], None, {"DATE_TIME", "LOCATION", "NRP", "PERSON_ID"}),  # strictest wins
        (["EU", "APAC"], None, {"DATE_TIME", "LOCATION", "PERSON_ID"}),
        (["eu"], None, {"DATE_TIME", "LOCATION", "NRP", "PERSON_ID"}),  # case-insensitive
        (["US"], "health", {"DATE_TIME", "LOCATION"}),  # sector narrows
        (
            ["US"],
            "retail",
            {"DATE_TIME", "LOCATION", "NRP", "US_DRIVER_LICENSE", "PERSON_ID"},
        ),  # no sector rule
        ([], None, {"DATE_TIME", "PERSON_ID"}),  # no region: default rule
    ],
)
def test_allowed_pii_entities(policy, regions, sector, expected):
    allowed = policy.allowed_pii_entities(regions, sector)
    assert isinstance(allowed, frozenset)
    assert allowed == expected
    assert "EMPLOYEE_ID" not in allowed and "PERSON" not in allowed


def test_unknown_region_fails_closed(policy):
    with pytest.raises(
        PolicyError,
        match=r"region 'MARS' has no PII rule in policy default 2026.12.1 "
        r"\(known: APAC, CA, EU, UK, US\)",
    ):
        policy.allowed_pii_entities(["EU", "MARS"], None)


# --- sha256 ---------------------------------------------------------------------------


def test_sha256_is_of_the_canonical_file_content(tmp_path, policy):
    assert policy.sha256 == hashlib.sha256(DEFAULT.read_bytes()).hexdigest()  # the file is LF, no BOM
    crlf = tmp_path / "crlf.yaml"
    crlf.write_bytes(b"\xef\xbb\xbf" + DEFAULT.read_bytes().replace(b"\n", b"\r\n"))
    assert load_policy(crlf).sha256 == policy.sha256
    edited = tmp_path / "edited.yaml"
    edited.write_bytes(DEFAULT.read_bytes() + b"# a comment is an edit too\n")
    assert load_policy(edited).sha256 != policy.sha256
    assert parse_policy(policy.text).sha256 == policy.sha256


# --- refusing bad policies ----------------------------------------------------------------


def _set(data, path, value):
    *parents, last = path
    node = data
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value


_DELETE = object()

BAD = [
    (
        ("tiers", "high", "approvals", "count"),
        "two",
        "tiers.high.approvals.count: Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        ("tiers", "high", "fairness", "max_demographic_parity_difference"),
        1.5,
        "tiers.high.fairness.max_demographic_parity_difference: Input should be less than or equal to 1",
    ),
    (("tiers", "limited"), _DELETE, "tiers.limited: Field required"),
    (("tiers", "high", "aprovals"), {"count": 1}, "tiers.high.aprovals: Extra inputs are not permitted"),
    (
        ("tiers", "high", "required_checks"),
        ["validation", "fairnes"],
        "tiers.high.required_checks[1]: Input should be "
        "'validation', 'pii', 'fairness', 'drift', 'documentation' or 'performance'",
    ),
    (
        ("tiers", "high", "required_checks"),
        ["pii", "pii"],
        "tiers.high.required_checks: required_checks lists a check twice",
    ),
    (
        ("tiers", "unacceptable", "prohibited"),
        False,
        "tiers.unacceptable: the unacceptable tier must be prohibited: true",
    ),
    (
        ("tiers", "high", "approvals", "roles"),
        ["reviewer", "boss"],
        "tiers.high.approvals.roles[1]: Input should be 'viewer', 'data_scientist', 'reviewer', "
        "'admin', 'auditor' or 'dpo'",
    ),
    (
        ("tiers", "high", "approvals", "count"),
        -1,
        "tiers.high.approvals.count: Input should be greater than or equal to 0",
    ),
    (
        ("tiers", "high", "evidence_max_age_days"),
        0,
        "tiers.high.evidence_max_age_days: Input should be greater than or equal to 1",
    ),
    (
        ("tiers", "high", "documentation", "required_sections"),
        ["Model Details"],
        "tiers.high.documentation.required_sections: section 'Model Details' must be a snake_case slug",
    ),
    (
        ("pii", "regions", "EU", "allowed_entities"),
        ["location"],
        "pii.regions.EU.allowed_entities: entity 'location' must be UPPER_SNAKE_CASE like EMAIL_ADDRESS",
    ),
    (
        ("pii", "custom_recognizers", 0, "patterns", 0, "regex"),
        "EMP-(\\d{6}",
        "pii.custom_recognizers[0].patterns[0].regex: regex does not compile: "
        "missing ), unterminated subpattern at position 4",
    ),
    (
        ("pii", "custom_recognizers", 0, "patterns", 0, "score"),
        3,
        "pii.custom_recognizers[0].patterns[0].score: Input should be less than or equal to 1",
    ),
    (("version",), _DELETE, "version: Field required"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[".".join(map(str, p)) for p, _, _ in BAD])
def test_bad_policy_is_refused_with_the_path_of_the_bad_field(tmp_path, data, path, value, message):
    bad = copy.deepcopy(data)
    _set(bad, path, value)
    where = write(tmp_path, bad)
    with pytest.raises(PolicyError) as info:
        load_policy(where)
    assert str(info.value) == f"policy {where}: {message}"
    assert "\n" not in str(info.value)


def test_several_bad_fields_are_all_named_on_one_line(tmp_path, data):
    data["tiers"]["high"]["approvals"]["count"] = "x"
    data["tiers"]["minimal"]["evidence_max_age_days"] = "y"
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path, data))
    text = str(info.value)
    assert "tiers.minimal.evidence_max_age_days: Input should be a valid integer" in text
    assert "; tiers.high.approvals.count: Input should be a valid integer" in text
    assert "\n" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"version: [1\n", "invalid YAML at line 2 column 1: expected ',' or ']', but got '<stream end>'"),
        (b"- a\n- b\n", "expected a mapping at the top level, got list"),
        (b"\xff\xfe", "not UTF-8 text (invalid start byte at byte 0)"),
    ],
)
def test_unreadable_policies(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == f"policy {path}: {message}"


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match=r"cannot read policy .*nope.yaml: No such file or directory"):
        load_policy(tmp_path / "nope.yaml")


def test_approvals_need_roles_when_counted(tmp_path, data):
    data["tiers"]["limited"]["approvals"] = {"count": 1, "roles": []}
    with pytest.raises(
        PolicyError, match=r"tiers\.limited\.approvals: roles must name who may approve when count > 0"
    ):
        load_policy(write(tmp_path, data))


def test_policy_is_immutable(policy):
    with pytest.raises(ValidationError):
        policy.tier("high").approvals.count = 0
