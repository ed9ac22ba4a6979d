"""What every planner shares: the snapshot it plans from and the interface it offers.

A planner reads a :class:`CRMSnapshot` and returns :class:`~agent.models.ProposedAction`
objects. It never writes and never decides whether an action may run: that is the
policy's job, whatever the planner (rules or a model) thinks.

A run reads the CRM as one snapshot (:func:`snapshot_from`) or, to keep memory
bounded on a large CRM, as a stream of snapshots (:class:`SnapshotReader`): each
holds one chunk of one object type, plus what a check on that chunk needs to see
from outside it. The only check that compares records with each other across the
whole data set is the exact-email duplicate check, so a chunk of leads also holds
every other lead sharing a (normalised) email with one of its leads, found through
the CRM's indexes, and a lead is planned in exactly one chunk: the first that saw it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Protocol, runtime_checkable

from agent.models import ObjectType, Owner, ProposedAction, Record
from agent.normalize import normalize_email
from agent.ports import CRMClient

OBJECT_TYPES: tuple[ObjectType, ...] = ("lead", "contact", "account")
EMAIL = "email"
OWNER_ID = "owner_id"


@dataclass(frozen=True)
class CRMSnapshot:
    """The records and owners a plan is based on, as read at one moment."""

    leads: list[Record] = field(default_factory=list)
    contacts: list[Record] = field(default_factory=list)
    accounts: list[Record] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)

    def records(self) -> Iterator[Record]:
        yield from self.leads
        yield from self.contacts
        yield from self.accounts


def snapshot_from(crm: CRMClient) -> CRMSnapshot:
    """Read every live lead, contact and account, and every owner, from a CRM."""
    return CRMSnapshot(
        leads=list(crm.iter_records("lead")),
        contacts=list(crm.iter_records("contact")),
        accounts=list(crm.iter_records("account")),
        owners=list(crm.owners()),
    )


class Planner(Protocol):
    """Turns a snapshot into proposals; implementations must not write to the CRM."""

    name: str
    """Recorded as ``ProposedAction.planner`` on everything it proposes."""

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        """Proposals for this snapshot, in a stable order."""
        ...


@runtime_checkable
class EmailGroups(Protocol):
    """A CRM that can list its duplicate emails itself (the local CRM, with one GROUP BY)."""

    def duplicate_email_groups(self, object_type: ObjectType) -> dict[str, list[str]]:
        """Normalised email -> ids (sorted) of the live records sharing it, for emails shared by 2+."""
        ...


@runtime_checkable
class RecordCounter(Protocol):
    def count(self, object_type: ObjectType) -> int: ...


class ReadProgress(Protocol):
    """Told how reading goes (a progress bar); ``total`` is ``None`` when not known."""

    def reading(self, object_type: ObjectType, total: int | None) -> None: ...

    def read(self, object_type: ObjectType, count: int) -> None: ...


@dataclass
class SnapshotReader:
    """Reads the CRM for one run, whole or in chunks, all of it or only what changed.

    ``since``: only records changed at or after it (``updated_at >= since``) are
    planned, with two kinds of unchanged records added because a check on the
    changed ones needs them: leads sharing a normalised email with a changed lead
    (exact duplicates), and accounts owned by an inactive owner (an owner leaving
    changes no record). ``cursor`` is the newest ``updated_at`` read, the next
    incremental run's ``since`` (``since`` itself when nothing changed).
    """

    crm: CRMClient
    since: datetime | None = None
    chunk_size: int | None = None
    """Records of one type per snapshot; ``None``: one snapshot of everything."""
    progress: ReadProgress | None = None
    batch_size: int = 2000
    cursor: datetime | None = None
    read_count: int = 0
    context_count: int = 0
    _planned: set[str] = field(default_factory=set)
    """Ids planned as context of an earlier chunk (a later chunk skips them)."""
    _groups: dict[str, list[str]] | None = None

    def __post_init__(self) -> None:
        self.cursor = self.since
        if self.since is None and not isinstance(self.crm, EmailGroups):
            # Chunks would need an email lookup per lead to find duplicates across
            # them: a CRM that cannot group emails itself is read whole for a full run.
            self.chunk_size = None

    def snapshots(self) -> Iterator[CRMSnapshot]:
        """The snapshots to plan over, in order (leads, contacts, accounts, each by id)."""
        owners = list(self.crm.owners())
        if isinstance(self.crm, EmailGroups):
            self._groups = self.crm.duplicate_email_groups("lead")
        chunks: dict[ObjectType, list[list[Record]]] = {t: [] for t in OBJECT_TYPES}
        for object_type in OBJECT_TYPES:
            for chunk in self._chunks(object_type):
                if self.chunk_size is None:
                    chunks[object_type].append(chunk)
                else:
                    yield _snapshot(object_type, chunk, owners)
        if self.chunk_size is None:
            whole = {t: [r for chunk in chunks[t] for r in chunk] for t in OBJECT_TYPES}
            yield CRMSnapshot(whole["lead"], whole["contact"], whole["account"], owners)

    def _chunks(self, object_type: ObjectType) -> Iterator[list[Record]]:
        total = None
        if self.since is None and isinstance(self.crm, RecordCounter):
            total = self.crm.count(object_type)
        if self.progress is not None:
            self.progress.reading(object_type, total)
        records = self.crm.iter_records(object_type, changed_since=self.since, batch_size=self.batch_size)
        size = self.chunk_size or self.batch_size
        counted = self._counted(records)
        while batch := list(islice(counted, size)):
            if self.progress is not None:
                self.progress.read(object_type, len(batch))
            chunk = [r for r in batch if r.id not in self._planned]
            if object_type == "lead" and (self.since is not None or self.chunk_size is not None):
                chunk = self._with_duplicates(chunk)
            if chunk:
                yield chunk
        if object_type == "account" and self.since is not None:
            orphaned = self._orphaned_accounts()
            for start in range(0, len(orphaned), size):
                yield orphaned[start : start + size]

    def _counted(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            if self.cursor is None or record.updated_at > self.cursor:
                self.cursor = record.updated_at
            self.read_count += 1
            yield record

    def _with_duplicates(self, leads: list[Record]) -> list[Record]:
        """The leads plus every other lead sharing a normalised email with one of them."""
        have = {lead.id for lead in leads}
        wanted: set[str] = set()
        if self._groups is not None:
            for lead in leads:
                email = _email(lead)
                if email is not None:
                    wanted.update(self._groups.get(email, ()))
            extra = list(self.crm.get_many("lead", sorted(wanted - have - self._planned)).values())
        else:
            extra = self._searched_duplicates(leads, have)
        # Only records pulled in from outside the scan are remembered: the scan itself
        # goes by id and never yields a record twice, so memory stays with the context.
        self._planned.update(r.id for r in extra)
        self.context_count += len(extra)
        return [*leads, *extra]

    def _searched_duplicates(self, leads: list[Record], have: set[str]) -> list[Record]:
        """Without a CRM-side grouping: exact lookups of each email as written and lower-cased."""
        found: dict[str, Record] = {}
        for lead in leads:
            raw = lead.fields.get(EMAIL)
            email = _email(lead)
            if email is None or not isinstance(raw, str):
                continue
            for value in dict.fromkeys((raw, raw.strip(), email)):
                for other in self.crm.search("lead", EMAIL, value):
                    if other.id not in have and other.id not in self._planned and _email(other) == email:
                        found[other.id] = other
        return sorted(found.values(), key=lambda r: r.id)

    def _orphaned_accounts(self) -> list[Record]:
        """Accounts of inactive owners not planned yet: an owner leaving changes no record."""
        found: dict[str, Record] = {}
        for owner in self.crm.owners():
            if not owner.active:
                found.update((a.id, a) for a in self.crm.search("account", OWNER_ID, owner.id))
        # An account changed since ``since`` was planned with the changed ones already.
        extra = [
            found[rid] for rid in sorted(found) if self.since is None or found[rid].updated_at < self.since
        ]
        self.context_count += len(extra)
        return extra


def _snapshot(object_type: ObjectType, records: list[Record], owners: list[Owner]) -> CRMSnapshot:
    if object_type == "lead":
        return CRMSnapshot(leads=records, owners=owners)
    if object_type == "contact":
        return CRMSnapshot(contacts=records, owners=owners)
    return CRMSnapshot(accounts=records, owners=owners)


def _email(record: Record) -> str | None:
    raw = record.fields.get(EMAIL)
    return normalize_email(raw) if isinstance(raw, str) else None


__all__ = [
    "CRMSnapshot",
    "EmailGroups",
    "Planner",
    "ReadProgress",
    "SnapshotReader",
    "snapshot_from",
]
