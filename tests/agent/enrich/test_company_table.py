from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.enrich import CompanyCsvError, CompanyTable, DomainParser
from agent.enrich.company_table import facts_from_accounts, load_company_csv, parse_company_csv
from agent.models import FieldValue, ObjectType, Record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def record(record_id: str, object_type: ObjectType = "account", **fields: FieldValue) -> Record:
    return Record(
        object_type=object_type, id=record_id, version="1", fields=fields, created_at=T0, updated_at=T0
    )


def test_accounts_become_facts_keyed_by_registrable_domain(domains: DomainParser) -> None:
    facts = facts_from_accounts(
        [
            record("a1", name="Acme Ltd", domain="WWW.ACME.co.uk", industry="Manufacturing", employees=250),
            record("a2", name="Globex", website="https://eu.globex.com/en"),
            record("a3", name="No Domain Inc"),
            record("a4", domain="nameless.com"),
            record("l1", object_type="lead", name="Lead Co", domain="lead.com"),
        ],
        domains,
    )
    assert [(f.domain, f.name, f.industry, f.size, f.source) for f in facts] == [
        ("acme.co.uk", "Acme Ltd", "Manufacturing", "250", "crm:accounts:a1"),
        ("globex.com", "Globex", None, None, "crm:accounts:a2"),
    ]


def test_the_first_fact_for_a_domain_wins_and_names_match_loosely(domains: DomainParser) -> None:
    accounts = facts_from_accounts([record("a1", name="ACME, Inc.", domain="acme.com")], domains)
    csv_rows = parse_company_csv("domain,company\nacme.com,Acme Corporation\n", "c.csv", domains)
    table = CompanyTable([*accounts, *csv_rows])
    fact = table.by_domain("acme.com")
    assert fact is not None
    assert fact.name == "ACME, Inc."
    assert [f.domain for f in table.by_name("acme inc")] == ["acme.com"]
    assert table.by_name("Acme Corporation") == []
    assert len(table) == 1


def test_a_user_csv_loads_with_line_sources(tmp_path: Path, domains: DomainParser) -> None:
    path = tmp_path / "companies.csv"
    path.write_text(
        "\ufeffDomain,Company,Industry,Size\nhttps://www.initech.com,Initech,Software,51-200\n\n"
        "umbrella.co.uk,Umbrella,,\n",
        encoding="utf-8",
    )
    facts = load_company_csv(path, domains)
    assert [(f.domain, f.name, f.industry, f.size, f.source) for f in facts] == [
        ("initech.com", "Initech", "Software", "51-200", "csv:companies.csv:2"),
        ("umbrella.co.uk", "Umbrella", None, None, "csv:companies.csv:4"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("name,industry\nacme.com,Acme\n", 1, None, "missing domain, company"),
        ("domain,company,revenue\nacme.com,Acme,1\n", 1, "revenue", "unknown column"),
        ("domain,company\nacme.com,Acme\n,Globex\n", 3, "domain", "is empty"),
        ("domain,company\nacme.com,Acme\nglobex.com,\n", 3, "company", "is empty"),
        ("domain,company\nlocalhost,Acme\n", 2, "domain", "'localhost' is not a registrable domain"),
        ("domain,company\nacme.com,Acme,Extra\n", 2, None, "3 cells but the header has 2"),
        (
            "domain,company\nacme.com,Acme\nwww.acme.com,Acme again\n",
            3,
            "domain",
            "acme.com is already on line 2",
        ),
        ("", 1, None, "the header must name"),
    ],
)
def test_a_malformed_csv_names_the_line_and_column(
    domains: DomainParser, text: str, line: int, column: str | None, fragment: str
) -> None:
    with pytest.raises(CompanyCsvError) as caught:
        parse_company_csv(text, "companies.csv", domains)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert fragment in error.problem
    assert str(error).startswith(f"companies.csv, line {line}")


def test_a_missing_csv_file_is_a_clear_error(tmp_path: Path, domains: DomainParser) -> None:
    with pytest.raises(CompanyCsvError, match=r"absent\.csv: cannot read the file"):
        load_company_csv(tmp_path / "absent.csv", domains)


def test_a_csv_that_is_not_utf8_is_a_clear_error(tmp_path: Path, domains: DomainParser) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("domain,company\nacme.de,Müller GmbH\n".encode("latin-1"))
    with pytest.raises(CompanyCsvError, match="cannot read the file") as caught:
        load_company_csv(path, domains)
    assert caught.value.line == 0
