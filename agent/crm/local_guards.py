"""The local CRM's guards on a write: field names, owners, versions and idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from agent.crm.fields import fields_of
from agent.crm.local_rows import parse_version
from agent.errors import CRMConflictError, CRMValidationError
from agent.models import ObjectType
from agent.store.rows import CRMAppliedOpRow, CRMOwnerRow, CRMRecordRow

_MAX_KEY_LENGTH = 120


def check_version(row: CRMRecordRow, expected: str) -> None:
    if parse_version(expected) != row.version:
        raise CRMConflictError(row.id, expected, str(row.version))


def check_owner(session: Session, owner_id: str | None) -> None:
    if owner_id is not None and session.get(CRMOwnerRow, owner_id) is None:
        raise CRMValidationError(f"unknown owner {owner_id}")


def check_field_names(object_type: ObjectType, names: Iterable[str]) -> None:
    unknown = sorted(set(names) - fields_of(object_type))
    if unknown:
        raise CRMValidationError(f"{object_type} has no field(s) {', '.join(unknown)}")


def check_key(key: str) -> None:
    if not key or len(key) > _MAX_KEY_LENGTH:
        raise ValueError(f"idempotency key must be 1-{_MAX_KEY_LENGTH} characters")


def replayed(session: Session, key: str, operation: str, record_id: str) -> CRMAppliedOpRow | None:
    """The applied op for ``key``, or None; a key reused for something else is an error."""
    op = session.get(CRMAppliedOpRow, key)
    if op is not None and (op.operation != operation or op.record_id != record_id):
        raise CRMValidationError(
            f"idempotency key {key!r} was already used for {op.operation} of {op.record_id}, "
            f"not {operation} of {record_id}"
        )
    return op


def record_op(
    session: Session, key: str, operation: str, record_id: str, result_ref: str | None, now: datetime
) -> None:
    session.add(
        CRMAppliedOpRow(
            key=key, operation=operation, record_id=record_id, result_ref=result_ref, applied_at=now
        )
    )
