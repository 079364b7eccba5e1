"""The PII scan on real-world-shaped data (#14): names in any case, surnames, addresses,
postcodes, coordinates, dates of birth, look-alikes, repeated headers and re-identification
risk. Real Presidio + spaCy, offline; every table is built here (seeded Faker or fixed lists)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pandas as pd
import pytest
from faker import Faker

from govflow.checks.pii import scan_pii
from govflow.checks.pii._dates import birth_date_reason
from govflow.checks.pii._names import name_column_reason, name_shares
from govflow.checks.pii._read import column_keys
from govflow.checks.pii._risk import qi_kind
from govflow.cli import main

ROWS = 240
DAY = date(2026, 11, 30)


def _faker(locale: str = "en_US", seed: int = 3) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def _entities(result, column):
    return set(result.details["columns"][column]["entities"])


def _day(rng: random.Random, most: int, least: int = 0) -> str:
    return (DAY - timedelta(days=rng.randint(least, most))).isoformat()


@pytest.fixture(scope="module")
def registry():
    """A published register of deaths: every way a name is written, a repeated header, raw places."""
    fake, rng = _faker("es_MX"), random.Random(3)
    rows = []
    for _ in range(ROWS):
        first, last = fake.first_name(), fake.last_name()
        rows.append(
            [
                f"{first} {last}".lower(),
                first,
                last.upper(),
                f"{last}, {first}",
                f"{first[0]}. {last}",
                _day(rng, 95 * 365, 20 * 365),
                _day(rng, 3 * 365),
                rng.choice("MF"),
                rng.choice(("White", "Black", "Hispanic", "Asian")),
                f"{rng.randint(1, 9999)} {rng.choice('NSEW')}. {rng.randint(1, 99)}th St.",
                f"{rng.randint(10000, 99999)}",
                f"{rng.uniform(25, 48):.5f}, {rng.uniform(-123, -70):.5f}",
                round(rng.uniform(25, 48), 4),
            ]
        )
    columns = [
        "name",
        "first_name",
        "surname",
        "name",
        "victim",
        "dob",
        "date_of_death",
        "sex",
        "race",
        "address",
        "zip",
        "death_location",
        "latitude",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    return frame, scan_pii(frame, min_k_anonymity=5)


class TestNamesInAnyCase:
    def test_lower_upper_last_first_and_initials_are_persons(self, registry):
        _, result = registry
        for column in ("name", "surname", "name (2)", "victim"):
            assert _entities(result, column) == {"PERSON"}, column

    def test_given_name_only_and_surname_only_columns_are_persons(self, registry):
        _, result = registry
        assert _entities(result, "first_name") == {"PERSON"}
        info = result.details["columns"]["surname"]["entities"]["PERSON"]
        assert info["rate"] > 0.9 and "NameDictionary" in info["recognizers"]
        assert "column name" in info["evidence"]

    def test_masked_examples_hold_no_raw_name(self, registry):
        frame, result = registry
        examples = result.details["columns"]["name"]["entities"]["PERSON"]["examples"]
        assert examples and all("***" in e for e in examples)
        assert not set(examples) & set(frame.iloc[:, 0])

    def test_dictionary_shares(self):
        shares = name_shares(["miguel hernandez", "ANNA MÜLLER", "Nguyen, Thi", "J. Smith", "wei zhang"])
        assert shares.full == 1.0
        assert name_column_reason(name_shares(["Hernandez", "Kowalski", "Rossi"] * 5), hinted=True)
        assert name_column_reason(name_shares(["Hernandez", "Kowalski", "Rossi"] * 5), hinted=False) is None


class TestPlacesAndDates:
    def test_street_address_without_town_postcode_and_coordinates_are_locations(self, registry):
        _, result = registry
        for column in ("address", "zip", "death_location", "latitude"):
            assert _entities(result, column) == {"LOCATION"}, column
        assert "street address" in result.details["columns"]["address"]["entities"]["LOCATION"]["evidence"]

    def test_date_of_birth_is_its_own_entity_and_event_dates_stay_dates(self, registry):
        _, result = registry
        assert _entities(result, "dob") == {"DATE_OF_BIRTH"}
        assert _entities(result, "date_of_death") == {"DATE_TIME"}

    def test_birth_dates_under_a_blank_header_are_told_from_values(self):
        rng = random.Random(5)
        births = [_day(rng, 90 * 365, 18 * 365) for _ in range(100)]
        events = [_day(rng, 2 * 365) for _ in range(100)]
        assert birth_date_reason(births, ["d"], today=DAY)
        assert birth_date_reason(events, ["d"], today=DAY) is None
        assert birth_date_reason(births, ["admission", "date"], today=DAY) is None
        assert birth_date_reason(births, ["birth", "date"], today=DAY).startswith(
            "the column name says birth"
        )

    def test_a_policy_can_allow_event_dates_and_refuse_birth_dates(self, registry):
        frame, _ = registry
        result = scan_pii(frame[["dob", "date_of_death"]], allowed_entities={"DATE_TIME"})
        assert result.status == "fail"
        assert result.summary["entities_not_allowed"] == ["DATE_OF_BIRTH"]

    def test_coordinates_in_a_table_without_people_are_not_personal(self):
        rng = random.Random(2)
        stores = pd.DataFrame(
            {
                "store_lat": [round(rng.uniform(40.5, 41.0), 6) for _ in range(80)],
                "store_lon": [round(rng.uniform(-74.2, -73.7), 6) for _ in range(80)],
                "sales": [rng.randint(100, 9000) for _ in range(80)],
            }
        )
        columns = scan_pii(stores).details["columns"]
        assert columns["store_lat"]["entities"] == {}
        assert "no other personal data" in columns["store_lat"]["ruled_out"]["LOCATION"]


class TestLookAlikes:
    def test_species_products_firms_codes_and_record_ids_are_not_pii(self):
        rng = random.Random(9)
        fake = _faker("en_US", 9)
        species = [
            "Quercus robur L.",
            "Parus major Linnaeus, 1758",
            "Rosa canina",
            "Vulpes vulpes",
            "Bufo bufo",
        ]
        frame = pd.DataFrame(
            {
                "scientificName": [rng.choice(species) for _ in range(ROWS)],
                "genus": [
                    rng.choice(["Quercus", "Parus", "Rosa", "Vulpes", "Bufo", "Acer"]) for _ in range(ROWS)
                ],
                "brand": [fake.company() for _ in range(ROWS)],
                "product": [
                    " ".join(
                        rng.choice(words)
                        for words in (("Sleek", "Rustic"), ("Steel", "Wool"), ("Chair", "Lamp"))
                    )
                    for _ in range(ROWS)
                ],
                "sku": [f"SKU-{rng.randint(0, 9999):04d}-AB" for _ in range(ROWS)],
                "gbifID": [str(rng.randint(10**9, 10**10 - 1)) for _ in range(ROWS)],
                "gdp_per_capita": [f"{rng.uniform(300, 90000):.7f}" for _ in range(ROWS)],
            }
        )
        result = scan_pii(frame)
        assert result.summary["columns_with_pii"] == []
        assert "PHONE_NUMBER" in result.details["columns"]["gbifID"]["ruled_out"]

    def test_a_race_column_is_nrp_by_its_header_and_categories(self, registry):
        _, result = registry
        assert _entities(result, "race") == {"NRP"}


class TestRepeatedHeaders:
    def test_repeats_get_stable_distinct_keys(self):
        assert column_keys(["name", "name", "x", "name", "name (2)"]) == (
            ["name", "name (3)", "x", "name (4)", "name (2)"],
            {"name (3)": "name", "name (4)": "name"},
        )
        assert column_keys(["", "a"])[0] == ["(column 1)", "a"]

    def test_a_csv_with_a_repeated_header_is_scanned_not_refused(self, tmp_path):
        path = tmp_path / "repeats.csv"
        path.write_text(
            "email,email,id\n" + "".join(f"a{i}@example.com,b{i}@example.org,{i}\n" for i in range(30)),
            encoding="utf-8",
        )
        result = scan_pii(path)
        columns = result.details["columns"]
        assert list(columns) == ["email", "email (2)", "id"]
        assert _entities(result, "email (2)") == {"EMAIL_ADDRESS"}
        assert columns["email (2)"]["repeats"] == "email"
        assert result.details["repeated_columns"] == {"email (2)": "email"}

    def test_a_dataframe_with_repeated_columns_is_scanned(self):
        frame = pd.DataFrame([["ana.lopez@example.com", "1"]] * 5, columns=["c", "c"])
        assert list(scan_pii(frame).details["columns"]) == ["c", "c (2)"]


class TestReidentification:
    def test_k_anonymity_and_unique_share_on_the_quasi_identifiers(self, registry):
        frame, result = registry
        summary = result.summary
        assert summary["quasi_identifiers"] == ["dob", "sex", "race", "zip"]
        expected = frame.groupby(["dob", "sex", "race", "zip"]).size()
        assert summary["k_anonymity"] == int(expected.min())
        assert summary["unique_share"] == pytest.approx((expected == 1).sum() / len(frame), abs=1e-4)

    def test_a_minimum_k_turns_it_into_a_failure_and_none_only_reports_it(self, registry):
        frame, result = registry
        assert result.summary["below_min_k_anonymity"] is True and result.status == "fail"
        coarse = frame[["sex", "race"]]
        allowed = scan_pii(coarse, allowed_entities={"NRP"}, min_k_anonymity=5)
        assert allowed.summary["k_anonymity"] >= 5 and allowed.status == "pass"
        unjudged = scan_pii(coarse, allowed_entities={"NRP"})
        assert "min_k_anonymity" not in unjudged.summary and unjudged.status == "pass"

    def test_exact_across_chunks(self, registry):
        frame, result = registry
        chunked = scan_pii(frame, min_k_anonymity=5, chunk_rows=37)
        assert chunked.summary["k_anonymity"] == result.summary["k_anonymity"]
        assert chunked.summary["unique_share"] == result.summary["unique_share"]

    @pytest.mark.parametrize(
        ("header", "kind"),
        [
            ("Subject's age", "age"),
            ("GENDER", "sex"),
            ("ethnicity", "race"),
            ("Location of death (zip code)", "postcode"),
            ("native-country", "nationality"),
            ("marital_status", "marital_status"),
            ("date_of_birth", "date_of_birth"),
            ("agent_id", None),
            ("mileage", None),
        ],
    )
    def test_quasi_identifier_headers(self, header, kind):
        assert qi_kind(header) == kind

    def test_cli_json_has_the_summary_and_exit_1_below_the_minimum(self, tmp_path, capsys, registry):
        frame, _ = registry
        path = tmp_path / "people.csv"
        frame[["dob", "sex", "race", "zip"]].to_csv(path, index=False)
        code = main(["check", "pii", "--data", str(path), "--min-k-anonymity", "2", "--json"])
        payload = json.loads(capsys.readouterr().out)
        assert code == 1
        assert payload["summary"]["quasi_identifiers"] == ["dob", "sex", "race", "zip"]
        assert payload["summary"]["k_anonymity"] == 1 and payload["summary"]["unique_share"] > 0.9
        assert payload["reidentification"]["below_min_k_anonymity"] is True


class TestDocuments:
    """The model card and Annex IV data-governance section show the re-identification risk."""

    def _inputs(self, summary):
        from govflow.docs import DocInputs
        from govflow.policy import load_policy

        policy = load_policy()
        model = {
            "name": "m",
            "owner": "o",
            "risk_tier": "high",
            "regions": ["EU"],
            "created_at": "2026-11-27",
        }
        version = {"model": "m", "version": "1", "stage": "candidate", "params": {}, "metrics": {}}
        result = {
            "id": 1,
            "check": "pii",
            "status": "pass",
            "summary": summary,
            "errors": [],
            "created_at": "2026-11-27T10:00:00+00:00",
            "run": {"dag_id": "governance_gate", "run_id": "r", "trigger_kind": "rest"},
            "evidence": {"summary": summary, "columns": {}},
            "evidence_problem": None,
        }
        return DocInputs(model=model, version=version, policy=policy, check_results=[result])

    @pytest.mark.parametrize("kind", ["model_card", "annex_iv"])
    def test_quasi_identifiers_k_and_unique_share_are_shown(self, kind):
        from govflow.docs import build_context, render_document

        summary = {
            "rows": 300,
            "columns_with_pii": ["dob"],
            "quasi_identifiers": ["dob", "sex", "zip"],
            "k_anonymity": 1,
            "unique_share": 0.97,
            "min_k_anonymity": 5,
            "below_min_k_anonymity": True,
        }
        text = render_document(build_context(self._inputs(summary)), kind=kind, fmt="md")
        assert "Re-identification risk" in text
        assert "k-anonymity 1 on quasi-identifiers dob, sex, zip; 97.0% of rows are unique" in text
        assert "policy minimum 5: below" in text

    def test_a_scan_from_before_k_anonymity_is_said_so_not_a_gap(self):
        from govflow.docs import build_context, render_document

        text = render_document(
            build_context(self._inputs({"rows": 3, "columns_with_pii": []})), kind="annex_iv", fmt="md"
        )
        assert "predates k-anonymity" in text
