"""Meetings as a service: propose a booking through the policy, re-plan a taken slot, move, cancel.

:meth:`MeetingService.book` is what ``/book-meeting``, ``revgate meetings book`` and routing's
last step call. It finds the lead's options (:mod:`agent.meetings.options`, with the meetings
already booked counted as busy), makes the ``book_meeting`` proposal for the first fitting slot
(or the time asked for) and submits it like any other change (``Runner.submit``): the policy
books the plain case at once and sends the unusual ones (outside working hours, another rep
than the owner, a high-value lead) to approval with the options on the card. A slot taken
between proposal and booking is planned again from fresh calendars, up to
:data:`MAX_REPLANS` times; it is never double-booked.

Reschedules and cancellations are people's own decisions (from the booking's Slack message
or the CLI): they are checked against the calendars, written, and audited, but not gated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from agent.audit import AuditLog
from agent.errors import CRMNotFoundError, LeadNotRoutedError, SlotTakenError
from agent.meetings.booked import BookedCalendars
from agent.meetings.bookings import Booking
from agent.meetings.calendars import Calendars
from agent.meetings.options import LeadOptions, MeetingOptions
from agent.meetings.plans import booking_action
from agent.meetings.slots import Slot, SlotRules
from agent.meetings.writer import MeetingWriter
from agent.models import MeetingPlan, Owner, ProposedAction, Record
from agent.ports import Clock, CRMClient
from agent.routing.config import MeetingOffer, RoutingConfig
from agent.run_report import ProposalOutcome
from agent.runner import Runner
from agent.store.database import Database

log = logging.getLogger(__name__)

MAX_REPLANS = 3
"""Slots taken in a row before giving up (each re-plan reads the calendars afresh)."""


class MeetingNotifier:
    """Tells people about booked meetings; the Slack edge posts the booking message with its buttons."""

    def meeting_changed(self, booking: Booking) -> None:
        """A meeting was booked, moved or cancelled (post or update its message)."""
        return None


@dataclass(frozen=True)
class BookingResult:
    """What came of a booking request."""

    lead: Record
    options: LeadOptions | None
    action: ProposedAction | None
    outcome: ProposalOutcome | None
    """How the policy took it (``executed``, ``queued`` for approval, ``refused``, ``failed``...);
    ``None`` when no slot was found."""
    booking: Booking | None = None
    replanned: list[str] = field(default_factory=list)
    """Why each earlier slot was given up (taken in between)."""

    @property
    def status(self) -> str:
        """``booked``, ``pending`` (approval), ``no slot``, or the outcome's disposition."""
        if self.outcome is None:
            return "no slot"
        return {"executed": "booked", "queued": "pending"}.get(
            self.outcome.disposition, self.outcome.disposition
        )

    @property
    def plan(self) -> MeetingPlan | None:
        return self.action.meeting if self.action is not None else None


def rules_of(offer: MeetingOffer) -> SlotRules:
    """The slot rules a routing file's ``meetings`` section sets."""
    return SlotRules(
        duration=timedelta(minutes=offer.duration),
        buffer=timedelta(minutes=offer.buffer),
        min_notice=timedelta(minutes=offer.min_notice),
        horizon_days=offer.horizon_days,
    )


class MeetingService:
    """See the module doc. ``calendars`` reads the feeds (cached); ``fresh_calendars`` re-reads them."""

    def __init__(
        self,
        config: RoutingConfig,
        *,
        crm: CRMClient,
        runner: Runner,
        writer: MeetingWriter,
        database: Database,
        audit: AuditLog,
        calendars: Calendars,
        fresh_calendars: Callable[[], Calendars],
        clock: Clock,
        new_id: Callable[[], str],
        notifier: MeetingNotifier | None = None,
    ) -> None:
        self.config = config
        self._crm = crm
        self._runner = runner
        self.writer = writer
        self.book_store = writer.book
        self._db = database
        self._audit = audit
        self._calendars = calendars
        self._fresh = fresh_calendars
        self._clock = clock
        self._new_id = new_id
        self.notifier = notifier or MeetingNotifier()

    @property
    def rules(self) -> SlotRules:
        return rules_of(self.config.meetings)

    def options(
        self,
        lead: Record,
        rules: SlotRules | None = None,
        *,
        fresh: bool = False,
        besides: Booking | None = None,
    ) -> LeadOptions:
        """The lead's meeting options; the meetings already booked (but ``besides``) count as busy.

        Raises:
            LeadNotRoutedError: the lead has no owner.
            CalendarFeedError: a rep's calendar cannot be read.
        """
        inner = self._fresh() if fresh else self._calendars
        calendars = BookedCalendars(inner, self._crm, self.book_store, besides=besides)
        return MeetingOptions(self.config, calendars, self._clock, active=self._active).for_lead(
            lead, rules or self.rules
        )

    def book(
        self,
        lead: Record,
        *,
        requested_by: str,
        rules: SlotRules | None = None,
        at: datetime | None = None,
        pick: int = 0,
    ) -> BookingResult:
        """Propose a meeting for ``lead`` and put it through the policy (see the module doc).

        ``at``: this start time instead of the first fitting slot (a person's choice; outside
        working hours it goes to approval). ``pick``: the n-th proposed slot (0: the first).

        Raises:
            LeadNotRoutedError: the lead has no owner.
            CalendarFeedError: a rep's calendar cannot be read.
            ValueError: ``pick`` is not one of the proposed slots.
        """
        rules = rules or self.rules
        replanned: list[str] = []
        last: BookingResult | None = None
        for attempt in range(MAX_REPLANS + 1):
            options = self.options(lead, rules, fresh=attempt > 0)
            span = self._choose(options, rules, at, pick)
            if span is None:
                return BookingResult(lead, options, None, None, replanned=replanned)
            action = self._proposal(options, span, lead, rules, requested_by, _chosen(options, at, pick))
            report = self._runner.submit(
                [action], job="meetings", trigger=f"book-meeting:{requested_by}", planner="meetings"
            )
            outcome = report.outcomes[0]
            if outcome.disposition == "superseded" and at is None:
                last = BookingResult(lead, options, action, outcome, None, replanned)
                replanned.append(outcome.detail)
                log.info("meeting for %s: %s; planning again", lead.id, outcome.detail)
                fresh_lead = self._crm.get("lead", lead.id)
                if fresh_lead is None:
                    raise CRMNotFoundError(f"lead {lead.id} is gone")
                lead, pick = fresh_lead, 0
                continue
            booking = self.book_store.for_action(action.id) if outcome.disposition == "executed" else None
            if booking is not None:
                self.notifier.meeting_changed(booking)
            return BookingResult(lead, options, action, outcome, booking, replanned)
        # Every slot proposed was taken before it could be booked: say so, with each reason.
        assert last is not None
        return replace(last, replanned=replanned[:-1])

    def offer(self, lead: Record, requested_by: str) -> BookingResult | None:
        """Routing's last step: :meth:`book`, unless the lead already has a meeting ahead (a lead
        routed again, by an SLA reassignment say, keeps the meeting it has; a person moves it)."""
        if self.book_store.listed(lead_id=lead.id, since=self._clock.now()):
            return None
        return self.book(lead, requested_by=requested_by)

    def replan(self, action: ProposedAction, reason: str) -> BookingResult | None:
        """An approved booking's slot was taken before it ran: propose the lead's next slot."""
        lead = self._crm.get("lead", action.targets[0].record_id)
        if lead is None or lead.owner_id is None:
            log.info("meeting %s not re-planned: the lead is gone or has no owner", action.id)
            return None
        try:
            return self.book(lead, requested_by=action.requested_by)
        except (LeadNotRoutedError, SlotTakenError, CRMNotFoundError) as error:
            log.info("meeting %s not re-planned: %s", action.id, error)
            return None

    def slots_for(self, meeting_id: str, rules: SlotRules | None = None) -> tuple[Booking, list[Slot]]:
        """A booked meeting and the free slots it could move to (same rep, same length)."""
        booking = self.book_store.get(meeting_id)
        lead = self._crm.get("lead", booking.lead_id)
        if lead is None:
            raise CRMNotFoundError(f"lead {booking.lead_id} of meeting {meeting_id} is gone")
        rules = rules or self.rules
        length = booking.end - booking.start
        rules = SlotRules(
            duration=length,
            buffer=timedelta(minutes=booking.plan.buffer_minutes),
            min_notice=rules.min_notice,
            horizon_days=rules.horizon_days,
            count=max(rules.count, 5),
        )
        # The rep of the meeting, whoever owns the lead now.
        as_booked = lead.model_copy(update={"owner_id": booking.rep_id})
        options = self.options(as_booked, rules, besides=booking)
        return booking, [slot for slot in options.slots if slot.span != booking.span]

    def move(self, meeting_id: str, start: datetime, *, by: str) -> Booking:
        """Move a meeting to ``start`` (same length); CRM and invite follow.

        Raises:
            MeetingNotFoundError, MeetingClosedError, SlotTakenError.
        """
        booking = self.book_store.get(meeting_id)
        moved = self.writer.move(meeting_id, start, start + (booking.end - booking.start), by=by)
        self._audited(by, "meeting.rescheduled", moved, {"from": booking.start.isoformat()})
        self.notifier.meeting_changed(moved)
        return moved

    def cancel(self, meeting_id: str, *, by: str, reason: str) -> Booking:
        """Cancel a meeting; the CRM activity is cancelled and the attendee gets the cancellation."""
        cancelled = self.writer.cancel(meeting_id, by=by, reason=reason)
        self._audited(by, "meeting.cancelled", cancelled, {"reason": reason})
        self.notifier.meeting_changed(cancelled)
        return cancelled

    def sync_pending(self) -> int:
        """Bring every meeting whose CRM activity or invite is behind up to date; how many were."""
        done = 0
        for booking in self.book_store.pending_sync():
            try:
                after = self.writer.sync(booking)
            except Exception as error:  # one meeting's failure must not stop the others
                log.warning("meeting %s still out of step: %s", booking.id, error)
                continue
            done += 0 if after.invite_pending else 1
        return done

    # -- internals ----------------------------------------------------------------

    def _choose(
        self, options: LeadOptions, rules: SlotRules, at: datetime | None, pick: int
    ) -> tuple[datetime, datetime] | None:
        if at is not None:
            return at, at + rules.duration
        if not options.slots:
            return None
        if not 0 <= pick < len(options.slots):
            raise ValueError(f"there are {len(options.slots)} proposed slots; pick 1 to {len(options.slots)}")
        return options.slots[pick].span

    def _proposal(
        self,
        options: LeadOptions,
        span: tuple[datetime, datetime],
        lead: Record,
        rules: SlotRules,
        requested_by: str,
        chosen: str = "the first slot free in both parties' hours",
    ) -> ProposedAction:
        rep = self._owner(options.rep.owner_id)
        return booking_action(
            options,
            span,
            lead=lead,
            rep=rep,
            rules=rules,
            action_id=self._new_id(),
            requested_by=requested_by,
            alternatives=[slot.span for slot in options.slots],
            name=self._name,
            chosen=chosen,
        )

    def _owner(self, owner_id: str) -> Owner:
        owner = self._crm.get_owner(owner_id)
        if owner is None:
            raise CRMNotFoundError(f"owner {owner_id} is not a CRM user")
        return owner

    def _active(self, owner_id: str) -> bool:
        owner = self._crm.get_owner(owner_id)
        return owner is not None and owner.active

    def _name(self, owner_id: str) -> str:
        owner = self._crm.get_owner(owner_id)
        return owner.name if owner is not None else owner_id

    def _audited(self, actor: str, event: str, booking: Booking, extra: dict[str, object]) -> None:
        with self._db.transaction() as session:
            self._audit.append(
                session,
                actor=actor,
                event=event,
                subject=f"meeting:{booking.id}",
                payload={
                    "lead_id": booking.lead_id,
                    "rep_id": booking.rep_id,
                    "start": booking.start.isoformat(),
                    "end": booking.end.isoformat(),
                    "sequence": booking.sequence,
                    "status": booking.status,
                    **extra,
                },
            )


def _chosen(options: LeadOptions, at: datetime | None, pick: int) -> str:
    """How the time was chosen, for the proposal's rationale."""
    if at is not None:
        return "the time a person asked for"
    if options.reason is not None:
        return f"the first slot in the rep's hours, as no slot fits both parties' ({options.explanation})"
    return "the first slot free in both parties' hours" if pick == 0 else f"proposed slot {pick + 1}"
