"""``revgate meetings``: meeting slots for a routed lead, in both parties' local times (read-only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from agent.errors import CalendarFeedError, CRMNotFoundError, LeadNotRoutedError, RoutingFileError
from agent.meetings.calendars import FeedCalendars, calendar_sources
from agent.meetings.options import LeadOptions, MeetingOptions
from agent.meetings.slots import Slot, SlotRules
from agent.routing.decision import lead_label
from bot.cli.common import EXIT_BAD_INPUT, EXIT_REFUSED, console, fail, services

app = typer.Typer(help="Meeting slots for routed leads (booking is not built yet).", no_args_is_help=True)


@app.command()
def slots(
    ref: Annotated[str, typer.Argument(help="The lead's id or email address.")],
    duration: Annotated[int, typer.Option(min=5, max=480, help="Meeting length in minutes.")] = 30,
    days: Annotated[int, typer.Option(min=1, max=60, help="The rep's working days searched.")] = 5,
    count: Annotated[int, typer.Option(min=1, max=50, help="Slots to propose.")] = 3,
    buffer: Annotated[int, typer.Option(min=0, max=240, help="Minutes kept free around meetings.")] = 10,
) -> None:
    """Propose the first meeting slots for a lead with its owner; books nothing.

    The lead's zone comes from its country, state and phone (else the routing file's
    timezone); the owner's hours from REVGATE_ROUTING and busy times from their ``calendar``
    feed. An owner out of office for the whole horizon: the next member of their pool.
    """
    rules = SlotRules(
        duration=timedelta(minutes=duration),
        buffer=timedelta(minutes=buffer),
        horizon_days=days,
        count=count,
    )
    with services() as svc:
        try:
            routing = svc.routing()
        except RoutingFileError as error:
            fail(str(error), EXIT_BAD_INPUT)
        config = routing.router.config
        try:
            lead = routing.router.find_lead(ref)
        except CRMNotFoundError as missing:
            fail(f"{missing}; try the lead's id or exact email address", EXIT_REFUSED)
        owners = {owner.id: owner for owner in svc.crm.owners()}
        calendars = FeedCalendars(calendar_sources(config), base=svc.settings.routing_path.parent)
        service = MeetingOptions(
            config,
            calendars,
            svc.clock,
            active=lambda owner_id: owner_id in owners and owners[owner_id].active,
        )
        try:
            options = service.for_lead(lead, rules)
        except (LeadNotRoutedError, CalendarFeedError) as error:
            fail(str(error), EXIT_REFUSED)

        def name(owner_id: str) -> str:
            owner = owners.get(owner_id)
            return f"{owner.name} ({owner_id})" if owner else owner_id

        _print(options, lead_label(lead), name)


def _print(options: LeadOptions, label: str, name: Callable[[str], str]) -> None:
    out = console()
    zone = options.lead_zone
    rep = options.rep
    out.print(f"Lead {options.lead_id} ({label}).", highlight=False, markup=False)
    out.print(
        f"Lead's zone: {zone.zone.key} (from {zone.source}, {zone.confidence} confidence): {zone.assumption}",
        highlight=False,
        markup=False,
    )
    pool = f"pool {rep.pool}" if rep.pool else "in no pool: default hours"
    out.print(
        f"Rep: {name(rep.owner_id)}, {rep.hours.label} ({pool}); {rep.calendar}.",
        highlight=False,
        markup=False,
    )
    if options.substitution is not None:
        said = options.substitution.describe(rep.owner_id, name)
        out.print(said[0].upper() + said[1:] + ".", highlight=False, markup=False)
    if options.note is not None:
        out.print(options.note + ".", highlight=False, markup=False)
    if options.explanation is not None:
        out.print(f"[yellow]No slot fits both parties:[/] {escape(options.explanation)}.", highlight=False)
        if options.slots:
            out.print("In the rep's hours only:", highlight=False)
    if options.slots:
        out.print(_table(options.slots), highlight=False)
    elif options.explanation is None:
        out.print("No slot found.", highlight=False)


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
