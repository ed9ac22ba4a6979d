"""Drafting the owners, accounts, contacts and leads, clean ones, duplicates and junk alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from agent.crm.fields import INDUSTRIES, LEAD_SOURCES, LEAD_STATUSES
from agent.crm.seed.drafting import Draft, Drafter
from agent.crm.seed.mangling import domain_of, slug, typo
from agent.crm.seed.reference import (
    COUNTRIES,
    COUNTRY_CUM_WEIGHTS,
    INACTIVE_OWNERS,
    JUNK_TEMPLATES,
    OPTIONAL_LEAD_FIELDS,
    SLACK_ID_CHARS,
    STATUS_CUM_WEIGHTS,
    TEAMS,
    TITLES,
    Country,
)
from agent.models import FieldValue, Owner


class RecordDrafter(Drafter):
    """Owners, and drafts of accounts, contacts, leads, their duplicates and junk leads."""

    def _owners(self) -> list[Owner]:
        owners = []
        for i, team in enumerate(TEAMS):
            first, last = self._person_name(self.fakers["GB" if team == "sales-emea" else "US"])
            slack = "U0" + "".join(self.rng.choice(SLACK_ID_CHARS) for _ in range(9))
            owners.append(
                Owner(
                    id=f"O{i + 1:03d}",
                    name=f"{first} {last}",
                    email=f"{slug(first)}.{slug(last)}@example.com",
                    active=i not in INACTIVE_OWNERS,
                    team=team,
                    slack_user_id=slack,
                )
            )
        return owners

    def _active_owner(self, country: Country) -> str:
        return self.rng.choice([o.id for o in self.owners if o.active and o.team == country.team])

    def _country(self) -> Country:
        return self.rng.choices(COUNTRIES, cum_weights=COUNTRY_CUM_WEIGHTS)[0]

    def _account(self) -> Draft:
        country = self._country()
        place = self.rng.choice(country.places)
        name = self._company(country)
        domain = self._unique_domain(name, country)
        created = self._past(730, 30)
        fields: dict[str, FieldValue] = {
            "name": name,
            "domain": domain,
            "website": f"https://www.{domain}",
            "phone": self._phone(country, place),
            "industry": self.rng.choice(INDUSTRIES),
            "annual_revenue": self.rng.randrange(100_000, 950_000, 5_000),
            "employees": self.rng.randint(5, 250),
            "country": country.code,
            "state": place.state,
            "city": place.city,
        }
        draft = self._draft("account", fields, country, created, self._active_owner(country))
        draft.place = place
        draft.updated_at = created + (self.now - created) * self.rng.random()
        return draft

    def _contact(self, account: Draft) -> Draft:
        country = account.country
        first, last = self._person_name(self.fakers[country.code])
        created = self._past(700, 1)
        fields: dict[str, FieldValue] = {
            "first_name": first,
            "last_name": last,
            "email": self._email(first, last, str(account.fields["domain"])),
            "phone": self._phone(country, account.place or country.places[0]) if self._chance(0.8) else None,
            "title": self.rng.choice(TITLES),
            "country": country.code,
            "state": account.fields.get("state"),
        }
        draft = self._draft("contact", fields, country, created, account.owner_id)
        draft.account = account
        self._set_activity(draft, recent=self._chance(0.7))
        return draft

    def _lead(self, accounts: Mapping[str, Sequence[Draft]]) -> Draft:
        country = self._country()
        fake = self.fakers[country.code]
        place = self.rng.choice(country.places)
        first, last = self._person_name(fake)
        known = accounts.get(country.code, ())
        if known and self._chance(0.15):
            account = self.rng.choice(known)
            company, domain = str(account.fields["name"]), str(account.fields["domain"])
        else:
            company = self._company(country)
            domain = domain_of(company, country)
        status = self.rng.choices(LEAD_STATUSES, cum_weights=STATUS_CUM_WEIGHTS)[0]
        fields: dict[str, FieldValue] = {
            "first_name": first,
            "last_name": last,
            "email": self._email(first, last, domain),
            "phone": self._phone(country, place) if self._chance(0.85) else None,
            "company": company,
            "title": self.rng.choice(TITLES) if self._chance(0.9) else None,
            "status": status,
            "country": country.code,
            "state": place.state,
            "city": place.city,
            "postcode": fake.postcode_in_state(place.state) if place.state else fake.postcode(),
            "website": f"https://www.{domain}" if self._chance(0.6) else None,
            "industry": self.rng.choice(INDUSTRIES) if self._chance(0.8) else None,
            "lead_source": self.rng.choice(LEAD_SOURCES),
            "annual_revenue": self.rng.randrange(50_000, 900_000, 5_000) if self._chance(0.5) else None,
            "employees": self.rng.randint(1, 500) if self._chance(0.6) else None,
        }
        draft = self._draft("lead", fields, country, self._past(730, 1), self._active_owner(country))
        self._set_activity(draft, recent=status == "New" or self._chance(0.6))
        return draft

    def _exact_copy(self, original: Draft) -> Draft:
        """Same person, same email (maybe re-cased), entered again later; blanks differ."""
        original.tag = "original"
        fields = dict(original.fields)
        local, _, domain = str(fields["email"]).partition("@")
        if self._chance(0.5):
            fields["email"] = f"{local.title()}@{domain}"
        copy = self._copy(original, fields)
        filled = [name for name in OPTIONAL_LEAD_FIELDS if original.fields.get(name)]
        for name in self.rng.sample(filled, min(len(filled), self.rng.randint(1, 2))):
            blank = copy if self._chance(0.5) else original
            blank.fields[name] = None
        return copy

    def _fuzzy_copy(self, original: Draft) -> Draft:
        """Same person with a typo in a name or the company, and another email address."""
        original.tag = "original"
        fields = dict(original.fields)
        first, last = str(fields["first_name"]), str(fields["last_name"])
        candidates = [n for n in ("first_name", "last_name", "company") if len(str(fields[n])) >= 4]
        target = self.rng.choice(candidates or ["company"])
        fields[target] = typo(self.rng, str(fields[target]))
        domain = str(fields["email"]).partition("@")[2]
        cased_domain = domain.upper() if self._chance(0.5) else domain.title()
        for local in (
            f"{slug(first)[:1]}{slug(last)}",
            f"{slug(first)}{slug(last)[:1]}",
            f"{slug(first)}",
        ):
            if f"{local}@{domain}" not in self.emails:
                break
        else:
            local = f"{slug(first)}.{slug(last)}{len(self.emails)}"
        self.emails.add(f"{local}@{domain}")
        fields["email"] = f"{local}@{cased_domain}"
        return self._copy(original, fields)

    def _copy(self, original: Draft, fields: dict[str, FieldValue]) -> Draft:
        latest = self.now - timedelta(days=1)
        created = min(original.created_at + timedelta(days=self.rng.randint(1, 120)), latest)
        fields["status"] = "New"
        copy = self._draft("lead", fields, original.country, created, original.owner_id, tag="copy")
        self._set_activity(copy, recent=True)
        return copy

    def _junk(self, index: int) -> Draft:
        first, last, email, company = JUNK_TEMPLATES[index % len(JUNK_TEMPLATES)]
        if index >= len(JUNK_TEMPLATES):
            email = f"test{index}@test.com"
        us = COUNTRIES[0]
        fields: dict[str, FieldValue] = {
            "first_name": first,
            "last_name": last,
            "email": email,
            "company": company,
            "status": "New",
            "country": us.code,
            "lead_source": "Web",
        }
        draft = self._draft("lead", fields, us, self._past(60, 1), self._active_owner(us), tag="junk")
        self._set_activity(draft, recent=True)
        return draft
