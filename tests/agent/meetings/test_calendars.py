"""The calendar port: feeds from files and URLs, and failures that name the owner, never a token."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.errors import CalendarFeedError
from agent.meetings import calendars as calendars_module
from agent.meetings.calendars import FeedCalendars, NoCalendars, calendar_sources, fetch_feed, redact
from agent.routing import parse_routing_text
from tests.agent.meetings.support import DATA, LONDON, NEW_YORK, at, utc
from tests.support.local_server import LocalServer, LoopbackServer

# Mon 15 Mar 2027 to Sat 20 Mar, London: the recurring fixture's week.
START, END = utc(2027, 3, 15), utc(2027, 3, 20)
WEEKLY = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//revgate tests//weekly//EN
BEGIN:VEVENT
UID:weekly@example.com
DTSTAMP:20270101T000000Z
DTSTART;TZID=Europe/London:20270104T100000
DTEND;TZID=Europe/London:20270104T110000
RRULE:FREQ=WEEKLY;BYDAY=MO,WE
END:VEVENT
END:VCALENDAR
"""
WEEKLY_BUSY = [
    (at(LONDON, 2027, 3, 15, 10), at(LONDON, 2027, 3, 15, 11)),
    (at(LONDON, 2027, 3, 17, 10), at(LONDON, 2027, 3, 17, 11)),
]


@dataclass
class Feeds:
    """What the local feed server serves, by path, and the paths it was asked for."""

    bodies: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer[Feeds]

    def do_GET(self) -> None:
        feeds = self.server.fake
        feeds.asked.append(self.path)
        status, body = feeds.bodies.get(self.path.split("?", 1)[0], (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FeedServer(LocalServer):
    def __init__(self) -> None:
        self.feeds = Feeds()

    def _make_server(self) -> ThreadingHTTPServer:
        return LoopbackServer(self.feeds, _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


def test_a_feed_file_is_read_relative_to_the_routing_files_folder(tmp_path: Path) -> None:
    (tmp_path / "calendars").mkdir()
    (tmp_path / "calendars" / "ann.ics").write_text(WEEKLY)

    calendars = FeedCalendars({"OA": "calendars/ann.ics"}, base=tmp_path)

    assert calendars.busy("OA", START, END, LONDON) == WEEKLY_BUSY
    assert calendars.describe("OA") == "calendar feed calendars/ann.ics"


def test_an_owner_without_a_feed_is_never_busy_and_nothing_is_read(tmp_path: Path) -> None:
    calendars = FeedCalendars({}, base=tmp_path)

    assert calendars.busy("OB", START, END, LONDON) == []
    assert calendars.out_of_office("OB", START, END, LONDON) == ()
    assert calendars.describe("OB") == "no calendar"
    assert NoCalendars().busy("OB", START, END, LONDON) == []


def test_all_day_out_of_office_in_a_feed_becomes_days_off(tmp_path: Path) -> None:
    calendars = FeedCalendars({"OA": str(DATA / "leave.ics")}, base=tmp_path)

    days = calendars.out_of_office("OA", utc(2027, 3, 1), utc(2027, 4, 1), LONDON)

    assert (date(2027, 3, 15), date(2027, 3, 19)) in days


def test_a_feed_is_fetched_from_a_url_over_http(tmp_path: Path, server: FeedServer) -> None:
    server.feeds.bodies["/ann/basic.ics"] = (200, WEEKLY.encode())

    calendars = FeedCalendars({"OA": f"{server.url}/ann/basic.ics?token=s3cret"}, base=tmp_path)

    assert calendars.busy("OA", START, END, LONDON) == WEEKLY_BUSY
    assert server.feeds.asked == ["/ann/basic.ics?token=s3cret"]
    assert "s3cret" not in calendars.describe("OA")


def test_one_read_serves_busy_times_and_days_off_until_it_is_too_old(tmp_path: Path) -> None:
    fetched: list[str] = []
    clock = [0.0]

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return WEEKLY.encode()

    calendars = FeedCalendars(
        {"OA": "webcal://cal.example/ann.ics"}, base=tmp_path, fetch=fetch, monotonic=lambda: clock[0]
    )
    calendars.busy("OA", START, END, LONDON)
    calendars.out_of_office("OA", START, END, LONDON)
    clock[0] = 61.0
    calendars.busy("OA", START, END, LONDON)

    assert fetched == ["https://cal.example/ann.ics"] * 2  # webcal:// is fetched as https://


def test_a_feed_read_again_is_parsed_again_only_when_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[bytes] = []
    real = calendars_module.parse_feed

    def counting(feed: bytes | str) -> object:
        parsed.append(feed if isinstance(feed, bytes) else feed.encode())
        return real(feed)

    monkeypatch.setattr(calendars_module, "parse_feed", counting)
    (tmp_path / "ann.ics").write_text(WEEKLY)
    calendars = FeedCalendars({"OA": "ann.ics"}, base=tmp_path, max_age_seconds=0)

    first = calendars.busy("OA", START, END, LONDON)
    assert calendars.busy("OA", START, END, LONDON) == first  # read again, same bytes: not parsed again
    (tmp_path / "ann.ics").write_text(WEEKLY.replace("UID:weekly@", "UID:weekly-renamed@"))
    assert calendars.busy("OA", START, END, LONDON) == first

    assert len(parsed) == 2


def test_a_missing_feed_file_names_the_owner_and_the_file(tmp_path: Path) -> None:
    calendars = FeedCalendars({"OA": "calendars/nobody.ics"}, base=tmp_path)

    with pytest.raises(CalendarFeedError, match=r"calendar of OA \(calendars/nobody.ics\) cannot be read"):
        calendars.busy("OA", START, END, LONDON)


def test_a_malformed_feed_names_the_owner_and_says_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "bad.ics").write_bytes(b"hello")
    calendars = FeedCalendars({"OA": "bad.ics"}, base=tmp_path)

    with pytest.raises(CalendarFeedError, match=r"calendar of OA \(bad.ics\) .*iCalendar"):
        calendars.busy("OA", START, END, NEW_YORK)


def test_an_http_error_names_the_owner_and_a_redacted_url(tmp_path: Path, server: FeedServer) -> None:
    calendars = FeedCalendars({"OA": f"{server.url}/private-abc123/basic.ics?token=s3cret"}, base=tmp_path)

    with pytest.raises(CalendarFeedError) as raised:
        calendars.busy("OA", START, END, LONDON)

    message = str(raised.value)
    assert message == (
        f"the calendar of OA (http://127.0.0.1:{server.port}/…/basic.ics?…) cannot be fetched: HTTP 404"
    )
    assert raised.value.__cause__ is None  # the HTTP library's error, which spells out the URL, is dropped


def test_an_unreachable_feed_says_so_without_the_token(tmp_path: Path) -> None:
    with FeedServer() as closed:
        url = f"{closed.url}/feed.ics?key=s3cret"
    calendars = FeedCalendars({"OA": url}, base=tmp_path)

    with pytest.raises(CalendarFeedError, match="cannot be fetched: cannot connect") as raised:
        calendars.out_of_office("OA", START, END, LONDON)

    assert "s3cret" not in str(raised.value)


def test_fetch_feed_reads_the_body_of_a_200(server: FeedServer) -> None:
    server.feeds.bodies["/feed.ics"] = (200, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

    assert fetch_feed(f"{server.url}/feed.ics").startswith(b"BEGIN:VCALENDAR")


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("calendars/ann.ics", "calendars/ann.ics"),
        (
            "https://calendar.google.com/calendar/ical/ann%40acme.io/private-0123abcd/basic.ics",
            "https://calendar.google.com/…/basic.ics",
        ),
        ("https://user:pw@cal.example:8443/feed.ics?token=x", "https://cal.example:8443/feed.ics?…"),
        ("https://cal.example", "https://cal.example"),
    ],
)
def test_redact_keeps_the_host_and_file_name_only(source: str, shown: str) -> None:
    assert redact(source) == shown


def test_routing_members_may_name_a_calendar_and_only_files_or_web_feeds(tmp_path: Path) -> None:
    text = """timezone: Europe/London
rules:
  - {name: all, then: {pool: p}}
  - {name: catch-all, then: {queue: q}}
pools:
  p:
    members:
      - {owner: OA, calendar: calendars/ann.ics}
      - {owner: OB, calendar: "https://cal.example/bob.ics?token=x"}
      - {owner: OC}
queues: {q: {}}
"""
    config, problems = parse_routing_text(text, base=tmp_path)
    assert config is not None, problems
    assert calendar_sources(config) == {
        "OA": "calendars/ann.ics",
        "OB": "https://cal.example/bob.ics?token=x",
    }

    broken, problems = parse_routing_text(text.replace("calendars/ann.ics", "ftp://x/a.ics"), base=tmp_path)
    assert broken is None
    assert [p.line for p in problems] == [8]
    assert "calendar must be a file or an https URL, not a ftp:// address" in problems[0].message
