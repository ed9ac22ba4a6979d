"""``revgate meetings``: slots, booking through the policy, and moving or cancelling a booked meeting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from agent.errors import (
    CalendarFeedError,
    CRMNotFoundError,
    LeadNotRoutedError,
    MeetingError,
    RoutingFileError,
    SlotTakenError,
)
from agent.meetings.bookings import Booking
from agent.meetings.options import LeadOptions
from agent.meetings.service import BookingResult, MeetingService
from agent.meetings.slots import Slot, SlotRules
from agent.models import Record
from agent.routing.decision import lead_label
from bot.cli.common import EXIT_BAD_INPUT, EXIT_REFUSED, console, fail, services
from bot.container import Services

app = typer.Typer(help="Meeting slots, bookings, reschedules and cancellations.", no_args_is_help=True)

Duration = Annotated[int | None, typer.Option(min=5, max=480, help="Meeting length in minutes.")]
As = Annotated[str, typer.Option("--as", help="Who asks (a Slack user id or a name), for the audit log.")]


@app.command()
def slots(
    ref: Annotated[str, typer.Argument(help="The lead's id or email address.")],
    duration: Duration = None,
    days: Annotated[int | None, typer.Option(min=1, max=60, help="The rep's working days searched.")] = None,
    count: Annotated[int, typer.Option(min=1, max=50, help="Slots to propose.")] = 3,
    buffer: Annotated[
        int | None, typer.Option(min=0, max=240, help="Minutes kept free around meetings.")
    ] = None,
) -> None:
    """Propose the first meeting slots for a lead with its owner; books nothing.

    The lead's zone comes from its country, state and phone (else the routing file's
    timezone); the owner's hours from REVGATE_ROUTING and busy times from their ``calendar``
    feed and the meetings already booked. An owner out of office for the whole horizon: the
    next member of their pool. Defaults come from the routing file's ``meetings`` section.
    """
    with meeting_services() as (svc, meetings):
        lead = _lead(svc, ref)
        rules = _rules(meetings, duration=duration, days=days, count=count, buffer=buffer)
        try:
            options = meetings.options(lead, rules)
        except (LeadNotRoutedError, CalendarFeedError) as error:
            fail(str(error), EXIT_REFUSED)
        _print_options(options, lead_label(lead), _namer(svc))


@app.command()
def book(
    ref: Annotated[str, typer.Argument(help="The lead's id or email address.")],
    at: Annotated[
        str | None,
        typer.Option(
            help="Start at this time instead (2026-12-01T15:00, in the rep's zone unless it has an offset)."
        ),
    ] = None,
    slot: Annotated[int, typer.Option(min=1, max=50, help="Book the n-th proposed slot.")] = 1,
    duration: Duration = None,
    requested_by: As = "cli",
) -> None:
    """Book a meeting for a routed lead with its owner, through the policy.

    The first slot free in both parties' hours is booked at once (recorded in the CRM, the
    invite sent); anything unusual (outside working hours, another rep, a high-value lead)
    waits for approval in Slack. A slot taken in the meantime is planned again.
    """
    with meeting_services() as (svc, meetings):
        lead = _lead(svc, ref)
        rules = _rules(meetings, duration=duration, count=max(3, slot))
        try:
            start = None
            if at is not None:
                zone = meetings.options(lead, rules).rep.hours.zone
                start = _parse_at(at, zone)
            result = meetings.book(lead, requested_by=requested_by, rules=rules, at=start, pick=slot - 1)
        except (LeadNotRoutedError, CalendarFeedError, CRMNotFoundError) as error:
            fail(str(error), EXIT_REFUSED)
        except ValueError as error:
            fail(str(error), EXIT_BAD_INPUT)
        _print_result(result, _namer(svc))
        if result.status not in ("booked", "pending"):
            raise typer.Exit(EXIT_REFUSED)


@app.command("list")
def list_meetings(
    ref: Annotated[str | None, typer.Argument(help="Only this lead's (id or email).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Past and cancelled meetings too.")] = False,
) -> None:
    """The meetings revgate booked: upcoming and live unless --all."""
    with meeting_services() as (svc, meetings):
        lead_id = _lead(svc, ref).id if ref else None
        since = None if all_ else svc.clock.now()
        found = meetings.book_store.listed(lead_id=lead_id, since=since, include_cancelled=all_)
        out = console()
        if not found:
            out.print("No meetings.", highlight=False)
            return
        table = Table(highlight=False)
        table.add_column("id", no_wrap=True)
        for header in ("lead", "rep", "rep's time", "lead's time", "status", "invite"):
            table.add_column(header)
        for booking in found:
            plan = booking.plan
            table.add_row(
                booking.id,
                f"{plan.lead_name} ({booking.lead_id})",
                f"{plan.rep_name} ({booking.rep_id})",
                _short(booking.start, booking.end, plan.rep_zone),
                _short(booking.start, booking.end, plan.lead_zone),
                booking.status,
                _invite_state(booking),
            )
        out.print(table)


@app.command()
def move(
    meeting_id: Annotated[str, typer.Argument(help="The meeting's id (revgate meetings list).")],
    at: Annotated[
        str | None, typer.Option(help="The new start (in the rep's zone unless it has an offset).")
    ] = None,
    slot: Annotated[int | None, typer.Option(min=1, max=20, help="The n-th free slot of `--show`.")] = None,
    show: Annotated[bool, typer.Option("--show", help="List the free slots it could move to.")] = False,
    requested_by: As = "cli",
) -> None:
    """Reschedule a booked meeting; the CRM activity moves and the attendee gets the updated invite."""
    with meeting_services() as (_, meetings):
        try:
            booking, free = meetings.slots_for(meeting_id)
        except (MeetingError, CRMNotFoundError, CalendarFeedError) as error:
            fail(str(error), EXIT_REFUSED)
        if show or (at is None and slot is None):
            if not free:
                console().print("No free slot in the horizon.", highlight=False)
            else:
                console().print(_table(tuple(free)), highlight=False)
            if at is None and slot is None:
                return
        if at is not None and slot is not None:
            fail("give --at or --slot, not both")
        if slot is not None:
            if slot > len(free):
                fail(f"there are {len(free)} free slots; see revgate meetings move {meeting_id} --show")
            start = free[slot - 1].start
        else:
            assert at is not None
            try:
                start = _parse_at(at, ZoneInfo(booking.plan.rep_zone))
            except ValueError as error:
                fail(str(error))
        try:
            moved = meetings.move(meeting_id, start, by=requested_by)
        except (MeetingError, SlotTakenError) as error:
            fail(str(error), EXIT_REFUSED)
        _print_booking("Moved", moved)


@app.command()
def cancel(
    meeting_id: Annotated[str, typer.Argument(help="The meeting's id (revgate meetings list).")],
    reason: Annotated[str, typer.Option(help="Why; recorded and shown on the Slack message.")],
    requested_by: As = "cli",
) -> None:
    """Cancel a meeting; the CRM activity is cancelled and the attendee gets the cancellation."""
    if not reason.strip():
        fail("a cancellation needs a reason")
    with meeting_services() as (_, meetings):
        try:
            cancelled = meetings.cancel(meeting_id, by=requested_by, reason=reason.strip())
        except MeetingError as error:
            fail(str(error), EXIT_REFUSED)
        _print_booking("Cancelled", cancelled)


@app.command()
def sync() -> None:
    """Bring every meeting's CRM activity and invite up to date (after a crash or a mail outage)."""
    with meeting_services() as (_, meetings):
        pending = len(meetings.book_store.pending_sync())
        done = meetings.sync_pending()
        console().print(f"{pending} meeting(s) out of step, {done} brought up to date.", highlight=False)
        if done < pending:
            raise typer.Exit(EXIT_REFUSED)


# -- helpers ------------------------------------------------------------------------


@contextmanager
def meeting_services() -> Iterator[tuple[Services, MeetingService]]:
    """The services and the meeting service; a broken routing file stops with its problems."""
    with services() as svc:
        try:
            yield svc, svc.meetings()
        except RoutingFileError as error:
            fail(str(error), EXIT_BAD_INPUT)


def _lead(svc: Services, ref: str) -> Record:
    try:
        return svc.routing().router.find_lead(ref)
    except CRMNotFoundError as missing:
        fail(f"{missing}; try the lead's id or exact email address", EXIT_REFUSED)


def _rules(
    meetings: MeetingService,
    *,
    duration: int | None = None,
    days: int | None = None,
    count: int = 3,
    buffer: int | None = None,
) -> SlotRules:
    base = meetings.rules
    return SlotRules(
        duration=timedelta(minutes=duration) if duration is not None else base.duration,
        buffer=timedelta(minutes=buffer) if buffer is not None else base.buffer,
        min_notice=base.min_notice,
        horizon_days=days if days is not None else base.horizon_days,
        count=count,
    )


def _parse_at(text: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"--at {text!r} is not a date and time like 2026-12-01T15:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _namer(svc: Services) -> Callable[[str], str]:
    owners = {owner.id: owner for owner in svc.crm.owners()}

    def name(owner_id: str) -> str:
        owner = owners.get(owner_id)
        return f"{owner.name} ({owner_id})" if owner else owner_id

    return name


def _print_options(options: LeadOptions, label: str, name: Callable[[str], str]) -> None:
    out = console()
    zone = options.lead_zone
    rep = options.rep

    def say(text: str) -> None:
        out.print(text, highlight=False, markup=False)

    say(f"Lead {options.lead_id} ({label}).")
    say(f"Lead's zone: {zone.zone.key} (from {zone.source}, {zone.confidence} confidence): {zone.assumption}")
    pool = f"pool {rep.pool}" if rep.pool else "in no pool: default hours"
    say(f"Rep: {name(rep.owner_id)}, {rep.hours.label} ({pool}); {rep.calendar}.")
    if options.substitution is not None:
        said = options.substitution.describe(rep.owner_id, name)
        say(said[0].upper() + said[1:] + ".")
    if options.note is not None:
        say(options.note + ".")
    if options.explanation is not None:
        out.print(f"[yellow]No slot fits both parties:[/] {escape(options.explanation)}.", highlight=False)
        if options.slots:
            out.print("In the rep's hours only:", highlight=False)
    if options.slots:
        out.print(_table(options.slots), highlight=False)
    elif options.explanation is None:
        out.print("No slot found.", highlight=False)


def _print_result(result: BookingResult, name: Callable[[str], str]) -> None:
    out = console()
    for why in result.replanned:
        out.print(f"[yellow]Planned again:[/] {escape(why)}.", highlight=False)
    if result.outcome is None or result.plan is None:
        if result.options is not None:
            _print_options(result.options, lead_label(result.lead), name)
        out.print("[red]Nothing booked:[/] no slot to propose.", highlight=False)
        return
    plan = result.plan
    outcome = result.outcome
    when = (
        f"{_local(plan.start, plan.end, plan.rep_zone)} for {plan.rep_name}, "
        + _local(plan.start, plan.end, plan.lead_zone)
        + f" for {plan.lead_name}"
    )
    if result.booking is not None:
        _print_booking("Booked", result.booking)
    elif outcome.disposition == "queued":
        out.print(
            f"[yellow]Sent for approval[/] ({escape(outcome.approval_id or '')}): {escape(when)}.",
            highlight=False,
        )
        out.print(f"Why: {escape(outcome.verdict.reason)}", highlight=False)
    else:
        out.print(f"[red]{outcome.disposition}[/]: {escape(outcome.verdict.reason)} {escape(outcome.detail)}")
    if plan.lead_zone_note:
        out.print(f"Lead's zone {plan.lead_zone}: {escape(plan.lead_zone_note)}", highlight=False)


def _print_booking(verb: str, booking: Booking) -> None:
    plan = booking.plan
    rep_time, lead_time = (_local(booking.start, booking.end, z) for z in (plan.rep_zone, plan.lead_zone))
    console().print(
        f"{verb} meeting {booking.id}: {rep_time} for {plan.rep_name}, {lead_time} for {plan.lead_name}; "
        f"CRM activity {booking.crm_activity_id or 'none'}; invite {_invite_state(booking)}.",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def _invite_state(booking: Booking) -> str:
    if booking.invite_pending:
        return f"v{booking.sequence} not sent yet (revgate meetings sync)"
    return f"v{booking.sequence} sent" + (" (cancellation)" if booking.status == "cancelled" else "")


def _local(start: datetime, end: datetime, zone: str) -> str:
    tz = ZoneInfo(zone)
    return f"{start.astimezone(tz):%a %d %b %H:%M}-{end.astimezone(tz):%H:%M} {zone}"


def _short(start: datetime, end: datetime, zone: str) -> str:
    """``Tue 24 Nov 16:00-16:30 EST``: the zone's abbreviation keeps the table narrow."""
    tz = ZoneInfo(zone)
    return f"{start.astimezone(tz):%a %d %b %H:%M}-{end.astimezone(tz):%H:%M %Z}"


def _table(slots: tuple[Slot, ...]) -> Table:
    first = slots[0]
    table = Table(
        "#", f"rep ({first.rep_zone.key})", f"lead ({first.lead_zone.key})", "UTC", "note", highlight=False
    )
    for index, slot in enumerate(slots, start=1):
        table.add_row(
            str(index),
            _span(*slot.rep_local),
            _span(*slot.lead_local),
            _span(*slot.span),
            slot.note or "",
        )
    return table


def _span(start: datetime, end: datetime) -> str:
    return f"{start:%a %d %b %H:%M}-{end:%H:%M}"
