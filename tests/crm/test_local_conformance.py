"""The embedded CRM passes the CRM conformance suite, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest

from agent.crm.local import LocalCRM
from agent.models import FieldValue, ObjectType, Owner, Record
from tests.crm.conformance import Arrangement, CRMConformance
from tests.support.stack import Stack


class LocalArrangement:
    """Test data goes straight into the embedded CRM's tables; its clock is the stack's."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._edits = itertools.count(1)

    @property
    def crm(self) -> LocalCRM:
        return self._stack.crm

    def owner(self, owner_id: str, *, active: bool = True) -> Owner:
        return self._stack.owner(owner_id, active=active)

    def record(
        self, object_type: ObjectType, fields: Mapping[str, FieldValue], *, owner_id: str | None = None
    ) -> Record:
        return self.crm.create_record(object_type, fields, owner_id=owner_id)

    def change_behind_our_back(self, record: Record, fields: Mapping[str, FieldValue]) -> Record:
        # Another user's edit is a write like ours in the embedded CRM: a new version, a new stamp.
        current = self.crm.get(record.object_type, record.id)
        assert current is not None, f"{record.id} is gone"
        return self.crm.update(
            record.object_type,
            record.id,
            fields,
            expected_version=current.version,
            idempotency_key=f"another-user-{next(self._edits)}",
        )

    def later(self, seconds: float) -> None:
        self._stack.later(seconds=seconds)

    def unknown_id(self, object_type: ObjectType) -> str:
        return f"no-such-{object_type}"

    def unknown_owner_id(self) -> str:
        return "no-such-owner"


class TestLocalCRMConformance(CRMConformance):
    @pytest.fixture
    def arranged(self, stack: Stack) -> Arrangement:
        return LocalArrangement(stack)
