"""The offline provider and the normalisers work with every outbound socket blocked."""

from __future__ import annotations

import contextlib
import socket
from datetime import UTC, datetime
from typing import Any

import pytest
import tldextract

from agent.enrich import OfflineProvider, RecordNormaliser
from agent.enrich.fields import (
    check_email,
    check_phone,
    classify_job_title,
    clean_person_name,
    company_domain_from_email,
    normalize_country,
    normalize_domain,
    normalize_state,
    normalize_website,
)
from agent.enrich.reference import load_reference_lists
from agent.models import Record

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


class NetworkBlocked(AssertionError):
    pass


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every non-local connect, send or DNS lookup is recorded and refused."""
    seen: list[str] = []

    def host_of(address: Any) -> str:
        return str(address[0]) if isinstance(address, tuple) else str(address)

    def refuse(what: str, address: Any) -> None:
        if host_of(address) not in LOCAL_HOSTS:
            seen.append(f"{what} {address!r}")
            raise NetworkBlocked(f"{what} to {address!r} during an offline test")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_sendto, real_getaddrinfo = socket.socket.sendto, socket.getaddrinfo
    real_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        refuse("connect", address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse("connect_ex", address)
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: bytes, *args: Any) -> int:
        refuse("sendto", args[-1])
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        refuse("getaddrinfo", host)
        return real_getaddrinfo(host, *args, **kwargs)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        refuse("create_connection", address)
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket.socket, "sendto", sendto)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return seen


def test_the_guard_does_catch_an_outbound_connection(attempts: list[str]) -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("publicsuffix.org", 443), timeout=1)
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(("203.0.113.1", 443))
    assert len(attempts) == 2


def test_the_guard_catches_tldextracts_default_fetch_that_domain_parser_avoids(attempts: list[str]) -> None:
    # tldextract's defaults look publicsuffix.org up before falling back to its snapshot;
    # this is what DomainParser's suffix_list_urls=() turns off.
    default = tldextract.TLDExtract(cache_dir=None)
    with contextlib.suppress(NetworkBlocked):
        default("news.bbc.co.uk")
    assert any("publicsuffix.org" in attempt for attempt in attempts)


def test_offline_provider_and_normalisers_work_without_network(attempts: list[str]) -> None:
    # Everything is built inside the block: the suffix list, the lists, pycountry's data.
    provider = OfflineProvider.build()
    lists = load_reference_lists()

    assert provider.by_email("ann@eu.acme.co.uk")["domain"].value == "acme.co.uk"
    assert provider.by_email("x@mailinator.com")["email_disposable"].value is True
    assert provider.by_domain("https://www.xn--mnchen-3ya.de/")["domain"].value == "münchen.de"
    assert provider.by_phone("030 901820", "Deutschland")["phone"].value == "+4930901820"
    assert provider.by_company("Nobody") == {}

    assert normalize_website("HTTPS://www.Acme.com/about", provider.domains) == "acme.com"
    assert normalize_domain("news.bbc.co.uk", provider.domains) == "bbc.co.uk"
    assert company_domain_from_email("bob@gmail.com", provider.domains, lists) is None
    assert check_email("info@acme.com", lists).role_account
    assert check_phone("+91 98765 43210", None, provider.geography).e164 == "+919876543210"
    assert normalize_country("Holland", provider.geography).code == "NL"
    assert normalize_country("Georgia", provider.geography).ambiguous
    assert normalize_state("Sao Paulo", "Brasil", provider.geography).code == "BR-SP"
    assert classify_job_title("VP of Sales").seniority == "vp"
    assert clean_person_name("dr. jan van der berg").full == "Dr. Jan van der Berg"
    record = Record(
        object_type="lead",
        id="L1",
        version="1",
        fields={"phone": "020 7946 0018", "country": "UK", "website": "WWW.ACME.CO.UK"},
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    fixes = RecordNormaliser.sharing(provider).normalise(record).fixes
    assert {fix.field: fix.after for fix in fixes} == {
        "phone": "+442079460018",
        "country": "GB",
        "website": "acme.co.uk",
    }

    assert attempts == []
