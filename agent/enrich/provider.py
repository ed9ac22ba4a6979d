"""The enrichment port, and the chain that lets paid providers sit in front of the offline one.

A provider answers four lookups. Each returns only the fields it knows; an empty
mapping means "nothing to say", never an error, so a chain can simply move on. A
provider that talks to a network is responsible for its own timeouts and for
answering empty when it cannot reach its service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from agent.enrich.models import EnrichedValue, Enrichment, merge_first


class EnrichmentProvider(Protocol):
    """Looks facts up by email, domain, company name or phone number."""

    name: str
    """A short stable name, used in ``EnrichedValue.source`` and in logs."""

    def by_email(self, email: str) -> Enrichment:
        """Facts about an address and, where it is a work address, about its company."""
        ...

    def by_domain(self, domain: str) -> Enrichment:
        """Facts about the company that owns ``domain`` (any URL or host form is accepted)."""
        ...

    def by_company(self, company: str) -> Enrichment:
        """Facts about a company known by ``company`` (its name as a person typed it)."""
        ...

    def by_phone(self, phone: str, country: str | None) -> Enrichment:
        """The number in canonical form; ``country`` is the record's country in any spelling."""
        ...


class ChainProvider:
    """Asks providers in order; for each field the first provider that answers it wins.

    Put paid providers first and the offline default last: a paid value keeps its own
    source and confidence, and the offline one fills only the fields the paid one left out.
    """

    name = "chain"

    def __init__(self, providers: Sequence[EnrichmentProvider]) -> None:
        if not providers:
            raise ValueError("a ChainProvider needs at least one provider")
        self.providers = tuple(providers)

    def by_email(self, email: str) -> dict[str, EnrichedValue]:
        return merge_first([p.by_email(email) for p in self.providers])

    def by_domain(self, domain: str) -> dict[str, EnrichedValue]:
        return merge_first([p.by_domain(domain) for p in self.providers])

    def by_company(self, company: str) -> dict[str, EnrichedValue]:
        return merge_first([p.by_company(company) for p in self.providers])

    def by_phone(self, phone: str, country: str | None) -> dict[str, EnrichedValue]:
        return merge_first([p.by_phone(phone, country) for p in self.providers])
