from __future__ import annotations

import pytest

from agent.normalize import (
    country_code,
    email_problem,
    is_junk_lead,
    normalize_email,
    normalize_person_name,
    normalize_phone,
)

# --- emails --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane@acme.io", "jane@acme.io"),
        ("  Jane.Doe@ACME.io ", "jane.doe@acme.io"),
        ("JANE@ACME.IO", "jane@acme.io"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalize_email_strips_and_lower_cases(raw: str | None, expected: str | None) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize("email", ["jane@acme.io", "Jane.Doe+crm@Acme.co.uk", "  jane@acme.io  ", "j@x.de"])
def test_usable_emails_have_no_problem(email: str) -> None:
    assert email_problem(email) is None


@pytest.mark.parametrize(
    ("email", "fragment"),
    [
        ("janeacme.io", "@-sign"),
        ("jane@@acme.io", "invalid characters"),
        ("jane@acme", "period"),
        ("jane..doe@acme.io", "two periods"),
        ("jane doe@acme.io", "invalid characters"),
        ("jane@localhost", "period"),
    ],
)
def test_malformed_emails_get_a_readable_reason(email: str, fragment: str) -> None:
    problem = email_problem(email)
    assert problem is not None
    assert fragment in problem
    assert not problem.endswith(".")


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("jane@mailinator.com", "mailinator.com"),
        ("x@GuerrillaMail.com", "guerrillamail.com"),
        ("a@10minutemail.com", "10minutemail.com"),
        ("b@yopmail.com", "yopmail.com"),
        ("c@tempmail.com", "tempmail.com"),
        ("d@inbox.mailinator.com", "mailinator.com"),
    ],
)
def test_disposable_domains_are_a_problem(email: str, domain: str) -> None:
    assert email_problem(email) == f"{domain} is a disposable (throwaway) email domain"


def test_a_lookalike_of_a_disposable_domain_is_fine() -> None:
    assert email_problem("jane@notmailinator.com") is None


def test_a_blank_email_is_reported_as_empty() -> None:
    assert email_problem("  ") == "it is empty"


# --- countries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("USA", "US"),
        ("U.S.", "US"),
        ("u.s.a.", "US"),
        ("United States", "US"),
        ("  united   states ", "US"),
        ("US", "US"),
        ("uk", "GB"),
        ("GB", "GB"),
        ("United Kingdom", "GB"),
        ("England", "GB"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("DE", "DE"),
        ("France", "FR"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("Canada", "CA"),
        ("Australia", "AU"),
        ("España", "ES"),
        ("Ireland", "IE"),
        ("fr", "FR"),
        ("nz", "NZ"),
    ],
)
def test_country_aliases_become_iso_codes(raw: str, code: str) -> None:
    assert country_code(raw) == code


@pytest.mark.parametrize("raw", ["Narnia", "", "   ", None, "ZZ", "Europe"])
def test_unknown_countries_are_none(raw: str | None) -> None:
    assert country_code(raw) is None


# --- phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("(650) 253-0000", "US", "+16502530000"),
        ("650.253.0000", "United States", "+16502530000"),
        ("+1 650 253 0000", None, "+16502530000"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("020 7946 0018", "United Kingdom", "+442079460018"),
        ("+44 (0)20 7946 0018", "US", "+442079460018"),
        ("030 1234567", "Germany", "+49301234567"),
        ("0049 30 901820", "DE", "+4930901820"),
        ("+49301234567", "DE", "+49301234567"),
    ],
)
def test_phones_become_e164_in_the_records_country(raw: str, country: str | None, e164: str) -> None:
    assert normalize_phone(raw, country) == e164


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("12345", "US"),
        ("call me", "US"),
        ("", "US"),
        (None, "GB"),
        ("020 7946 0018", None),  # national number, no country to read it in
        ("020 7946 0018", "Narnia"),
        ("07700 900123", "GB"),  # reserved for drama, not a real mobile
        ("+1 650 253 0000 ext. 12", None),  # E.164 cannot keep the extension
    ],
)
def test_unparseable_phones_are_none(raw: str | None, country: str | None) -> None:
    assert normalize_phone(raw, country) is None


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "John Smith",
        "McDonald",
        "MacLeod",
        "O'Neil",
        "D'Angelo",
        "d'Alembert",
        "DeShawn",
        "Anne-Marie",
        "Jan van der Berg",
        "Maria de la Cruz",
        "van der Berg",
        "Van Morrison",
        "John Smith III",
        "J.R.",
        "Élodie",
        "李小龙",
    ],
)
def test_well_formed_names_are_left_untouched(name: str) -> None:
    assert normalize_person_name(name) == name


def test_mcdonald_keeps_its_capital_d() -> None:
    assert normalize_person_name("MCDONALD") == "McDonald"
    assert normalize_person_name("mcdonald") == "McDonald"


def test_macleod_keeps_its_capital_l_but_mack_does_not_become_mac_k() -> None:
    assert normalize_person_name("MACLEOD") == "MacLeod"
    assert normalize_person_name("mack") == "Mack"
    assert normalize_person_name("MACHADO") == "Machado"


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("JOHN SMITH", "John Smith"),
        ("john smith", "John Smith"),
        ("jOHN", "John"),
        ("JOhn", "John"),
        ("John smith", "John Smith"),
        ("John SMITH", "John Smith"),
        ("  John   Smith ", "John Smith"),
        ("o'neil", "O'Neil"),
        ("D'ANGELO", "D'Angelo"),
        ("o\u2019neil", "O\u2019Neil"),
        ("anne-marie", "Anne-Marie"),
        ("ANNE-MARIE DUPONT", "Anne-Marie Dupont"),
        ("jan van der berg", "Jan van der Berg"),
        ("MARIA DE LA CRUZ", "Maria de la Cruz"),
        ("VAN DER BERG", "Van der Berg"),
        ("JOHN SMITH III", "John Smith III"),
        ("j.r.", "J.R."),
        ("ÉLODIE", "Élodie"),
        ("Maria D'ANGELO", "Maria D'Angelo"),
    ],
)
def test_badly_cased_names_are_fixed(raw: str, fixed: str) -> None:
    assert normalize_person_name(raw) == fixed


def test_a_blank_name_stays_blank() -> None:
    assert normalize_person_name("   ") == ""


# --- junk leads ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"first_name": "test", "last_name": "Jones"}, "its first name is 'test'"),
        ({"first_name": "Ann", "last_name": "ASDF"}, "its last name is 'asdf'"),
        ({"first_name": "Ann", "last_name": "Lee", "company": "Qwerty"}, "its company is 'qwerty'"),
        ({"first_name": " xxx ", "last_name": "Lee"}, "its first name is 'xxx'"),
        ({"first_name": "Dummy", "last_name": "Lee"}, "its first name is 'dummy'"),
        ({"first_name": "None", "last_name": "none"}, "its first name is 'none' and last name is 'none'"),
        ({"first_name": "Ann", "email": "test@test.com"}, "its email 'test@test.com' is a test address"),
        (
            {"first_name": "Ann", "email": "ASDF@example.com"},
            "its email 'asdf@example.com' is a test address",
        ),
    ],
)
def test_obvious_junk_is_recognised(fields: dict[str, str], reason: str) -> None:
    assert is_junk_lead(fields) == reason


@pytest.mark.parametrize(
    "fields",
    [
        {"first_name": "Jane", "last_name": "Doe", "company": "Acme", "email": "jane@acme.io"},
        {"first_name": "Tess", "last_name": "Testa", "company": "Testing Ltd"},
        {"first_name": "Jane", "last_name": "Doe", "company": "None"},  # an honest answer to a required field
        {"first_name": "Jane", "email": "test@acme.io"},
        {"first_name": "Jane", "email": "jane@example.com"},
        {"first_name": "Jane", "email": "test@test.co"},
        {},
        {"first_name": None, "last_name": 42},
    ],
)
def test_real_looking_leads_are_not_junk(fields: dict[str, object]) -> None:
    assert is_junk_lead(fields) is None  # type: ignore[arg-type]
