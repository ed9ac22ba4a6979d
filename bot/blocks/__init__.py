"""Pure Block Kit builders: approval cards, bulk cards, modals, booked meetings, the Home tab and replies.

Every builder takes data and returns typed ``slack_sdk`` blocks or views, with no
I/O, so listeners stay thin (ack, one service call, one builder) and the
payloads are tested as data. ``check_message`` / ``check_view`` name every Block
Kit limit a payload breaks.
"""

from bot.blocks.approval import build_approval_message
from bot.blocks.bulk import build_bulk_message, is_bulk_card
from bot.blocks.card import CardContext, Message
from bot.blocks.home import RunSummary, build_home
from bot.blocks.limits import check_message, check_view
from bot.blocks.meeting import build_cancel_modal, build_meeting_message, build_reschedule_modal
from bot.blocks.modals import build_details_modal, build_edit_modal, build_reject_modal
from bot.blocks.replies import already_decided, help_text, not_an_approver, usage_error

__all__ = [
    "CardContext",
    "Message",
    "RunSummary",
    "already_decided",
    "build_approval_message",
    "build_bulk_message",
    "build_cancel_modal",
    "build_details_modal",
    "build_edit_modal",
    "build_home",
    "build_meeting_message",
    "build_reject_modal",
    "build_reschedule_modal",
    "check_message",
    "check_view",
    "help_text",
    "is_bulk_card",
    "not_an_approver",
    "usage_error",
]
