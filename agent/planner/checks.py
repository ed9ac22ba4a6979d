"""The offline planner's hygiene checks, one function each.

Each check reads records and returns :class:`Draft` proposals; the planner decides
which records each check may touch (see ``OfflinePlanner.plan``), orders the drafts
and gives them ids. Checks are pure: time comes in as an argument.

The checks live by theme: :mod:`~agent.planner.field_checks` (formats, unusable
emails, stale status), :mod:`~agent.planner.owner_checks` (unowned leads, inactive
owners) and :mod:`~agent.planner.record_checks` (merges, deletes); the draft they
build is in :mod:`~agent.planner.draft`. This module gathers them in one namespace.
"""

from __future__ import annotations

from agent.planner.draft import CHECK_ORDER, SOURCE, Draft, Evidence, RecordKey, key, label, target
from agent.planner.field_checks import invalid_emails, normalize_fields, stale_leads
from agent.planner.owner_checks import CLOSED_LEAD_STATUSES, inactive_owners, unowned_leads
from agent.planner.record_checks import MERGE_CAVEATS, duplicate_emails, junk_deletes, junk_leads

__all__ = [
    "CHECK_ORDER",
    "CLOSED_LEAD_STATUSES",
    "MERGE_CAVEATS",
    "SOURCE",
    "Draft",
    "Evidence",
    "RecordKey",
    "duplicate_emails",
    "inactive_owners",
    "invalid_emails",
    "junk_deletes",
    "junk_leads",
    "key",
    "label",
    "normalize_fields",
    "stale_leads",
    "target",
    "unowned_leads",
]
