"""The local CRM's rows: live-row lookups, the compare-and-set write, and row <-> model conversion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, update
from sqlalchemy.orm import Session

from agent.crm.fields import EMAIL
from agent.errors import CRMNotFoundError, CRMValidationError
from agent.models import OWNER_FIELD, FieldValue, Note, ObjectType, Owner, Record
from agent.store.rows import CRMNoteRow, CRMOwnerRow, CRMRecordRow


class LostRaceError(Exception):
    """Another transaction wrote the row between our read and our guarded update."""

    def __init__(self, record_id: str, expected: str) -> None:
        self.record_id = record_id
        self.expected = expected
        super().__init__(f"record {record_id} changed under version {expected}")


def live(object_type: ObjectType) -> list[ColumnElement[bool]]:
    return [
        CRMRecordRow.object_type == object_type,
        CRMRecordRow.deleted_at.is_(None),
        CRMRecordRow.merged_into.is_(None),
    ]


def load_live(session: Session, object_type: ObjectType, record_id: str) -> CRMRecordRow:
    row = session.get(CRMRecordRow, record_id)
    if row is None or row.object_type != object_type or row.deleted_at is not None or row.merged_into:
        raise CRMNotFoundError(f"no {object_type} {record_id}")
    return row


def write(session: Session, row: CRMRecordRow, now: datetime, **values: Any) -> Record:
    """Compare-and-set: write ``values`` only if the row still has the version read."""
    stmt = (
        update(CRMRecordRow)
        .where(CRMRecordRow.id == row.id, CRMRecordRow.version == row.version)
        .values(version=row.version + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if "fields" in values:
        stmt = stmt.values(email=email_of(values["fields"]))
    result = cast(CursorResult[Any], session.execute(stmt))
    if result.rowcount != 1:
        raise LostRaceError(row.id, str(row.version))
    return Record(
        object_type=cast(ObjectType, row.object_type),
        id=row.id,
        version=str(row.version + 1),
        owner_id=values.get("owner_id", row.owner_id),
        fields=values.get("fields", row.fields),
        created_at=row.created_at,
        updated_at=now,
    )


def apply(
    fields: Mapping[str, Any], owner_id: str | None, changes: Mapping[str, FieldValue]
) -> tuple[dict[str, Any], str | None]:
    """The new fields and owner; always a new dict (in-place JSON edits are not tracked)."""
    new_fields = dict(fields)
    for name, value in changes.items():
        if name == OWNER_FIELD:
            if value is not None and not isinstance(value, str):
                raise CRMValidationError(f"owner_id must be a string or None, not {value!r}")
            owner_id = value
        elif value is None:
            new_fields.pop(name, None)
        else:
            new_fields[name] = value
    return new_fields, owner_id


def parse_version(version: str) -> int | None:
    try:
        return int(version)
    except ValueError:
        return None


def version_number(version: str) -> int:
    number = parse_version(version)
    if number is None:
        raise ValueError(f"the local CRM's versions are integers, not {version!r}")
    return number


def email_of(fields: Mapping[str, Any]) -> str | None:
    value = fields.get(EMAIL)
    return value if isinstance(value, str) else None


def to_record(row: CRMRecordRow) -> Record:
    return Record(
        object_type=cast(ObjectType, row.object_type),
        id=row.id,
        version=str(row.version),
        owner_id=row.owner_id,
        fields=dict(row.fields),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


RECORD_COLUMNS = (
    CRMRecordRow.object_type,
    CRMRecordRow.id,
    CRMRecordRow.version,
    CRMRecordRow.owner_id,
    CRMRecordRow.fields,
    CRMRecordRow.created_at,
    CRMRecordRow.updated_at,
)
"""What :func:`record_of` needs, selected as plain columns: a bulk read then builds no ORM objects."""


def record_of(columns: Sequence[Any]) -> Record:
    """A record from a row of :data:`RECORD_COLUMNS` (the fields dict is fresh from JSON, not copied)."""
    object_type, record_id, version, owner_id, fields, created_at, updated_at = columns
    # Our own rows, written through validated models: constructing without validating again
    # saves a run over a large CRM a few seconds per 100,000 records.
    return Record.model_construct(
        object_type=object_type,
        id=record_id,
        version=str(version),
        owner_id=owner_id,
        fields=fields,
        created_at=created_at,
        updated_at=updated_at,
    )


def to_note(row: CRMNoteRow) -> Note:
    return Note(
        id=row.id,
        object_type=cast(ObjectType, row.object_type),
        record_id=row.record_id,
        body=row.body,
        created_at=row.created_at,
    )


def to_owner(row: CRMOwnerRow) -> Owner:
    return Owner(
        id=row.id,
        name=row.name,
        email=row.email,
        active=row.active,
        team=row.team,
        slack_user_id=row.slack_user_id,
    )
