"""The routing engine: a lead, the rules, the pools -> a :class:`RouteDecision`.

It decides; it writes nothing to the CRM. The owner change it proposes goes through
the policy like any other write (:class:`~agent.routing.service.RoutingService`): an
unowned lead's ``assign_owner`` runs at once, a change of an existing owner
(``change_owner``) waits for a person. Only the pool's round-robin turn is written here,
in its own transaction, unless the decision is a dry run.

When the rule that places a lead is the catch-all and a fallback advisor (the model)
is configured, the advisor may propose a pool or an owner instead, with its rationale;
offline, or when it declines, the lead goes to the fallback queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Protocol

from agent.enrich.domains import DomainParser
from agent.enrich.geography import Geography
from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.errors import CRMNotFoundError
from agent.models import OWNER_FIELD, FieldChange, Owner, ProposedAction, Record, Target
from agent.normalize import normalize_email
from agent.ports import Clock, CRMClient
from agent.routing.accounts import AccountIndex
from agent.routing.availability import Load, WorkingTime, unavailable_reason
from agent.routing.config import Member, RoutingConfig, Rule
from agent.routing.decision import Placement, RouteDecision, Skipped, Step, lead_label
from agent.routing.pools import Candidate, PoolLedger
from agent.routing.territories import first_covering
from agent.routing.values import routing_values

LoadOf = Callable[[str, date], Load]
"""An owner's load on a given (their local) day."""


class FallbackAdvisor(Protocol):
    """Proposes where a lead no rule placed should go (the model); ``None``: no opinion."""

    def suggest(self, values: Mapping[str, Any], config: RoutingConfig) -> tuple[str, str, str] | None:
        """``(kind, name, rationale)`` with kind ``pool`` or ``owner``, or ``None``."""
        ...


class Router:
    """Routes leads by a :class:`RoutingConfig` (build once: it caches the account index, read
    again every ``accounts_ttl_seconds``, and the owners, read again every
    ``owners_ttl_seconds`` or as soon as an owner the configuration names is missing)."""

    def __init__(
        self,
        crm: CRMClient,
        config: RoutingConfig,
        ledger: PoolLedger,
        *,
        clock: Clock,
        new_id: Callable[[], str],
        load_of: LoadOf,
        advisor: FallbackAdvisor | None = None,
        accounts_ttl_seconds: int = 600,
        owners_ttl_seconds: int = 60,
    ) -> None:
        self._crm = crm
        self.config = config
        self._ledger = ledger
        self._clock = clock
        self._new_id = new_id
        self._load_of = load_of
        self._advisor = advisor
        self._ttl = accounts_ttl_seconds
        self._index: AccountIndex | None = None
        self._index_at: datetime | None = None
        self._owners_ttl = owners_ttl_seconds
        self._owners: dict[str, Owner] = {}
        self._owners_at: datetime | None = None
        self._named = frozenset(
            [m.owner for pool in config.pools.values() for m in pool.members]
            + [r.then.owner for r in config.rules if r.then.owner is not None]
        )
        self._domains = DomainParser()
        self._lists: ReferenceLists = load_reference_lists()
        self._geography = Geography()

    @property
    def crm(self) -> CRMClient:
        return self._crm

    def find_lead(self, ref: str) -> Record:
        """A lead by id or by email address.

        Raises:
            CRMNotFoundError: no lead has that id or email.
        """
        ref = ref.strip()
        lead = self._crm.get("lead", ref)
        if lead is not None:
            return lead
        email = normalize_email(ref)
        if email and "@" in email:
            for candidate in (ref, email):
                found = self._crm.search("lead", "email", candidate)
                if found:
                    return sorted(found, key=lambda r: r.created_at)[0]
        raise CRMNotFoundError(f"no lead with id or email {ref!r}")

    def route(self, ref: str, *, requested_by: str, dry_run: bool = False) -> RouteDecision:
        return self.decide(self.find_lead(ref), requested_by=requested_by, dry_run=dry_run)

    def decide(
        self,
        lead: Record,
        *,
        requested_by: str,
        dry_run: bool = False,
        owners: Mapping[str, Owner] | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> RouteDecision:
        """Where ``lead`` goes. ``exclude``: owners not to pick (a reassignment's previous owner)."""
        now = self._clock.now()
        owners = owners if owners is not None else self.owners(lead)
        match = self.accounts(owners).match(lead)
        values = routing_values(
            lead, match, self.config, geography=self._geography, domains=self._domains, lists=self._lists
        )
        path: list[Step] = []
        placement: Placement | None = None
        alert: str | None = None
        rule = self.config.rules[-1]
        for rule in self.config.rules:
            why = "every lead"
            if rule.when is not None:
                passed, why = rule.when.test(values)
                if not passed:
                    path.append(Step(rule.name, "no match", why))
                    continue
            placed, reason, everyone_away = self._place(rule, values, owners, now, dry_run, exclude)
            if placed is not None:
                path.append(Step(rule.name, "matched", why))
                placement = placed
                break
            path.append(Step(rule.name, "could not place", reason))
            if everyone_away:
                alert = f"nobody in {reason}; the lead went to the fallback queue"
                placement = self._queue(self.config.fallback_queue, skipped=everyone_away)
                rule = self.config.rules[-1]
                path.append(Step(rule.name, "fallback", "every member unavailable"))
                break
        assert placement is not None  # the last rule is a catch-all queue, which always places
        current = owners.get(lead.owner_id) if lead.owner_id else None
        chosen = owners.get(placement.owner_id) if placement.owner_id else None
        decision = RouteDecision(
            lead, current, chosen, rule.name, values, path, match, placement, now, alert=alert
        )
        if placement.owner_id is not None and placement.owner_id != lead.owner_id:
            decision.action = self._action(decision, requested_by)
            decision.sla_due_at = self._due(placement, now)
        return decision

    def owners(self, lead: Record | None = None) -> Mapping[str, Owner]:
        """The CRM's owners, read again when older than the TTL or when one the decision needs
        (a pool member, a rule's owner, the lead's owner) is not among them (a new owner)."""
        now = self._clock.now()
        stale = self._owners_at is None or (now - self._owners_at).total_seconds() > self._owners_ttl
        missing = not self._named <= self._owners.keys() or (
            lead is not None and lead.owner_id is not None and lead.owner_id not in self._owners
        )
        if stale or missing:
            self._owners = {o.id: o for o in self._crm.owners()}
            self._owners_at = now
        return self._owners

    def accounts(self, owners: Mapping[str, Owner]) -> AccountIndex:
        """The account index, rebuilt when older than the TTL."""
        now = self._clock.now()
        if (
            self._index is None
            or self._index_at is None
            or (now - self._index_at).total_seconds() > self._ttl
        ):
            self._index = AccountIndex(
                self._crm.iter_records("account"), owners, domains=self._domains, lists=self._lists
            )
            self._index_at = now
        self._index.owners = owners
        return self._index

    def working_time(self, owner_id: str) -> WorkingTime:
        """The owner's working calendar: their pool membership's, else the file's default hours."""
        member = self.member(owner_id) or Member(owner=owner_id)
        return WorkingTime(member, self.config.member_zone(member))

    def member(self, owner_id: str) -> Member | None:
        for pool in self.config.pools.values():
            for member in pool.members:
                if member.owner == owner_id:
                    return member
        return None

    def _place(
        self,
        rule: Rule,
        values: Mapping[str, Any],
        owners: Mapping[str, Owner],
        now: datetime,
        dry_run: bool,
        exclude: frozenset[str],
    ) -> tuple[Placement | None, str, list[Skipped]]:
        """The placement, or why none and (when a whole pool was away) who was skipped."""
        then = rule.then
        if then.owner is not None:
            owner = owners.get(then.owner)
            if owner is None or not owner.active or owner.id in exclude:
                return None, _why_not(then.owner, owner, exclude), []
            return Placement(owner.id), "", []
        if then.account_owner:
            owner_id = values.get("account.owner_id")
            if not values.get("account_matched"):
                return None, "no account matched", []
            owner = owners.get(owner_id) if isinstance(owner_id, str) else None
            if owner is None or not owner.active or owner.id in exclude:
                return None, "the account's " + _why_not(owner_id or "(none)", owner, exclude), []
            return Placement(owner.id, note=f"Account owner of {values.get('account.name')}."), "", []
        if then.territory:
            territory = first_covering(self.config.territories, values)
            if territory is None:
                return None, "no territory covers the lead", []
            placed, reason, away = self._from_pool(territory.team, owners, now, dry_run, exclude)
            if placed is not None:
                placed.note = f"Territory {territory.describe()}."
            return placed, reason, away
        if then.pool is not None:
            return self._from_pool(then.pool, owners, now, dry_run, exclude)
        assert then.queue is not None
        if rule is self.config.rules[-1] and self._advisor is not None:
            suggested = self._suggested(values, owners, now, dry_run, exclude)
            if suggested is not None:
                return suggested, "", []
        return self._queue(then.queue), "", []

    def _from_pool(
        self, name: str, owners: Mapping[str, Owner], now: datetime, dry_run: bool, exclude: frozenset[str]
    ) -> tuple[Placement | None, str, list[Skipped]]:
        skipped: list[Skipped] = []
        available: list[Candidate] = []
        for member in self.config.pools[name].members:
            if member.owner in exclude:
                skipped.append(Skipped(member.owner, "the previous owner"))
                continue
            zone = self.config.member_zone(member)
            owner = owners.get(member.owner)
            # The load is read only for a member with a cap who could otherwise take the lead.
            reason = unavailable_reason(member, zone, owner, now, Load())
            if reason is None and (member.max_open_leads is not None or member.max_per_day is not None):
                load = self._load_of(member.owner, now.astimezone(zone).date())
                reason = unavailable_reason(member, zone, owner, now, load)
            if reason is None:
                available.append(Candidate(member.owner, member.weight))
            else:
                skipped.append(Skipped(member.owner, reason))
        if not available:
            return None, f"pool {name}", skipped
        pick = self._ledger.pick(name, available, now, dry_run=dry_run)
        return Placement(pick.owner_id, pool=name, credits=pick.credits, skipped=skipped), "", []

    def _queue(self, name: str, *, skipped: list[Skipped] | None = None) -> Placement:
        queue = self.config.queues[name]
        return Placement(queue.owner, queue=name, skipped=list(skipped or []))

    def _suggested(
        self,
        values: Mapping[str, Any],
        owners: Mapping[str, Owner],
        now: datetime,
        dry_run: bool,
        exclude: frozenset[str],
    ) -> Placement | None:
        assert self._advisor is not None
        suggestion = self._advisor.suggest(values, self.config)
        if suggestion is None:
            return None
        kind, name, rationale = suggestion
        placed: Placement | None = None
        if kind == "pool" and name in self.config.pools:
            placed, _reason, _away = self._from_pool(name, owners, now, dry_run, exclude)
        elif kind == "owner" and (owner := owners.get(name)) is not None and owner.active:
            placed = Placement(owner.id)
        if placed is not None:
            placed.suggested_by = "model"
            placed.note = f"No rule placed the lead; the model suggested {kind} {name}: {rationale}"
        return placed

    def _action(self, decision: RouteDecision, requested_by: str) -> ProposedAction:
        lead, placement = decision.lead, decision.placement
        assert placement.owner_id is not None
        evidence: dict[str, str | int | float | bool] = {"rule": decision.rule}
        if placement.pool:
            evidence["pool"] = placement.pool
        if placement.queue:
            evidence["queue"] = placement.queue
        if decision.account.chosen is not None:
            evidence["account_id"] = decision.account.chosen.account.id
        return ProposedAction(
            id=self._new_id(),
            kind="assign_owner" if lead.owner_id is None else "change_owner",
            object_type="lead",
            targets=[
                Target(
                    record_id=lead.id,
                    version=lead.version,
                    label=lead_label(lead),
                    changes={OWNER_FIELD: FieldChange(before=lead.owner_id, after=placement.owner_id)},
                )
            ],
            rationale=" ".join(decision.explanation[1:]),
            evidence=evidence,
            planner="model" if placement.suggested_by else "routing",
            check="route_lead",
            requested_by=requested_by,
        )

    def _due(self, placement: Placement, now: datetime) -> datetime | None:
        if placement.queue is not None or placement.owner_id is None:
            return None
        return self.working_time(placement.owner_id).add_working_minutes(now, self.config.sla.remind_after)


def _why_not(owner_id: object, owner: Owner | None, exclude: frozenset[str]) -> str:
    if owner is None:
        return f"owner {owner_id} is unknown"
    if owner.id in exclude:
        return f"owner {owner_id} is the previous owner"
    return f"owner {owner_id} is inactive"
