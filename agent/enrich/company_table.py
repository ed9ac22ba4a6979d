"""The company table: domain -> company facts, from the CRM's own accounts and an optional user CSV.

The offline provider never reads a database. The caller hands it the accounts it
already has (any :class:`agent.models.Record` with ``object_type == "account"``) and,
if the team keeps one, a CSV of ``domain,company,industry,size``. Keys are
registrable domains, so ``www.acme.com``, ``https://acme.com/about`` and
``eu.acme.com`` all find the ``acme.com`` row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from agent.enrich.domains import DomainParser
from agent.errors import AgentError
from agent.models import FieldValue, Record

CSV_COLUMNS: tuple[str, ...] = ("domain", "company", "industry", "size")
"""The user CSV's header; ``domain`` and ``company`` are required on every row."""
ACCOUNTS_SOURCE = "crm:accounts"
ACCOUNTS_CONFIDENCE = 0.9
CSV_CONFIDENCE = 0.85


class CompanyCsvError(AgentError, ValueError):
    """The user's company CSV cannot be used; says which line and column are wrong.

    ``line`` is 1-based (the header is line 1); 0 when the file cannot be read at all.
    """

    def __init__(self, path: str, line: int, column: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
        where = path + (f", line {line}" if line else "") + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class CompanyFacts:
    """What the table knows about the company behind one registrable domain."""

    domain: str
    name: str
    industry: str | None
    size: str | None
    source: str
    confidence: float


class CompanyTable:
    """Domain and company-name lookups over accounts and user CSV rows.

    When both know a domain, the CRM account wins: it is the team's own record of the
    company, and a CSV is usually older bulk data.
    """

    def __init__(self, facts: Iterable[CompanyFacts] = ()) -> None:
        self._by_domain: dict[str, CompanyFacts] = {}
        self._by_name: dict[str, list[CompanyFacts]] = {}
        for fact in facts:
            self.add(fact)

    def add(self, fact: CompanyFacts) -> None:
        """Keep the first fact seen for a domain (add accounts before CSV rows)."""
        if fact.domain in self._by_domain:
            return
        self._by_domain[fact.domain] = fact
        self._by_name.setdefault(company_key(fact.name), []).append(fact)

    def by_domain(self, domain: str) -> CompanyFacts | None:
        return self._by_domain.get(domain)

    def by_name(self, name: str) -> list[CompanyFacts]:
        """Every row whose company name matches ``name`` (case, spacing and punctuation aside)."""
        return list(self._by_name.get(company_key(name), ()))

    def __len__(self) -> int:
        return len(self._by_domain)


def company_key(name: str) -> str:
    """``"ACME, Inc."`` and ``"acme inc"`` meet; legal suffixes are kept (they can tell firms apart)."""
    return " ".join("".join(c if c.isalnum() else " " for c in name.casefold()).split())


def facts_from_accounts(accounts: Iterable[Record], domains: DomainParser) -> list[CompanyFacts]:
    """One fact per account that has a usable ``domain`` (or ``website``) and a ``name``."""
    facts: list[CompanyFacts] = []
    for account in accounts:
        if account.object_type != "account":
            continue
        name = _text(account.fields.get("name"))
        domain = domains.registrable_domain(_text(account.fields.get("domain"))) or (
            domains.registrable_domain(_text(account.fields.get("website")))
        )
        if not name or domain is None:
            continue
        facts.append(
            CompanyFacts(
                domain=domain,
                name=name,
                industry=_text(account.fields.get("industry")) or None,
                size=_text(account.fields.get("employees")) or None,
                source=f"{ACCOUNTS_SOURCE}:{account.id}",
                confidence=ACCOUNTS_CONFIDENCE,
            )
        )
    return facts


def load_company_csv(path: Path, domains: DomainParser) -> list[CompanyFacts]:
    """Rows of a user CSV (``domain,company,industry,size``) as facts.

    Raises:
        CompanyCsvError: the file cannot be read, the header is wrong, or a row has a
            missing domain or company, an unusable domain, extra cells or a domain
            already given on an earlier line. The message names the line and column.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CompanyCsvError(str(path), 0, None, f"cannot read the file ({exc})") from exc
    return parse_company_csv(text, str(path), domains)


def parse_company_csv(text: str, label: str, domains: DomainParser) -> list[CompanyFacts]:
    """:func:`load_company_csv` on text already in memory; ``label`` names it in errors."""
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().casefold() for cell in next(reader, [])]
    missing = [c for c in ("domain", "company") if c not in header]
    if not header or missing:
        expected = ", ".join(CSV_COLUMNS)
        problem = f"the header must name {expected}; missing {', '.join(missing)}"
        raise CompanyCsvError(label, 1, None, problem)
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise CompanyCsvError(label, 1, unknown[0], f"unknown column; expected {', '.join(CSV_COLUMNS)}")
    facts: list[CompanyFacts] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise CompanyCsvError(label, line, None, f"{len(row)} cells but the header has {len(header)}")
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        raw_domain = cells.get("domain", "")
        if not raw_domain:
            raise CompanyCsvError(label, line, "domain", "is empty")
        domain = domains.registrable_domain(raw_domain)
        if domain is None:
            raise CompanyCsvError(label, line, "domain", f"'{raw_domain}' is not a registrable domain")
        if not cells.get("company"):
            raise CompanyCsvError(label, line, "company", "is empty")
        if domain in seen:
            raise CompanyCsvError(label, line, "domain", f"{domain} is already on line {seen[domain]}")
        seen[domain] = line
        facts.append(
            CompanyFacts(
                domain=domain,
                name=cells["company"],
                industry=cells.get("industry") or None,
                size=cells.get("size") or None,
                source=f"csv:{Path(label).name}:{line}",
                confidence=CSV_CONFIDENCE,
            )
        )
    return facts


def _text(value: FieldValue) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value).strip()
