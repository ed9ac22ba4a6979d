from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.enrich import (
    ChainProvider,
    CompanyCsvError,
    EnrichedValue,
    EnrichmentProvider,
    OfflineProvider,
)
from agent.models import Record

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACME = Record(
    object_type="account",
    id="acc-1",
    version="1",
    fields={"name": "Acme Ltd", "domain": "acme.co.uk", "industry": "Manufacturing", "employees": 250},
    created_at=T0,
    updated_at=T0,
)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> OfflineProvider:
    csv_path = tmp_path_factory.mktemp("csv") / "companies.csv"
    csv_path.write_text(
        "domain,company,industry,size\ninitech.com,Initech,Software,51-200\n", encoding="utf-8"
    )
    return OfflineProvider.build(accounts=[ACME], company_csv=csv_path)


def values(answer: dict[str, EnrichedValue]) -> dict[str, object]:
    return {name: v.value for name, v in answer.items()}


def test_the_offline_provider_satisfies_the_port(provider: OfflineProvider) -> None:
    port: EnrichmentProvider = provider
    assert port.name == "offline"


def test_a_work_email_is_enriched_from_the_crm_accounts(provider: OfflineProvider) -> None:
    answer = provider.by_email("Ann@Sales.ACME.co.uk")
    assert values(answer) == {
        "email_valid": True,
        "email": "ann@sales.acme.co.uk",
        "email_disposable": False,
        "email_role_account": False,
        "email_free_mail": False,
        "domain": "acme.co.uk",
        "company": "Acme Ltd",
        "industry": "Manufacturing",
        "company_size": "250",
    }
    assert answer["company"].source == "crm:accounts:acc-1"
    assert answer["email_valid"].source == "offline:email-validator"
    assert answer["domain"].source == "offline:tldextract"
    assert answer["company"].confidence < answer["email_valid"].confidence == 1.0


def test_a_csv_company_carries_its_file_and_line(provider: OfflineProvider) -> None:
    answer = provider.by_domain("https://www.initech.com/about")
    assert answer["company"].value == "Initech"
    assert answer["company"].source == "csv:companies.csv:2"


def test_a_free_mail_address_yields_no_company(provider: OfflineProvider) -> None:
    answer = values(provider.by_email("ann@gmail.com"))
    assert answer["email_free_mail"] is True
    assert "domain" not in answer
    assert "company" not in answer


def test_disposable_and_role_addresses_are_flagged(provider: OfflineProvider) -> None:
    throwaway = provider.by_email("x@mailinator.com")
    assert throwaway["email_valid"].value is False
    assert throwaway["email_disposable"].value is True
    assert throwaway["email_valid"].note is not None
    assert "company" not in throwaway
    role = provider.by_email("info@acme.co.uk")
    assert role["email_role_account"].value is True
    assert role["company"].value == "Acme Ltd"


def test_an_invalid_email_says_why(provider: OfflineProvider) -> None:
    answer = provider.by_email("ann@@acme.com")
    assert answer["email_valid"].value is False
    assert answer["email_valid"].note
    assert set(answer) == {"email_valid"}


def test_company_lookup_by_name(provider: OfflineProvider) -> None:
    assert values(provider.by_company("ACME LTD.")) == {
        "company": "Acme Ltd",
        "domain": "acme.co.uk",
        "industry": "Manufacturing",
        "company_size": "250",
    }
    assert provider.by_company("Unknown Co") == {}


def test_an_unknown_domain_gives_only_the_canonical_domain(provider: OfflineProvider) -> None:
    assert values(provider.by_domain("WWW.Example-Startup.io/x")) == {"domain": "example-startup.io"}
    assert provider.by_domain("localhost") == {}


def test_phone_lookup_uses_the_records_country(provider: OfflineProvider) -> None:
    answer = provider.by_phone("020 7946 0018", "England")
    assert values(answer) == {"phone_valid": True, "phone": "+442079460018", "phone_country": "GB"}
    missing = provider.by_phone("020 7946 0018", None)
    assert missing["phone_valid"].value is False
    assert missing["phone_valid"].note


def test_a_malformed_csv_stops_the_build(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("domain,company\nacme.com,\n", encoding="utf-8")
    with pytest.raises(CompanyCsvError, match=r"bad\.csv, line 2, column 'company'"):
        OfflineProvider.build(company_csv=path)


class PaidProvider:
    """A stand-in for a paid provider: knows industry better, nothing about phones."""

    name = "paid"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def by_email(self, email: str) -> dict[str, EnrichedValue]:
        self.calls.append(email)
        return {"industry": EnrichedValue(value="Industrial Machinery", source="paid", confidence=0.97)}

    def by_domain(self, domain: str) -> dict[str, EnrichedValue]:
        return {}

    def by_company(self, company: str) -> dict[str, EnrichedValue]:
        return {}

    def by_phone(self, phone: str, country: str | None) -> dict[str, EnrichedValue]:
        return {}


def test_the_chain_prefers_earlier_providers_per_field_and_keeps_sources(provider: OfflineProvider) -> None:
    paid = PaidProvider()
    chain = ChainProvider([paid, provider])
    answer = chain.by_email("ann@acme.co.uk")
    assert paid.calls == ["ann@acme.co.uk"]
    assert (answer["industry"].value, answer["industry"].source) == ("Industrial Machinery", "paid")
    assert (answer["company"].value, answer["company"].source) == ("Acme Ltd", "crm:accounts:acc-1")
    assert chain.by_phone("+33 1 42 68 53 00", None)["phone"].value == "+33142685300"
    assert chain.by_domain("acme.co.uk")["company"].source == "crm:accounts:acc-1"
    assert chain.by_company("Acme Ltd")["domain"].value == "acme.co.uk"


def test_a_chain_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ChainProvider([])


def test_confidence_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="less than or equal to 1"):
        EnrichedValue(value="x", source="s", confidence=1.5)
