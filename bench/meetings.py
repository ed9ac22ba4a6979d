"""Booking latency: one ``MeetingService.book`` after another for the leads of one rep.

    .venv/bin/python bench/meetings.py [--bookings 200] [--database sqlite|postgresql://...]
        [--busy 2000]

Each booking is the whole path a ``/book-meeting`` runs after its ack: the lead's options (the
rep's iCalendar feed, of ``--busy`` weekly recurring and one-off events, the CRM's meetings and
revgate's bookings), the ``book_meeting`` proposal through the policy (a run, its proposal and
audit rows), the re-check against a fresh read of the feed, the claim, the CRM meeting activity
and the invite written to a folder. Every booking lands in a later slot than the one before, so
the search grows as the calendar fills, as it does for a busy rep.

Reference, printed beside the result: Slack expects an answer to a slash command within 3
seconds. The command acks first and books after, so this is not a hard limit, but a booking
that takes longer than that is one a person waits for.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.models import Owner  # noqa: E402
from agent.store.scratch import create_scratch_database, drop_database  # noqa: E402
from bot.container import build_services  # noqa: E402
from bot.settings import Settings  # noqa: E402

REFERENCE_SECONDS = 3.0
NOW = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # a Monday, 08:00 in New York
ROUTING = """timezone: America/New_York
rules:
  - {name: all, then: {pool: na}}
  - {name: catch-all, then: {queue: triage}}
pools:
  na:
    members:
      - {owner: OA, timezone: America/New_York, calendar: rep.ics}
queues: {triage: {}}
meetings: {duration: 30, buffer: 10, horizon_days: 60}
"""


class _Clock:
    def now(self) -> datetime:
        return NOW


def _feed(events: int) -> str:
    """``events`` busy events: a tenth weekly recurring, the rest one-off, spread over 12 weeks."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//revgate bench//EN"]
    for n in range(events):
        start = NOW + timedelta(days=(n * 7) % 84, hours=1 + n % 8, minutes=15 * (n % 4))
        lines += [
            "BEGIN:VEVENT",
            f"UID:e{n}@bench",
            "DTSTAMP:20261101T000000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(minutes=20):%Y%m%dT%H%M%SZ}",
        ]
        if n % 10 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=12")
        lines.append("END:VEVENT")
    return "\n".join([*lines, "END:VCALENDAR", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--busy", type=int, default=2000)
    parser.add_argument("--database", default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "routing.yaml").write_text(ROUTING)
        (work / "rep.ics").write_text(_feed(args.busy))
        scratch = None
        if args.database == "sqlite":
            url = f"sqlite:///{work / 'bench.db'}"
        else:
            scratch = create_scratch_database(args.database, "revgate_bench_meetings")
            url = scratch
        settings = Settings(  # type: ignore[call-arg]
            DATABASE_URL=url,
            REVGATE_ROUTING=str(work / "routing.yaml"),
            REVGATE_INVITES=f"folder:{work / 'invites'}",
        )
        counter = iter(range(10**9))
        svc = build_services(settings, clock=_Clock(), new_id=lambda: f"b{next(counter):015d}")
        try:
            svc.crm.create_owner(Owner(id="OA", name="Ann Rep", email="ann@acme.io"))  # type: ignore[attr-defined]
            leads = [
                svc.crm.create_record(  # type: ignore[attr-defined]
                    "lead",
                    {
                        "first_name": "Lead",
                        "last_name": str(n),
                        "email": f"l{n}@prospect.io",
                        "state": "NY",
                        "country": "US",
                    },
                    owner_id="OA",
                )
                for n in range(args.bookings)
            ]
            meetings = svc.meetings()
            took: list[float] = []
            booked = 0
            for lead in leads:
                began = time.perf_counter()
                result = meetings.book(lead, requested_by="bench")
                took.append(time.perf_counter() - began)
                booked += result.status == "booked"
        finally:
            svc.close()
            if scratch is not None:
                drop_database(scratch)
    p95 = statistics.quantiles(took, n=20)[-1]
    engine = args.database.split("://")[0]
    print(f"database: {engine}; feed: {args.busy} events ({args.busy // 10} weekly series)")
    rate = len(took) / sum(took)
    print(f"booked {booked} of {len(took)} in {sum(took):.1f} s: {rate:.1f} bookings per second")
    print(
        f"latency: median {statistics.median(took) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {max(took) * 1000:.0f} ms"
    )
    verdict = "within" if p95 <= REFERENCE_SECONDS else "OVER"
    print(f"reference: Slack's {REFERENCE_SECONDS:.0f}-second answer window; p95 is {verdict} it")


if __name__ == "__main__":
    main()
