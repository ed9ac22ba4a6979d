"""The default enrichment provider: no network, no database, no key.

Everything it knows comes from the text of the value, the libraries' bundled data
(email-validator, tldextract's suffix snapshot, phonenumbers, pycountry), revgate's
curated lists in ``agent/data`` and the company table the caller hands in (the CRM's
own accounts plus an optional user CSV).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from agent.enrich.company_table import (
    CompanyFacts,
    CompanyTable,
    facts_from_accounts,
    load_company_csv,
)
from agent.enrich.domains import DomainParser
from agent.enrich.emails import check_email
from agent.enrich.geography import Geography
from agent.enrich.models import EnrichedValue
from agent.enrich.phones import SOURCE as PHONE_SOURCE
from agent.enrich.phones import check_phone
from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.models import Record

EMAIL_SOURCE = "offline:email-validator"
LISTS_SOURCE = "offline:revgate-lists"
DOMAIN_SOURCE = "offline:tldextract"


class OfflineProvider:
    """Implements :class:`agent.enrich.provider.EnrichmentProvider` from local data only.

    Build it once per run (it parses the suffix snapshot and reads the lists) with
    :meth:`build`, or pass the pieces in directly in tests.
    """

    name = "offline"

    def __init__(
        self,
        *,
        lists: ReferenceLists,
        domains: DomainParser,
        geography: Geography,
        companies: CompanyTable,
    ) -> None:
        self.lists = lists
        self.domains = domains
        self.geography = geography
        self.companies = companies

    @classmethod
    def build(cls, accounts: Iterable[Record] = (), company_csv: Path | None = None) -> OfflineProvider:
        """The provider over the bundled lists, ``accounts`` and, if given, the user's CSV.

        Raises:
            CompanyCsvError: ``company_csv`` is malformed (names the line and column).
        """
        domains = DomainParser()
        facts = facts_from_accounts(accounts, domains)
        if company_csv is not None:
            facts += load_company_csv(company_csv, domains)
        return cls(
            lists=load_reference_lists(),
            domains=domains,
            geography=Geography(),
            companies=CompanyTable(facts),
        )

    def by_email(self, email: str) -> dict[str, EnrichedValue]:
        check = check_email(email, self.lists)
        out: dict[str, EnrichedValue] = {
            "email_valid": _certain(check.valid, EMAIL_SOURCE, check.problem),
        }
        if check.email is None or check.domain is None:
            return out
        out["email"] = _certain(check.email, EMAIL_SOURCE)
        out["email_disposable"] = _certain(check.disposable, LISTS_SOURCE)
        out["email_role_account"] = _certain(check.role_account, LISTS_SOURCE)
        out["email_free_mail"] = _certain(check.free_mail, LISTS_SOURCE)
        if check.valid and not check.free_mail:
            out.update(self.by_domain(check.domain))
        return out

    def by_domain(self, domain: str) -> dict[str, EnrichedValue]:
        registrable = self.domains.registrable_domain(domain)
        if registrable is None:
            return {}
        out = {"domain": _certain(registrable, DOMAIN_SOURCE)}
        fact = self.companies.by_domain(registrable)
        if fact is not None:
            out.update(_company_values(fact, with_domain=False))
        return out

    def by_company(self, company: str) -> dict[str, EnrichedValue]:
        matches = self.companies.by_name(company)
        if len(matches) != 1:
            # Two accounts share the name: which one is meant is a person's call, not ours.
            return {}
        return _company_values(matches[0], with_domain=True)

    def by_phone(self, phone: str, country: str | None) -> dict[str, EnrichedValue]:
        check = check_phone(phone, country, self.geography)
        if check.e164 is None:
            return {"phone_valid": _certain(False, PHONE_SOURCE, check.problem)}
        out = {
            "phone_valid": _certain(True, PHONE_SOURCE),
            "phone": EnrichedValue(value=check.e164, source=PHONE_SOURCE, confidence=check.confidence),
        }
        if check.region is not None:
            out["phone_country"] = EnrichedValue(
                value=check.region, source=PHONE_SOURCE, confidence=check.confidence
            )
        if check.extension is not None:
            out["phone_extension"] = _certain(check.extension, PHONE_SOURCE)
        return out


def _certain(value: str | bool, source: str, note: str | None = None) -> EnrichedValue:
    return EnrichedValue(value=value, source=source, confidence=1.0, note=note)


def _company_values(fact: CompanyFacts, *, with_domain: bool) -> dict[str, EnrichedValue]:
    def value(v: str) -> EnrichedValue:
        return EnrichedValue(value=v, source=fact.source, confidence=fact.confidence)

    out = {"company": value(fact.name)}
    if with_domain:
        out["domain"] = value(fact.domain)
    if fact.industry:
        out["industry"] = value(fact.industry)
    if fact.size:
        out["company_size"] = value(fact.size)
    return out
