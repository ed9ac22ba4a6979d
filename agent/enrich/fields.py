"""Field-level normalisers the hygiene checks use: website/domain, email -> company domain,
job title, person names and places.

Every function is total: odd input gives ``None`` (or an empty result), never an
exception, so one bad value cannot stop a hygiene run. Functions that need parsed
reference data take it as an argument (a :class:`DomainParser`, :class:`ReferenceLists`,
:class:`Geography`), built once by the caller.
"""

from __future__ import annotations

from agent.enrich.domains import DomainParser, host_of, unicode_domain
from agent.enrich.emails import EmailCheck, check_email
from agent.enrich.geography import Geography, GeoMatch
from agent.enrich.names import CleanName, clean_person_name, normalize_person_name
from agent.enrich.phones import PhoneCheck, check_phone
from agent.enrich.reference import ReferenceLists
from agent.enrich.titles import TitleClassification, classify_job_title

__all__ = [
    "CleanName",
    "EmailCheck",
    "GeoMatch",
    "PhoneCheck",
    "TitleClassification",
    "check_email",
    "check_phone",
    "classify_job_title",
    "clean_person_name",
    "company_domain_from_email",
    "normalize_country",
    "normalize_domain",
    "normalize_person_name",
    "normalize_state",
    "normalize_website",
]


def normalize_website(raw: str | None, domains: DomainParser) -> str | None:
    """The website as a bare lower-case host: ``"HTTPS://www.Acme.com/about"`` -> ``"acme.com"``.

    Scheme, ``www.``, port, path, query and fragment go; a subdomain that is not
    ``www`` stays (``shop.acme.com``), and an IDN comes out in Unicode form. ``None``
    when the value has no registrable domain (``localhost``, an IP, ``n/a``).
    """
    if domains.registrable_domain(raw) is None:
        return None
    host = host_of(raw)
    return unicode_domain(host) if host else None


def normalize_domain(raw: str | None, domains: DomainParser) -> str | None:
    """The registrable domain of a website, host or email (``news.bbc.co.uk`` -> ``bbc.co.uk``)."""
    return domains.registrable_domain(raw)


def company_domain_from_email(raw: str | None, domains: DomainParser, lists: ReferenceLists) -> str | None:
    """The employer's registrable domain from a work address; ``None`` for free-mail or throwaway.

    ``ann@eu.acme.co.uk`` -> ``acme.co.uk``; ``ann@gmail.com`` -> ``None`` (a consumer
    mailbox says nothing about where Ann works); an invalid address -> ``None``.
    """
    check = check_email(raw, lists)
    if not check.valid or check.free_mail or check.domain is None:
        return None
    return domains.registrable_domain(check.domain)


def normalize_country(raw: str | None, geography: Geography) -> GeoMatch:
    """ISO 3166-1 reading of a country value; ambiguous ones ("Georgia") carry every candidate."""
    return geography.country(raw)


def normalize_state(raw: str | None, country: str | None, geography: Geography) -> GeoMatch:
    """ISO 3166-2 reading of a state/region value, within the record's country when known."""
    return geography.subdivision(raw, country)
