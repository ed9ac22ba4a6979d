"""Half-open time intervals ``[start, end)`` in UTC, and the few operations slot finding needs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

Interval = tuple[datetime, datetime]
"""``(start, end)``: aware datetimes, ``start < end``, the end excluded."""


def require_aware(moment: datetime, name: str) -> datetime:
    """``moment`` in UTC; a naive datetime is a programming error, never guessed at."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not {moment!r}")
    return moment.astimezone(UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals in UTC; touching or overlapping ones become one."""
    ordered = sorted((s.astimezone(UTC), e.astimezone(UTC)) for s, e in intervals if s < e)
    merged: list[Interval] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of ``intervals`` inside ``[start, end)`` (empty parts dropped)."""
    return [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]


def conflicts(slot: Interval, busy: Iterable[Interval], buffer: timedelta = timedelta(0)) -> bool:
    """Whether ``slot`` overlaps a busy interval widened by ``buffer`` on both sides.

    Touching is not overlapping: with no buffer, a meeting may start as another ends.
    """
    start, end = slot
    return any(start < b_end + buffer and b_start - buffer < end for b_start, b_end in busy)
