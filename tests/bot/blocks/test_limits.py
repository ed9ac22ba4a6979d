from __future__ import annotations

import pytest
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.blocks import check_message, check_view


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def one_problem(blocks: list[Block], expected: str, text: str = "fallback") -> None:
    problems = check_message(blocks, text)
    assert len(problems) == 1, problems
    assert expected in problems[0]


def options(count: int) -> list[Option]:
    return [Option(value=f"v{n}", text=PlainTextObject(text=f"option {n}")) for n in range(count)]


def button(**overrides: object) -> ButtonElement:
    values: dict[str, object] = {"text": PlainTextObject(text="Go"), "action_id": "go", "value": "apr_1"}
    values.update(overrides)
    return ButtonElement(**values)  # type: ignore[arg-type]


def test_a_valid_message_has_no_problems() -> None:
    blocks: list[Block] = [
        HeaderBlock(block_id="h", text=PlainTextObject(text="x" * 150)),
        SectionBlock(block_id="s", text=md("x" * 3000), fields=[md("y" * 2000)] * 10),
        ContextBlock(block_id="c", elements=[md("z")] * 10),
        ActionsBlock(
            block_id="a", elements=[button(), CheckboxesElement(action_id="c", options=options(10))]
        ),
        *[DividerBlock(block_id=f"d{n}") for n in range(46)],
    ]
    assert check_message(blocks, "fallback") == []


def test_fallback_text_must_not_be_empty() -> None:
    assert check_message([DividerBlock()], "  ") == ["text: the fallback text is empty"]


def test_fallback_text_length_is_limited() -> None:
    one_problem([DividerBlock()], "the fallback text has 40001 characters; the limit is 40000", "x" * 40_001)


def test_a_message_holds_at_most_50_blocks() -> None:
    one_problem([DividerBlock() for _ in range(51)], "blocks: a message has 51 blocks; the limit is 50")


def test_section_text_is_limited_to_3000_characters() -> None:
    one_problem(
        [SectionBlock(block_id="why", text=md("x" * 3001))], "section 'why': text has 3001 characters"
    )


def test_a_section_holds_at_most_10_fields() -> None:
    one_problem([SectionBlock(fields=[md("f")] * 11)], "fields has 11 items; the limit is 10")


def test_a_field_holds_at_most_2000_characters() -> None:
    one_problem(
        [SectionBlock(fields=[md("f"), md("x" * 2001)])], "fields[1] has 2001 characters; the limit is 2000"
    )


def test_a_section_needs_text_or_fields() -> None:
    one_problem([SectionBlock(block_id="empty")], "a section needs text or fields")


def test_empty_text_is_a_problem() -> None:
    one_problem([SectionBlock(text=md(""))], "text is empty")


def test_header_is_limited_to_150_plain_text_characters() -> None:
    one_problem([HeaderBlock(text=PlainTextObject(text="x" * 151))], "header: text has 151 characters")


def test_context_holds_at_most_10_elements() -> None:
    one_problem([ContextBlock(elements=[md("c")] * 11)], "elements has 11 items; the limit is 10")


def test_button_text_value_and_action_id_are_limited() -> None:
    one_problem(
        [ActionsBlock(elements=[button(text=PlainTextObject(text="x" * 76))])], "text has 76 characters"
    )
    one_problem(
        [ActionsBlock(elements=[button(value="x" * 2001)])], "value has 2001 characters; the limit is 2000"
    )
    one_problem([ActionsBlock(elements=[button(action_id="x" * 256)])], "action_id has 256 characters")


def test_block_id_is_limited_to_255_characters() -> None:
    one_problem([DividerBlock(block_id="x" * 256)], "block_id has 256 characters; the limit is 255")


def test_block_ids_must_be_unique() -> None:
    one_problem([DividerBlock(block_id="d"), DividerBlock(block_id="d")], "block_id 'd' is used 2 times")


def test_action_ids_must_be_unique_within_a_block() -> None:
    one_problem([ActionsBlock(elements=[button(), button()])], "action_id 'go' is used 2 times in one block")


def test_checkboxes_hold_at_most_10_options() -> None:
    element = CheckboxesElement(action_id="c", options=options(11))
    one_problem([ActionsBlock(block_id="items", elements=[element])], "options has 11 items; the limit is 10")


def test_option_text_value_and_description_are_limited() -> None:
    long_text = Option(value="v", text=PlainTextObject(text="x" * 76))
    long_value = Option(value="v" * 151, text=PlainTextObject(text="ok"))
    long_description = Option(
        value="v", text=PlainTextObject(text="ok"), description=PlainTextObject(text="d" * 76)
    )
    for option, expected in (
        (long_text, "text has 76 characters; the limit is 75"),
        (long_value, "value has 151 characters; the limit is 150"),
        (long_description, "description has 76 characters; the limit is 75"),
    ):
        one_problem([ActionsBlock(elements=[CheckboxesElement(action_id="c", options=[option])])], expected)


def test_initial_options_must_be_among_the_options() -> None:
    element = CheckboxesElement(
        action_id="c", options=options(2), initial_options=[Option(value="other", text="x")]
    )
    one_problem([ActionsBlock(elements=[element])], "initial_options ['other'] are not among the options")


def test_confirm_dialog_text_and_title_are_limited() -> None:
    long_text = ConfirmObject(title="Sure?", text="x" * 301)
    one_problem([ActionsBlock(elements=[button(confirm=long_text)])], "confirm: text has 301 characters")
    long_title = ConfirmObject(title="x" * 101, text="ok")
    one_problem([ActionsBlock(elements=[button(confirm=long_title)])], "confirm: title has 101 characters")


def test_input_label_hint_and_placeholder_are_limited() -> None:
    element = PlainTextInputElement(action_id="i", placeholder="p" * 151)
    one_problem([InputBlock(label="ok", element=element)], "placeholder has 151 characters; the limit is 150")
    plain = PlainTextInputElement(action_id="i")
    one_problem([InputBlock(label="x" * 2001, element=plain)], "label has 2001 characters")
    one_problem([InputBlock(label="ok", hint="x" * 2001, element=plain)], "hint has 2001 characters")


def test_every_problem_is_reported_at_once() -> None:
    blocks: list[Block] = [
        SectionBlock(block_id="a", text=md("x" * 3001)),
        HeaderBlock(block_id="b", text=PlainTextObject(text="x" * 151)),
    ]
    assert len(check_message(blocks, "")) == 3


# --- views ----------------------------------------------------------------


def modal(**overrides: object) -> View:
    values: dict[str, object] = {
        "type": "modal",
        "callback_id": "m",
        "title": "Title",
        "submit": "Save",
        "close": "Cancel",
        "blocks": [InputBlock(block_id="i", label="Why?", element=PlainTextInputElement(action_id="r"))],
    }
    values.update(overrides)
    return View(**values)  # type: ignore[arg-type]


def test_a_valid_modal_has_no_problems() -> None:
    assert check_view(modal()) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"title": "x" * 25}, "the title has 25 characters; the limit is 24"),
        ({"submit": "x" * 25}, "the submit button has 25 characters; the limit is 24"),
        ({"close": "x" * 25}, "the close button has 25 characters; the limit is 24"),
        ({"private_metadata": "x" * 3001}, "private_metadata has 3001 characters; the limit is 3000"),
        ({"callback_id": "x" * 256}, "callback_id has 256 characters; the limit is 255"),
        ({"blocks": [DividerBlock() for _ in range(101)]}, "a view has 101 blocks; the limit is 100"),
        ({"submit": None}, "a modal with input blocks needs a submit button"),
        ({"blocks": []}, "a view needs at least one block"),
    ],
)
def test_each_view_limit_is_detected(overrides: dict[str, object], expected: str) -> None:
    problems = check_view(modal(**overrides))
    assert any(expected in p for p in problems), problems


def test_a_home_view_has_no_submit_or_close() -> None:
    view = View(type="home", blocks=[DividerBlock()], close="Close")
    assert check_view(view) == ["view: a home view cannot have a close button"]


def test_view_blocks_are_checked_like_message_blocks() -> None:
    view = modal(blocks=[SectionBlock(block_id="big", text=md("x" * 3001))], submit=None)
    assert check_view(view) == ["blocks[0] section 'big': text has 3001 characters; the limit is 3000"]
