"""Reading what Slack sent: small typed accessors over interaction payloads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_bolt import Respond

from bot import ids


def user_id(body: Mapping[str, Any]) -> str:
    user = body.get("user") or {}
    return str(user.get("id") or body.get("user_id") or "")


def action_value(body: Mapping[str, Any]) -> str:
    """The clicked button's value: an approval id and nothing else."""
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def selected_values(state: Mapping[str, Any], block_prefix: str) -> set[str] | None:
    """Values ticked in every checkboxes input whose block id starts with ``block_prefix``.

    ``None`` when the view or message has no such block at all.
    """
    found = False
    selected: set[str] = set()
    for block_id, inputs in (state.get("values") or {}).items():
        if not str(block_id).startswith(block_prefix):
            continue
        for element in inputs.values():
            found = True
            selected.update(str(o["value"]) for o in element.get("selected_options") or [])
    return selected if found else None


def excluded_items(body: Mapping[str, Any]) -> set[str]:
    """Items unticked on a bulk card when "Approve all" was clicked.

    Judged block by block: a checkbox group the clicker never touched may be
    missing from ``state``, and then all its items stay in.
    """
    state = (body.get("state") or {}).get("values") or {}
    excluded: set[str] = set()
    for block in (body.get("message") or {}).get("blocks") or []:
        block_id = str(block.get("block_id", ""))
        if not block_id.startswith(ids.BLOCK_BULK_ITEMS) or block_id not in state:
            continue
        shown = {
            str(option["value"])
            for element in block.get("elements") or []
            if element.get("action_id") == ids.ACTION_EXCLUDE
            for option in element.get("options") or []
        }
        ticked = {
            str(option["value"])
            for element in state[block_id].values()
            for option in element.get("selected_options") or []
        }
        excluded |= shown - ticked
    return excluded


def listed_options(blocks: list[Any], block_prefix: str) -> set[str]:
    """Option values of the checkbox inputs in a view whose block id starts with ``block_prefix``."""
    listed: set[str] = set()
    for block in blocks:
        if str(block.get("block_id", "")).startswith(block_prefix):
            element = block.get("element") or {}
            listed.update(str(option["value"]) for option in element.get("options") or [])
    return listed


def reject_reason(view: Mapping[str, Any]) -> str:
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(ids.BLOCK_REASON) or {}).get(ids.INPUT_REASON) or {}
    return str(field.get("value") or "").strip()


def responder(task: Mapping[str, Any]) -> Respond:
    """Replies to the ``response_url`` a stored task carries (valid for 30 minutes, 5 replies)."""
    return Respond(response_url=task.get("response_url"))


def meeting_value(body: Mapping[str, Any]) -> str | None:
    """The clicked button's meeting id, or ``None`` when the value is not one (forged, or garbled)."""
    value = action_value(body)
    return value if ids.MEETING_ID.fullmatch(value) else None


def meeting_metadata(view: Mapping[str, Any]) -> tuple[str, int | None] | None:
    """``(meeting id, revision)`` from a meeting modal's ``private_metadata``; ``None`` if it is not
    one revgate wrote (the revision is ``None`` when the modal carries none)."""
    try:
        data = json.loads(str(view.get("private_metadata") or ""))
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    meeting, revision = data.get("meeting"), data.get("revision")
    if not isinstance(meeting, str) or not ids.MEETING_ID.fullmatch(meeting):
        return None
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        return None
    return meeting, revision


def selected_option(view: Mapping[str, Any], block_id: str, action_id: str) -> str:
    """The value of the option chosen in a radio buttons (or select) input; empty if none."""
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(block_id) or {}).get(action_id) or {}
    return str((field.get("selected_option") or {}).get("value") or "")


def input_text(view: Mapping[str, Any], block_id: str, action_id: str) -> str:
    """A plain text input's value, stripped; empty if none."""
    values = (view.get("state") or {}).get("values") or {}
    field = (values.get(block_id) or {}).get(action_id) or {}
    return str(field.get("value") or "").strip()
