"""What every planner shares: the snapshot it plans from and the interface it offers.

A planner reads a :class:`CRMSnapshot` and returns :class:`~agent.models.ProposedAction`
objects. It never writes and never decides whether an action may run: that is the
policy's job, whatever the planner (rules or a model) thinks.

A run reads the CRM as one snapshot (:func:`snapshot_from`) or, to keep memory
bounded on a large CRM, as a stream of snapshots (:class:`SnapshotReader`): each
holds one chunk of one object type, plus what a check on that chunk needs to see
from outside it. Three checks compare records across the whole data set:

- exact-email duplicates: a chunk of leads also holds every other lead sharing a
  (normalised) email with one of its leads, found through the CRM's indexes, and a
  lead is planned in exactly one chunk, the first that saw it;
- lead-to-account matching: every chunk of leads carries one directory of all the
  accounts (:class:`~agent.planner.account_matching.AccountDirectory`), built once;
- fuzzy duplicates: before the chunks, a light scan of every person forms groups of
  likely duplicates (:mod:`agent.planner.duplicate_scan`), read and planned in
  batches on which only that check runs; the chunks leave what they merge alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from typing import Literal, Protocol, runtime_checkable

from agent.models import FieldValue, ObjectType, Owner, ProposedAction, Record
from agent.normalize import normalize_email
from agent.planner.account_matching import AccountDirectory
from agent.planner.duplicate_scan import DuplicateScan, batches
from agent.planner.quality_checks import noted_fingerprints
from agent.ports import CRMClient

OBJECT_TYPES: tuple[ObjectType, ...] = ("lead", "contact", "account")
PEOPLE: tuple[ObjectType, ...] = ("lead", "contact")
DuplicateMode = Literal["inline", "only", "elsewhere"]
EMAIL = "email"
OWNER_ID = "owner_id"


@dataclass(frozen=True)
class CRMSnapshot:
    """The records and owners a plan is based on, as read at one moment."""

    leads: list[Record] = field(default_factory=list)
    contacts: list[Record] = field(default_factory=list)
    accounts: list[Record] = field(default_factory=list)
    owners: list[Owner] = field(default_factory=list)
    duplicates: DuplicateMode = "inline"
    """Where the fuzzy duplicate check runs: ``inline`` over this snapshot's people; ``only`` (a
    batch of groups of likely duplicates: nothing but that check runs on it); ``elsewhere`` (a
    chunk: the reader yielded the batches first, and ``reserved`` holds what they merge)."""
    noted: frozenset[str] = frozenset()
    """Fingerprints of the notes already on these records (a check does not propose them again)."""
    reserved: frozenset[tuple[ObjectType, str]] = frozenset()
    """Records already in a merge planned elsewhere in the run: no other proposal may touch them."""
    account_directory: AccountDirectory | None = field(default=None, repr=False, compare=False)
    """Every account, for matching leads to accounts; ``None``: built from ``accounts``."""

    def records(self) -> Iterator[Record]:
        yield from self.leads
        yield from self.contacts
        yield from self.accounts


def snapshot_from(crm: CRMClient) -> CRMSnapshot:
    """Read every live lead, contact and account, every owner, and the tagged notes, from a CRM."""
    records = {t: list(crm.iter_records(t)) for t in OBJECT_TYPES}
    return CRMSnapshot(
        leads=records["lead"],
        contacts=records["contact"],
        accounts=records["account"],
        owners=list(crm.owners()),
        noted=frozenset().union(*(notes_on(crm, t, records[t]) for t in OBJECT_TYPES)),
    )


def notes_on(crm: CRMClient, object_type: ObjectType, records: Sequence[Record]) -> frozenset[str]:
    """Fingerprints of the tagged notes on ``records`` (none when the CRM cannot list them in bulk)."""
    if not isinstance(crm, TaggedNotes) or not records:
        return frozenset()
    return frozenset(noted_fingerprints(crm.tagged_note_bodies(object_type, [r.id for r in records])))


class Planner(Protocol):
    """Turns a snapshot into proposals; implementations must not write to the CRM."""

    name: str
    """Recorded as ``ProposedAction.planner`` on everything it proposes."""

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        """Proposals for this snapshot, in a stable order."""
        ...


@runtime_checkable
class BatchPlanner(Protocol):
    """A planner that plans the batches of likely duplicates itself, in parallel if it can."""

    def plan_batches(
        self, batches: Iterable[CRMSnapshot]
    ) -> Iterator[tuple[CRMSnapshot, list[ProposedAction]]]:
        """``(batch, its plan)`` for each batch, in the batches' order."""
        ...


@runtime_checkable
class EmailGroups(Protocol):
    """A CRM that can list its duplicate emails itself (the local CRM, with one GROUP BY)."""

    def duplicate_email_groups(self, object_type: ObjectType) -> dict[str, list[str]]:
        """Normalised email -> ids (sorted) of the live records sharing it, for emails shared by 2+."""
        ...


@runtime_checkable
class FieldScan(Protocol):
    """A CRM that can stream ``(id, updated_at, fields)`` without building records (the local CRM)."""

    def scan_fields(
        self, object_type: ObjectType, *, batch_size: int = 5000
    ) -> Iterator[tuple[str, datetime, dict[str, FieldValue]]]: ...


@runtime_checkable
class TaggedNotes(Protocol):
    """A CRM that can list the tagged notes of many records at once (the local CRM)."""

    def tagged_note_bodies(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[str]: ...


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
    read_notes: bool = True
    """Read the tagged notes on each chunk's records (``CRMSnapshot.noted``); the quality score
    does not, since a note asking for a fix leaves the record as dirty as it was."""
    batch_size: int = 2000
    cursor: datetime | None = None
    read_count: int = 0
    context_count: int = 0
    duplicate_candidates: int = 0
    """People in groups of likely duplicates (each read again for the fuzzy duplicate check)."""
    _owner_list: list[Owner] | None = None
    _claimed: set[tuple[ObjectType, str]] = field(default_factory=set)
    """Records in the fuzzy merges planned before the chunks (see :meth:`claim`)."""
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
        """The snapshots to plan over, in order: :meth:`duplicate_batches`, then :meth:`chunks`."""
        yield from self.duplicate_batches()
        yield from self.chunks()

    def duplicate_batches(self) -> Iterator[CRMSnapshot]:
        """Chunked reading only: for leads and then contacts, the groups of likely duplicates
        (:class:`~agent.planner.duplicate_scan.DuplicateScan`) in batches of about ``chunk_size``,
        each to be planned, and its merges reported through :meth:`claim`, before :meth:`chunks`."""
        if self.chunk_size is None:
            return
        owners = self._owners()
        for object_type in PEOPLE:
            for batch in batches(self._duplicate_groups(object_type), self.chunk_size):
                records = self.crm.get_many(object_type, batch)
                people = [records[rid] for rid in batch if rid in records]  # gone since the scan: skip
                yield _snapshot(object_type, people, owners, duplicates="only")

    def chunks(self) -> Iterator[CRMSnapshot]:
        """Whole: one snapshot. Chunked: leads, contacts, accounts, each by id, every lead chunk
        with a directory of all accounts and every chunk with the records the batches' merges took."""
        owners = self._owners()
        if self.chunk_size is None:
            chunks: dict[ObjectType, list[list[Record]]] = {t: [] for t in OBJECT_TYPES}
            for object_type in OBJECT_TYPES:
                chunks[object_type].extend(self._chunks(object_type))
            whole = {t: [r for chunk in chunks[t] for r in chunk] for t in OBJECT_TYPES}
            noted = frozenset[str]().union(*(self._notes(t, whole[t]) for t in OBJECT_TYPES))
            yield CRMSnapshot(whole["lead"], whole["contact"], whole["account"], owners, noted=noted)
            return
        directory: AccountDirectory | None = None
        for object_type in OBJECT_TYPES:
            for chunk in self._chunks(object_type):
                if object_type == "lead" and directory is None:
                    directory = AccountDirectory(self.crm.iter_records("account", batch_size=self.batch_size))
                noted = self._notes(object_type, chunk)
                yield _snapshot(object_type, chunk, owners, directory, reserved=self._claimed, noted=noted)

    def _owners(self) -> list[Owner]:
        """The owners, read once per run (with the CRM's duplicate email groups)."""
        if self._owner_list is None:
            self._owner_list = list(self.crm.owners())
            if isinstance(self.crm, EmailGroups):
                self._groups = self.crm.duplicate_email_groups("lead")
        return self._owner_list

    def _notes(self, object_type: ObjectType, records: Sequence[Record]) -> frozenset[str]:
        return notes_on(self.crm, object_type, records) if self.read_notes else frozenset()

    def claim(self, snapshot: CRMSnapshot, actions: Iterable[ProposedAction]) -> None:
        """Told what was planned on ``snapshot``: the records a batch of likely duplicates put in a
        merge are reserved for it in the chunks that follow (no other proposal touches them)."""
        if snapshot.duplicates == "only":
            self._claimed.update(
                (action.object_type, rid)
                for action in actions
                if action.kind == "merge"
                for rid in action.record_ids
            )

    def _duplicate_groups(self, object_type: ObjectType) -> list[list[str]]:
        """Groups of likely duplicates (all of them, or those holding a record changed since ``since``)."""
        scan = DuplicateScan()
        rows: Iterable[tuple[str, datetime, dict[str, FieldValue]]]
        if isinstance(self.crm, FieldScan):
            rows = self.crm.scan_fields(object_type)
        else:
            rows = ((r.id, r.updated_at, r.fields) for r in self.crm.iter_records(object_type))
        for record_id, updated_at, fields in rows:
            scan.add(record_id, fields, changed=self.since is None or updated_at >= self.since)
        found = scan.groups()
        self.duplicate_candidates += sum(len(group) for group in found)
        return found

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


def _snapshot(
    object_type: ObjectType,
    records: list[Record],
    owners: list[Owner],
    directory: AccountDirectory | None = None,
    *,
    duplicates: DuplicateMode = "elsewhere",
    reserved: set[tuple[ObjectType, str]] | None = None,
    noted: frozenset[str] = frozenset(),
) -> CRMSnapshot:
    empty = CRMSnapshot(owners=owners, duplicates=duplicates, reserved=frozenset(reserved or ()), noted=noted)
    if object_type == "lead":
        return replace(empty, leads=records, account_directory=directory)
    if object_type == "contact":
        return replace(empty, contacts=records)
    return replace(empty, accounts=records)


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
