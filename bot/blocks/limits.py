"""Block Kit limits, checked on the typed payload before it is sent.

Slack answers an oversize payload with ``invalid_blocks`` and no detail, and
slack_sdk's own validation misses several limits (10 options per checkboxes or radio buttons
element, 2000 characters per section field, 50 blocks per message, unique
block ids). These checks name every problem at once, so a test can assert that
a 500-record approval still renders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    InteractiveElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    TextObject,
)
from slack_sdk.models.views import View

MESSAGE_TEXT_MAX = 40_000
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BLOCK_ID_MAX = 255
ACTION_ID_MAX = 255
BUTTON_TEXT_MAX = 75
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
CHECKBOX_OPTIONS_MAX = 10
RADIO_OPTIONS_MAX = 10
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTION_DESCRIPTION_MAX = 75
CONFIRM_TITLE_MAX = 100
CONFIRM_TEXT_MAX = 300
CONFIRM_BUTTON_MAX = 30
INPUT_LABEL_MAX = 2000
INPUT_HINT_MAX = 2000
PLACEHOLDER_MAX = 150
INPUT_LENGTH_MAX = 3000
VIEW_TITLE_MAX = 24
VIEW_BUTTON_MAX = 24
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255


def check_message(blocks: Sequence[Block], text: str) -> list[str]:
    """Every Block Kit limit a message payload violates; empty when it can be sent."""
    problems: list[str] = []
    if not text.strip():
        problems.append("text: the fallback text is empty")
    _at_most(problems, "text", "the fallback text", len(text), MESSAGE_TEXT_MAX, "characters")
    _at_most(problems, "blocks", "a message", len(blocks), MESSAGE_MAX_BLOCKS, "blocks")
    problems.extend(_check_blocks(blocks))
    return problems


def check_view(view: View) -> list[str]:
    """Every Block Kit limit a modal or Home tab view violates; empty when it can be opened."""
    problems: list[str] = []
    blocks = view.blocks or []
    if view.type not in ("modal", "home"):
        problems.append(f"view: type {view.type!r} is neither 'modal' nor 'home'")
    if view.type == "modal" and (view.title is None or not view.title.text):
        problems.append("view: a modal needs a title")
    if view.title is not None:
        _at_most(problems, "view", "the title", len(view.title.text), VIEW_TITLE_MAX, "characters")
    for name, button in (("submit", view.submit), ("close", view.close)):
        if button is None:
            continue
        if view.type == "home":
            problems.append(f"view: a home view cannot have a {name} button")
        _at_most(problems, "view", f"the {name} button", len(button.text), VIEW_BUTTON_MAX, "characters")
    if view.type == "modal" and view.submit is None and any(isinstance(b, InputBlock) for b in blocks):
        problems.append("view: a modal with input blocks needs a submit button")
    if not blocks:
        problems.append("view: a view needs at least one block")
    _at_most(problems, "blocks", "a view", len(blocks), VIEW_MAX_BLOCKS, "blocks")
    metadata = view.private_metadata or ""
    _at_most(problems, "view", "private_metadata", len(metadata), PRIVATE_METADATA_MAX, "characters")
    _at_most(problems, "view", "callback_id", len(view.callback_id or ""), CALLBACK_ID_MAX, "characters")
    problems.extend(_check_blocks(blocks))
    return problems


def _at_most(problems: list[str], where: str, what: str, size: int, limit: int, unit: str) -> None:
    if size > limit:
        problems.append(f"{where}: {what} has {size} {unit}; the limit is {limit}")


def _check_blocks(blocks: Sequence[Block]) -> list[str]:
    problems: list[str] = []
    counts = Counter(b.block_id for b in blocks if b.block_id)
    for block_id, count in counts.items():
        if count > 1:
            problems.append(f"blocks: block_id {block_id!r} is used {count} times; block ids must be unique")
    for n, block in enumerate(blocks):
        where = f"blocks[{n}] {block.type}" + (f" {block.block_id!r}" if block.block_id else "")
        found = _check_block(where, block)
        if not found:
            # Whatever slack_sdk knows about that these checks do not (other block types).
            try:
                block.to_dict()
            except SlackObjectFormationError as error:
                found.append(f"{where}: {error}")
        problems.extend(found)
    return problems


def _check_block(where: str, block: Block) -> list[str]:
    problems: list[str] = []
    _at_most(problems, where, "block_id", len(block.block_id or ""), BLOCK_ID_MAX, "characters")
    if isinstance(block, SectionBlock):
        if block.text is None and not block.fields:
            problems.append(f"{where}: a section needs text or fields")
        if block.text is not None:
            _text(problems, where, "text", block.text, SECTION_TEXT_MAX)
        fields = block.fields or []
        _at_most(problems, where, "fields", len(fields), SECTION_FIELDS_MAX, "items")
        for i, field in enumerate(fields):
            _text(problems, where, f"fields[{i}]", field, FIELD_TEXT_MAX)
        if block.accessory is not None:
            _element(problems, f"{where} accessory", block.accessory)
    elif isinstance(block, HeaderBlock):
        if block.text is None:
            problems.append(f"{where}: a header needs text")
        else:
            _text(problems, where, "text", block.text, HEADER_TEXT_MAX, plain=True)
    elif isinstance(block, ContextBlock):
        elements = block.elements or []
        if not elements:
            problems.append(f"{where}: a context block needs at least one element")
        _at_most(problems, where, "elements", len(elements), CONTEXT_ELEMENTS_MAX, "items")
        for i, element in enumerate(elements):
            if isinstance(element, TextObject):
                _text(problems, where, f"elements[{i}]", element, SECTION_TEXT_MAX)
    elif isinstance(block, ActionsBlock):
        elements = block.elements or []
        if not elements:
            problems.append(f"{where}: an actions block needs at least one element")
        _at_most(problems, where, "elements", len(elements), ACTIONS_ELEMENTS_MAX, "items")
        _unique_action_ids(problems, where, elements)
        for i, element in enumerate(elements):
            _element(problems, f"{where} elements[{i}]", element)
    elif isinstance(block, InputBlock):
        if block.label is None or not block.label.text:
            problems.append(f"{where}: an input block needs a label")
        else:
            _text(problems, where, "label", block.label, INPUT_LABEL_MAX, plain=True)
        if block.hint is not None:
            _text(problems, where, "hint", block.hint, INPUT_HINT_MAX, plain=True)
        if block.element is None:
            problems.append(f"{where}: an input block needs an element")
        else:
            _element(problems, f"{where} element", block.element)
    return problems


def _text(
    problems: list[str], where: str, what: str, text: TextObject, limit: int, plain: bool = False
) -> None:
    if not text.text:
        problems.append(f"{where}: {what} is empty")
    _at_most(problems, where, what, len(text.text or ""), limit, "characters")
    if plain and text.type != "plain_text":
        problems.append(f"{where}: {what} must be plain_text, not {text.type}")


def _unique_action_ids(problems: list[str], where: str, elements: Sequence[object]) -> None:
    action_ids = Counter(getattr(e, "action_id", None) for e in elements)
    for action_id, count in action_ids.items():
        if action_id and count > 1:
            problems.append(f"{where}: action_id {action_id!r} is used {count} times in one block")


def _element(problems: list[str], where: str, element: object) -> None:
    if isinstance(element, InteractiveElement):
        _at_most(problems, where, "action_id", len(element.action_id or ""), ACTION_ID_MAX, "characters")
    confirm = getattr(element, "confirm", None)
    if isinstance(confirm, ConfirmObject):
        _confirm(problems, f"{where} confirm", confirm)
    if isinstance(element, ButtonElement):
        if element.text is None or not element.text.text:
            problems.append(f"{where}: a button needs text")
        else:
            _text(problems, where, "text", element.text, BUTTON_TEXT_MAX, plain=True)
        _at_most(problems, where, "value", len(element.value or ""), BUTTON_VALUE_MAX, "characters")
        _at_most(problems, where, "url", len(element.url or ""), URL_MAX, "characters")
    elif isinstance(element, CheckboxesElement):
        options = element.options or []
        if not options:
            problems.append(f"{where}: checkboxes need at least one option")
        _at_most(problems, where, "options", len(options), CHECKBOX_OPTIONS_MAX, "items")
        for i, option in enumerate(options):
            _option(problems, f"{where} options[{i}]", option)
        values = {o.value for o in options}
        strays = [o.value for o in element.initial_options or [] if o.value not in values]
        if strays:
            problems.append(f"{where}: initial_options {strays} are not among the options")
    elif isinstance(element, RadioButtonsElement):
        radios = [o for o in element.options or [] if isinstance(o, Option)]
        if not radios:
            problems.append(f"{where}: radio buttons need at least one option")
        _at_most(problems, where, "options", len(radios), RADIO_OPTIONS_MAX, "items")
        for i, radio in enumerate(radios):
            _option(problems, f"{where} options[{i}]", radio)
        chosen = element.initial_option
        if isinstance(chosen, Option) and chosen.value not in {o.value for o in radios}:
            problems.append(f"{where}: initial_option {chosen.value!r} is not among the options")
    elif isinstance(element, PlainTextInputElement):
        if element.placeholder is not None:
            _text(problems, where, "placeholder", element.placeholder, PLACEHOLDER_MAX, plain=True)
        for name in ("min_length", "max_length"):
            size = getattr(element, name, None)
            if isinstance(size, int) and size > INPUT_LENGTH_MAX:
                problems.append(f"{where}: {name} is {size}; the limit is {INPUT_LENGTH_MAX}")
        initial = element.initial_value or ""
        _at_most(problems, where, "initial_value", len(initial), INPUT_LENGTH_MAX, "characters")


def _option(problems: list[str], where: str, option: Option) -> None:
    text = option.text or option.label or ""
    if not text:
        problems.append(f"{where}: an option needs text")
    _at_most(problems, where, "text", len(text), OPTION_TEXT_MAX, "characters")
    _at_most(problems, where, "value", len(option.value), OPTION_VALUE_MAX, "characters")
    description = option.description or ""
    _at_most(problems, where, "description", len(description), OPTION_DESCRIPTION_MAX, "characters")


def _confirm(problems: list[str], where: str, confirm: ConfirmObject) -> None:
    for what, value, limit in (
        ("title", confirm.title, CONFIRM_TITLE_MAX),
        ("text", confirm.text, CONFIRM_TEXT_MAX),
        ("confirm", confirm.confirm, CONFIRM_BUTTON_MAX),
        ("deny", confirm.deny, CONFIRM_BUTTON_MAX),
    ):
        if not value:
            problems.append(f"{where}: {what} is empty")
        _at_most(problems, where, what, len(value or ""), limit, "characters")
