"""Slack identifiers: action ids, view callback ids, block ids and input ids.

Each family shares a prefix so a listener can route a whole family with one
pattern, e.g. ``app.action(re.compile(r"^approval_"))``. A button's ``value``
carries the approval id and nothing else: the payload is read from the database
at click time, never trusted from Slack.
"""

from __future__ import annotations

import re

# Buttons and checkboxes on approval cards (messages). Prefix: ``approval_``.
ACTION_APPROVE = "approval_approve"
ACTION_REJECT = "approval_reject"
ACTION_EDIT = "approval_edit"
ACTION_DETAILS = "approval_details"
ACTION_UNDO = "approval_undo"
ACTION_BULK_APPROVE = "approval_bulk_approve"
ACTION_BULK_REJECT = "approval_bulk_reject"
ACTION_EXCLUDE = "approval_exclude"
"""The checkboxes of a bulk card; each option's value is a record id."""

# Modals (view callback ids).
VIEW_REJECT = "reject_modal"
VIEW_EDIT = "edit_modal"
VIEW_DETAILS = "details_modal"

# Inputs inside modals: the block id and the element's action id, as found in
# ``view.state.values[block_id][action_id]`` on submission.
BLOCK_REASON = "reject_reason"
INPUT_REASON = "reject_reason_input"
BLOCK_EDIT_TARGETS = "edit_targets"
"""Record checkboxes; with more than 10 records the blocks are ``edit_targets_0``, ``edit_targets_1``, …"""
INPUT_EDIT_TARGETS = "edit_targets_input"
BLOCK_EDIT_FIELDS = "edit_fields"
"""Field checkboxes; split like :data:`BLOCK_EDIT_TARGETS` when there are more than 10 fields."""
INPUT_EDIT_FIELDS = "edit_fields_input"

# Bulk cards: the sample's checkbox blocks are ``bulk_items_0``, ``bulk_items_1``, …
BLOCK_BULK_ITEMS = "bulk_items"

# App Home. Prefix: ``home_``.
HOME_REFRESH = "home_refresh"
"""Button that re-renders the Home tab."""

# Booked meetings' messages and modals. Prefix: ``meeting_``. A button's ``value`` is the
# meeting id and nothing else; a modal's ``private_metadata`` is a small JSON object naming
# the meeting (and, for Reschedule, the revision it showed). Everything is re-read from the
# database when the click or the submission arrives.
ACTION_RESCHEDULE = "meeting_reschedule"
ACTION_CANCEL = "meeting_cancel"
VIEW_RESCHEDULE = "meeting_reschedule_modal"
VIEW_CANCEL = "meeting_cancel_modal"
BLOCK_SLOT = "meeting_slot"
INPUT_SLOT = "meeting_slot_input"
"""Radio buttons; each option's value is a start time, ``2026-12-01T15:00Z`` (UTC)."""
BLOCK_CANCEL_REASON = "meeting_cancel_reason"
INPUT_CANCEL_REASON = "meeting_cancel_reason_input"

MEETING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
"""What a meeting id may look like; anything else in a payload is refused before any lookup."""
