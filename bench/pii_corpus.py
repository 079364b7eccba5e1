"""The labelled PII evaluation corpus: real-world-shaped tables, every column labelled.

    python bench/pii_corpus.py tests/fixtures/pii/corpus     # (re)write the tables and labels.json

Real, licence-clean tables (copied samples, see the corpus README): UCI Adult (CC BY 4.0,
from include/sample), and plotly's bundled gapminder, carshare and tips (MIT). Generated
tables (Faker, seeded, 8 locales) mirror what real exports look like: names in lower case,
UPPER case, "Last, First" and initials; surname-only and given-name-only columns;
a repeated header; street addresses without town; postcodes; coordinates as "lat, lon"
strings and as numeric columns; national ids and phones without separators in columns
that say so; free text with rare PII; birth dates beside event dates (and one in a column
named only "date"); and look-alike traps: binomial species names, common species names,
product names, firm names, SKUs, ward and diagnosis codes, store coordinates in a table
with no people.

``labels.json``: ``{table: {"columns": {column: [entities]}, "quasi_identifiers": [...]}}``.
Race, ethnicity, religion and nationality columns are NRP (Presidio's entity for such
groups, GDPR Art. 9 special-category data), whatever their spelling of the categories.
The labels say what a careful reviewer would say of each column, written before the scan
was run on it; they are not tuned to the scan's output.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
SEED = 14
ROWS = 300
# Dates are drawn relative to this day, not to today, so the corpus is the same whenever it is built.
REFERENCE_DAY = date(2026, 11, 30)

SPECIES = (
    ("Parus major", "Great Tit"),
    ("Cyanistes caeruleus", "Eurasian Blue Tit"),
    ("Erithacus rubecula", "European Robin"),
    ("Turdus merula", "Common Blackbird"),
    ("Ardea cinerea", "Grey Heron"),
    ("Vulpes vulpes", "Red Fox"),
    ("Meles meles", "European Badger"),
    ("Quercus robur", "Pedunculate Oak"),
    ("Fagus sylvatica", "European Beech"),
    ("Betula pendula", "Silver Birch"),
    ("Pinus sylvestris", "Scots Pine"),
    ("Rosa canina", "Dog Rose"),
    ("Bellis perennis", "Common Daisy"),
    ("Taraxacum officinale", "Common Dandelion"),
    ("Apis mellifera", "Western Honey Bee"),
    ("Bombus terrestris", "Buff-tailed Bumblebee"),
    ("Pieris rapae", "Small White"),
    ("Vanessa atalanta", "Red Admiral"),
    ("Lacerta agilis", "Sand Lizard"),
    ("Bufo bufo", "Common Toad"),
    ("Salmo trutta", "Brown Trout"),
    ("Anguilla anguilla", "European Eel"),
    ("Sciurus vulgaris", "Red Squirrel"),
    ("Capreolus capreolus", "Roe Deer"),
    ("Lepus europaeus", "European Hare"),
    ("Falco tinnunculus", "Common Kestrel"),
    ("Buteo buteo", "Common Buzzard"),
    ("Corvus corax", "Northern Raven"),
    ("Passer domesticus", "House Sparrow"),
    ("Hirundo rustica", "Barn Swallow"),
)
ADJECTIVES = ("Ergonomic", "Rustic", "Sleek", "Compact", "Premium", "Durable", "Smart", "Classic", "Organic")
MATERIALS = ("Steel", "Cotton", "Bamboo", "Granite", "Leather", "Wooden", "Ceramic", "Glass", "Wool")
PRODUCTS = ("Chair", "Water Bottle", "Desk Lamp", "Backpack", "Keyboard", "Kettle", "Yoga Mat", "Jacket")
EVENT_OPENERS = ("Customer reports", "Follow-up on", "Escalated:", "Question about", "Complaint regarding")
ISSUES = (
    "the invoice total being wrong after the last update",
    "a delayed delivery to the warehouse",
    "login failures on the mobile app since Monday",
    "a refund that has not arrived yet",
    "the wrong size being shipped twice",
)


def _days_ago(fake: Faker, most: int, least: int = 0) -> date:
    """A day between ``most`` and ``least`` days before the reference day."""
    return fake.date_between_dates(
        REFERENCE_DAY - timedelta(days=most), REFERENCE_DAY - timedelta(days=least)
    )


def _born(fake: Faker, minimum_age: int, maximum_age: int) -> date:
    return _days_ago(fake, 365 * (maximum_age + 1) - 1, 365 * minimum_age)


def _moment(fake: Faker, most_days: int) -> datetime:
    end = datetime.combine(REFERENCE_DAY, datetime.min.time())
    return fake.date_time_between_dates(end - timedelta(days=most_days), end)


def _fakers(*locales: str) -> dict[str, Faker]:
    out = {}
    for i, loc in enumerate(locales):
        out[loc] = Faker(loc)
        out[loc].seed_instance(SEED * 100 + i)
    return out


def _people_registry(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """A register of deaths as published: names in every case, a repeated header, raw places."""
    fakers = _fakers("es_MX", "en_US", "en_GB")
    rows = []
    for _ in range(ROWS):
        fake = fakers[rng.choice(list(fakers))]
        first, last = fake.first_name(), fake.last_name()
        rows.append(
            [
                f"{first} {last}".lower(),
                first,
                last.upper(),
                f"{last}, {first}",
                _born(fake, 20, 95).isoformat(),
                _days_ago(fake, 3 * 365).isoformat(),
                rng.choice(("M", "F")),
                rng.choice(("White", "Black", "Hispanic", "Asian", "Native American")),
                f"{rng.randint(1, 9999)} {rng.choice('NSEW')}. {rng.randint(1, 120)}th St.",
                f"{rng.randint(10000, 99999)}",
                f"{rng.uniform(25, 48):.5f}, {rng.uniform(-123, -70):.5f}",
                rng.choice(("Natural causes", "Accident", "Pending investigation", "Illness")),
            ]
        )
    columns = [
        "name",
        "first_name",
        "last_name",
        "name",
        "dob",
        "date_of_death",
        "sex",
        "race",
        "address",
        "zip",
        "location",
        "cause",
    ]
    labels = {
        "name": ["PERSON"],
        "first_name": ["PERSON"],
        "last_name": ["PERSON"],
        "name (2)": ["PERSON"],
        "dob": ["DATE_OF_BIRTH"],
        "date_of_death": ["DATE_TIME"],
        "sex": [],
        "race": ["NRP"],
        "address": ["LOCATION"],
        "zip": ["LOCATION"],
        "location": ["LOCATION"],
        "cause": [],
    }
    return pd.DataFrame(rows, columns=columns), labels, ["dob", "sex", "race", "zip"]


def _patients(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """A European hospital extract: initials, surname-only and given-name-only columns, codes."""
    fakers = _fakers("de_DE", "fr_FR", "it_IT", "nl_NL")
    rows = []
    for i in range(ROWS):
        loc = rng.choice(list(fakers))
        fake = fakers[loc]
        first, last = fake.first_name(), fake.last_name()
        note = rng.choice(("stable", "transferred to ward B", "awaiting lab results", "discharged home"))
        if i % 40 == 7:
            note += f"; daughter can be reached on {fake.phone_number()}"
        street = {
            "de_DE": f"{fake.street_name()} {rng.randint(1, 200)}",
            "fr_FR": f"{rng.randint(1, 200)} rue {rng.choice(('de la Paix', 'Victor Hugo', 'des Lilas'))}",
            "it_IT": f"Via {fake.last_name()} {rng.randint(1, 200)}",
            "nl_NL": f"{fake.street_name()} {rng.randint(1, 200)}",
        }[loc]
        rows.append(
            [
                f"{first[0]}. {last}",
                last,
                first,
                _born(fake, 1, 99).strftime("%d.%m.%Y"),
                _days_ago(fake, 2 * 365).strftime("%d.%m.%Y"),
                _days_ago(fake, 365).strftime("%d.%m.%Y"),
                street,
                f"{rng.randint(10000, 99999)}",
                f"W-{rng.randint(1, 40):02d}",
                rng.choice(("E11.9", "I10", "J45.909", "M54.5", "K21.9", "F32.1")),
                rng.choice(("m", "w", "d")),
                note,
            ]
        )
    columns = [
        "patient",
        "nachname",
        "vorname",
        "geburtsdatum",
        "admission_date",
        "discharge_date",
        "strasse",
        "plz",
        "ward",
        "icd10",
        "geschlecht",
        "nursing_note",
    ]
    labels = {
        "patient": ["PERSON"],
        "nachname": ["PERSON"],
        "vorname": ["PERSON"],
        "geburtsdatum": ["DATE_OF_BIRTH"],
        "admission_date": ["DATE_TIME"],
        "discharge_date": ["DATE_TIME"],
        "strasse": ["LOCATION"],
        "plz": ["LOCATION"],
        "ward": [],
        "icd10": [],
        "geschlecht": [],
        "nursing_note": ["PHONE_NUMBER"],
    }
    return pd.DataFrame(rows, columns=columns), labels, ["geburtsdatum", "plz", "geschlecht"]


def _species_observations(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """Citizen-science sightings: capitalised species names next to the observer's name."""
    fakers = _fakers("en_GB", "nl_NL")
    rows = []
    for _ in range(ROWS):
        fake = fakers[rng.choice(list(fakers))]
        scientific, common = rng.choice(SPECIES)
        rows.append(
            [
                scientific,
                common,
                fake.name(),
                _days_ago(fake, 365).isoformat(),
                round(rng.uniform(50.5, 53.5), 5),
                round(rng.uniform(3.3, 7.2), 5),
                rng.randint(1, 12),
                f"SITE-{rng.randint(100, 999)}",
            ]
        )
    columns = ["scientific_name", "common_name", "observer", "observed_on", "lat", "lon", "count", "site"]
    labels = {
        "scientific_name": [],
        "common_name": [],
        "observer": ["PERSON"],
        "observed_on": ["DATE_TIME"],
        "lat": ["LOCATION"],
        "lon": ["LOCATION"],
        "count": [],
        "site": [],
    }
    return pd.DataFrame(rows, columns=columns), labels, []


def _products(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """A catalogue with no people: product and firm names, SKUs, store coordinates."""
    fakers = _fakers("en_US", "de_DE")
    rows = []
    for _ in range(ROWS):
        fake = fakers[rng.choice(list(fakers))]
        rows.append(
            [
                f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(PRODUCTS)}",
                fake.company(),
                f"SKU-{rng.randint(0, 9999):04d}-{rng.choice('ABCDEFGH')}{rng.choice('KLMNPQRS')}",
                f"{rng.lognormvariate(3, 1):.2f}",
                _days_ago(fake, 4 * 365).isoformat(),
                rng.choice(("Home", "Office", "Outdoor", "Kitchen", "Sports")),
                round(rng.uniform(40.5, 41.0), 6),
                round(rng.uniform(-74.2, -73.7), 6),
            ]
        )
    columns = ["product_name", "brand", "sku", "price", "release_date", "category", "store_lat", "store_lon"]
    labels = {c: [] for c in columns}
    labels["release_date"] = ["DATE_TIME"]
    return pd.DataFrame(rows, columns=columns), labels, []


def _customers(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """An international customer export: UPPER-case names, ids, contact details."""
    fakers = _fakers("en_GB", "fr_FR", "es_ES", "pl_PL", "pt_BR")
    gb = fakers["en_GB"]
    rows = []
    for i in range(ROWS):
        fake = fakers[rng.choice(list(fakers))]
        digits = f"{rng.randrange(10**6):06d}"
        rows.append(
            [
                fake.name().upper(),
                fake.email(),
                fake.phone_number(),
                f"{rng.choice('ABCEGHJKLMNPRSTWXYZ')}{rng.choice('ABCEGHJKLMNPRSTWXYZ')}{digits}{rng.choice('ABCD')}",
                fake.iban(),
                f"CUST-{i:06d}",
                _moment(fake, 2 * 365).isoformat(sep=" ", timespec="seconds"),
                _born(fake, 18, 90).strftime("%m/%d/%Y"),
                rng.choice(("female", "male", "non-binary")),
                gb.postcode(),
                rng.choice(("gold", "silver", "bronze")),
            ]
        )
    columns = [
        "customer",
        "email",
        "phone",
        "ni_number",
        "iban",
        "loyalty_id",
        "signup_ts",
        "birthdate",
        "gender",
        "postcode",
        "tier",
    ]
    labels = {
        "customer": ["PERSON"],
        "email": ["EMAIL_ADDRESS"],
        "phone": ["PHONE_NUMBER"],
        "ni_number": ["UK_NINO"],
        "iban": ["IBAN_CODE"],
        "loyalty_id": ["PERSON_ID"],  # a customer's key (#25)
        "signup_ts": ["DATE_TIME"],
        "birthdate": ["DATE_OF_BIRTH"],
        "gender": [],
        "postcode": ["LOCATION"],
        "tier": [],
    }
    return pd.DataFrame(rows, columns=columns), labels, ["birthdate", "gender", "postcode"]


def _employees(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """An HR export: "Last, First", an SSN and phone without separators, a birth date headed only "date"."""
    fake = _fakers("en_US")["en_US"]
    rows = []
    for _ in range(ROWS):
        rows.append(
            [
                f"{fake.last_name()}, {fake.first_name()}",
                f"{rng.randint(100, 665)}{rng.randint(10, 99)}{rng.randint(1000, 9999)}",
                f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}",
                _days_ago(fake, 15 * 365).isoformat(),
                _born(fake, 20, 67).isoformat(),
                rng.choice(("Sales", "Marketing", "Engineering", "Finance", "Legal", "Support")),
                fake.name(),
                f"{rng.randint(35, 180) * 1000}",
                fake.city(),
            ]
        )
    columns = [
        "employee",
        "ssn",
        "phone",
        "hire_date",
        "date",
        "department",
        "manager",
        "salary",
        "office_city",
    ]
    labels = {
        "employee": ["PERSON"],
        "ssn": ["US_SSN"],
        "phone": ["PHONE_NUMBER"],
        "hire_date": ["DATE_TIME"],
        "date": ["DATE_OF_BIRTH"],
        "department": [],
        "manager": ["PERSON"],
        "salary": [],
        "office_city": ["LOCATION"],
    }
    return pd.DataFrame(rows, columns=columns), labels, ["date"]


def _support_tickets(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """Free-text tickets with rare PII, and agents known by lower-case given names only."""
    fakers = _fakers("en_US", "en_GB", "de_DE")
    us = fakers["en_US"]
    agents = sorted({us.first_name().lower() for _ in range(80)})[:45]
    rows = []
    for i in range(ROWS):
        fake = fakers[rng.choice(list(fakers))]
        text = f"{rng.choice(EVENT_OPENERS)} {rng.choice(ISSUES)}."
        if i % 30 == 4:
            text += f" Please reply to {fake.email()} instead of the account address."
        elif i % 30 == 9:
            text += f" Call me back on {fake.phone_number()} after 5pm."
        elif i % 30 == 14:
            text += f" My colleague {fake.name()} opened the first ticket."
        rows.append(
            [
                f"T-{100000 + i}",
                text,
                rng.choice(agents),
                _moment(us, 90).isoformat(sep=" ", timespec="minutes"),
                rng.choice(("open", "pending", "closed")),
                rng.choice(("P1", "P2", "P3")),
                f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS)} {rng.choice(PRODUCTS)}",
            ]
        )
    columns = ["ticket_id", "body", "assigned_to", "created_at", "status", "priority", "product"]
    labels = {
        # A ticket has one submitter: its number keys a record about that person (the body holds their
        # email and phone) and joins it to the customer system, a pseudonymous key (#25).
        "ticket_id": ["PERSON_ID"],
        "body": ["EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON"],
        "assigned_to": ["PERSON"],
        "created_at": ["DATE_TIME"],
        "status": [],
        "priority": [],
        "product": [],
    }
    return pd.DataFrame(rows, columns=columns), labels, []


def _adult(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """UCI Adult (CC BY 4.0): census records, quasi-identifiers and no direct identifier."""
    frame = pd.read_csv(ROOT / "include" / "sample" / "adult" / "train.csv")
    frame = frame.sample(n=min(600, len(frame)), random_state=SEED).reset_index(drop=True)
    labels = {c: [] for c in frame.columns}
    labels["native-country"] = ["LOCATION"]
    labels["race"] = ["NRP"]
    return frame, labels, ["age", "marital-status", "race", "sex", "native-country"]


def _plotly(name: str) -> pd.DataFrame:
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "datasets" / f"{name}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return pd.read_csv(handle)


def _gapminder(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """plotly's gapminder (MIT): country statistics, places but no people."""
    frame = _plotly("gapminder").sample(n=500, random_state=SEED).reset_index(drop=True)
    labels = {c: [] for c in frame.columns}
    # A table about countries: its places belong to no person (#25).
    labels["country"] = []
    labels["continent"] = []
    return frame, labels, []


def _carshare(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """plotly's carshare (MIT): neighbourhood centroids in Montreal, no people."""
    frame = _plotly("carshare")
    return frame, {c: [] for c in frame.columns}, []


def _tips(rng: random.Random) -> tuple[pd.DataFrame, dict, list]:
    """plotly's tips (MIT): restaurant bills with the payer's sex, no identifier."""
    frame = _plotly("tips")
    return frame, {c: [] for c in frame.columns}, ["sex"]


TABLES = {
    "people_registry": _people_registry,
    "patients": _patients,
    "species_observations": _species_observations,
    "products": _products,
    "customers": _customers,
    "employees": _employees,
    "support_tickets": _support_tickets,
    "adult": _adult,
    "gapminder": _gapminder,
    "carshare": _carshare,
    "tips": _tips,
}


def build(out: str | Path) -> Path:
    """Write every table as ``<name>.csv`` and their labels as ``labels.json`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    labels = {}
    for name, make in TABLES.items():
        frame, columns, quasi = make(random.Random(f"{SEED}-{name}"))
        frame.to_csv(out / f"{name}.csv", index=False)
        labels[name] = {"columns": columns, "quasi_identifiers": quasi}
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")
    return out


def load_labels(corpus: str | Path) -> dict:
    return json.loads((Path(corpus) / "labels.json").read_text(encoding="utf-8"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python bench/pii_corpus.py OUT_DIR")
    print(build(sys.argv[1]))
