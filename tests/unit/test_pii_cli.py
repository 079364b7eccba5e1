"""`govflow check pii`: the JSON contract, exit statuses, and policy -> allowed entities."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from govflow.cli import main


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("pii") / "people.csv"
    pd.DataFrame(
        {
            "contact": [f"user{i}@example.com" for i in range(40)],
            "staff": [f"EMP-{100000 + i}" for i in range(40)],
            "note": ["call scheduled, nothing else"] * 40,
        }
    ).to_csv(path, index=False)
    return path


def _run(capsys, *argv):
    code = main(["check", "pii", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_contract(capsys, table):
    code, out, err = _run(capsys, "--data", str(table), "--json")
    payload = json.loads(out)  # exactly one JSON object
    assert code == 1 and err == ""
    assert payload["check"] == "pii" and payload["status"] == "fail"
    assert payload["summary"]["rows"] == 40
    assert payload["summary"]["columns_with_pii"] == ["contact"]
    assert payload["columns"]["contact"]["entities"]["EMAIL_ADDRESS"]["rate"] == 1.0
    assert payload["columns"]["note"]["entities"] == {}
    assert payload["policy"]["note"] == "no policy given: no entity is allowed"


def test_human_output_lists_every_column(capsys, table):
    code, out, _ = _run(capsys, "--data", str(table))
    assert code == 1
    assert "  contact: EMAIL_ADDRESS 100.00%" in out and "  note: no PII" in out


def test_policy_maps_regions_and_sector_to_allowed_entities_and_recognizers(capsys, table, monkeypatch):
    import govflow.cli._check_pii

    calls = []
    recognizer = SimpleNamespace(
        name="employee_id",
        entity="EMPLOYEE_ID",
        context=["staff"],
        patterns=[SimpleNamespace(name="p", regex=r"\bEMP-\d{6}\b", score=0.9)],
    )

    class FakePolicy:
        sha256 = "f" * 64
        pii = SimpleNamespace(custom_recognizers=[recognizer])

        def allowed_pii_entities(self, regions, sector=None):
            calls.append((list(regions), sector))
            return frozenset({"EMAIL_ADDRESS", "EMPLOYEE_ID"})

    monkeypatch.setattr(govflow.cli._check_pii, "load_policy", lambda path=None: FakePolicy())
    code, out, _ = _run(
        capsys, "--data", str(table), "--region", "EU", "--region", "UK", "--sector", "hr", "--json"
    )
    payload = json.loads(out)
    assert calls == [(["EU", "UK"], "hr")]
    assert code == 0 and payload["status"] == "pass"
    assert payload["columns"]["staff"]["entities"]["EMPLOYEE_ID"]["allowed"] is True
    assert payload["policy"]["allowed_entities"] == ["EMAIL_ADDRESS", "EMPLOYEE_ID"]

    monkeypatch.setattr(FakePolicy, "allowed_pii_entities", lambda self, regions, sector=None: frozenset())
    code, out, _ = _run(capsys, "--data", str(table), "--region", "US", "--json")
    assert code == 1 and json.loads(out)["summary"]["entities_not_allowed"] == [
        "EMAIL_ADDRESS",
        "EMPLOYEE_ID",
    ]


def test_the_real_policy_decides_what_is_allowed(capsys, table):
    from govflow.policy import load_policy

    allowed = load_policy().allowed_pii_entities(["EU"], None)
    _code, out, _ = _run(capsys, "--data", str(table), "--region", "EU", "--json")
    payload = json.loads(out)
    assert payload["policy"]["allowed_entities"] == sorted(allowed)
    assert payload["status"] == ("pass" if "EMAIL_ADDRESS" in allowed else "fail")


def test_unknown_region_is_an_error_result(capsys, table, monkeypatch):
    import govflow.cli._check_pii
    from govflow.errors import PolicyError

    class StrictPolicy:
        pii = SimpleNamespace(custom_recognizers=[])

        def allowed_pii_entities(self, regions, sector=None):
            raise PolicyError("region 'XX' has no PII rule")

    monkeypatch.setattr(govflow.cli._check_pii, "load_policy", lambda path=None: StrictPolicy())
    code, out, err = _run(capsys, "--data", str(table), "--region", "XX", "--json")
    assert code == 2
    assert json.loads(out)["errors"] == ["region 'XX' has no PII rule"]
    assert err.strip() == "govflow: error: region 'XX' has no PII rule"


def test_missing_data_flag_is_a_usage_error(capsys):
    code, _, err = _run(capsys, "--json")
    assert code == 2 and "--data" in err
