"""The embedded CRM records meetings as the meeting port says, on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from agent.store.rows import CRMMeetingRow
from tests.crm.meetings_conformance import MeetingArrangement, MeetingConformance
from tests.crm.test_local_conformance import LocalArrangement
from tests.support.stack import Stack


class LocalMeetingArrangement(LocalArrangement):
    def __init__(self, stack: Stack) -> None:
        super().__init__(stack)
        self._by_hand = itertools.count(1)

    def unknown_meeting_id(self) -> str:
        return "no-such-meeting"

    def foreign_meeting(self, owner_id: str, start: datetime, end: datetime) -> str:
        # Straight into the table, as an import of the team's calendar would put it: no uid, no record.
        now = self._stack.clock.now()
        row = CRMMeetingRow(
            id=f"by-hand-{next(self._by_hand)}",
            object_type="contact",
            record_id="",
            owner_id=owner_id,
            title="Lunch with a customer",
            starts_at=start,
            ends_at=end,
            status="scheduled",
            body="",
            uid="",
            created_at=now,
            updated_at=now,
        )
        with self._stack.services.database.transaction() as session:
            session.add(row)
        return row.id


class TestLocalMeetings(MeetingConformance):
    @pytest.fixture
    def arranged(self, stack: Stack) -> MeetingArrangement:
        return LocalMeetingArrangement(stack)
