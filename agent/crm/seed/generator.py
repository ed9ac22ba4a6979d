"""The generator: drafts every record, plants the defects, and hands back what it seeded."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.crm.seed.drafting import Draft
from agent.crm.seed.planting import DefectPlanter
from agent.crm.seed.records import RecordDrafter
from agent.models import Owner, Record


@dataclass
class Seeded:
    """What :meth:`Generator.generate` made: owners, finished records, and the planted duplicate pairs."""

    owners: list[Owner]
    accounts: list[Record]
    contacts: list[Record]
    leads: list[Record]
    exact_pairs: list[tuple[str, str]] = field(default_factory=list)
    fuzzy_pairs: list[tuple[str, str]] = field(default_factory=list)


class Generator(RecordDrafter, DefectPlanter):
    """Drafts a whole sample CRM from a seed and a "now", the same every time."""

    def generate(self, total: int) -> Seeded:
        self.guarantee = total >= 50
        self.owners = self._owners()
        n_accounts, n_contacts = round(total * 0.15), round(total * 0.25)
        if n_contacts and not n_accounts:
            n_accounts = 1
        n_leads = total - n_accounts - n_contacts
        n_exact, n_fuzzy, n_junk = (self._quota(r, n_leads) for r in (0.03, 0.02, 0.015))
        n_base = n_leads - n_exact - n_fuzzy - n_junk

        accounts = [self._account() for _ in range(n_accounts)]
        contacts = [self._contact(self.rng.choice(accounts)) for _ in range(n_contacts)]
        by_country: dict[str, list[Draft]] = {}
        for account in accounts:
            by_country.setdefault(account.country.code, []).append(account)
        leads = [self._lead(by_country) for _ in range(n_base)]
        originals = self.rng.sample(leads, n_exact + n_fuzzy)
        exact = [(o, self._exact_copy(o)) for o in originals[:n_exact]]
        fuzzy = [(o, self._fuzzy_copy(o)) for o in originals[n_exact:]]
        leads += [copy for _, copy in exact + fuzzy]
        leads += [self._junk(i) for i in range(n_junk)]

        self._plant_field_defects(accounts, contacts, leads)
        self._plant_lead_defects(leads)
        self._plant_high_value(accounts)

        seeded = Seeded(self.owners, self._finish(accounts), self._finish(contacts), self._finish(leads))
        seeded.exact_pairs = [(o.id, c.id) for o, c in exact]
        seeded.fuzzy_pairs = [(o.id, c.id) for o, c in fuzzy]
        return seeded
