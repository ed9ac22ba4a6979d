"""Lead-to-account matching: which of the CRM's accounts a lead works at.

:class:`AccountDirectory` holds every live account once per run, compactly: the
registrable domain of each (the master's, when accounts share one), each normalised
name, and the accounts' names, phones and places normalised and blocked for the
matching engine. A run streaming the CRM in chunks builds it once and matches every
chunk of leads against it; a whole snapshot builds it from its own accounts.

:func:`lead_account_matches` asks, in order of evidence: the lead's work email
domain, its website, its company name normalised (``ACME inc`` is ``Acme``), then
the engine on the company name, which only counts when the account's own phone
agrees too. A domain or name shared by two different companies names neither: no
guess. A match sets the lead's ``company`` (and a blank ``industry``) by ``enrich_data``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from agent.enrich.domains import DomainParser
from agent.enrich.fields import company_domain_from_email
from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.matching import BlockingRule, FieldSpec, Linker, Match, MatchConfig
from agent.matching.prepare import normalize_value
from agent.models import FieldChange, FieldValue, Record
from agent.normalize import country_code, normalize_phone
from agent.planner.draft import Draft, RecordKey, _by_id, _text, key, label, target
from agent.planner.survivorship import completeness, is_blank

ACCOUNT_MATCH_CHECK = "lead_account_match"
CONFIDENCE = {"email domain": 0.9, "website": 0.85, "company name": 0.75, "similar company name": 0.6}
"""How sure a lead-to-account match is, by what matched (a similar name also scales by its probability)."""
COMPANY_MATCH = MatchConfig(
    fields=(
        FieldSpec("company", "company"),
        FieldSpec("phone", "phone"),
        FieldSpec("city", "suburb"),
        FieldSpec("state", "state"),
        FieldSpec("country", "text"),
    ),
    exact_keys=(),  # equal names are looked up directly, before the engine runs
    # A similar name only counts with the account's phone agreeing (exact, or "close": the same
    # last 7 digits), so only pairs sharing those digits can ever be accepted: block on them alone.
    blocking=(BlockingRule(("phone:last7",)),),
    corroborating_kinds=(),
    one_to_one=False,
    em_iterations=0,  # as for people (see agent.planner.fuzzy.PERSON_MATCH): EM drifts on CRM data
)
"""A lead's company against account names, with the phone and place as corroboration."""


@dataclass(frozen=True, slots=True)
class AccountEntry:
    """What a lead enrichment needs of one account."""

    id: str
    name: str
    industry: FieldValue
    label: str
    company: str
    """The domain, else the id: two same-named entries with one ``company`` are one company."""
    rank: tuple[int, datetime, str]
    """Master order (most complete, oldest, smallest id): the lowest names a shared domain."""


class AccountDirectory:
    """Every live account, looked up by domain, by name and by the engine (build once per run)."""

    def __init__(
        self,
        accounts: Iterable[Record],
        *,
        domains: DomainParser | None = None,
        lists: ReferenceLists | None = None,
    ) -> None:
        self.domains = domains or DomainParser()
        self.lists = lists or load_reference_lists()
        self.by_domain: dict[str, AccountEntry] = {}
        by_name: dict[str, list[AccountEntry]] = defaultdict(list)
        entries: list[AccountEntry] = []
        engine_rows: list[dict[str, str | None]] = []
        for account in _by_id(accounts):
            domain = account_domain(account, self.domains, self.lists)
            entry = AccountEntry(
                id=account.id,
                name=_text(account.get("name")),
                industry=account.get("industry"),
                label=label(account),
                company=domain or account.id,
                rank=(-completeness(account), account.created_at, account.id),
            )
            if domain is not None and (
                domain not in self.by_domain or entry.rank < self.by_domain[domain].rank
            ):
                self.by_domain[domain] = entry
            name = normalize_value(entry.name, "company")
            if name is not None:
                by_name[name].append(entry)
            entries.append(entry)
            engine_rows.append(company_values(account, entry.name))
        # A name shared by two different companies names neither.
        self.by_name = {
            name: group[0] for name, group in by_name.items() if len({e.company for e in group}) == 1
        }
        self.names_shared = frozenset(name for name in by_name if name not in self.by_name)
        self._entries = entries
        self._linker = Linker(engine_rows, COMPANY_MATCH)

    def __len__(self) -> int:
        return len(self._entries)

    def similar_names(self, leads: Sequence[Record]) -> dict[str, tuple[AccountEntry, float]]:
        """Lead id -> the one account the engine links its company to, with the match probability.

        Only a typo-level name (``exact`` or ``close``) *and* the account's own phone count:
        on the 10k seeded sample a close name in the same city alone still named other
        firms ("Hall and Sons" for "Hale and Sons"), so place only adds weight. A tie names
        neither account.
        """
        if not leads or not self._entries:
            return {}
        options: dict[int, list[Match]] = defaultdict(list)
        run = self._linker.run([company_values(lead, _text(lead.get("company"))) for lead in leads])
        for match in run.matches:
            levels = {e.field: e.level for e in match.evidence}
            if levels["company"] in ("exact", "close") and levels["phone"] in ("exact", "close"):
                options[match.left].append(match)
        out: dict[str, tuple[AccountEntry, float]] = {}
        for index, found in options.items():
            top = max(found, key=lambda m: m.score)
            if sum(1 for m in found if m.score == top.score) == 1:
                out[leads[index].id] = (self._entries[top.right], top.probability)
        return out


def lead_account_matches(
    leads: Iterable[Record],
    accounts: Iterable[Record] | AccountDirectory,
    reserved: set[RecordKey],
    *,
    domains: DomainParser | None = None,
    lists: ReferenceLists | None = None,
) -> list[Draft]:
    """An ``enrich_data`` per lead whose account is known and whose company or industry would change.

    ``accounts``: the accounts, or a directory of them built once for a whole run.
    """
    directory = (
        accounts
        if isinstance(accounts, AccountDirectory)
        else AccountDirectory(accounts, domains=domains, lists=lists)
    )
    parser, reference = directory.domains, directory.lists
    found: dict[str, tuple[AccountEntry, str, float, str]] = {}
    unplaced: list[Record] = []
    pool = [lead for lead in _by_id(leads) if key(lead) not in reserved]
    for lead in pool:
        email_domain = company_domain_from_email(_text(lead.get("email")) or None, parser, reference)
        website = account_domain(lead, parser, reference, fields=("website",))
        company = normalize_value(_text(lead.get("company")), "company")
        if email_domain is not None and email_domain in directory.by_domain:
            entry = directory.by_domain[email_domain]
            found[lead.id] = (entry, "email domain", CONFIDENCE["email domain"], email_domain)
        elif website is not None and website in directory.by_domain:
            found[lead.id] = (directory.by_domain[website], "website", CONFIDENCE["website"], website)
        elif company is not None and company in directory.by_name:
            entry = directory.by_name[company]
            found[lead.id] = (entry, "company name", CONFIDENCE["company name"], company)
        elif company is not None and company not in directory.names_shared:
            unplaced.append(lead)
    by_id = {lead.id: lead for lead in unplaced}
    for lead_id, (entry, probability) in directory.similar_names(unplaced).items():
        company = _text(by_id[lead_id].get("company"))
        confidence = CONFIDENCE["similar company name"] * probability
        found[lead_id] = (entry, "similar company name", confidence, company)
    return [
        draft
        for lead in pool
        if lead.id in found and (draft := _account_enrichment(lead, *found[lead.id])) is not None
    ]


def account_domain(
    record: Record,
    parser: DomainParser,
    lists: ReferenceLists,
    *,
    fields: tuple[str, ...] = ("domain", "website"),
) -> str | None:
    """The first registrable, non-free-mail domain among ``fields``."""
    for name in fields:
        domain = parser.registrable_domain(_text(record.get(name)) or None)
        if domain is not None and not lists.is_free_mail(domain):
            return domain
    return None


def company_values(record: Record, company: str) -> dict[str, str | None]:
    """A lead's or an account's company, phone (E.164 in its country) and place, for the engine."""
    country = _text(record.get("country")) or None
    phone = _text(record.get("phone")) or None
    return {
        "company": company or None,
        "phone": (normalize_phone(phone, country) or phone) if phone else None,
        "city": _text(record.get("city")) or None,
        "state": _text(record.get("state")) or None,
        "country": country_code(country) or country,
    }


def _account_enrichment(
    lead: Record, account: AccountEntry, matched_by: str, confidence: float, matched_on: str
) -> Draft | None:
    changes: dict[str, FieldChange] = {}
    if account.name and normalize_value(_text(lead.get("company")), "company") != normalize_value(
        account.name, "company"
    ):
        changes["company"] = FieldChange(before=lead.get("company"), after=account.name)
    if is_blank(lead.get("industry")) and not is_blank(account.industry):
        changes["industry"] = FieldChange(before=lead.get("industry"), after=account.industry)
    if not changes:
        return None
    return Draft(
        check=ACCOUNT_MATCH_CHECK,
        kind="enrich_data",
        object_type="lead",
        targets=(target(lead, changes=changes),),
        rationale=(
            f"The lead's {matched_by} ({matched_on}) matches the account {account.label}; "
            f"set {' and '.join(changes)} from it."
        ),
        evidence={
            "rule": "lead to account match",
            "source": f"crm:accounts:{account.id}",
            "matched_by": matched_by,
            "matched_on": matched_on,
            "account_id": account.id,
            "confidence": round(confidence, 3),
        },
    )
