"""Seeding a large CRM in blocks, so a million records neither take all night nor all memory.

:func:`~agent.crm.seed.seed_crm` drafts the whole data set in memory before
writing it, and measures it for a :class:`~agent.crm.seed.SeedReport`. For scale
runs (``bench/hygiene_scale.py``) that is too much: here each block of
``block_size`` records is drafted by its own generator (seed ``seed + block``),
renamed into its own id space (``L000001`` of block 3 becomes ``L03000001``), bulk
inserted and dropped before the next one is drafted. Every block plants its own
defects at the usual rates, so the whole shows them at those rates too; owners
are the first block's (every block uses the same owner ids).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.crm.local import LocalCRM
from agent.crm.seed.generator import Generator
from agent.models import Record

ACCOUNT_ID = "account_id"


def seed_in_blocks(
    crm: LocalCRM,
    *,
    records: int,
    seed: int,
    now: datetime,
    block_size: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Fill an empty CRM with ``records`` records, ``block_size`` at a time; returns how many.

    ``progress`` is called with the number of records written after each block.

    Raises:
        ValueError: ``records`` is negative, ``block_size`` below 50, ``now`` naive,
            more than 100 blocks, or the CRM is not empty.
    """
    if records < 0:
        raise ValueError("records must be zero or more")
    if block_size < 50:
        raise ValueError("block_size must be at least 50 (the generator plants each defect at least once)")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    blocks = -(-records // block_size)
    if blocks > 100:
        raise ValueError("at most 100 blocks; raise block_size")
    if crm.owners() or any(crm.count(t) for t in ("lead", "contact", "account")):
        raise ValueError("seed_in_blocks fills an empty CRM; this one already has data")
    written = 0
    for block in range(blocks):
        size = min(block_size, records - written)
        data = Generator(seed + block, now).generate(size)
        if block == 0:
            for owner in data.owners:
                crm.create_owner(owner)
        renamed = [_renamed(r, block) for r in (*data.accounts, *data.contacts, *data.leads)]
        written += crm.create_records(renamed)
        if progress is not None:
            progress(written)
    return written


def _renamed(record: Record, block: int) -> Record:
    """The record with its id (and the account it points to) moved into the block's id space."""
    fields = dict(record.fields)
    account_id = fields.get(ACCOUNT_ID)
    if isinstance(account_id, str):
        fields[ACCOUNT_ID] = _block_id(account_id, block)
    return record.model_copy(update={"id": _block_id(record.id, block), "fields": fields})


def _block_id(record_id: str, block: int) -> str:
    return f"{record_id[0]}{block:02d}{record_id[1:]}"
