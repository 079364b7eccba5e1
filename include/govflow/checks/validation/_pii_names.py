"""Column names that suggest personal data, so checks keep their raw values out of evidence.

A false positive only hides example values (counts stay), so matching is generous:
every name the PII scan hints at (``pii._hints.name_hint``, the one vocabulary), plus
substrings anywhere in the name and a few extra short words.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from govflow.checks.pii import name_hint

# Matched anywhere in the lower-cased name with separators removed ("e-mail" -> "email").
_SUBSTRINGS = (
    "name",
    "email",
    "mail",
    "phone",
    "mobile",
    "ssn",
    "socialsecurity",
    "address",
    "street",
    "postcode",
    "postalcode",
    "zipcode",
    "birth",
    "dob",
    "passport",
    "licen",
    "iban",
    "account",
    "creditcard",
    "cardnumber",
    "taxid",
    "nationalid",
    "personalid",
    "ipaddress",
    "geoloc",
    "latitude",
    "longitude",
    "password",
)
# Short words the scan's hints lack, matched as whole tokens only ("lat" but not "latency").
_TOKENS = frozenset({"cpr", "lat", "lon", "lng"})
_SPLIT = re.compile(r"[^0-9a-z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def name_suggests_pii(column: object) -> bool:
    """True when a column's name suggests it may hold personal data (``email``, ``last_name``, ``DOB``...)."""
    if name_hint(str(column)) is not None:
        return True
    text = _CAMEL.sub("_", str(column)).lower()
    tokens = [t for t in _SPLIT.split(text) if t]
    joined = "".join(tokens)
    return any(s in joined for s in _SUBSTRINGS) or any(t in _TOKENS for t in tokens)


def pii_column_set(columns: Iterable[object], declared: Collection[str] = ()) -> frozenset[str]:
    """The columns (as strings) whose raw values must not be stored: declared ones plus suggestive names."""
    declared_set = {str(c) for c in declared}
    return frozenset(str(c) for c in columns if str(c) in declared_set or name_suggests_pii(c)) | declared_set
