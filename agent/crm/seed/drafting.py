"""A record being drafted, and the generator's shared state and building blocks."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from faker import Faker

from agent.crm.seed.defects import well_cased
from agent.crm.seed.mangling import domain_of, fix_mc, slug
from agent.crm.seed.reference import COUNTRIES, JUNK_WORDS, Country, Place
from agent.models import FieldValue, ObjectType, Owner, Record


@dataclass
class Draft:
    """A record being built; ids are given out at the end, in order of creation."""

    object_type: ObjectType
    fields: dict[str, FieldValue]
    country: Country
    created_at: datetime
    updated_at: datetime
    place: Place | None = None
    owner_id: str | None = None
    account: Draft | None = None
    tag: str = "clean"
    """Why it exists: clean, original, copy, junk; only clean drafts get field defects."""
    id: str = ""


class Drafter:
    """The seeded rng and fakers, the values already given out, and the helpers that draft with them."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.fakers: dict[str, Faker] = {}
        for country in COUNTRIES:
            fake = Faker(country.locale)
            fake.seed_instance(seed)
            self.fakers[country.code] = fake
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.domains: set[str] = set()
        self.guarantee = False
        self.owners: list[Owner] = []

    def _quota(self, rate: float, pool: int, minimum: int = 1) -> int:
        wanted = round(rate * pool)
        if self.guarantee:
            wanted = max(minimum, wanted)
        return min(wanted, pool)

    # -- building blocks ----------------------------------------------------------

    def _draft(
        self,
        object_type: ObjectType,
        fields: dict[str, FieldValue],
        country: Country,
        created: datetime,
        owner_id: str | None,
        tag: str = "clean",
    ) -> Draft:
        return Draft(object_type, fields, country, created, created, owner_id=owner_id, tag=tag)

    def _set_activity(self, draft: Draft, *, recent: bool) -> None:
        """Recent: touched in the last 100 days (so a New lead is never stale by accident)."""
        earliest = max(draft.created_at, self.now - timedelta(days=100)) if recent else draft.created_at
        span = max(0, int((self.now - earliest).total_seconds()))
        draft.updated_at = earliest + timedelta(seconds=self.rng.randint(0, span))
        activity = max(draft.created_at, draft.updated_at - timedelta(days=self.rng.randint(0, 3)))
        draft.fields["last_activity_at"] = activity.date().isoformat()

    def _finish(self, drafts: list[Draft]) -> list[Record]:
        """Ids in order of creation (L000001 is the oldest lead), then records."""
        prefix = {"lead": "L", "contact": "C", "account": "A"}
        ordered = sorted(enumerate(drafts), key=lambda pair: (pair[1].created_at, pair[0]))
        for n, (_, draft) in enumerate(ordered, start=1):
            draft.id = f"{prefix[draft.object_type]}{n:06d}"
        records = []
        for draft in drafts:
            if draft.account is not None:
                draft.fields["account_id"] = draft.account.id
            records.append(
                Record(
                    object_type=draft.object_type,
                    id=draft.id,
                    version="1",
                    owner_id=draft.owner_id,
                    fields={k: v for k, v in draft.fields.items() if v is not None},
                    created_at=draft.created_at,
                    updated_at=draft.updated_at,
                )
            )
        return sorted(records, key=lambda r: r.id)

    def _person_name(self, fake: Faker) -> tuple[str, str]:
        for _ in range(20):
            first, last = str(fake.first_name()), fix_mc(str(fake.last_name()))
            names = (first, last)
            if all(well_cased(n) and n.lower() not in JUNK_WORDS and slug(n) for n in names):
                return names
        raise RuntimeError("Faker kept producing unusable names")

    def _company(self, country: Country) -> str:
        return str(self.fakers[country.code].company())

    def _unique_domain(self, company: str, country: Country) -> str:
        domain = domain_of(company, country)
        label, _, tld = domain.partition(".")
        n = 1
        while domain in self.domains:
            n += 1
            domain = f"{label}{n}.{tld}"
        self.domains.add(domain)
        return domain

    def _email(self, first: str, last: str, domain: str) -> str:
        f, l_ = slug(first), slug(last)
        for local in (f"{f}.{l_}", f"{f[:1]}{l_}", f"{f}{l_[:1]}"):
            if f"{local}@{domain}" not in self.emails:
                break
        else:
            local = f"{f}.{l_}{len(self.emails)}"
        self.emails.add(f"{local}@{domain}")
        return f"{local}@{domain}"

    def _replace_email(self, draft: Draft, email: str) -> None:
        key = email.strip().lower()
        if key not in self.emails:
            self.emails.add(key)
            draft.fields["email"] = email

    def _phone(self, country: Country, place: Place) -> str:
        """A valid, unused E.164 number in the place's area."""
        region = country.code
        for _ in range(50):
            subscriber = str(self.rng.randint(2, 9)) + "".join(
                str(self.rng.randint(0, 9)) for _ in range(place.digits - 1)
            )
            number = f"+{phonenumbers.country_code_for_region(region)}{place.area}{subscriber}"
            if number not in self.phones and phonenumbers.is_valid_number(phonenumbers.parse(number)):
                self.phones.add(number)
                return number
        raise RuntimeError(f"no valid phone number found for {place.city}")

    def _past(self, max_days: int, min_days: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randint(min_days * 86_400, max_days * 86_400))

    def _chance(self, p: float) -> bool:
        return self.rng.random() < p
