"""Masked examples and column-name hints: exact, known answers."""

from __future__ import annotations

import pytest

from govflow.checks.pii._hints import column_tokens, name_hint
from govflow.checks.pii._masking import mask


@pytest.mark.parametrize(
    ("entity", "raw", "masked"),
    [
        ("EMAIL_ADDRESS", "jane.doe@example.com", "j***@e***.com"),
        ("EMAIL_ADDRESS", "x@mail.co.uk", "x***@m***.uk"),
        ("US_SSN", "123-45-1120", "***-**-1120"),
        ("CREDIT_CARD", "4111 1111 1111 4242", "**** **** **** 4242"),
        ("CREDIT_CARD", "4111111111114242", "************4242"),
        ("PHONE_NUMBER", "+44 20 7946 0958", "+** ** **** **58"),
        ("PHONE_NUMBER", "217-977-6317x066", "***-***-******66"),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00", "DE** **** **** **** **** 00"),
        ("IP_ADDRESS", "192.168.1.10", "192.*.*.*"),
        ("IP_ADDRESS", "2001:db8::1", "2001:****:…"),
        ("PERSON", "Jean-Luc  Picard", "J*** P***"),
        ("LOCATION", "12 Main Street", "1*** M*** S***"),
        ("DATE_TIME", "04-Mar-1985", "**-***-****"),
        ("UK_NINO", "AB 12 34 56 C", "** ** ** ** *"),
        ("EMPLOYEE_ID", "EMP-123456", "E**-******"),
        ("EMPLOYEE_ID", "ab", "**"),
    ],
)
def test_mask(entity, raw, masked):
    assert mask(entity, raw) == masked


def test_mask_keeps_one_line_and_is_bounded():
    masked = mask("PERSON", "Anna\nMaria\t" + "Long " * 40)
    assert "\n" not in masked and "\t" not in masked
    assert len(masked) <= 40


@pytest.mark.parametrize(
    ("column", "hint"),
    [
        ("email", "EMAIL_ADDRESS"),
        ("customerEmail", "EMAIL_ADDRESS"),
        ("email_sha256", "EMAIL_ADDRESS"),
        ("ip_address", "IP_ADDRESS"),
        ("client_ipv6", "IP_ADDRESS"),
        ("home_address", "LOCATION"),
        ("Mobile Phone", "PHONE_NUMBER"),
        ("ssn", "US_SSN"),
        ("card_number", "CREDIT_CARD"),
        ("IBAN", "IBAN_CODE"),
        ("national_id", "NATIONAL_ID"),
        ("date_of_birth", "DATE_OF_BIRTH"),
        ("DOB", "DATE_OF_BIRTH"),
        ("full_name", "PERSON"),
        ("lastName", "PERSON"),
        ("product_name", None),
        ("company_name", None),
        ("username", None),
        ("order_id", None),
        ("amount", None),
    ],
)
def test_name_hint(column, hint):
    assert name_hint(column) == hint


def test_custom_recognizer_context_words_hint_their_entity():
    custom = [("EMPLOYEE_ID", ("employee", "staff", "emp"))]
    assert name_hint("emp_no", custom) == "EMPLOYEE_ID"
    assert name_hint("StaffRef", custom) == "EMPLOYEE_ID"
    assert name_hint("temperature", custom) is None


def test_column_tokens():
    assert column_tokens("customerEmail2") == ["customer", "email"]
    assert column_tokens("date_of_birth") == ["date", "of", "birth"]
