"""Meeting scheduling core: a lead's time zone, a member's busy times and the slots that fit.

Pure and deterministic: no Slack, no CRM, no database, no clock (``now`` is always passed in).

- :mod:`~agent.meetings.timezones`: the lead's zone from country, state and phone, with its
  source, confidence and the assumption in words (tables in ``countries``, ``regions``,
  ``region_table``);
- :mod:`~agent.meetings.busy`: busy intervals from an iCalendar feed;
  :mod:`~agent.meetings.leave`: whole days the feed marks out of office;
- :mod:`~agent.meetings.hours`: working or business hours in wall-clock terms;
- :mod:`~agent.meetings.slots`: the first slots that fit both parties, or why none does, and
  the re-check before booking (``still_free``);
- :mod:`~agent.meetings.invites`: the iCalendar invite of a booking, and its reschedule and
  cancellation (one ``UID``, a rising ``SEQUENCE``);
- :mod:`~agent.meetings.intervals`: the ``[start, end)`` arithmetic underneath.
"""
