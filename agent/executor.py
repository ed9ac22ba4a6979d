"""The executor: the only code path that writes to a CRM.

Each write is checked before (the proposal's shape, the values it writes, the
``before`` values it claims against the record as stored) and after (the
record is re-read and must hold what was written). The CRM compare-and-sets on
the record version the plan was based on, so a record changed since the plan
is never overwritten: single-record actions raise ``StaleRecordError`` (the
approval becomes *superseded*), bulk actions skip the changed records and say
so. Every write carries an idempotency key derived from the approval or
proposal id, so a retry after a crash never writes twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

from agent.crm.fields import LEAD_STATUSES
from agent.errors import (
    CRMConflictError,
    CRMNotFoundError,
    PostConditionError,
    RoutingFileError,
    StaleRecordError,
    ValidationFailedError,
)
from agent.models import (
    OWNER_FIELD,
    STATUS_FIELD,
    ExecutionResult,
    FieldValue,
    ProposedAction,
    Record,
    shape_problems,
)
from agent.ports import CRMClient

if TYPE_CHECKING:  # the writer needs the routing package, which imports the runner, which imports this
    from agent.meetings.writer import MeetingWriter


def is_bulk(action: ProposedAction) -> bool:
    return action.kind not in ("merge", "book_meeting") and len(action.targets) > 1


class Executor:
    """Runs proposals against a CRM, with pre-flight validation and post-condition checks.

    ``meetings`` gives the meeting writer ``book_meeting`` actions go to (built on first use:
    it needs the routing file's calendars); without it a booking is refused.
    """

    def __init__(self, crm: CRMClient, *, meetings: Callable[[], MeetingWriter] | None = None) -> None:
        self.crm = crm
        self._meetings = meetings

    def execute(self, action: ProposedAction, *, key: str) -> ExecutionResult:
        """Apply ``action`` once, whatever number of times it is called with ``key``.

        Raises:
            ValidationFailedError: the proposal is malformed or would write bad data.
            StaleRecordError: a (single) record changed or vanished since the plan.
            PostConditionError: the CRM did not end up holding what was written.
            CRMError: the CRM failed (rate limits and outages are worth a retry).
        """
        problems = shape_problems(action)
        if problems:
            raise ValidationFailedError("; ".join(problems))
        if action.kind == "book_meeting":
            if self._meetings is None:
                raise ValidationFailedError("meetings cannot be booked here: no meeting writer is set up")
            try:
                writer = self._meetings()
            except RoutingFileError as broken:
                raise ValidationFailedError(f"meetings cannot be booked: {broken}") from broken
            return writer.book_meeting(action, key=key)
        records = self.crm.get_many(action.object_type, action.record_ids)
        self._validate_values(action)
        if action.kind == "merge":
            return self._merge(action, records, key)
        result = ExecutionResult()
        for target in action.targets:
            record = records.get(target.record_id)
            try:
                # A missing record is not judged here: on a replay after a crash
                # the record may be gone because of our own write, and only the
                # CRM knows whether it already applied this idempotency key.
                result = self._apply_target(action, target.record_id, record, key, result)
            except StaleRecordError as stale:
                if not is_bulk(action):
                    raise
                skipped = {**result.skipped, target.record_id: str(stale)}
                result = result.model_copy(update={"skipped": skipped})
        return result

    def undo(self, action: ProposedAction, executed: ExecutionResult, *, key: str) -> ExecutionResult:
        """Write the pre-image back, only onto records nobody changed since the execution."""
        result = ExecutionResult()
        for record_id, values in executed.pre_image.items():
            if record_id not in executed.written:
                continue
            try:
                record = self.crm.update(
                    action.object_type,
                    record_id,
                    values,
                    expected_version=executed.versions[record_id],
                    idempotency_key=f"{key}:undo:{record_id}",
                )
            except CRMConflictError as conflict:
                raise StaleRecordError(record_id, executed.versions[record_id], conflict.actual) from conflict
            except CRMNotFoundError as missing:
                raise StaleRecordError(record_id, executed.versions[record_id], None) from missing
            self._check_fields(record, values)
            result = result.model_copy(
                update={
                    "written": [*result.written, record_id],
                    "versions": {**result.versions, record_id: record.version},
                }
            )
        return result

    # -- per kind --------------------------------------------------------------

    def _apply_target(
        self, action: ProposedAction, record_id: str, record: Record | None, key: str, result: ExecutionResult
    ) -> ExecutionResult:
        target = next(t for t in action.targets if t.record_id == record_id)
        op_key = f"{key}:{record_id}"
        if record is not None and record.version == target.version:
            # The plan's "before" must be what the record held at that version:
            # a planner cannot pass off an owner change as an assignment.
            for name, change in target.changes.items():
                if record.get(name) != change.before:
                    current = record.get(name)
                    raise ValidationFailedError(
                        f"{record_id}.{name} is {current!r}, not {change.before!r} as the plan claims"
                    )
        if action.kind == "add_note":
            try:
                note = self.crm.add_note(
                    action.object_type, record_id, target.note or "", idempotency_key=op_key
                )
            except CRMNotFoundError as missing:
                raise StaleRecordError(record_id, target.version, None) from missing
            if not any(n.id == note.id for n in self.crm.notes(action.object_type, record_id)):
                raise PostConditionError(f"note {note.id} is not on {record_id} after writing it")
            return result.model_copy(
                update={"written": [*result.written, record_id], "note_ids": [*result.note_ids, note.id]}
            )
        if action.kind == "delete":
            self._write(
                lambda: self.crm.delete(
                    action.object_type, record_id, expected_version=target.version, idempotency_key=op_key
                ),
                record_id,
                target.version,
            )
            if self.crm.get(action.object_type, record_id) is not None:
                raise PostConditionError(f"{record_id} still exists after deleting it")
            pre = {record_id: dict(record.fields) | {OWNER_FIELD: record.owner_id}} if record else {}
            return result.model_copy(
                update={"written": [*result.written, record_id], "pre_image": {**result.pre_image, **pre}}
            )
        values = {name: change.after for name, change in target.changes.items()}
        self._write(
            lambda: self.crm.update(
                action.object_type, record_id, values, expected_version=target.version, idempotency_key=op_key
            ),
            record_id,
            target.version,
        )
        after = self.crm.get(action.object_type, record_id)
        if after is None:
            raise PostConditionError(f"{record_id} vanished right after it was written")
        self._check_fields(after, values)
        before = {name: change.before for name, change in target.changes.items()}
        return result.model_copy(
            update={
                "written": [*result.written, record_id],
                "versions": {**result.versions, record_id: after.version},
                "pre_image": {**result.pre_image, record_id: before},
            }
        )

    def _merge(self, action: ProposedAction, records: Mapping[str, Record], key: str) -> ExecutionResult:
        assert action.merge is not None  # guaranteed by shape_problems
        survivor_id = action.merge.survivor_id
        others = [t.record_id for t in action.targets if t.record_id != survivor_id]
        expected = {t.record_id: t.version for t in action.targets}
        try:
            survivor = self.crm.merge(
                action.object_type,
                survivor_id,
                others,
                action.merge.field_plan,
                expected_versions=expected,
                idempotency_key=f"{key}:merge",
            )
        except CRMConflictError as conflict:
            raise StaleRecordError(conflict.record_id, conflict.expected, conflict.actual) from conflict
        except CRMNotFoundError as missing:
            raise StaleRecordError(survivor_id, expected[survivor_id], None) from missing
        self._check_fields(survivor, action.merge.field_plan)
        leftovers = [rid for rid in others if self.crm.get(action.object_type, rid) is not None]
        if leftovers:
            raise PostConditionError(f"merged records still exist: {', '.join(leftovers)}")
        pre_image = {
            rid: dict(record.fields) | {OWNER_FIELD: record.owner_id} for rid, record in records.items()
        }
        return ExecutionResult(
            written=[survivor_id, *others],
            versions={survivor.id: survivor.version},
            pre_image=pre_image,
            survivor_id=survivor.id,
        )

    # -- checks ----------------------------------------------------------------

    def _validate_values(self, action: ProposedAction) -> None:
        for target in action.targets:
            for name, change in target.changes.items():
                self._validate_value(name, change.after)
        if action.merge is not None:
            for name, value in action.merge.field_plan.items():
                self._validate_value(name, value)

    def _validate_value(self, name: str, value: FieldValue) -> None:
        if name == OWNER_FIELD:
            owner = self.crm.get_owner(str(value)) if value else None
            if owner is None:
                raise ValidationFailedError(f"owner {value!r} does not exist")
            if not owner.active:
                raise ValidationFailedError(f"owner {owner.name} ({owner.id}) is not active")
        elif name == STATUS_FIELD and value not in LEAD_STATUSES:
            raise ValidationFailedError(f"status {value!r} is not one of {', '.join(LEAD_STATUSES)}")
        elif name == "email" and value:
            try:
                validate_email(str(value), check_deliverability=False)
            except EmailNotValidError as invalid:
                raise ValidationFailedError(f"email {value!r} is invalid: {invalid}") from invalid

    @staticmethod
    def _check_fields(record: Record, values: Mapping[str, FieldValue]) -> None:
        wrong = {name: record.get(name) for name, value in values.items() if record.get(name) != value}
        if wrong:
            raise PostConditionError(f"{record.id} holds {wrong} after the write, not what was written")

    @staticmethod
    def _write(write: Callable[[], object], record_id: str, planned: str) -> None:
        try:
            write()
        except CRMConflictError as conflict:
            raise StaleRecordError(record_id, planned, conflict.actual) from conflict
        except CRMNotFoundError as missing:
            raise StaleRecordError(record_id, planned, None) from missing
