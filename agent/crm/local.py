"""The embedded CRM: leads, contacts and accounts in revgate's own database.

It implements :class:`agent.ports.CRMClient` over the ``crm_*`` tables so the demo,
the tests and the benchmarks run without a real CRM, with the same guarantees a
real adapter gives: every write is version-checked (a guarded ``UPDATE ... WHERE
version = :expected``) and idempotent (the key is stored in the same transaction
as the write), and nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agent.crm.fields import EMAIL
from agent.crm.local_guards import (
    check_field_names,
    check_key,
    check_owner,
    check_version,
    record_op,
    replayed,
)
from agent.crm.local_meetings import LocalMeetings
from agent.crm.local_rows import (
    RECORD_COLUMNS,
    LostRaceError,
    apply,
    email_of,
    live,
    load_live,
    record_of,
    to_note,
    to_owner,
    to_record,
    version_number,
    write,
)
from agent.errors import CRMConflictError, CRMError, CRMNotFoundError, CRMValidationError
from agent.models import OWNER_FIELD, FieldValue, Note, ObjectType, Owner, Record
from agent.normalize import normalize_email
from agent.ports import Clock
from agent.store.database import Database
from agent.store.rows import CRMNoteRow, CRMOwnerRow, CRMRecordRow

_T = TypeVar("_T")
_IN_CHUNK = 500
_INSERT_CHUNK = 2000


class LocalCRM(LocalMeetings):
    """A :class:`~agent.ports.CRMClient` on SQL (SQLite or PostgreSQL).

    Versions are integers in the row, exposed as strings. Deleted and merged
    records are kept (soft delete) but invisible to every read. Meetings on a
    record's timeline (:class:`~agent.ports.MeetingActivities`) come from
    :class:`~agent.crm.local_meetings.LocalMeetings`.
    """

    name = "local"

    def __init__(self, database: Database, *, clock: Clock, new_id: Callable[[], str]) -> None:
        super().__init__(database, clock=clock, new_id=new_id)

    # -- reads ---------------------------------------------------------------

    def get(self, object_type: ObjectType, record_id: str) -> Record | None:
        with self._db.reading() as session:
            row = session.scalar(select(CRMRecordRow).where(CRMRecordRow.id == record_id, *live(object_type)))
            return None if row is None else to_record(row)

    def get_many(self, object_type: ObjectType, record_ids: Sequence[str]) -> dict[str, Record]:
        wanted = list(dict.fromkeys(record_ids))
        found: dict[str, Record] = {}
        with self._db.reading() as session:
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
                stmt = select(*RECORD_COLUMNS).where(CRMRecordRow.id.in_(chunk), *live(object_type))
                found.update((record.id, record) for record in map(record_of, session.execute(stmt)))
        return found

    def iter_records(
        self, object_type: ObjectType, *, changed_since: datetime | None = None, batch_size: int = 1000
    ) -> Iterator[Record]:
        """Live records in id order, fetched ``batch_size`` at a time by keyset on id.

        Each batch is read in its own short transaction and released before it is
        yielded, so a caller may write to the CRM while iterating (on SQLite a
        transaction held open across the loop would lock writers out).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        conditions = live(object_type)
        if changed_since is not None:
            conditions.append(CRMRecordRow.updated_at >= changed_since)
        after: str | None = None
        while True:
            stmt = select(*RECORD_COLUMNS).where(*conditions)
            if after is not None:
                stmt = stmt.where(CRMRecordRow.id > after)
            stmt = stmt.order_by(CRMRecordRow.id).limit(batch_size)
            with self._db.reading() as session:
                batch = [record_of(row) for row in session.execute(stmt)]
            yield from batch
            if len(batch) < batch_size:
                return
            after = batch[-1].id

    def scan_fields(
        self, object_type: ObjectType, *, batch_size: int = 5000
    ) -> Iterator[tuple[str, datetime, dict[str, FieldValue]]]:
        """``(id, updated_at, fields)`` of every live record, by id: a scan without building records.

        For whole-CRM passes that read a few fields of everything (the duplicate scan);
        batched and transaction-per-batch like :meth:`iter_records`.
        """
        conditions = live(object_type)
        after: str | None = None
        while True:
            stmt = select(CRMRecordRow.id, CRMRecordRow.updated_at, CRMRecordRow.fields).where(*conditions)
            if after is not None:
                stmt = stmt.where(CRMRecordRow.id > after)
            stmt = stmt.order_by(CRMRecordRow.id).limit(batch_size)
            with self._db.reading() as session:
                batch = [(row[0], row[1], row[2]) for row in session.execute(stmt)]
            yield from batch
            if len(batch) < batch_size:
                return
            after = batch[-1][0]

    def search(self, object_type: ObjectType, field: str, value: FieldValue) -> list[Record]:
        """Records whose ``field`` equals ``value`` exactly (case and whitespace included).

        ``email`` and ``owner_id`` use indexed columns; other fields are filtered
        while streaming the records of the type.
        """
        if field in (EMAIL, OWNER_FIELD):
            column = CRMRecordRow.email if field == EMAIL else CRMRecordRow.owner_id
            match: ColumnElement[bool]
            if value is None:
                match = column.is_(None)
            elif isinstance(value, str):
                match = column == value
            else:
                return []
            stmt = select(CRMRecordRow).where(match, *live(object_type)).order_by(CRMRecordRow.id)
            with self._db.reading() as session:
                return [to_record(row) for row in session.scalars(stmt)]
        check_field_names(object_type, [field])
        return [r for r in self.iter_records(object_type) if r.fields.get(field) == value]

    def duplicate_email_groups(self, object_type: ObjectType) -> dict[str, list[str]]:
        """Normalised email -> ids (sorted) of the live records sharing it, for emails shared by 2+.

        Grouped in the database (``lower(trim(email))`` with ``GROUP BY ... HAVING``),
        so only the shared emails and their ids come back, never the records. The
        key is re-normalised in Python (:func:`~agent.normalize.normalize_email`), so
        it is the planner's key; SQL's ``lower`` only folds ASCII on SQLite, so two
        addresses differing only in a non-ASCII capital are not grouped here.
        """
        key = func.lower(func.trim(CRMRecordRow.email))
        shared = (
            select(key)
            .where(*live(object_type), CRMRecordRow.email.is_not(None))
            .group_by(key)
            .having(func.count() > 1)
        )
        stmt = (
            select(CRMRecordRow.email, CRMRecordRow.id)
            .where(*live(object_type), key.in_(shared))
            .order_by(CRMRecordRow.id)
        )
        groups: dict[str, list[str]] = {}
        with self._db.reading() as session:
            for email, record_id in session.execute(stmt):
                normalised = normalize_email(email)
                if normalised is not None:
                    groups.setdefault(normalised, []).append(record_id)
        return {email: ids for email, ids in groups.items() if len(ids) > 1}

    def notes(self, object_type: ObjectType, record_id: str) -> list[Note]:
        stmt = (
            select(CRMNoteRow)
            .where(CRMNoteRow.object_type == object_type, CRMNoteRow.record_id == record_id)
            .order_by(CRMNoteRow.created_at, CRMNoteRow.id)
        )
        with self._db.reading() as session:
            return [to_note(row) for row in session.scalars(stmt)]

    def tagged_note_bodies(self, object_type: ObjectType, record_ids: Sequence[str]) -> list[str]:
        """The bodies of the notes on these records that carry a ``[ref revgate:...]`` tag.

        A run reads them once per chunk so a note already on a record is not proposed
        again; only tagged notes come back, and only their text.
        """
        bodies: list[str] = []
        with self._db.reading() as session:
            for start in range(0, len(record_ids), _IN_CHUNK):
                stmt = select(CRMNoteRow.body).where(
                    CRMNoteRow.record_id.in_(record_ids[start : start + _IN_CHUNK]),
                    CRMNoteRow.object_type == object_type,
                    CRMNoteRow.body.contains("[ref revgate:"),
                )
                bodies.extend(session.scalars(stmt))
        return bodies

    def owners(self) -> list[Owner]:
        with self._db.reading() as session:
            return [to_owner(row) for row in session.scalars(select(CRMOwnerRow).order_by(CRMOwnerRow.id))]

    def get_owner(self, owner_id: str) -> Owner | None:
        with self._db.reading() as session:
            row = session.get(CRMOwnerRow, owner_id)
            return None if row is None else to_owner(row)

    def count(self, object_type: ObjectType) -> int:
        """How many live records of the type there are."""
        stmt = select(func.count()).select_from(CRMRecordRow).where(*live(object_type))
        with self._db.reading() as session:
            return session.scalar(stmt) or 0

    # -- writes --------------------------------------------------------------

    def update(
        self,
        object_type: ObjectType,
        record_id: str,
        changes: Mapping[str, FieldValue],
        *,
        expected_version: str,
        idempotency_key: str,
    ) -> Record:
        """Set fields (``owner_id`` included); a field set to ``None`` is cleared."""
        check_key(idempotency_key)
        check_field_names(object_type, [name for name in changes if name != OWNER_FIELD])

        def work(session: Session) -> Record:
            if replayed(session, idempotency_key, "update", record_id):
                return to_record(load_live(session, object_type, record_id))
            row = load_live(session, object_type, record_id)
            check_version(row, expected_version)
            fields, owner_id = apply(row.fields, row.owner_id, changes)
            check_owner(session, owner_id)
            now = self._clock.now()
            written = write(session, row, now, fields=fields, owner_id=owner_id)
            record_op(session, idempotency_key, "update", record_id, None, now)
            return written

        return self._transact(work)

    def merge(
        self,
        object_type: ObjectType,
        survivor_id: str,
        merged_ids: Sequence[str],
        field_plan: Mapping[str, FieldValue],
        *,
        expected_versions: Mapping[str, str],
        idempotency_key: str,
    ) -> Record:
        """Hide ``merged_ids`` (``merged_into`` = survivor), move their notes, apply the plan.

        Every record's version is checked before anything is written.
        """
        check_key(idempotency_key)
        losers = list(merged_ids)
        all_ids = [survivor_id, *losers]
        if not losers or len(set(all_ids)) != len(all_ids):
            raise ValueError("merge needs at least one other record, each named once, survivor excluded")
        missing = [rid for rid in all_ids if rid not in expected_versions]
        if missing:
            raise ValueError(f"merge needs an expected version for {', '.join(missing)}")
        check_field_names(object_type, [name for name in field_plan if name != OWNER_FIELD])

        def work(session: Session) -> Record:
            if replayed(session, idempotency_key, "merge", survivor_id):
                return to_record(load_live(session, object_type, survivor_id))
            rows = [load_live(session, object_type, rid) for rid in all_ids]
            for row in rows:
                check_version(row, expected_versions[row.id])
            now = self._clock.now()
            fields, owner_id = apply(rows[0].fields, rows[0].owner_id, field_plan)
            check_owner(session, owner_id)
            written = write(session, rows[0], now, fields=fields, owner_id=owner_id)
            for row in rows[1:]:
                write(session, row, now, merged_into=survivor_id, deleted_at=now)
            session.execute(
                update(CRMNoteRow)
                .where(CRMNoteRow.object_type == object_type, CRMNoteRow.record_id.in_(losers))
                .values(record_id=survivor_id)
                .execution_options(synchronize_session=False)
            )
            # Records merged into a loser earlier now point at the final survivor.
            session.execute(
                update(CRMRecordRow)
                .where(CRMRecordRow.merged_into.in_(losers))
                .values(merged_into=survivor_id)
                .execution_options(synchronize_session=False)
            )
            record_op(session, idempotency_key, "merge", survivor_id, None, now)
            return written

        return self._transact(work)

    def delete(
        self, object_type: ObjectType, record_id: str, *, expected_version: str, idempotency_key: str
    ) -> None:
        """Soft-delete: the row stays (with ``deleted_at``) but no read returns it."""
        check_key(idempotency_key)

        def work(session: Session) -> None:
            if replayed(session, idempotency_key, "delete", record_id):
                return
            row = load_live(session, object_type, record_id)
            check_version(row, expected_version)
            now = self._clock.now()
            write(session, row, now, deleted_at=now)
            record_op(session, idempotency_key, "delete", record_id, None, now)

        self._transact(work)

    def add_note(self, object_type: ObjectType, record_id: str, body: str, *, idempotency_key: str) -> Note:
        """Attach a note; the record's version does not change."""
        check_key(idempotency_key)

        def work(session: Session) -> Note:
            op = replayed(session, idempotency_key, "add_note", record_id)
            if op is not None:
                note_row = session.get(CRMNoteRow, op.result_ref) if op.result_ref else None
                if note_row is None:
                    raise CRMError(f"note {op.result_ref} of idempotency key {idempotency_key!r} is gone")
                return to_note(note_row)
            load_live(session, object_type, record_id)
            now = self._clock.now()
            note = Note(
                id=self._new_id(), object_type=object_type, record_id=record_id, body=body, created_at=now
            )
            session.add(
                CRMNoteRow(
                    id=note.id, object_type=object_type, record_id=record_id, body=body, created_at=now
                )
            )
            record_op(session, idempotency_key, "add_note", record_id, note.id, now)
            return note

        return self._transact(work)

    def _transact(self, work: Callable[[Session], _T]) -> _T:
        """Run a write in one transaction and, if it lost a race, once more.

        The second run sees what the winner committed: its idempotency key (so
        this write becomes a replay) or its new version (a plain conflict).
        A conflict or a missing record on the first run gets the second run too:
        the winner of this very key may have committed between our key lookup
        and our row read, and only a fresh lookup tells a replay from a conflict.
        """
        try:
            with self._db.transaction() as session:
                return work(session)
        except (LostRaceError, IntegrityError, CRMConflictError, CRMNotFoundError):
            pass
        try:
            with self._db.transaction() as session:
                return work(session)
        except LostRaceError as lost:
            raise CRMConflictError(lost.record_id, lost.expected, None) from lost
        except IntegrityError as exc:
            raise CRMError(f"the write clashed with a concurrent one: {exc.orig}") from exc

    # -- seeding and test helpers (not part of the port) ---------------------

    def create_owner(self, owner: Owner) -> Owner:
        with self._db.transaction() as session:
            session.add(
                CRMOwnerRow(
                    id=owner.id,
                    name=owner.name,
                    email=owner.email,
                    active=owner.active,
                    team=owner.team,
                    slack_user_id=owner.slack_user_id,
                )
            )
        return owner

    def create_record(
        self,
        object_type: ObjectType,
        fields: Mapping[str, FieldValue],
        *,
        owner_id: str | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        record_id: str | None = None,
    ) -> Record:
        """Insert one record at version 1 (``None`` values are left out of its fields)."""
        created = created_at or self._clock.now()
        record = Record(
            object_type=object_type,
            id=record_id or self._new_id(),
            version="1",
            owner_id=owner_id,
            fields={name: value for name, value in fields.items() if value is not None},
            created_at=created,
            updated_at=updated_at or created,
        )
        self.create_records([record])
        return record

    def create_records(self, records: Iterable[Record]) -> int:
        """Insert ready-made records in bulk (seeding, imports); returns how many.

        Each record is stored exactly as given, version included.
        """
        total = 0
        batch: list[Record] = []
        for record in records:
            batch.append(record)
            if len(batch) == _INSERT_CHUNK:
                total += self._insert(batch)
                batch = []
        if batch:
            total += self._insert(batch)
        return total

    def _insert(self, records: list[Record]) -> int:
        for record in records:
            check_field_names(record.object_type, record.fields)
        values = [
            {
                "id": r.id,
                "object_type": r.object_type,
                "version": version_number(r.version),
                "owner_id": r.owner_id,
                "email": email_of(r.fields),
                "fields": dict(r.fields),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
                "deleted_at": None,
                "merged_into": None,
            }
            for r in records
        ]
        with self._db.transaction() as session:
            owner_ids = {r.owner_id for r in records if r.owner_id is not None}
            if owner_ids:
                known = set(session.scalars(select(CRMOwnerRow.id).where(CRMOwnerRow.id.in_(owner_ids))))
                if unknown := sorted(owner_ids - known):
                    raise CRMValidationError(f"unknown owner(s): {', '.join(unknown)}")
            try:
                session.execute(insert(CRMRecordRow), values)
            except IntegrityError as exc:
                raise CRMError(f"a record id is already taken: {exc.orig}") from exc
        return len(values)
