"""Real-table misses closed by general rules (#25): a surname column whose families repeat, the
other part of a name beside a column of names (``baker_last`` beside ``baker_first``), and a day
or month of birth standing alone (HIPAA: every element of a birth date but the year). Decoys:
a clinic's name that repeats, a town beside names, a year of birth alone. Real Presidio + spaCy,
offline; every table is built here (seeded Faker)."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pandas as pd
import pytest
from faker import Faker

from govflow.checks.pii import scan_pii
from govflow.checks.pii._hints import names_a_name_part

ROWS = 200
DAY = date(2026, 11, 30)
CLINICS = ["riverside clinic", "oncology day hosp", "north lab", "east ward", "main hall"]
TOWNS = ["Springfield", "Riverside", "Fairview", "Georgetown", "Salem", "Madison", "Clinton", "Franklin"]


def _fake(seed: int) -> Faker:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    return fake


@pytest.fixture(scope="module")
def households():
    """Patients of 25 families with invented surnames (no dictionary knows them; they repeat,
    like the houses of a fantasy saga); a clinic; a day of the year of birth."""
    fake, rng = _fake(21), random.Random(21)
    syllables = ["kar", "dor", "vel", "mis", "tan", "ro", "ula", "shen", "bri", "gal", "yth", "orm"]
    families = sorted({"".join(rng.sample(syllables, 3)) for _ in range(60)})[:25]
    rows = []
    for _ in range(ROWS):
        born = DAY - timedelta(days=rng.randint(20 * 365, 80 * 365))
        rows.append(
            {
                "first_name": fake.first_name().lower(),
                "last_name": rng.choice(families),
                "clinic_name": rng.choice(CLINICS),
                "dayOfBirth": born.timetuple().tm_yday,
                "birth_year": born.year,
                "result": rng.choice(["negative", "positive"]),
            }
        )
    return scan_pii(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def contestants():
    """Contestants of a show: given names, family names under a header without "name", home towns."""
    fake, rng = _fake(22), random.Random(22)
    frame = pd.DataFrame(
        {
            "contestant_first": [fake.first_name() for _ in range(ROWS)],
            "contestant_last": [fake.last_name() for _ in range(ROWS)],
            "last_city": [rng.choice(TOWNS) for _ in range(ROWS)],
            "series": [rng.randint(1, 12) for _ in range(ROWS)],
        }
    )
    return scan_pii(frame)


def _entities(result, column):
    return set(result.details["columns"][column]["entities"])


class TestSurnamesThatRepeat:
    def test_a_last_name_column_of_few_families_holds_names(self, households):
        assert households.summary["subject"] == "person"
        assert _entities(households, "last_name") == {"PERSON"}
        evidence = households.details["columns"]["last_name"]["entities"]["PERSON"]["evidence"]
        assert "shaped like names" in evidence and "distinct" in evidence

    def test_a_repeating_clinic_name_is_still_no_person(self, households):
        assert "PERSON" not in _entities(households, "clinic_name")

    def test_only_a_part_of_a_persons_name_may_repeat(self):
        for header in (["last", "name"], ["surname"], ["first", "name"], ["nachname"]):
            assert names_a_name_part(header), header
        for header in (["clinic", "name"], ["name"], ["last", "login"], ["first", "game"]):
            assert not names_a_name_part(header), header


class TestTheOtherPartOfAName:
    def test_a_family_name_beside_given_names_holds_names_with_the_reason(self, contestants):
        assert _entities(contestants, "contestant_first") == {"PERSON"}
        assert _entities(contestants, "contestant_last") == {"PERSON"}
        evidence = contestants.details["columns"]["contestant_last"]["entities"]["PERSON"]["evidence"]
        assert "a part of a name beside contestant_first" in evidence

    def test_a_town_under_a_name_part_word_is_not_a_name(self, contestants):
        assert "PERSON" not in _entities(contestants, "last_city")


class TestAPartOfABirthDateAlone:
    def test_the_day_of_the_year_of_birth_is_a_date_of_birth(self, households):
        info = households.details["columns"]["dayOfBirth"]["entities"]["DATE_OF_BIRTH"]
        assert info["group"] == ["dayOfBirth"] and "the day of a birth" in info["evidence"]
        assert all("1" not in e and "2" not in e for e in info["examples"])  # masked

    def test_a_year_of_birth_alone_is_not(self, households):
        assert "DATE_OF_BIRTH" not in _entities(households, "birth_year")

    def test_it_is_no_split_date_and_needs_a_table_about_people(self, households):
        assert households.summary["birth_date_groups"] == []
        frame = pd.DataFrame({"dayOfBirth": [i % 365 + 1 for i in range(ROWS)], "mass": list(range(ROWS))})
        assert "DATE_OF_BIRTH" not in _entities(scan_pii(frame), "dayOfBirth")
