"""Names of people inside narratives: a few cells of a long free-text column name a doctor or an
official among many organisations and places; they count, the organisations do not."""

from __future__ import annotations

import pandas as pd
import pytest

from govflow.checks.pii import scan_pii
from govflow.checks.pii._names import prose_name


def _span(text: str, span: str) -> tuple[str, int, int]:
    start = text.index(span)
    return text, start, start + len(span)


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("The report was filed, said OCR Director Leon Rodriguez. Nothing else.", "Leon Rodriguez", True),
        ("Following the theft, Dr. Saran notified the patients.", "Saran", True),
        ("A letter from Christina Heide explained the delay.", "Christina Heide", True),
        ("Records of Alexander J. Tikhtman were lost.", "Alexander J. Tikhtman", True),
        (
            "The covered entity, Lawrence Memorial Hospital, mailed postcards.",
            "Lawrence Memorial Hospital",
            False,
        ),
        ("Staff of the William Jennings Bryan Dorn VA Medical Center", "William Jennings Bryan Dorn", False),
        ("The postcards went to Virginia Medicaid members.", "Virginia Medicaid", False),
        ("A plan required AP Derm to train its staff.", "AP Derm", False),
        ("The actions taken by Goodwill were adequate.", "Goodwill", False),  # one word, no title
        ("The laptop of Towers Watson was stolen.", "Towers Watson", False),  # no given name first
    ],
)
def test_prose_name(text, span, expected):
    assert prose_name(*_span(text, span)) is expected


_PLAIN = [
    "A laptop holding the records of {n} patients was stolen from an unlocked car overnight.",
    "An employee emailed a spreadsheet with the health information of {n} members to the wrong vendor.",
    "Paper files of {n} clients were left in a recycling bin instead of the shredding bin.",
    "A server was misconfigured and exposed the billing data of {n} individuals to the internet.",
]
_NAMED = [
    "The covered entity reported the theft, said Director Angela Martinez, and retrained staff.",
    "Following the breach, Dr. Okafor notified every patient by mail within a month.",
    "A letter from Thomas Becker, the privacy officer, explained the corrective actions taken.",
    "Records kept by Dr. Helen Carter were lost when the office moved to a new building.",
]
_ORGANISATIONS = [
    "The covered entity, Lakeside Memorial Hospital, mailed postcards to the wrong addresses.",
    "The business associate, Towers Watson, lost a backup tape in transit to storage.",
    "Members of Virginia Medicaid received letters meant for other members last spring.",
    "The Jacksonville Spine Center disclosed records to a marketing firm without consent.",
]


def _narratives(special: list[str]) -> pd.DataFrame:
    plain = [t.format(n=100 + i) for i in range(60) for t in _PLAIN[i % 4 : i % 4 + 1]]
    return pd.DataFrame({"case": range(len(plain) + len(special)), "description": plain + special})


def test_a_few_named_people_in_narratives_are_found_with_their_cells():
    info = scan_pii(_narratives(_NAMED)).details["columns"]["description"]
    assert info["kind"] == "free_text"
    person = info["entities"]["PERSON"]
    assert person["validated"] == 4  # the four named cells, not the organisations
    assert all("***" in example for example in person["examples"])


def test_organisations_in_narratives_are_not_people():
    info = scan_pii(_narratives(_ORGANISATIONS)).details["columns"]["description"]
    assert "PERSON" not in info["entities"]
