"""A lead's values as routing conditions and territories see them: normalised, plus derived ones.

- every field of the lead, text stripped;
- ``country`` as its ISO code (``United States`` -> ``US``) and ``state`` as the code within
  it (``California`` -> ``CA``), read by the same geography as hygiene;
- ``email_domain`` (the registrable domain of the address) and ``free_mail`` (true for
  gmail.com and the like);
- ``segment`` from ``employees`` (the configuration's bands);
- ``account_matched``, and ``account.<field>`` of the matched account (``account.industry``).
"""

from __future__ import annotations

from typing import Any

from agent.enrich.domains import DomainParser
from agent.enrich.geography import Geography
from agent.enrich.reference import ReferenceLists
from agent.models import Record
from agent.routing.accounts import AccountMatch
from agent.routing.config import RoutingConfig
from agent.routing.rules import as_number


def routing_values(
    lead: Record,
    account: AccountMatch,
    config: RoutingConfig,
    *,
    geography: Geography,
    domains: DomainParser,
    lists: ReferenceLists,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: value.strip() if isinstance(value, str) else value for name, value in lead.fields.items()
    }
    values["owner_id"] = lead.owner_id
    country = geography.country(_text(lead.get("country"))).code
    if country:
        values["country"] = country
    state = geography.subdivision(_text(lead.get("state")), country).code if lead.get("state") else None
    if state:
        values["state"] = state.split("-", 1)[1]
    email = (_text(lead.get("email")) or "").lower()
    domain = email.rpartition("@")[2] if "@" in email else None
    registrable = domains.registrable_domain(domain) if domain else None
    values["email_domain"] = registrable
    values["free_mail"] = registrable is not None and lists.is_free_mail(registrable)
    values["segment"] = config.segment_of(as_number(lead.get("employees")))
    values["account_matched"] = account.chosen is not None
    if account.chosen is not None:
        card = account.chosen.account
        values["account.id"] = card.id
        values["account.name"] = card.name
        values["account.owner_id"] = card.owner_id
        for name, value in card.fields.items():
            values.setdefault(f"account.{name}", value)
    return values


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
