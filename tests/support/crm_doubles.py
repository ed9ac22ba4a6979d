"""CRM wrappers that misbehave at the port, in front of the real embedded CRM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.crm.local import LocalCRM
from agent.models import FieldValue, ObjectType, Record


class FailingWrites:
    """Raises the queued errors on the next writes, then behaves."""

    def __init__(self, inner: LocalCRM, errors: list[Exception]) -> None:
        self.inner = inner
        self.errors = list(errors)
        self.name = inner.name
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _maybe_fail(self) -> None:
        if self.errors:
            raise self.errors.pop(0)

    def update(
        self, object_type: ObjectType, record_id: str, changes: Mapping[str, FieldValue], **kw: Any
    ) -> Record:
        self._maybe_fail()
        self.writes += 1
        return self.inner.update(object_type, record_id, changes, **kw)

    def merge(
        self,
        object_type: ObjectType,
        survivor_id: str,
        merged_ids: Sequence[str],
        field_plan: Mapping[str, FieldValue],
        **kw: Any,
    ) -> Record:
        self._maybe_fail()
        self.writes += 1
        return self.inner.merge(object_type, survivor_id, merged_ids, field_plan, **kw)


class DropsWrites:
    """Answers every update as if it succeeded, and writes nothing."""

    def __init__(self, inner: LocalCRM) -> None:
        self.inner = inner
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def update(
        self, object_type: ObjectType, record_id: str, changes: Mapping[str, FieldValue], **kw: Any
    ) -> Record:
        record = self.inner.get(object_type, record_id)
        assert record is not None
        return record
