"""Meeting scheduling: a lead's time zone, a member's busy times, the slots that fit, and booking.

The core is pure and deterministic: no Slack, no CRM, no database, no clock (``now`` is always
passed in):

- :mod:`~agent.meetings.timezones`: the lead's zone from country, state and phone, with its
  source, confidence and the assumption in words (tables in ``countries``, ``regions``,
  ``region_table``);
- :mod:`~agent.meetings.busy`: busy intervals from an iCalendar feed;
  :mod:`~agent.meetings.leave`: whole days the feed marks out of office;
- :mod:`~agent.meetings.hours`: working or business hours in wall-clock terms;
- :mod:`~agent.meetings.slots`: the first slots that fit both parties, or why none does, and
  the re-check before booking (``still_free``);
- :mod:`~agent.meetings.conditions`: what the policy measures on a booking
  (``outside_working_hours``, ``other_rep``);
- :mod:`~agent.meetings.plans`: the ``book_meeting`` proposal for a chosen slot;
- :mod:`~agent.meetings.invites`: the iCalendar invite of a booking, and its reschedule and
  cancellation (one ``UID``, a rising ``SEQUENCE``);
- :mod:`~agent.meetings.intervals`: the ``[start, end)`` arithmetic underneath.

Around it, with I/O: :mod:`~agent.meetings.calendars` (the calendar port and the feeds),
:mod:`~agent.meetings.options` (a lead's options from the routing file),
:mod:`~agent.meetings.booked` (busy times including the meetings already booked),
:mod:`~agent.meetings.bookings` (the ``meetings`` table), :mod:`~agent.meetings.writer` (book,
move, cancel, and keeping the CRM activity and the invite in step) and
:mod:`~agent.meetings.service` (booking through the policy, re-planning a taken slot).
"""
