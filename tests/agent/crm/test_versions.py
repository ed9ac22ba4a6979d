"""Remote record versions change whenever what revgate reads of the record changes."""

from __future__ import annotations

from agent.crm.versions import content_version, stamp_of

STAMP = "2026-11-24T10:00:00.000Z"


def test_the_version_carries_the_stamp() -> None:
    assert stamp_of(content_version(STAMP, "O1", {"phone": "+1"})) == STAMP


def test_two_writes_in_one_tick_get_two_versions() -> None:
    first = content_version(STAMP, "O1", {"phone": "+1", "email": "a@b.io"})
    second = content_version(STAMP, "O1", {"phone": "+2", "email": "a@b.io"})
    moved = content_version(STAMP, "O2", {"phone": "+1", "email": "a@b.io"})

    assert len({first, second, moved}) == 3


def test_the_version_does_not_depend_on_field_order() -> None:
    assert content_version(STAMP, None, {"a": 1, "b": None}) == content_version(
        STAMP, None, {"b": None, "a": 1}
    )


def test_a_new_stamp_is_a_new_version_even_with_the_same_values() -> None:
    assert content_version(STAMP, None, {"a": 1}) != content_version(
        "2026-11-24T10:00:01.000Z", None, {"a": 1}
    )
