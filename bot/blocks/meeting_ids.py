"""Slack identifiers of booked meetings' messages and modals. Prefix: ``meeting_``.

Kept beside :mod:`bot.ids` (same conventions): a button's ``value`` is the meeting id
and nothing else; a modal's ``private_metadata`` is a small JSON object naming the
meeting (and, for Reschedule, the revision it showed). Everything is re-read from the
database when the click or the submission arrives, never trusted from Slack.
"""

from __future__ import annotations

import re

# Buttons on a booking message.
ACTION_RESCHEDULE = "meeting_reschedule"
ACTION_CANCEL = "meeting_cancel"

# Modals (view callback ids).
VIEW_RESCHEDULE = "meeting_reschedule_modal"
VIEW_CANCEL = "meeting_cancel_modal"

# Inputs inside the modals (``view.state.values[block_id][action_id]``).
BLOCK_SLOT = "meeting_slot"
INPUT_SLOT = "meeting_slot_input"
"""Radio buttons; each option's value is a start time, ``2026-12-01T15:00Z`` (UTC)."""
BLOCK_CANCEL_REASON = "meeting_cancel_reason"
INPUT_CANCEL_REASON = "meeting_cancel_reason_input"

MEETING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
"""What a meeting id may look like; anything else in a payload is refused before any lookup."""
