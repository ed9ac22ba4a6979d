"""Meetings in Slack over the real endpoint: ``/book-meeting``, routing's meeting, the approval
card of an unusual booking, and the booking message's Reschedule and Cancel modals.

The embedded default (SQLite, the local CRM); the routing file, the reps' calendar feeds
and the invite folder live in the test's tmp folder. Monday 30 November 2026, 10:00 in
New York: pool ``na`` (Ann in New York with a calendar feed, Bob in Chicago) is at work.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agent.meetings.bookings import Booking
from agent.models import Owner, Record
from bot import ids
from tests.support.slack_requests import block_action_body
from tests.support.slack_stack import SlackStack, running_slack
from tests.support.stack import APPROVER
from tests.support.waiting import eventually

MONDAY_10_NEW_YORK = (2026, 11, 30, 15)
ROUTING = """timezone: America/New_York
rules:
  - {name: na, when: {field: country, in: [US, CA, DE, JP]}, then: {pool: na}}
  - {name: solo, when: {field: country, in: [GB]}, then: {pool: solo}}
  - {name: catch-all, then: {queue: triage}}
pools:
  na:
    members:
      - {owner: OA, timezone: America/New_York, calendar: ann.ics}
      - {owner: OB, timezone: America/Chicago}
  solo:
    members:
      - {owner: OD, timezone: America/New_York, calendar: dora.ics}
queues: {triage: {}}
meetings:
  offer_when: {field: lead_source, in: [Demo request]}
  duration: 30
  buffer: 10
"""
EMPTY = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//revgate tests//slack//EN\nEND:VCALENDAR\n"
ON_LEAVE = EMPTY.replace(
    "END:VCALENDAR",
    "BEGIN:VEVENT\nUID:leave@example.com\nDTSTAMP:20261101T000000Z\nSUMMARY:Holiday\n"
    "DTSTART;VALUE=DATE:20261130\nDTEND;VALUE=DATE:20270301\n"
    "X-MICROSOFT-CDO-BUSYSTATUS:OOF\nEND:VEVENT\nEND:VCALENDAR",
)
REP = "U0REPA"
CHANNEL = "#revops-approvals"


@pytest.fixture
def slack(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackStack]:
    (tmp_path / "routing.yaml").write_text(ROUTING)
    (tmp_path / "ann.ics").write_text(EMPTY)
    (tmp_path / "dora.ics").write_text(ON_LEAVE)
    # The settings read these from the environment, as in production; never the repo's folder.
    monkeypatch.setenv("REVGATE_ROUTING", str(tmp_path / "routing.yaml"))
    monkeypatch.setenv("REVGATE_INVITES", f"folder:{tmp_path / 'invites'}")
    with running_slack(sqlite_url, leads=("U0LEAD1",)) as stack:
        stack.clock.current = datetime(*MONDAY_10_NEW_YORK, tzinfo=UTC)
        for owner_id, name, slack_id in (
            ("OA", "Ann Rep", REP),
            ("OB", "Bob Rep", None),
            ("OD", "Dora Rep", None),
        ):
            stack.crm.create_owner(
                Owner(id=owner_id, name=name, email=f"{owner_id.lower()}@acme.io", slack_user_id=slack_id)
            )
        yield stack


# -- helpers ----------------------------------------------------------------------------------


def _lead(slack: SlackStack, **fields: object) -> Record:
    base: dict[str, object] = {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": "jane@prospect.io",
        "company": "Prospect",
        "country": "US",
        "state": "NY",
    }
    base.update(fields)
    return slack.lead(**base)


def _ask(slack: SlackStack, command: str, text: str, name: str, user: str = REP) -> str:
    status, _ = slack.command(command, text, user, name=name)
    assert status == 200
    eventually(lambda: bool(slack.replies(name)), timeout=15, what=f"the answer to {command}")
    return html.unescape(slack.replies(name)[0])


def _ack_text(payload: bytes) -> str:
    raw = payload.decode()
    if raw.startswith("{"):
        raw = str(json.loads(raw).get("text", ""))
    return html.unescape(raw)


def _bookings(slack: SlackStack) -> list[Booking]:
    return slack.services.meetings().book_store.listed(include_cancelled=True)


def _booking(slack: SlackStack, meeting_id: str) -> Booking:
    return slack.services.meetings().book_store.get(meeting_id)


def _action_ids(message: dict[str, Any]) -> list[str]:
    return [
        str(element.get("action_id"))
        for block in message.get("blocks", [])
        for element in block.get("elements", [])
        if isinstance(element, dict) and "action_id" in element
    ]


def _text(message: dict[str, Any]) -> str:
    return html.unescape(json.dumps(message.get("blocks", []), ensure_ascii=False))


def _message(slack: SlackStack, meeting_id: str) -> dict[str, Any]:
    eventually(lambda: _booking(slack, meeting_id).slack_ts is not None, what="the booking message")
    booking = _booking(slack, meeting_id)
    assert booking.slack_channel is not None
    assert booking.slack_ts is not None
    return slack.fake.messages(booking.slack_channel)[booking.slack_ts]


def _in_step(slack: SlackStack, meeting_id: str) -> Booking:
    """The meeting once its invite is handed over and its message shows that latest state (a
    change stores the row first; the CRM, the invite and the message follow)."""
    from bot.meeting_notifier import needs_message

    def settled() -> bool:
        booking = _booking(slack, meeting_id)
        return not booking.invite_pending and not needs_message(booking)

    eventually(settled, what="the invite and the message update")
    return _booking(slack, meeting_id)


def _click(slack: SlackStack, action_id: str, value: str, name: str, user: str = REP) -> None:
    body = block_action_body(
        action_id=action_id, value=value, user_id=user, response_url=slack.fake.response_url(name)
    )
    assert slack.post(body)[0] == 200


def _opened(slack: SlackStack, count: int) -> dict[str, Any]:
    return dict(slack.fake.wait_for("views.open", count)[count - 1].params["view"])


def _slot_values(view: dict[str, Any]) -> list[str]:
    block = next(b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_SLOT)
    return [str(option["value"]) for option in block["element"]["options"]]


def _chose(value: str) -> dict[str, Any]:
    return {ids.BLOCK_SLOT: {ids.INPUT_SLOT: {"type": "radio_buttons", "selected_option": {"value": value}}}}


def _reason(text: str) -> dict[str, Any]:
    return {ids.BLOCK_CANCEL_REASON: {ids.INPUT_CANCEL_REASON: {"type": "plain_text_input", "value": text}}}


def _ephemerals(slack: SlackStack) -> list[str]:
    return [html.unescape(str(c.params.get("text"))) for c in slack.fake.calls_to("chat.postEphemeral")]


def _booked(slack: SlackStack) -> Booking:
    """A meeting booked by ``/book-meeting`` for a New York lead, its message posted."""
    lead = _lead(slack, owner_id="OA", email="ny@prospect.io")
    _ask(slack, "/book-meeting", lead.id, name="book")
    (booking,) = [b for b in _bookings(slack) if b.lead_id == lead.id]
    _message(slack, booking.id)
    return _in_step(slack, booking.id)


# -- the required scenario ---------------------------------------------------------------------


def test_inbound_lead_is_routed_then_booked_or_sent_for_approval_and_the_card_is_updated(
    slack: SlackStack, tmp_path: Path
) -> None:
    inbound = _lead(
        slack,
        email="hans@beispiel.de",
        country="DE",
        state=None,
        phone="+49 30 1234567",
        lead_source="Demo request",
    )

    routed = _ask(slack, "/route-lead", inbound.id, name="route")

    (first,) = _bookings(slack)
    assert first.lead_id == inbound.id
    assert first.status == "booked"
    assert slack.crm.get("lead", inbound.id).owner_id == first.rep_id  # type: ignore[union-attr]
    assert (
        "Meeting booked: Tue 1 Dec 09:00-09:30 America/New_York / Tue 1 Dec 15:00-15:30 Europe/Berlin"
        in routed
    )
    message = _message(slack, first.id)
    assert _action_ids(message) == [ids.ACTION_RESCHEDULE, ids.ACTION_CANCEL]
    shown = _text(message)
    assert "Tue 1 Dec 09:00-09:30 America/New_York" in shown
    assert "Tue 1 Dec 15:00-15:30 Europe/Berlin" in shown
    assert "CRM activity `" in shown
    assert "Invite v0 sent to hans@beispiel.de" in shown
    assert [p.name for p in (tmp_path / "invites").glob("*.ics")] == [f"{first.id}@revgate-0-request.ics"]

    # A high-value lead's meeting waits for a person.
    big = _lead(slack, owner_id="OA", email="cfo@bigco.io", company="BigCo", annual_revenue=5_000_000)
    answer = _ask(slack, "/book-meeting", big.id, name="big")
    assert "Sent for approval" in answer
    (approval,) = slack.approvals.recent(["pending"])
    assert approval.action.kind == "book_meeting"
    assert approval.id in answer
    eventually(lambda: slack.approvals.get(approval.id).slack_ts is not None, what="the approval card")
    card = slack.fake.messages(CHANNEL)[str(slack.approvals.get(approval.id).slack_ts)]
    assert ids.ACTION_APPROVE in _action_ids(card)
    card_text = _text(card)
    assert "Mon 30 Nov 12:00-12:30 America/New_York" in card_text  # Ann's time and Jane's: both New York
    assert "Other free slots" in card_text
    assert len(_bookings(slack)) == 1

    assert slack.click(ids.ACTION_APPROVE, approval.id, APPROVER) == 200

    eventually(lambda: slack.approvals.get(approval.id).status == "executed", what="the booking")
    eventually(lambda: slack.approvals.cards_to_sync() == [], what="the card update")
    card = slack.fake.messages(CHANNEL)[str(slack.approvals.get(approval.id).slack_ts)]
    assert ids.ACTION_APPROVE not in _action_ids(card)
    assert "the meeting is booked" in _text(card)
    (second,) = [b for b in _bookings(slack) if b.lead_id == big.id]
    assert second.status == "booked"
    assert f"`{second.id}`" in _text(card)
    assert _action_ids(_message(slack, second.id)) == [ids.ACTION_RESCHEDULE, ids.ACTION_CANCEL]
    posted = [m for m in slack.fake.messages(CHANNEL).values() if ids.ACTION_RESCHEDULE in _action_ids(m)]
    assert len(posted) == 2


def test_route_lead_says_when_the_meeting_it_offered_went_for_approval(slack: SlackStack) -> None:
    lead = _lead(
        slack,
        email="taro@example.jp",
        country="JP",
        state=None,
        phone="+81 3 1234 5678",
        lead_source="Demo request",
    )

    routed = _ask(slack, "/route-lead", lead.id, name="route")

    (pending,) = slack.approvals.recent(["pending"])
    assert pending.action.kind == "book_meeting"
    assert f"Meeting sent for approval (`{pending.id}`)" in routed
    assert "Asia/Tokyo" in routed
    assert "Why: " in routed
    assert _bookings(slack) == []


# -- /book-meeting -------------------------------------------------------------------------------


def test_book_meeting_books_the_first_slot_and_links_the_booking_message(slack: SlackStack) -> None:
    lead = _lead(slack, owner_id="OA")

    answer = _ask(slack, "/book-meeting", "jane@prospect.io", name="book")

    (booking,) = _bookings(slack)
    assert booking.lead_id == lead.id
    assert "Meeting booked" in answer
    assert "Mon 30 Nov 12:00-12:30 America/New_York / Mon 30 Nov 12:00-12:30 America/New_York" in answer
    assert "Open the booking message" in answer
    assert "/archives/" in answer
    assert "Invite v0 sent" in answer


def test_book_meeting_outside_business_hours_says_it_went_for_approval_and_why(slack: SlackStack) -> None:
    _lead(slack, owner_id="OA", country="JP", state=None, phone="+81 3 1234 5678")

    answer = _ask(slack, "/book-meeting", "jane@prospect.io", name="book")

    assert "Sent for approval" in answer
    assert "Why:" in answer
    assert "outside the lead's business hours" in answer
    assert "Asia/Tokyo" in answer
    assert _bookings(slack) == []


def test_book_meeting_without_a_slot_explains_and_books_nothing(slack: SlackStack) -> None:
    _lead(slack, owner_id="OD", country="GB", state=None)

    answer = _ask(slack, "/book-meeting", "jane@prospect.io", name="book")

    assert "No slot" in answer
    assert "out of office" in answer
    assert "nobody else in pool solo" in answer
    assert "Nothing was booked." in answer
    assert _bookings(slack) == []
    assert slack.approvals.recent(["pending"]) == []


def test_book_meeting_for_an_unknown_lead_names_it(slack: SlackStack) -> None:
    answer = _ask(slack, "/book-meeting", "ghost@nowhere.io", name="book")

    assert "no lead with id or email 'ghost@nowhere.io'" in answer
    assert _bookings(slack) == []


def test_book_meeting_for_a_lead_without_an_owner_says_to_route_it(slack: SlackStack) -> None:
    lead = _lead(slack, owner_id=None)

    answer = _ask(slack, "/book-meeting", lead.id, name="book")

    assert f"route it first with `/route-lead {lead.id}`" in answer
    assert _bookings(slack) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "give one lead id or email address"), ("a@acme.io b@acme.io", "unexpected 'b@acme.io'")],
)
def test_a_malformed_book_meeting_gets_usage_in_the_ack_and_books_nothing(
    slack: SlackStack, text: str, problem: str
) -> None:
    _lead(slack, owner_id="OA", email="a@acme.io")

    status, payload = slack.command("/book-meeting", text, REP, name="bad")

    assert status == 200
    ack = _ack_text(payload)
    assert problem in ack
    assert "/book-meeting <lead id or email>" in ack
    assert slack.replies("bad") == []
    assert _bookings(slack) == []


# -- Reschedule ----------------------------------------------------------------------------------


def test_reschedule_lists_free_slots_in_both_zones_and_moves_the_meeting(slack: SlackStack) -> None:
    booking = _booked(slack)

    _click(slack, ids.ACTION_RESCHEDULE, booking.id, name="resched")
    view = _opened(slack, 1)
    assert view["callback_id"] == ids.VIEW_RESCHEDULE
    options = next(b for b in view["blocks"] if b.get("block_id") == ids.BLOCK_SLOT)["element"]["options"]
    assert all("America/New_York" in o["text"]["text"] for o in options)
    assert all("for the lead" in o["description"]["text"] for o in options)
    target = _slot_values(view)[1]

    status, answer = slack.submit(ids.VIEW_RESCHEDULE, view["private_metadata"], REP, _chose(target))

    assert status == 200
    assert answer is None  # closes the modal
    # The row moves first; the CRM and the invite follow: wait for the invite too.
    eventually(lambda: _booking(slack, booking.id).invite_sequence == 1, what="the move and its invite")
    moved = _in_step(slack, booking.id)
    assert f"{moved.start:%Y-%m-%dT%H:%MZ}" == target
    message = _message(slack, booking.id)
    assert "Meeting rescheduled" in _text(message)
    assert "Invite v1 sent" in _text(message)
    assert _action_ids(message) == [ids.ACTION_RESCHEDULE, ids.ACTION_CANCEL]
    eventually(lambda: any("Moved to" in t for t in _ephemerals(slack)), what="the confirmation")


def test_a_reschedule_form_left_open_while_the_meeting_moved_changes_nothing(slack: SlackStack) -> None:
    booking = _booked(slack)
    _click(slack, ids.ACTION_RESCHEDULE, booking.id, name="resched")
    view = _opened(slack, 1)
    first, second = _slot_values(view)[:2]
    slack.submit(ids.VIEW_RESCHEDULE, view["private_metadata"], REP, _chose(first))
    eventually(lambda: _booking(slack, booking.id).sequence == 1, what="the first move")

    slack.submit(ids.VIEW_RESCHEDULE, view["private_metadata"], "U0OTHER", _chose(second))

    eventually(
        lambda: any("changed while the form was open" in t for t in _ephemerals(slack)), what="the refusal"
    )
    assert f"{_booking(slack, booking.id).start:%Y-%m-%dT%H:%MZ}" == first


def test_a_time_that_was_not_offered_is_refused(slack: SlackStack) -> None:
    booking = _booked(slack)
    _click(slack, ids.ACTION_RESCHEDULE, booking.id, name="resched")
    view = _opened(slack, 1)

    # Well-formed, but 03:00 in New York: never offered.
    slack.submit(ids.VIEW_RESCHEDULE, view["private_metadata"], REP, _chose("2026-12-02T08:00Z"))

    eventually(
        lambda: any("wasn't one of the times offered" in t for t in _ephemerals(slack)), what="the refusal"
    )
    assert _booking(slack, booking.id).start == booking.start
    assert _booking(slack, booking.id).sequence == 0


# -- Cancel --------------------------------------------------------------------------------------


def test_cancel_needs_a_reason_then_cancels_and_the_message_says_who_and_why(
    slack: SlackStack, tmp_path: Path
) -> None:
    booking = _booked(slack)

    _click(slack, ids.ACTION_CANCEL, booking.id, name="cancel")
    view = _opened(slack, 1)
    assert view["callback_id"] == ids.VIEW_CANCEL
    status, blank = slack.submit(ids.VIEW_CANCEL, view["private_metadata"], REP, _reason("   "))
    assert status == 200
    assert blank["response_action"] == "errors"
    assert ids.BLOCK_CANCEL_REASON in blank["errors"]
    assert _booking(slack, booking.id).status == "booked"

    slack.submit(ids.VIEW_CANCEL, view["private_metadata"], REP, _reason("the lead asked for next month"))

    eventually(lambda: _booking(slack, booking.id).status == "cancelled", what="the cancellation")
    _in_step(slack, booking.id)
    message = _message(slack, booking.id)
    assert _action_ids(message) == []
    assert f"Cancelled* by <@{REP}>: the lead asked for next month" in _text(message)
    assert "Cancellation sent to ny@prospect.io" in _text(message)
    assert (tmp_path / "invites" / f"{booking.id}@revgate-1-cancel.ics").exists()


def test_a_second_cancel_on_a_cancelled_meeting_is_a_clear_no_op(slack: SlackStack) -> None:
    booking = _booked(slack)
    _click(slack, ids.ACTION_CANCEL, booking.id, name="cancel")
    view = _opened(slack, 1)
    slack.submit(ids.VIEW_CANCEL, view["private_metadata"], REP, _reason("no longer needed"))
    eventually(lambda: _booking(slack, booking.id).status == "cancelled", what="the cancellation")
    named = f"Cancelled* by <@{REP}>"
    eventually(lambda: named in _text(_message(slack, booking.id)), what="the message naming who")
    revision = _booking(slack, booking.id).revision

    # A click on a stale copy of the message: no modal, a clear answer.
    _click(slack, ids.ACTION_CANCEL, booking.id, name="again", user="U0OTHER")
    eventually(lambda: bool(slack.replies("again")), what="the answer")
    # A second submission of the form that was still open somewhere.
    slack.submit(ids.VIEW_CANCEL, view["private_metadata"], "U0OTHER", _reason("me too"))
    expected = f"already cancelled by <@{REP}>: no longer needed. Nothing was changed."
    eventually(lambda: any(expected in text for text in _ephemerals(slack)), what="the answer to the form")

    assert expected in html.unescape(slack.replies("again")[0])
    assert len(slack.fake.calls_to("views.open")) == 1
    assert _booking(slack, booking.id).revision == revision
    assert _booking(slack, booking.id).cancel_reason == "no longer needed"


# -- forged or stale payloads --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "answer"),
    [("'; drop table meetings", "isn't a meeting revgate knows"), ("m999999", "no longer exists")],
    ids=["garbled-value", "unknown-meeting"],
)
def test_a_forged_button_value_is_refused_without_a_modal(slack: SlackStack, value: str, answer: str) -> None:
    booking = _booked(slack)

    _click(slack, ids.ACTION_CANCEL, value, name="forged")
    eventually(lambda: bool(slack.replies("forged")), what="the refusal")

    assert answer in html.unescape(slack.replies("forged")[0])
    assert slack.fake.calls_to("views.open") == []
    assert _booking(slack, booking.id).status == "booked"


@pytest.mark.parametrize("metadata", ["not json", '{"meeting": "x y"}', '{"meeting": "s1", "revision": "2"}'])
def test_a_forged_reschedule_form_is_refused_in_the_modal(slack: SlackStack, metadata: str) -> None:
    booking = _booked(slack)

    status, answer = slack.submit(ids.VIEW_RESCHEDULE, metadata, REP, _chose("2026-12-01T15:00Z"))

    assert status == 200
    assert "isn't a meeting revgate knows" in answer["errors"][ids.BLOCK_SLOT]
    assert _booking(slack, booking.id).sequence == 0


@pytest.mark.parametrize("metadata", ["", '["s1"]', '{"meeting": "../../etc"}'])
def test_a_forged_cancel_form_is_refused_in_the_modal(slack: SlackStack, metadata: str) -> None:
    booking = _booked(slack)

    status, answer = slack.submit(ids.VIEW_CANCEL, metadata, REP, _reason("because"))

    assert status == 200
    assert "isn't a meeting revgate knows" in answer["errors"][ids.BLOCK_CANCEL_REASON]
    assert _booking(slack, booking.id).status == "booked"


def test_a_malformed_slot_value_is_refused_in_the_modal(slack: SlackStack) -> None:
    booking = _booked(slack)
    metadata = json.dumps({"meeting": booking.id, "revision": booking.revision})

    _, answer = slack.submit(ids.VIEW_RESCHEDULE, metadata, REP, _chose("next tuesday"))
    _, empty = slack.submit(ids.VIEW_RESCHEDULE, metadata, REP, {})

    assert "wasn't one of the times offered" in answer["errors"][ids.BLOCK_SLOT]
    assert "Pick one of the free times" in empty["errors"][ids.BLOCK_SLOT]
    assert _booking(slack, booking.id).sequence == 0


def test_a_failed_post_never_loses_the_booking_and_the_message_follows(slack: SlackStack) -> None:
    slack.fake.fail_next("chat.postMessage", status=200, error="channel_not_found", times=2)
    lead = _lead(slack, owner_id="OA")

    answer = _ask(slack, "/book-meeting", lead.id, name="book")

    assert "Meeting booked" in answer
    (booking,) = _bookings(slack)
    assert booking.status == "booked"
    assert _action_ids(_message(slack, booking.id)) == [ids.ACTION_RESCHEDULE, ids.ACTION_CANCEL]
