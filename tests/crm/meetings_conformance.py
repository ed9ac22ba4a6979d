"""The conformance suite of meeting activities, for every CRM adapter that records meetings.

It checks the contract of :class:`agent.ports.MeetingActivities` and nothing an adapter
happens to do beyond it, the way :mod:`tests.crm.conformance` checks the CRM port: the
embedded CRM, HubSpot against its fake server and Salesforce against its fake server run
the very same tests.

How an adapter plugs in: subclass :class:`MeetingConformance` in a ``test_*.py`` module
(named ``Test...``) and provide the ``arranged`` fixture, a :class:`MeetingArrangement`:
the adapter's :class:`~tests.crm.conformance.Arrangement` (records and owners are seeded
with it, as in the CRM suite) plus an activity id that names no meeting and a back door
for a meeting a person logged in the CRM by hand::

    class TestHubSpotMeetings(MeetingConformance):
        @pytest.fixture
        def arranged(self, hubspot: FakeHubSpot, database: Database) -> MeetingArrangement:
            return HubSpotMeetingArrangement(hubspot, connect(hubspot, ledger, sleeps=[]))

The base ``arranged`` fixture fails loudly, and this module (not ``test_*``, its class not
``Test*``) is never collected on its own.

Where the port's docstring is silent, the suite holds adapters to what bookings rely on:

- times are written and read to the second: a meeting reads back with the very instants
  it was written with, timezone-aware and in UTC, whatever zone the caller wrote in;
- a cancelled meeting still reads (``status="cancelled"``), it only leaves ``owner_meetings``;
- ``owner_meetings`` lists the owner's meetings only, and a meeting that touches the window
  without overlapping it (ends at its start, starts at its end) is not in it;
- a replayed ``update_meeting`` key does not apply its change again over a later change;
- a move needs both times, a meeting must end after it starts, and naive datetimes are
  refused: all ``CRMValidationError``, before anything is written;
- a meeting revgate did not book (logged by hand, synced from a calendar) is the owner's
  busy time: ``owner_meetings`` lists it and ``get_meeting`` reads it, with an empty ``uid``
  (and an empty ``record_id`` when it is on no record), and ``update_meeting`` refuses it
  with ``CRMValidationError`` and writes nothing.

Not here, because it cannot be arranged the same way for every adapter: rate limits, 5xx
and requests that fail after being applied. Each remote adapter tests those against its
fake server, next to its conformance class.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest

from agent.errors import CRMNotFoundError, CRMValidationError
from agent.models import MeetingActivity, Owner, Record
from agent.ports import CRMClient, MeetingActivities
from tests.crm.conformance import Arrangement, sample

MONDAY = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
"""Nine in the morning, UTC, on the Monday the suite's meetings happen."""


class MeetingCRM(CRMClient, MeetingActivities, Protocol):
    """An adapter that is both a CRM client and a recorder of meetings."""


class MeetingArrangement(Arrangement, Protocol):
    """The CRM suite's arrangement, over an adapter that records meetings."""

    @property
    def crm(self) -> MeetingCRM:
        """The adapter under test."""
        ...

    def unknown_meeting_id(self) -> str:
        """An activity id of the CRM's own shape that no meeting has (never had)."""
        ...

    def foreign_meeting(self, owner_id: str, start: datetime, end: datetime) -> str:
        """A meeting of ``owner_id`` on no record, logged in the CRM by hand (not by revgate); its id."""
        ...


def at(hours: float) -> datetime:
    """``hours`` after nine on the suite's Monday (UTC)."""
    return MONDAY + timedelta(hours=hours)


class MeetingConformance:
    """The meeting port's contract as tests; subclass it per adapter and provide ``arranged``."""

    @pytest.fixture
    def arranged(self) -> MeetingArrangement:
        raise NotImplementedError("the adapter's test class must provide the `arranged` fixture")

    @pytest.fixture
    def rep(self, arranged: MeetingArrangement) -> Owner:
        return arranged.owner("MR1")

    @pytest.fixture
    def lead(self, arranged: MeetingArrangement, rep: Owner) -> Record:
        return arranged.record("lead", sample("lead", 1), owner_id=rep.id)

    @staticmethod
    def book(
        arranged: MeetingArrangement,
        record: Record,
        owner: Owner,
        start: datetime,
        *,
        minutes: int = 30,
        key: str = "book-1",
        uid: str | None = None,
        title: str = "Intro call",
    ) -> MeetingActivity:
        return arranged.crm.record_meeting(
            record.object_type,
            record.id,
            owner_id=owner.id,
            title=title,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            body="Agenda: pricing.\nBooked by revgate.",
            uid=uid or f"{key}@revgate.test",
            idempotency_key=key,
        )

    # -- record / get --------------------------------------------------------------------

    def test_record_meeting_returns_the_scheduled_activity_and_get_meeting_reads_it(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        recorded = self.book(arranged, lead, rep, at(1), uid="0f6c@revgate.test")

        assert recorded.id
        assert (recorded.object_type, recorded.record_id, recorded.owner_id) == ("lead", lead.id, rep.id)
        assert (recorded.title, recorded.body) == ("Intro call", "Agenda: pricing.\nBooked by revgate.")
        assert (recorded.starts_at, recorded.ends_at) == (at(1), at(1.5))
        assert recorded.status == "scheduled"
        assert recorded.uid == "0f6c@revgate.test"
        assert arranged.crm.get_meeting(recorded.id) == recorded

    def test_a_meeting_can_be_recorded_on_a_contact(self, arranged: MeetingArrangement, rep: Owner) -> None:
        contact = arranged.record("contact", sample("contact", 2), owner_id=rep.id)

        recorded = self.book(arranged, contact, rep, at(2))

        got = arranged.crm.get_meeting(recorded.id)
        assert got is not None
        assert (got.object_type, got.record_id) == ("contact", contact.id)

    def test_times_come_back_timezone_aware_in_utc_and_equal_to_what_was_written(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        paris = datetime(2026, 12, 7, 14, 30, 15, tzinfo=ZoneInfo("Europe/Paris"))

        recorded = self.book(arranged, lead, rep, paris, minutes=45)
        got = arranged.crm.get_meeting(recorded.id)

        assert got is not None
        for meeting in (recorded, got):
            assert meeting.starts_at == datetime(2026, 12, 7, 13, 30, 15, tzinfo=UTC)
            assert meeting.ends_at == datetime(2026, 12, 7, 14, 15, 15, tzinfo=UTC)
            assert meeting.starts_at.utcoffset() == timedelta(0)
            assert meeting.ends_at.utcoffset() == timedelta(0)

    def test_a_replayed_record_meeting_writes_nothing_and_returns_the_activity_as_it_is_now(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        first = self.book(arranged, lead, rep, at(1), key="book-replayed")
        moved = arranged.crm.update_meeting(
            first.id, starts_at=at(3), ends_at=at(3.5), idempotency_key="move-replayed"
        )

        again = self.book(arranged, lead, rep, at(1), key="book-replayed")

        assert again == moved
        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [moved]

    def test_get_meeting_of_a_missing_activity_is_none(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        self.book(arranged, lead, rep, at(1))

        assert arranged.crm.get_meeting(arranged.unknown_meeting_id()) is None

    def test_a_meeting_on_a_missing_record_raises_not_found_and_writes_nothing(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        missing = lead.model_copy(update={"id": arranged.unknown_id("lead")})

        with pytest.raises(CRMNotFoundError):
            self.book(arranged, missing, rep, at(1), key="book-missing")

        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == []

    # -- move / cancel -------------------------------------------------------------------

    def test_a_move_sets_both_times_and_keeps_the_rest(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        recorded = self.book(arranged, lead, rep, at(1))

        moved = arranged.crm.update_meeting(
            recorded.id, starts_at=at(4), ends_at=at(5), idempotency_key="move-1"
        )

        assert moved == recorded.model_copy(update={"starts_at": at(4), "ends_at": at(5)})
        assert arranged.crm.get_meeting(recorded.id) == moved

    def test_a_replayed_move_is_not_applied_again_over_a_later_move(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        recorded = self.book(arranged, lead, rep, at(1))
        arranged.crm.update_meeting(recorded.id, starts_at=at(2), ends_at=at(3), idempotency_key="move-a")
        later = arranged.crm.update_meeting(
            recorded.id, starts_at=at(5), ends_at=at(6), idempotency_key="move-b"
        )

        replayed = arranged.crm.update_meeting(
            recorded.id, starts_at=at(2), ends_at=at(3), idempotency_key="move-a"
        )

        assert replayed == later
        assert arranged.crm.get_meeting(recorded.id) == later

    def test_cancel_marks_the_meeting_cancelled_and_it_still_reads(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        recorded = self.book(arranged, lead, rep, at(1))

        cancelled = arranged.crm.update_meeting(recorded.id, status="cancelled", idempotency_key="cancel-1")

        assert cancelled == recorded.model_copy(update={"status": "cancelled"})
        assert arranged.crm.get_meeting(recorded.id) == cancelled
        assert (
            arranged.crm.update_meeting(recorded.id, status="cancelled", idempotency_key="cancel-1")
            == cancelled
        )

    def test_cancelled_meetings_disappear_from_owner_meetings(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        kept = self.book(arranged, lead, rep, at(1), key="book-kept")
        dropped = self.book(arranged, lead, rep, at(2), key="book-dropped")

        arranged.crm.update_meeting(dropped.id, status="cancelled", idempotency_key="cancel-dropped")

        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [kept]

    def test_update_of_a_missing_meeting_raises_not_found(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        self.book(arranged, lead, rep, at(1))
        missing = arranged.unknown_meeting_id()

        with pytest.raises(CRMNotFoundError):
            arranged.crm.update_meeting(
                missing, starts_at=at(2), ends_at=at(3), idempotency_key="move-missing"
            )
        with pytest.raises(CRMNotFoundError):
            arranged.crm.update_meeting(missing, status="cancelled", idempotency_key="cancel-missing")

    # -- owner_meetings ------------------------------------------------------------------

    def test_owner_meetings_lists_what_overlaps_the_half_open_window(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        ends_at_start = self.book(arranged, lead, rep, at(0), minutes=30, key="b-before")
        inside = self.book(arranged, lead, rep, at(1), minutes=60, key="b-inside")
        starts_at_end = self.book(arranged, lead, rep, at(2), minutes=30, key="b-after")
        across = self.book(arranged, lead, rep, at(0.25), minutes=180, key="b-across")

        assert arranged.crm.owner_meetings(rep.id, at(0.5), at(2)) == [across, inside]
        assert arranged.crm.owner_meetings(
            rep.id, at(0.5) - timedelta(seconds=1), at(2) + timedelta(seconds=1)
        ) == [
            ends_at_start,
            across,
            inside,
            starts_at_end,
        ]
        assert arranged.crm.owner_meetings(rep.id, at(4), at(5)) == []

    def test_owner_meetings_come_by_start_whatever_the_order_they_were_booked_in(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        third = self.book(arranged, lead, rep, at(5), key="b-third")
        first = self.book(arranged, lead, rep, at(1), key="b-first")
        second = self.book(arranged, lead, rep, at(3), key="b-second")
        moved_last = self.book(arranged, lead, rep, at(2), key="b-moved")
        moved_last = arranged.crm.update_meeting(
            moved_last.id, starts_at=at(6), ends_at=at(7), idempotency_key="move-last"
        )

        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [first, second, third, moved_last]

    def test_owner_meetings_lists_that_owners_meetings_only(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        colleague = arranged.owner("MR2")
        mine = self.book(arranged, lead, rep, at(1), key="b-mine")
        theirs = self.book(arranged, lead, colleague, at(1), key="b-theirs")

        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [mine]
        assert arranged.crm.owner_meetings(colleague.id, at(0), at(8)) == [theirs]
        assert arranged.crm.owner_meetings(arranged.unknown_owner_id(), at(0), at(8)) == []

    # -- refused before anything is written ------------------------------------------------

    def test_refused_spans_raise_validation_errors_and_write_nothing(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        with pytest.raises(CRMValidationError):
            self.book(arranged, lead, rep, at(1), minutes=0, key="b-empty")
        with pytest.raises(CRMValidationError):
            self.book(arranged, lead, rep, at(1).replace(tzinfo=None), key="b-naive")
        recorded = self.book(arranged, lead, rep, at(1), key="b-good")
        with pytest.raises(CRMValidationError):
            arranged.crm.update_meeting(recorded.id, starts_at=at(3), idempotency_key="move-half")
        with pytest.raises(CRMValidationError):
            arranged.crm.update_meeting(
                recorded.id, starts_at=at(3), ends_at=at(2), idempotency_key="move-back"
            )

        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [recorded]

    # -- meetings revgate did not book -----------------------------------------------------

    def test_a_meeting_logged_in_the_crm_by_hand_is_busy_time_in_owner_meetings(
        self, arranged: MeetingArrangement, lead: Record, rep: Owner
    ) -> None:
        colleague = arranged.owner("MR2")
        booked = self.book(arranged, lead, rep, at(1), key="b-revgate")
        by_hand = arranged.foreign_meeting(rep.id, at(2), at(3))
        arranged.foreign_meeting(colleague.id, at(1), at(2))

        logged = arranged.crm.get_meeting(by_hand)

        assert logged is not None
        assert (logged.id, logged.owner_id, logged.status) == (by_hand, rep.id, "scheduled")
        assert (logged.starts_at, logged.ends_at) == (at(2), at(3))
        assert (logged.uid, logged.record_id) == ("", "")
        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [booked, logged]
        assert arranged.crm.owner_meetings(rep.id, at(2.5), at(2.75)) == [logged]
        assert arranged.crm.owner_meetings(rep.id, at(3), at(8)) == []

    def test_a_meeting_logged_in_the_crm_by_hand_cannot_be_changed_through_revgate(
        self, arranged: MeetingArrangement, rep: Owner
    ) -> None:
        by_hand = arranged.foreign_meeting(rep.id, at(2), at(3))
        logged = arranged.crm.get_meeting(by_hand)

        with pytest.raises(CRMValidationError, match="not a meeting revgate booked"):
            arranged.crm.update_meeting(by_hand, starts_at=at(4), ends_at=at(5), idempotency_key="move-hand")
        with pytest.raises(CRMValidationError, match="not a meeting revgate booked"):
            arranged.crm.update_meeting(by_hand, status="cancelled", idempotency_key="cancel-hand")
        with pytest.raises(CRMValidationError, match="not a meeting revgate booked"):
            arranged.crm.update_meeting(by_hand, status="cancelled", idempotency_key="cancel-hand")

        assert logged is not None
        assert arranged.crm.get_meeting(by_hand) == logged
        assert arranged.crm.owner_meetings(rep.id, at(0), at(8)) == [logged]
