"""Table-level PII decisions (#25): the table's subject, person keys (PERSON_ID), lists of names
in one cell, dates of birth in parts and from an age beside an event date, event dates apart
from births, places by subject, clean column keys. Real Presidio + spaCy, offline; every table
is built here (seeded Faker)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
import pytest
from faker import Faker

from govflow.checks.pii import scan_pii
from govflow.checks.pii._hints import name_hint
from govflow.checks.pii._ids import person_id_reason
from govflow.checks.pii._names import list_items
from govflow.checks.pii._read import column_keys, raw_headers

ROWS = 200
DAY = date(2026, 11, 30)
TOWNS = ["Springfield", "Riverside", "Fairview", "Georgetown", "Salem", "Madison", "Clinton", "Franklin"]
STATES = ["CA", "TX", "NY", "FL", "OH", "WA", "IL", "PA"]


def _fake(seed: int = 5) -> Faker:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return fake


def _day(rng: random.Random, most: int, least: int = 0) -> str:
    return (DAY - timedelta(days=rng.randint(least, most))).isoformat()


@pytest.fixture(scope="module")
def players():
    """A register of players: name-derived codes, split birth dates, birth towns, career dates."""
    fake, rng = _fake(), random.Random(5)
    rows = []
    for i in range(ROWS):
        first, last = fake.first_name(), fake.last_name()
        born = DAY - timedelta(days=rng.randint(20 * 365, 90 * 365))
        debut = born + timedelta(days=rng.randint(19 * 365, 25 * 365))
        rows.append(
            {
                "playerID": f"{last[:5].lower()}{first[:2].lower()}{i % 3 + 1:02d}",
                "nameFirst": first,
                "nameLast": last,
                "birthYear": born.year,
                "birthMonth": born.month,
                "birthDay": born.day,
                "birthCity": rng.choice(TOWNS),
                "deathYear": min(born.year + rng.randint(60, 80), DAY.year - 1),
                "deathMonth": rng.randint(1, 12),
                "deathDay": rng.randint(1, 28),
                "debut": debut.isoformat(),
                "finalGame": (debut + timedelta(days=rng.randint(300, 5000))).isoformat(),
                "teamID": rng.choice(["BOS", "NYA", "CHN", "SFN"]),
                "weight": rng.randint(150, 250),
            }
        )
    return scan_pii(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def facilities():
    """A table of facilities: names, city, state, a row id; no person."""
    rng = random.Random(6)
    frame = pd.DataFrame(
        {
            "id": list(range(1, ROWS + 1)),
            "facility": [
                f"{rng.choice(TOWNS)} {rng.choice(['Park', 'Field', 'Stadium'])}" for _ in range(ROWS)
            ],
            "city": [rng.choice(TOWNS) for _ in range(ROWS)],
            "state": [rng.choice(STATES) for _ in range(ROWS)],
            "capacity": [rng.randint(1000, 50000) for _ in range(ROWS)],
        }
    )
    return scan_pii(frame)


def _entities(result, column):
    return set(result.details["columns"][column]["entities"])


class TestSubject:
    def test_a_register_of_players_is_about_people_with_its_reasons(self, players):
        assert players.summary["subject"] == "person"
        reasons = " | ".join(players.summary["subject_reasons"])
        assert "names of people in nameFirst" in reasons
        assert "date of birth in parts" in reasons

    def test_a_table_of_facilities_is_about_something_else(self, facilities):
        assert facilities.summary["subject"] == "other"
        assert facilities.details["table"]["subject"]["reasons"]

    def test_sex_alone_leaves_the_subject_unknown(self):
        rng = random.Random(7)
        frame = pd.DataFrame(
            {"sex": [rng.choice(["MALE", "FEMALE"]) for _ in range(80)], "mass": list(range(80))}
        )
        assert scan_pii(frame).summary["subject"] == "unknown"


class TestPlacesBySubject:
    def test_a_birth_town_of_a_person_is_a_personal_location(self, players):
        assert _entities(players, "birthCity") == {"LOCATION"}
        assert players.details["columns"]["birthCity"]["name_hint"] == "LOCATION"  # not DATE_OF_BIRTH

    def test_the_city_and_state_of_a_facility_are_not(self, facilities):
        for column in ("city", "state"):
            assert _entities(facilities, column) == set()
        assert "not people" in facilities.details["columns"]["city"]["ruled_out"]["LOCATION"]


class TestPersonIdentifiers:
    def test_name_derived_codes_key_a_person(self, players):
        assert _entities(players, "playerID") == {"PERSON_ID"}
        assert players.summary["person_identifiers"] == ["playerID"]
        info = players.details["columns"]["playerID"]["entities"]["PERSON_ID"]
        assert info["evidence"] and all(set(e) <= {"*"} for e in info["examples"])  # masked

    def test_a_team_key_and_a_row_id_of_things_are_not_person_keys(self, players, facilities):
        assert _entities(players, "teamID") == set()
        assert _entities(facilities, "id") == set()

    def test_customer_ids_in_a_customer_table(self):
        fake, rng = _fake(8), random.Random(8)
        frame = pd.DataFrame(
            {
                "Customer ID": [f"C-{rng.randint(10000, 99999)}" for _ in range(ROWS)],
                "name": [fake.name() for _ in range(ROWS)],
                "order_id": [f"O{rng.randint(10**6, 10**7)}" for _ in range(ROWS)],
            }
        )
        result = scan_pii(frame)
        assert _entities(result, "Customer ID") == {"PERSON_ID"}
        assert result.details["columns"]["Customer ID"]["name_hint"] == "PERSON_ID"
        assert _entities(result, "order_id") == set()

    def test_the_rule_needs_identifier_shaped_varied_values(self):
        assert person_id_reason(["customer", "id"], [f"C{i}" for i in range(50)])
        assert person_id_reason(["customer", "id"], ["gold", "silver"] * 25) is None
        assert person_id_reason(["team", "id"], [f"T{i}" for i in range(50)]) is None
        assert person_id_reason(["notes"], ["call me back later"] * 50) is None


class TestDatesOfBirth:
    def test_year_month_day_columns_are_one_date_of_birth(self, players):
        for column in ("birthYear", "birthMonth", "birthDay"):
            info = players.details["columns"][column]["entities"]["DATE_OF_BIRTH"]
            assert info["group"] == ["birthYear", "birthMonth", "birthDay"]
        assert players.summary["birth_date_groups"] == [["birthYear", "birthMonth", "birthDay"]]

    def test_the_parts_of_a_death_date_are_not_a_birth(self, players):
        for column in ("deathYear", "deathMonth", "deathDay"):
            assert "DATE_OF_BIRTH" not in _entities(players, column)
        assert "event" in players.details["columns"]["deathYear"]["ruled_out"]["DATE_OF_BIRTH"]

    def test_career_dates_of_people_are_event_dates_with_the_reason(self, players):
        for column, word in (("debut", "debut"), ("finalGame", "final")):
            assert _entities(players, column) == {"DATE_TIME"}
            assert word in players.details["columns"][column]["entities"]["DATE_TIME"]["evidence"]
        assert "debut" not in players.summary["quasi_identifiers"]

    def test_an_age_beside_an_event_date_gives_the_year_of_birth(self):
        fake, rng = _fake(9), random.Random(9)
        frame = pd.DataFrame(
            {
                "patient": [fake.name() for _ in range(ROWS)],
                "age": [rng.randint(18, 90) for _ in range(ROWS)],
                "visit_date": [_day(rng, 700) for _ in range(ROWS)],
            }
        )
        result = scan_pii(frame)
        info = result.details["columns"]["age"]["entities"]["DATE_OF_BIRTH"]
        assert info["group"] == ["age", "visit_date"] and "year of birth" in info["evidence"]
        assert _entities(result, "visit_date") == {"DATE_TIME"}
        assert ["age", "visit_date"] in result.summary["birth_date_groups"]


class TestListsOfNames:
    def test_a_dozen_names_a_cell_are_names_with_the_share_of_items(self):
        fake = _fake(10)
        cells = ["; ".join(fake.name() for _ in range(12)) for _ in range(60)]
        result = scan_pii(pd.DataFrame({"cast": cells, "year": list(range(1960, 2020))}))
        info = result.details["columns"]["cast"]["entities"]["PERSON"]
        assert info["items"]["items_per_cell"] >= 10 and info["items"]["name_share"] >= 0.8
        assert "lists in" in info["evidence"]

    def test_surname_comma_title_given_stays_one_name(self):
        fake = _fake(11)
        cells = [f"{fake.last_name()}, Mr. {fake.first_name_male()}" for _ in range(80)]
        result = scan_pii(pd.DataFrame({"Name": cells}))
        info = result.details["columns"]["Name"]["entities"]["PERSON"]
        assert "items" not in info
        assert list_items("Smith, Mr. John") == ["Smith, Mr. John"]
        assert list_items("Lea, Mark") == ["Lea, Mark"]
        assert list_items("Ana Ruiz, Li Wei") == ["Ana Ruiz", "Li Wei"]
        assert list_items("Ana | Li and Tom") == ["Ana", "Li", "Tom"]
        assert list_items("Ana Ruiz\nLi Wei") == list_items("Ana Ruiz; Li Wei") == ["Ana Ruiz", "Li Wei"]


class TestGroupsOfPeople:
    """ "race" also names a competition: the header alone does not make a special category."""

    @staticmethod
    def _runners(race: list[str]):
        fake, rng = _fake(13), random.Random(13)
        frame = pd.DataFrame(
            {
                "race": race,
                "first_name": [fake.first_name() for _ in range(ROWS)],
                "sex": [rng.choice("MF") for _ in range(ROWS)],
                "age": [rng.randint(9, 80) for _ in range(ROWS)],
            }
        )
        return scan_pii(frame)

    def test_a_race_of_5k_and_half_marathon_runs_is_no_group_with_the_reason(self):
        rng = random.Random(14)
        result = self._runners([rng.choice(["5k", "half-marathon"]) for _ in range(ROWS)])
        assert _entities(result, "race") == set()
        assert "competition" in result.details["columns"]["race"]["ruled_out"]["NRP"]
        assert "race" not in result.summary["quasi_identifiers"]

    @pytest.mark.parametrize(
        "categories",
        [
            ["White", "Black", "Hispanic", "American Indian"],
            [" White", " Black", " Asian-Pac-Islander", " Amer-Indian-Eskimo", " Other"],
            ["W", "B", "H", "A"],
        ],
    )
    def test_a_race_of_groups_of_people_is_nrp_and_a_quasi_identifier(self, categories):
        rng = random.Random(15)
        result = self._runners([rng.choice(categories) for _ in range(ROWS)])
        assert _entities(result, "race") == {"NRP"}
        assert "race" in result.summary["quasi_identifiers"]


class TestCleanKeys:
    def test_a_byte_order_mark_and_padding_leave_the_key_and_stay_in_the_evidence(self, tmp_path):
        fake = _fake(12)
        path = tmp_path / "hosts.csv"
        rows = "".join(f"{1000 + i},{fake.name()}\n" for i in range(80))
        path.write_text("\ufeffHost Id, Name \n" + rows, encoding="utf-8")
        columns = scan_pii(path).details["columns"]
        assert set(columns) == {"Host Id", "Name"}
        assert columns["Host Id"]["header_as_written"] == "\ufeffHost Id"
        assert columns["Name"]["header_as_written"] == " Name "
        assert columns["Host Id"]["name_hint"] == "PERSON_ID"
        assert _entities_of(columns, "Name") == {"PERSON"}

    def test_column_keys_are_clean_and_repeats_still_counted(self):
        keys, repeats = column_keys(["\ufeffname", " name", "age\u200b"])
        assert keys == ["name", "name (2)", "age"]
        assert repeats == {"name (2)": "name"}
        assert raw_headers(["\ufeffname", "x"]) == {"name": "\ufeffname"}

    def test_hints_match_whatever_the_case(self):
        assert name_hint("CUSTOMER_ID") == name_hint("customerId") == "PERSON_ID"
        assert name_hint("birthCity") == "LOCATION"
        assert name_hint("birthYear") == "DATE_OF_BIRTH"


def _entities_of(columns, column):
    return set(columns[column]["entities"])


class TestShownInTheViews:
    def test_the_card_and_the_governance_view_say_subject_keys_and_split_dates(self):
        from govflow.checks.pii._view import describe_pii, pii_view

        summary = {
            "rows": 10,
            "columns_with_pii": ["playerID"],
            "subject": "person",
            "person_identifiers": ["playerID"],
            "birth_date_groups": [["birthYear", "birthMonth", "birthDay"]],
        }
        result = {"check": "pii", "status": "pass", "created_at": "2026-12-06", "summary": summary}
        about = pii_view(result, allowed=["PERSON_ID"])["about"]
        assert (
            "about: person" in about and "playerID" in about and "birthYear + birthMonth + birthDay" in about
        )
        assert about in describe_pii(result)
        old = {**result, "summary": {"columns_with_pii": []}}  # evidence from before #25: unchanged
        assert describe_pii(old).endswith("personal data found in no column")
