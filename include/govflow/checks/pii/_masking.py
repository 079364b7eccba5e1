"""Masked examples: enough to recognise the kind of value, never the value.

``j***@e***.com``, ``***-**-1120``, ``**** **** **** 4242``, ``J*** S***``.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_LENGTH = 40
_STAR = "*"


def mask(entity: str, text: str) -> str:
    """Mask one detected value according to its entity type."""
    text = " ".join(str(text).split())  # one line, no tabs/newlines
    masker = _MASKERS.get(entity, _mask_generic)
    masked = masker(text)
    return masked if len(masked) <= MAX_LENGTH else masked[: MAX_LENGTH - 1] + "…"


def _mask_email(text: str) -> str:
    local, _, domain = text.rpartition("@")
    if not local or "." not in domain:
        return _mask_generic(text)
    host, _, tld = domain.rpartition(".")
    return f"{local[0]}***@{host[0]}***.{tld}"


def _keep_last_digits(keep: int) -> Callable[[str], str]:
    """Mask every digit but the last ``keep``; separators stay so the format shows."""

    def masker(text: str) -> str:
        total = sum(ch.isdigit() for ch in text)
        seen = 0
        out = []
        for ch in text:
            if ch.isdigit():
                seen += 1
                out.append(ch if seen > total - keep else _STAR)
            elif ch.isalpha():
                out.append(_STAR)
            else:
                out.append(ch)
        return "".join(out)

    return masker


def _mask_iban(text: str) -> str:
    compact = [i for i, ch in enumerate(text) if ch.isalnum()]
    keep = set(compact[:2]) | set(compact[-2:])  # country code and the last two characters
    return "".join(ch if (i in keep or not ch.isalnum()) else _STAR for i, ch in enumerate(text))


def _mask_ip(text: str) -> str:
    if "." in text and ":" not in text:
        first = text.split(".", 1)[0]
        return f"{first}.*.*.*"
    first = text.split(":", 1)[0]
    return f"{first}:****:…"


def _mask_words(text: str) -> str:
    """Initials only: ``Jane Smith`` -> ``J*** S***``."""
    return " ".join(f"{word[0]}***" for word in text.split())


def _mask_shape(text: str) -> str:
    """Every letter and digit masked: the format stays (``**/**/****``)."""
    return "".join(_STAR if ch.isalnum() else ch for ch in text)


def _mask_generic(text: str) -> str:
    if len(text) <= 2:
        return _STAR * len(text)
    return text[0] + "".join(_STAR if ch.isalnum() else ch for ch in text[1:])


_MASKERS = {
    "EMAIL_ADDRESS": _mask_email,
    "US_SSN": _keep_last_digits(4),
    "US_ITIN": _keep_last_digits(4),
    "UK_NHS": _keep_last_digits(3),
    "CREDIT_CARD": _keep_last_digits(4),
    "PHONE_NUMBER": _keep_last_digits(2),
    "US_BANK_NUMBER": _keep_last_digits(2),
    "IBAN_CODE": _mask_iban,
    "IP_ADDRESS": _mask_ip,
    "PERSON": _mask_words,
    "LOCATION": _mask_words,
    "NRP": _mask_words,
    "DATE_TIME": _mask_shape,
    "DATE_OF_BIRTH": _mask_shape,
    "NATIONAL_ID": _mask_shape,
    "UK_NINO": _mask_shape,
    "IT_FISCAL_CODE": _mask_shape,
    "ES_NIF": _mask_shape,
    "ES_NIE": _mask_shape,
    "FI_PERSONAL_IDENTITY_CODE": _mask_shape,
    "PERSON_ID": _mask_shape,
}
