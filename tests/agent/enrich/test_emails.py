from __future__ import annotations

import pytest

from agent.enrich import ReferenceLists
from agent.enrich.emails import check_email
from agent.enrich.reference import parse_list


def test_a_work_address_is_valid_and_normalised(lists: ReferenceLists) -> None:
    check = check_email("  Ann.Lee@Acme.COM ", lists)
    assert check.valid
    assert check.problem is None
    assert check.email == "ann.lee@acme.com"
    assert check.domain == "acme.com"
    assert not check.disposable
    assert not check.role_account
    assert not check.free_mail


@pytest.mark.parametrize(
    "raw", ["ann@", "@acme.com", "ann@@acme.com", "ann acme.com", "ann@acme", "ann@-acme.com"]
)
def test_bad_syntax_is_invalid_with_a_reason(lists: ReferenceLists, raw: str) -> None:
    check = check_email(raw, lists)
    assert not check.valid
    assert check.problem
    assert check.problem[0].islower()


def test_a_blank_address_is_invalid(lists: ReferenceLists) -> None:
    assert check_email("  ", lists).problem == "it is empty"
    assert check_email(None, lists).email is None


@pytest.mark.parametrize("raw", ["x@mailinator.com", "x@eu.mailinator.com", "x@YOPMAIL.com"])
def test_disposable_domains_are_invalid(lists: ReferenceLists, raw: str) -> None:
    check = check_email(raw, lists)
    assert check.disposable
    assert not check.valid
    assert check.problem is not None
    assert "disposable" in check.problem


@pytest.mark.parametrize(
    "raw", ["info@acme.com", "Sales+EU@acme.com", "no-reply@acme.com", "no_reply@acme.com"]
)
def test_role_accounts_are_valid_but_flagged(lists: ReferenceLists, raw: str) -> None:
    check = check_email(raw, lists)
    assert check.valid
    assert check.role_account


@pytest.mark.parametrize("raw", ["ann@acme.com", "information@acme.com", "salesforce.admin.ann@acme.com"])
def test_personal_local_parts_are_not_role_accounts(lists: ReferenceLists, raw: str) -> None:
    assert not check_email(raw, lists).role_account


def test_free_mail_is_valid_but_flagged(lists: ReferenceLists) -> None:
    check = check_email("ann@gmail.com", lists)
    assert check.valid
    assert check.free_mail


def test_an_idn_address_gets_a_unicode_domain(lists: ReferenceLists) -> None:
    check = check_email("anna@xn--mnchen-3ya.de", lists)
    assert check.valid
    assert check.domain == "münchen.de"


def test_bundled_lists_are_non_trivial_and_lower_case(lists: ReferenceLists) -> None:
    for entries in (lists.free_mail_domains, lists.disposable_domains, lists.role_locals):
        assert len(entries) >= 15
        assert all(e == e.casefold() and not e.startswith("#") for e in entries)
    assert not lists.free_mail_domains & lists.disposable_domains


def test_list_parsing_skips_comments_and_blank_lines() -> None:
    assert parse_list("# header\n\n Gmail.com \n#x\nyahoo.com\n") == {"gmail.com", "yahoo.com"}
