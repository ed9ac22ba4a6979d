"""Planting defects into clean drafts at small, fixed rates."""

from __future__ import annotations

from datetime import timedelta

from agent.crm.seed.drafting import Draft, Drafter
from agent.crm.seed.mangling import invalid_email, messy_email, miscase, unformatted_phone
from agent.crm.seed.reference import DISPOSABLE_DOMAINS, TRICKY_SURNAMES, US_STATES


class DefectPlanter(Drafter):
    """Field defects on people and records, lead defects, and high-value accounts."""

    def _plant_field_defects(self, accounts: list[Draft], contacts: list[Draft], leads: list[Draft]) -> None:
        people = [d for d in [*contacts, *leads] if d.tag == "clean"]
        invalid, disposable, messy, tricky, miscased, missing = self._take(
            people, [0.02, 0.015, 0.03, 0.02, 0.04, 0.02]
        )
        # A defective address that collides with another record's is skipped: it
        # would plant a duplicate nobody asked for.
        for draft in invalid:
            self._replace_email(draft, invalid_email(self.rng, str(draft.fields["email"])))
        for draft in disposable:
            local = str(draft.fields["email"]).partition("@")[0]
            self._replace_email(draft, f"{local}@{self.rng.choice(DISPOSABLE_DOMAINS)}")
        for draft in messy:
            draft.fields["email"] = messy_email(self.rng, str(draft.fields["email"]))
        for draft in tricky:
            draft.fields["last_name"] = self.rng.choice(TRICKY_SURNAMES)
        for draft in miscased:
            name = self.rng.choice(["first_name", "last_name"])
            if name == "last_name" and self._chance(0.3):
                draft.fields[name] = self.rng.choice(TRICKY_SURNAMES)
            draft.fields[name] = miscase(self.rng, str(draft.fields[name]))
        for draft in missing:
            draft.fields["company" if draft.object_type == "lead" and self._chance(0.6) else "last_name"] = (
                None
            )

        records = [d for d in [*accounts, *contacts, *leads] if d.tag == "clean"]
        with_phone = [d for d in records if d.fields.get("phone")]
        for draft in self.rng.sample(with_phone, self._quota(0.15, len(with_phone))):
            draft.fields["phone"] = unformatted_phone(self.rng, draft.country, str(draft.fields["phone"]))
        for draft in self.rng.sample(records, self._quota(0.1, len(records))):
            draft.fields["country"] = self.rng.choice(draft.country.variants)
        with_state = [d for d in records if d.fields.get("state")]
        for draft in self.rng.sample(with_state, self._quota(0.15, len(with_state))):
            code = str(draft.fields["state"])
            name, abbreviation = US_STATES[code]
            draft.fields["state"] = self.rng.choice(
                [name, name.lower(), abbreviation, abbreviation.lower(), code.lower()]
            )

    def _plant_lead_defects(self, leads: list[Draft]) -> None:
        clean = [d for d in leads if d.tag == "clean"]
        unowned, inactive, stale = self._take(clean, [0.04, 0.03, 0.05])
        for draft in unowned:
            draft.owner_id = None
        inactive_ids = [o.id for o in self.owners if not o.active]
        for draft in inactive:
            draft.owner_id = self.rng.choice(inactive_ids)
        for draft in stale:
            draft.fields["status"] = "New"
            draft.created_at = self._past(720, 200)
            draft.updated_at = draft.created_at + timedelta(days=self.rng.randint(0, 40))
            draft.fields["last_activity_at"] = (
                (draft.updated_at - timedelta(days=self.rng.randint(0, 5))).date().isoformat()
            )

    def _plant_high_value(self, accounts: list[Draft]) -> None:
        chosen = self.rng.sample(accounts, self._quota(0.03, len(accounts), minimum=2))
        inactive_ids = [o.id for o in self.owners if not o.active]
        for i, draft in enumerate(chosen):
            draft.fields["annual_revenue"] = self.rng.randrange(1_200_000, 80_000_000, 100_000)
            draft.fields["employees"] = self.rng.randint(300, 5000)
            if i == 0:
                draft.owner_id = self.rng.choice(inactive_ids)

    def _take(self, pool: list[Draft], rates: list[float]) -> list[list[Draft]]:
        """Disjoint random samples of ``pool``, one per rate."""
        sizes = [self._quota(rate, len(pool)) for rate in rates]
        picked = self.rng.sample(pool, min(len(pool), sum(sizes)))
        out, start = [], 0
        for size in sizes:
            out.append(picked[start : start + size])
            start += size
        return out
