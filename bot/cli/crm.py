"""``revgate crm``: check the connection to the CRM; fill the embedded one with sample data."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer
from rich.table import Table

from agent.crm.local import LocalCRM
from agent.crm.seed import seed_crm
from agent.models import ObjectType
from agent.ports import RecordLinks
from bot.cli.common import console, fail, services

crm = typer.Typer(help="The CRM: check the connection, seed the embedded one.", no_args_is_help=True)

_TYPES: tuple[ObjectType, ...] = ("lead", "contact", "account")


@crm.command("check")
def crm_check(
    sample: Annotated[int, typer.Option(min=1, max=100, help="Records of each type to read.")] = 3,
) -> None:
    """Read the owners and the first records of each type, with their links; writes nothing.

    A token without the scopes revgate needs fails here, with the CRM's own message,
    instead of in the middle of a run.
    """
    with services() as svc:
        client = svc.crm
        owners = client.owners()
        active = sum(1 for o in owners if o.active)
        out = console()
        out.print(f"CRM [bold]{client.name}[/]: {len(owners)} owners ({active} active)")
        table = Table("type", "id", "version", "link")
        for object_type in _TYPES:
            read = list(islice(client.iter_records(object_type, batch_size=sample), sample))
            if not read:
                table.add_row(object_type, "(none)", "", "")
            for record in read:
                link = client.record_url(object_type, record.id) if isinstance(client, RecordLinks) else ""
                table.add_row(object_type, record.id, record.version, link)
        out.print(table)
        out.print("[green]ok[/]: read access works; writes are checked by the first run")


@crm.command("seed")
def crm_seed(
    records: Annotated[int, typer.Option(min=1, help="Leads + contacts + accounts.")] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 7,
) -> None:
    """Fill the embedded CRM with realistic sample data and planted defects."""
    with services() as svc:
        if not isinstance(svc.crm, LocalCRM):
            fail(f"seeding fills the embedded CRM only; it never writes sample data to {svc.crm.name}")
        if any(svc.crm.count(t) for t in _TYPES):
            fail("the embedded CRM already has records; use a fresh DATABASE_URL to seed again")
        report = seed_crm(svc.crm, records=records, seed=seed, now=svc.clock.now())
        console().print(f"Seeded {report.records_total} records: {report}")
