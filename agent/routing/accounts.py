"""Which account a lead to route belongs to, with the candidates and the tie-break.

In order of evidence:

1. the registrable domain of the lead's work email, then of its website (a free-mail
   address never matches by domain: gmail.com is not a company);
2. a company name close to an account's (rapidfuzz ``token_sort_ratio`` of the
   normalised names, ``ACME Inc.`` is ``acme``) *and* one supporting signal: the same
   phone (last 7 digits) or the same postcode in the same country.

Several candidates are ranked: the closer name, then more signals, then an account
whose owner is active, then the most complete, oldest account (the merge master's
order). The ranking is reported, so the explanation shows why one account won.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz

from agent.enrich.domains import DomainParser
from agent.enrich.fields import company_domain_from_email
from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.matching.prepare import normalize_value
from agent.models import Owner, Record
from agent.normalize import country_code, normalize_phone
from agent.planner.account_matching import account_domain
from agent.planner.draft import _text
from agent.planner.survivorship import completeness

NAME_SIMILARITY = 90.0
"""The least ``token_sort_ratio`` (0-100) of two normalised company names that may match."""


@dataclass(frozen=True, slots=True)
class AccountCard:
    """What routing needs of one account."""

    id: str
    name: str
    owner_id: str | None
    domain: str | None
    fields: Mapping[str, object]
    rank: tuple[int, datetime, str]


@dataclass(frozen=True)
class Candidate:
    account: AccountCard
    matched_by: str
    """``email domain``, ``website`` or ``company name``."""
    similarity: float
    signals: tuple[str, ...] = ()
    owner_active: bool = False

    def sort_key(self) -> tuple[float, int, int, tuple[int, datetime, str]]:
        return (-self.similarity, -len(self.signals), 0 if self.owner_active else 1, self.account.rank)

    def describe(self) -> str:
        why = f"{self.matched_by}" + (f" {self.similarity:.0f}%" if self.matched_by == "company name" else "")
        if self.signals:
            why += f" + {', '.join(self.signals)}"
        owner = self.account.owner_id or "no owner"
        return f"{self.account.name} ({self.account.id}, {why}, owner {owner})"


@dataclass(frozen=True)
class AccountMatch:
    """The chosen account (``None``: no account) and every candidate, best first."""

    chosen: Candidate | None
    candidates: tuple[Candidate, ...] = ()
    tie_break: str | None = None
    """Why the first candidate beat the second, when there were several."""


@dataclass
class AccountIndex:
    """Every live account, indexed for routing; build once, match many leads."""

    accounts: Iterable[Record]
    owners: Mapping[str, Owner]
    domains: DomainParser = field(default_factory=DomainParser)
    lists: ReferenceLists = field(default_factory=load_reference_lists)

    def __post_init__(self) -> None:
        self._by_domain: dict[str, list[AccountCard]] = defaultdict(list)
        self._by_phone: dict[str, list[AccountCard]] = defaultdict(list)
        self._by_postcode: dict[tuple[str | None, str], list[AccountCard]] = defaultdict(list)
        self._names: dict[str, str] = {}
        self.size = 0
        for account in self.accounts:
            card = AccountCard(
                id=account.id,
                name=str(account.get("name") or account.id),
                owner_id=account.owner_id,
                domain=account_domain(account, self.domains, self.lists),
                fields=dict(account.fields),
                rank=(-completeness(account), account.created_at, account.id),
            )
            self.size += 1
            self._names[card.id] = normalize_value(card.name, "company") or ""
            if card.domain:
                self._by_domain[card.domain].append(card)
            phone = _phone_key(account)
            if phone:
                self._by_phone[phone].append(card)
            postcode = _postcode_key(account)
            if postcode:
                self._by_postcode[postcode].append(card)
        self.accounts = ()  # the cards hold what is needed

    def match(self, lead: Record) -> AccountMatch:
        email = company_domain_from_email(_text(lead.get("email")) or None, self.domains, self.lists)
        for matched_by, domain in (
            ("email domain", email),
            ("website", account_domain(lead, self.domains, self.lists, fields=("website",))),
        ):
            if domain and domain in self._by_domain:
                found = [self._candidate(card, matched_by, 100.0, ()) for card in self._by_domain[domain]]
                return _ranked(found)
        company = normalize_value(_text(lead.get("company")), "company")
        if not company:
            return AccountMatch(None)
        signals: dict[str, list[str]] = defaultdict(list)
        cards: dict[str, AccountCard] = {}
        phone, postcode = _phone_key(lead), _postcode_key(lead)
        for signal, block in (
            ("phone", self._by_phone.get(phone or "")),
            ("postcode", self._by_postcode.get(postcode or ("", ""))),
        ):
            for card in block or ():
                signals[card.id].append(signal)
                cards[card.id] = card
        found = []
        for card_id, card in cards.items():
            similarity = fuzz.token_sort_ratio(company, self._names[card_id])
            if similarity >= NAME_SIMILARITY:
                found.append(self._candidate(card, "company name", similarity, tuple(signals[card_id])))
        return _ranked(found)

    def _candidate(
        self, card: AccountCard, matched_by: str, similarity: float, signals: tuple[str, ...]
    ) -> Candidate:
        owner = self.owners.get(card.owner_id) if card.owner_id else None
        return Candidate(
            card, matched_by, similarity, signals, owner_active=owner is not None and owner.active
        )


def _ranked(found: list[Candidate]) -> AccountMatch:
    if not found:
        return AccountMatch(None)
    found.sort(key=Candidate.sort_key)
    tie_break = None
    if len(found) > 1:
        first, second = found[0], found[1]
        if first.similarity != second.similarity:
            tie_break = f"closer name ({first.similarity:.0f}% vs {second.similarity:.0f}%)"
        elif len(first.signals) != len(second.signals):
            tie_break = f"more signals ({', '.join(first.signals)})"
        elif first.owner_active != second.owner_active:
            tie_break = "its owner is active"
        else:
            tie_break = "more complete, then older (the merge master's order)"
    return AccountMatch(found[0], tuple(found), tie_break)


def _phone_key(record: Record) -> str | None:
    raw = _text(record.get("phone"))
    if not raw:
        return None
    e164 = normalize_phone(raw, _text(record.get("country")) or None)
    digits = "".join(ch for ch in (e164 or raw) if ch.isdigit())
    return digits[-7:] if len(digits) >= 7 else None


def _postcode_key(record: Record) -> tuple[str | None, str] | None:
    postcode = "".join(_text(record.get("postcode")).split()).upper()
    if not postcode:
        return None
    return country_code(_text(record.get("country")) or None), postcode
