"""The whole agent with a routing file, calendar feeds and an invite folder, for the booking tests.

Monday 30 November 2026, 08:00 in New York (13:00 UTC). Two reps in pool ``na``: Ann (OA,
New York, 09:00-17:00, her calendar a file the test edits) and Bob (OB, Chicago). The
routing file books a meeting for leads whose ``lead_source`` is ``Demo request``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from agent.meetings.service import MeetingService
from agent.models import Owner, Record
from agent.policy_file import load_policy
from bot.container import Services, build_services
from bot.settings import Settings
from tests.agent.meetings.support import utc
from tests.support.fakes import FixedClock, RecordingNotifier, StaticGroups, sequential_ids

ROOT = Path(__file__).resolve().parents[3]
NOW = utc(2026, 11, 30, 13)
EMPTY = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//revgate tests//booking//EN\nEND:VCALENDAR\n"
ROUTING = """timezone: America/New_York
rules:
  - {name: na, when: {field: country, in: [US, CA, JP, DE]}, then: {pool: na}}
  - {name: catch-all, then: {queue: triage}}
pools:
  na:
    members:
      - {owner: OA, timezone: America/New_York, calendar: ann.ics}
      - {owner: OB, timezone: America/Chicago}
queues: {triage: {}}
meetings:
  offer_when: {field: lead_source, in: [Demo request]}
  duration: 30
  buffer: 10
"""


class MeetingStack:
    """Services on a fresh database, the routing file above, Ann's feed and the invite folder."""

    def __init__(self, database_url: str, folder: Path, *, policy: str = "default.yaml") -> None:
        self.folder = folder
        self.calendar = folder / "ann.ics"
        self.calendar.write_text(EMPTY)
        (folder / "routing.yaml").write_text(ROUTING)
        self.invites = folder / "invites"
        self.clock = FixedClock(NOW)
        self.notifier = RecordingNotifier()
        settings = Settings(
            DATABASE_URL=database_url,
            REVGATE_ROUTING=str(folder / "routing.yaml"),
            REVGATE_INVITES=f"folder:{self.invites}",
        )
        self.services: Services = build_services(
            settings,
            clock=self.clock,
            new_id=sequential_ids("m"),
            notifier=self.notifier,
            directory=StaticGroups({}),
            policy=load_policy(ROOT / "policies" / policy),
        )
        self.crm = self.services.crm
        for owner_id, name in (("OA", "Ann Rep"), ("OB", "Bob Rep")):
            self.crm.create_owner(Owner(id=owner_id, name=name, email=f"{owner_id.lower()}@acme.io"))  # type: ignore[attr-defined]

    @property
    def meetings(self) -> MeetingService:
        return self.services.meetings()

    def lead(self, owner_id: str | None = "OA", **fields: object) -> Record:
        base: dict[str, object] = {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane@prospect.io",
            "company": "Prospect",
            "status": "New",
            "country": "US",
            "state": "NY",
        }
        base.update(fields)
        return self.crm.create_record("lead", base, owner_id=owner_id)  # type: ignore[attr-defined,no-any-return]

    def busy(self, start: datetime, end: datetime, uid: str = "busy@example.com") -> None:
        """Add an event to Ann's calendar feed."""
        lines = self.calendar.read_text().replace("END:VCALENDAR\n", "")
        lines += (
            f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20261101T000000Z\nSUMMARY:Busy\n"
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}\nDTEND:{end:%Y%m%dT%H%M%SZ}\nEND:VEVENT\nEND:VCALENDAR\n"
        )
        self.calendar.write_text(lines)

    def invite_files(self) -> list[str]:
        return sorted(p.name for p in self.invites.glob("*.ics")) if self.invites.exists() else []

    def invite(self, name: str) -> Calendar:
        return Calendar.from_ical((self.invites / name).read_bytes())

    def close(self) -> None:
        self.services.close()


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
