from __future__ import annotations

import pytest

from agent.enrich import DomainParser, ReferenceLists
from agent.enrich.fields import company_domain_from_email, normalize_domain, normalize_website


@pytest.mark.parametrize(
    ("raw", "website", "domain"),
    [
        ("https://www.Acme.com/about?x=1#team", "acme.com", "acme.com"),
        ("HTTP://WWW.ACME.COM", "acme.com", "acme.com"),
        ("acme.com/", "acme.com", "acme.com"),
        ("  www.acme.com  ", "acme.com", "acme.com"),
        ("shop.acme.com:8443/cart", "shop.acme.com", "acme.com"),
        ("https://news.bbc.co.uk/world", "news.bbc.co.uk", "bbc.co.uk"),
        ("acme.com.au", "acme.com.au", "acme.com.au"),
        ("http://user:secret@portal.acme.io/login", "portal.acme.io", "acme.io"),
        ("acme.com.", "acme.com", "acme.com"),
    ],
)
def test_websites_lose_scheme_www_port_and_path(
    domains: DomainParser, raw: str, website: str, domain: str
) -> None:
    assert normalize_website(raw, domains) == website
    assert normalize_domain(raw, domains) == domain


def test_an_idn_domain_compares_equal_in_unicode_and_punycode(domains: DomainParser) -> None:
    assert normalize_domain("https://www.MÜNCHEN.de/impressum", domains) == "münchen.de"
    assert normalize_domain("xn--mnchen-3ya.de", domains) == "münchen.de"
    assert normalize_website("http://shop.xn--mnchen-3ya.de", domains) == "shop.münchen.de"


@pytest.mark.parametrize("raw", ["localhost", "127.0.0.1", "co.uk", "n/a", "", "   ", None, "acme"])
def test_values_with_no_registrable_domain_give_none(domains: DomainParser, raw: str | None) -> None:
    assert normalize_domain(raw, domains) is None
    assert normalize_website(raw, domains) is None


def test_a_bare_public_suffix_is_recognised(domains: DomainParser) -> None:
    assert domains.is_public_suffix_only("co.uk")
    assert not domains.is_public_suffix_only("acme.co.uk")


@pytest.mark.parametrize(
    ("email", "company_domain"),
    [
        ("Ann@EU.Acme.co.uk", "acme.co.uk"),
        ("bob@acme.com", "acme.com"),
        ("carol@gmail.com", None),
        ("dave@googlemail.com", None),
        ("erin@yahoo.co.uk", None),
        ("frank@mailinator.com", None),
        ("not an email", None),
        (None, None),
    ],
)
def test_company_domain_from_email_skips_free_mail_throwaway_and_invalid(
    domains: DomainParser, lists: ReferenceLists, email: str | None, company_domain: str | None
) -> None:
    assert company_domain_from_email(email, domains, lists) == company_domain
