from __future__ import annotations

import pytest

from bot.blocks import already_decided, help_text, not_an_approver, usage_error


@pytest.mark.parametrize(
    ("status", "by", "expected"),
    [
        ("approved", "U123", "Already approved by <@U123>; it is being executed."),
        ("executing", "U123", "Already approved by <@U123>; it is being executed."),
        ("executed", "U123", "Already executed (approved by <@U123>)."),
        ("executed", None, "Already executed."),
        ("rejected", "U123", "Already rejected by <@U123>."),
        ("approved", None, "Already approved; it is being executed."),
        ("expired", None, "This request expired before anyone decided; nothing was changed."),
        ("superseded", None, "This request was superseded: the record changed since it was proposed."),
        ("mystery", None, "This request is mystery; there is nothing left to decide."),
    ],
)
def test_already_decided_says_who_got_there_first(status: str, by: str | None, expected: str) -> None:
    assert already_decided(status, by) == expected


def test_not_an_approver_gives_the_reason() -> None:
    assert not_an_approver("U9 is not an approver for change_owner.") == (
        ":no_entry: You can't decide this request: U9 is not an approver for change_owner."
    )


def test_replies_escape_what_they_quote() -> None:
    assert "<!channel>" not in not_an_approver("<!channel>")
    assert "<!channel>" not in usage_error("/hygiene", "unknown <!channel>", "/hygiene [run|status]")


def test_usage_error_names_the_problem_and_the_usage() -> None:
    assert usage_error("/hygiene", "unknown subcommand 'go'", "/hygiene [run|status]") == (
        "`/hygiene`: unknown subcommand 'go'. Usage: `/hygiene [run|status]`"
    )


def test_help_lists_every_command() -> None:
    text = help_text()
    for command in ("/route-lead", "/hygiene run", "/hygiene status", "/approvals", "/revgate help"):
        assert f"`{command}" in text
