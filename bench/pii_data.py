"""A realistic table for the PII benchmark: Faker data in several locales and formats.

``generate(rows, seed)`` returns a DataFrame; ``TRUTH`` says which Presidio entity
types each column really holds (an empty set: no PII, only look-alikes).

PII columns: names, emails, phones, SSNs, other national ids (UK NINO, Italian
fiscal codes, Spanish NIFs), credit cards, IBANs, IPv4/IPv6, street addresses,
dates of birth, and free-text columns where PII is sparse (1 row in 200).
Look-alikes: UUIDs, hex digests (in a column named ``email``), SKUs, 9-digit batch
numbers, 16-digit shipment references, amounts, product phrases, city-free business text.

Run ``python bench/pii_data.py ROWS OUT.csv`` to write a file.
"""

from __future__ import annotations

import random
import sys
import uuid
from pathlib import Path

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
SPARSE_EVERY = 200  # one row in this many carries the sparse PII of a free-text column

TRUTH: dict[str, frozenset[str]] = {
    "full_name": frozenset({"PERSON"}),
    "email_address": frozenset({"EMAIL_ADDRESS"}),
    "phone": frozenset({"PHONE_NUMBER"}),
    "ssn": frozenset({"US_SSN"}),
    "national_id": frozenset({"UK_NINO", "IT_FISCAL_CODE", "ES_NIF"}),
    "card_number": frozenset({"CREDIT_CARD"}),
    "iban": frozenset({"IBAN_CODE"}),
    "ip_address": frozenset({"IP_ADDRESS"}),
    "home_address": frozenset({"LOCATION"}),
    "birth_date": frozenset({"DATE_OF_BIRTH"}),
    "support_notes": frozenset({"EMAIL_ADDRESS"}),
    "agent_log": frozenset({"PHONE_NUMBER", "PERSON"}),
    "order_id": frozenset(),
    "email": frozenset(),  # sha256 digests: the name says email, the content is not PII
    "sku": frozenset(),
    "batch_number": frozenset(),
    "shipment_ref": frozenset(),
    "amount": frozenset(),
    "product": frozenset(),
    "description": frozenset(),
}

_ADJECTIVES = (
    "Ergonomic",
    "Rustic",
    "Sleek",
    "Compact",
    "Premium",
    "Durable",
    "Lightweight",
    "Organic",
    "Wireless",
    "Heavy-duty",
    "Refurbished",
    "Eco",
    "Smart",
    "Classic",
)
_MATERIALS = (
    "Steel",
    "Cotton",
    "Bamboo",
    "Granite",
    "Plastic",
    "Leather",
    "Wooden",
    "Aluminium",
    "Ceramic",
    "Glass",
    "Wool",
    "Rubber",
    "Carbon",
)
_PRODUCTS = (
    "Chair",
    "Water Bottle",
    "Desk Lamp",
    "Backpack",
    "Keyboard",
    "Blender",
    "Jacket",
    "Phone Case",
    "Coffee Grinder",
    "Router",
    "Notebook",
    "Kettle",
    "Yoga Mat",
    "Monitor Stand",
)
_NOTE_OPENERS = (
    "Customer asked to",
    "Follow-up needed to",
    "Ticket reopened to",
    "Agent agreed to",
    "Team will",
    "Requested a plan to",
    "Escalation closed; next step is to",
)
_LOG_OPENERS = ("Inbound call:", "Chat session:", "Callback scheduled:", "Case note:", "Survey reply:")


def _nino(rng: random.Random) -> str:
    # Valid UK NINO prefixes (no D, F, I, Q, U, V; second letter not O; no BG/GB/NK/KN/TN/NT/ZZ).
    first = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while True:
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
        if first + second not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
            break
    digits = f"{rng.randrange(10**6):06d}"
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"
    return f"{first}{second}{digits}{suffix}"


def _grouped(text: str, sep: str, size: int = 4) -> str:
    return sep.join(text[i : i + size] for i in range(0, len(text), size))


def _birth_date(fake, rng: random.Random) -> str:
    d = fake.date_of_birth(minimum_age=18, maximum_age=90)
    fmt = rng.choice(("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%b-%Y"))
    return d.strftime(fmt)


def _business_text(fake, rng: random.Random) -> str:
    opener, first, second = rng.choice(_NOTE_OPENERS), fake.bs(), fake.bs()
    return f"{opener} {first} and {second}; priority {rng.choice(('low', 'medium', 'high'))}."


def generate(rows: int, seed: int = 7):
    """Return a DataFrame of ``rows`` rows; the same (rows, seed) gives the same table."""
    import pandas as pd
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for i, loc in enumerate(LOCALES):
        fakers[loc] = Faker(loc)
        fakers[loc].seed_instance(seed * 100 + i)
    en = fakers["en_US"]

    data: dict[str, list] = {name: [] for name in TRUTH}
    for i in range(rows):
        loc = rng.choice(LOCALES)
        fake = fakers[loc]
        data["full_name"].append(fake.name())
        data["email_address"].append(fake.email())
        data["phone"].append(fake.phone_number())
        data["ssn"].append(en.ssn())
        kind = rng.randrange(3)
        data["national_id"].append(
            _nino(rng) if kind == 0 else fakers["it_IT"].ssn() if kind == 1 else fakers["es_ES"].nif()
        )
        card = fake.credit_card_number()
        style = rng.random()
        data["card_number"].append(card if style < 0.5 else _grouped(card, " " if style < 0.8 else "-"))
        iban = fake.iban()
        data["iban"].append(iban if rng.random() < 0.6 else _grouped(iban, " "))
        data["ip_address"].append(fake.ipv4() if rng.random() < 0.7 else fake.ipv6())
        data["home_address"].append(fake.address().replace("\n", ", "))
        data["birth_date"].append(_birth_date(fake, rng))

        note = _business_text(en, rng)
        if i % SPARSE_EVERY == 3:
            note = f"{note} Send the invoice copy to {fake.email()} please."
        data["support_notes"].append(note)
        log = f"{rng.choice(_LOG_OPENERS)} {en.catch_phrase().lower()} discussed, {en.bs()}."
        if i % SPARSE_EVERY == 11:
            log = f"{log} Call back on {fake.phone_number()} tomorrow."
        elif i % SPARSE_EVERY == 17:
            log = f"{log} Handled by {fake.name()} from the retention desk."
        data["agent_log"].append(log)

        data["order_id"].append(str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        data["email"].append(f"{rng.getrandbits(256):064x}")
        data["sku"].append(
            f"SKU-{rng.randrange(10**4):04d}-{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
        )
        data["batch_number"].append(f"{rng.randrange(10**8, 10**9)}")
        data["shipment_ref"].append(f"{rng.randrange(10**15, 10**16)}")
        value = rng.lognormvariate(4, 1.5)
        data["amount"].append(
            rng.choice((f"{value:.2f}", f"{value:,.2f}", f"EUR {value:.2f}", f"${value:,.2f}"))
        )
        data["product"].append(f"{rng.choice(_ADJECTIVES)} {rng.choice(_MATERIALS)} {rng.choice(_PRODUCTS)}")
        data["description"].append(
            f"{en.catch_phrase()}. Ideal to {en.bs()}, ships in {rng.randint(1, 9)} days."
        )
    return pd.DataFrame(data)


def write(rows: int, path: str | Path, seed: int = 7) -> Path:
    """Write the table (CSV or Parquet by suffix) and its truth as ``<stem>.truth.json``."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = generate(rows, seed)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    truth = {column: sorted(entities) for column, entities in TRUTH.items()}
    path.with_name(f"{path.stem}.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python bench/pii_data.py ROWS OUT.csv|OUT.parquet")
    print(write(int(sys.argv[1]), sys.argv[2]))
