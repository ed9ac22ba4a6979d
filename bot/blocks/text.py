"""Text for Block Kit: escaping, mentions, dates, field values, truncation and packing.

Everything a planner, a CRM or a person typed is escaped before it reaches
mrkdwn: a rationale containing ``<!channel>`` must not ping a channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from agent.describe import owner_name
from agent.models import OWNER_FIELD, FieldChange, FieldValue, Owner, Target

ELLIPSIS = "…"
BLANK = "∅"
VALUE_MAX = 300
"""Longest single field value shown on a card; the Details modal shows more."""

# Slack ids are upper-case alphanumerics with at least one digit; "WALTER" from the CLI is a name.
_SLACK_USER = re.compile(r"[UW][A-Z0-9]*[0-9][A-Z0-9]*")
_SLACK_GROUP = re.compile(r"S[A-Z0-9]*[0-9][A-Z0-9]*")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut.

    The cut never splits an escape (``&amp;``) or a Slack token (``<@U1>``), which
    would render as garbage or break the link.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    if cut.rfind("&") > cut.rfind(";"):
        cut = cut[: cut.rfind("&")]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    return cut + ELLIPSIS


def who(actor: str | None) -> str:
    """A Slack user or user group as a mention; anything else (``agent``, a CLI user) as text."""
    if not actor:
        return "someone"
    if _SLACK_USER.fullmatch(actor):
        return f"<@{actor}>"
    if _SLACK_GROUP.fullmatch(actor):
        return f"<!subteam^{actor}>"
    return escape(actor)


def people(actors: Iterable[str]) -> str:
    return ", ".join(who(a) for a in actors)


def utc(when: datetime) -> datetime:
    # Naive datetimes in revgate are UTC (the store writes UTC); never the host's zone.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def slack_date(when: datetime) -> str:
    """A date each reader sees in their own time zone, with a UTC fallback for old clients."""
    moment = utc(when)
    fallback = f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def value_text(name: str, value: FieldValue, owners: Mapping[str, Owner], limit: int = VALUE_MAX) -> str:
    """A field value for display: owners by name, blanks as ∅, escaped and cut to ``limit``."""
    if name == OWNER_FIELD:
        return escape(owner_name(value, owners))
    if value is None or value == "":
        return BLANK
    return truncate(escape(one_line(str(value))), limit)


def change_text(name: str, change: FieldChange, owners: Mapping[str, Owner], limit: int = VALUE_MAX) -> str:
    before = value_text(name, change.before, owners, limit)
    after = value_text(name, change.after, owners, limit)
    return f"*{escape(name)}*: {before} → {after}"


def plain_value(name: str, value: FieldValue, owners: Mapping[str, Owner]) -> str:
    """A field value for plain_text (shown literally, so not escaped)."""
    if name == OWNER_FIELD:
        return owner_name(value, owners)
    return BLANK if value is None or value == "" else one_line(str(value))


def plain_changes(target: Target, owners: Mapping[str, Owner]) -> str:
    """A record's changes (or its note) as one plain_text line."""
    changes = "; ".join(
        f"{name}: {plain_value(name, c.before, owners)} → {plain_value(name, c.after, owners)}"
        for name, c in target.changes.items()
    )
    return changes or one_line(target.note or "")


def link(label: str, url: str | None) -> str:
    """``label`` (already escaped) linked to ``url`` when the URL is safe inside ``<…|…>``."""
    if not url or any(c in url for c in "<>| \n") or len(url) > 2000:
        return label
    return f"<{url}|{label}>"


def pack(lines: Iterable[str], limit: int) -> list[str]:
    """Join lines into as few texts of at most ``limit`` characters as possible.

    A single line longer than ``limit`` is truncated; lines are never split.
    """
    chunks: list[str] = []
    current = ""
    for raw in lines:
        line = truncate(raw, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def wrap(text: str, limit: int) -> list[str]:
    """``text`` (already escaped) split into pieces of at most ``limit`` characters.

    Splits at a space where it can, and never inside an escape or a Slack token,
    so long text can be shown whole across several blocks instead of cut.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        head = rest[:cut]
        if head.rfind("&") > head.rfind(";"):
            cut = head.rfind("&") or cut
        if head.rfind("<") > head.rfind(">"):
            cut = head.rfind("<") or cut
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip(" ")
    pieces.append(rest)
    return pieces
