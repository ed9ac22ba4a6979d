"""Approval cards end to end: signed requests to the real endpoint, a fake Slack Web API.

seed -> card posted -> click -> executed exactly once -> card updated, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from agent.store.rows import AuditEventRow, CRMAppliedOpRow
from bot import ids
from tests.support.slack_requests import block_action_body, signed_post
from tests.support.slack_stack import FORM, SECRET, SlackStack, running_slack
from tests.support.stack import APPROVER, bulk_email_action, field_action, merge_action
from tests.support.waiting import eventually


@pytest.fixture
def slack(database_url: str) -> Iterator[SlackStack]:
    with running_slack(database_url) as stack:
        yield stack


def _posted_merge(slack: SlackStack) -> str:
    survivor = slack.lead(email="dup@acme.io")
    other = slack.lead(email="DUP@acme.io", phone="+14155550134")
    approval_id = slack.queue(merge_action(survivor, other))
    eventually(lambda: slack.approvals.get(approval_id).slack_ts is not None, what="the card to be posted")
    return approval_id


def _crm_writes(slack: SlackStack, approval_id: str) -> int:
    with slack.services.database.transaction() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(CRMAppliedOpRow)
                .where(CRMAppliedOpRow.key.startswith(approval_id))
            ).scalar_one()
        )


def _card(slack: SlackStack, approval_id: str) -> dict[str, Any]:
    approval = slack.approvals.get(approval_id)
    assert approval.slack_channel
    assert approval.slack_ts
    return slack.fake.messages(approval.slack_channel)[approval.slack_ts]


def _action_ids(message: dict[str, Any]) -> set[str]:
    return {
        str(element.get("action_id"))
        for block in message.get("blocks", [])
        for element in block.get("elements", [])
        if isinstance(element, dict) and "action_id" in element
    }


def test_a_gated_action_is_posted_as_a_card_with_decision_buttons(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)

    card = _card(slack, approval_id)

    assert {ids.ACTION_APPROVE, ids.ACTION_REJECT, ids.ACTION_DETAILS} <= _action_ids(card)
    assert "Merge" in card["text"]
    post = slack.fake.calls_to("chat.postMessage")[0]
    assert post.params["channel"] == "#revops-approvals"


def test_approve_executes_exactly_once_and_updates_the_card(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)

    assert slack.click(ids.ACTION_APPROVE, approval_id, APPROVER) == 200
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")
    eventually(lambda: slack.approvals.cards_to_sync() == [], what="the card update")

    card = _card(slack, approval_id)
    assert ids.ACTION_APPROVE not in _action_ids(card)
    assert "xecuted" in card["text"]
    assert _crm_writes(slack, approval_id) == 1
    thread = [c for c in slack.fake.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert any("Executed" in str(c.params.get("text")) for c in thread)


def test_a_double_click_executes_once_and_tells_the_second_clicker(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)

    slack.click(ids.ACTION_APPROVE, approval_id, APPROVER, name="first")
    eventually(lambda: slack.approvals.get(approval_id).status != "pending", what="the first click")
    slack.click(ids.ACTION_APPROVE, approval_id, "U0LEAD1", name="second")
    eventually(lambda: bool(slack.replies("second")), what="the ephemeral reply")
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")

    assert "lready" in slack.replies("second")[0]
    assert f"<@{APPROVER}>" in slack.replies("second")[0]
    assert _crm_writes(slack, approval_id) == 1


def test_two_concurrent_clicks_execute_once(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)
    start = threading.Barrier(2)
    statuses: list[int] = []

    def click(user: str, name: str) -> None:
        start.wait()
        statuses.append(slack.click(ids.ACTION_APPROVE, approval_id, user, name=name))

    threads = [threading.Thread(target=click, args=(u, n)) for u, n in ((APPROVER, "a"), ("U0LEAD1", "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")
    eventually(lambda: len(slack.replies("a") + slack.replies("b")) == 1, what="one 'already approved' reply")

    assert statuses == [200, 200]
    loser_reply = (slack.replies("a") + slack.replies("b"))[0]
    assert loser_reply.startswith("Already")  # approved, or already executed by the time it is told
    assert "approved by <@" in loser_reply
    assert _crm_writes(slack, approval_id) == 1


def test_reject_needs_a_reason_and_the_reason_reaches_the_agents_memory(slack: SlackStack) -> None:
    from agent.memory import RejectionMemory

    approval_id = _posted_merge(slack)
    reason_block = {ids.BLOCK_REASON: {ids.INPUT_REASON: {"type": "plain_text_input", "value": "   "}}}

    status, blank = slack.submit(ids.VIEW_REJECT, approval_id, APPROVER, reason_block)
    assert status == 200
    assert blank["response_action"] == "errors"
    assert ids.BLOCK_REASON in blank["errors"]
    assert slack.approvals.get(approval_id).status == "pending"

    reason_block[ids.BLOCK_REASON][ids.INPUT_REASON]["value"] = "same inbox, two people"
    slack.submit(ids.VIEW_REJECT, approval_id, APPROVER, reason_block)
    eventually(lambda: slack.approvals.get(approval_id).status == "rejected", what="the rejection")

    action = slack.approvals.get(approval_id).action
    remembered = RejectionMemory(slack.services.database).for_records("lead", action.record_ids)
    assert {r.reason for r in remembered} == {"same inbox, two people"}


def test_the_reject_button_opens_a_modal(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)

    slack.click(ids.ACTION_REJECT, approval_id, APPROVER)
    opened = slack.fake.wait_for("views.open")

    assert opened[0].params["view"]["callback_id"] == ids.VIEW_REJECT
    assert opened[0].params["view"]["private_metadata"] == approval_id


def test_an_edit_that_widens_the_change_is_refused(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)
    outsider = slack.lead(email="other@acme.io")
    records = slack.approvals.get(approval_id).action.record_ids
    values = {
        f"{ids.BLOCK_EDIT_TARGETS}_0": {
            ids.INPUT_EDIT_TARGETS: {
                "type": "checkboxes",
                "selected_options": [{"value": r} for r in [*records, outsider.id]],
            }
        }
    }

    slack.submit(ids.VIEW_EDIT, approval_id, APPROVER, values)
    eventually(lambda: bool(slack.fake.calls_to("chat.postEphemeral")), what="the refusal")

    assert "only narrow" in slack.fake.calls_to("chat.postEphemeral")[0].params["text"]
    assert slack.approvals.get(approval_id).action.record_ids == records


def test_an_unauthorised_click_changes_nothing_and_is_audited(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)

    slack.click(ids.ACTION_APPROVE, approval_id, "U0INTERN", name="intern")
    eventually(lambda: bool(slack.replies("intern")), what="the explanation")

    assert "not an approver" in slack.replies("intern")[0]
    assert slack.approvals.get(approval_id).status == "pending"
    with slack.services.database.transaction() as session:
        refused = session.execute(
            select(func.count())
            .select_from(AuditEventRow)
            .where(AuditEventRow.subject == approval_id, AuditEventRow.event == "decision_refused")
        ).scalar_one()
    assert refused == 1


def test_a_member_of_the_approver_group_is_authorised_through_the_web_api(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)

    slack.click(ids.ACTION_APPROVE, approval_id, "U0LEAD2")
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")

    assert slack.fake.calls_to("usergroups.users.list")[0].params["usergroup"] == "S0REVOPSLEADS"


@pytest.mark.parametrize(
    ("signature", "age"),
    [("v0=" + "0" * 64, 0), (None, 6 * 60)],
    ids=["forged-signature", "stale-timestamp"],
)
def test_forged_or_stale_requests_get_401_and_change_nothing(
    slack: SlackStack, signature: str | None, age: int
) -> None:
    approval_id = _posted_merge(slack)
    body = block_action_body(action_id=ids.ACTION_APPROVE, value=approval_id, user_id=APPROVER)

    status, _, _ = signed_post(
        f"{slack.url}/slack/events",
        secret=SECRET,
        body=body,
        content_type=FORM,
        timestamp=int(time.time()) - age,
        signature=signature,
    )
    time.sleep(0.2)

    assert status == 401
    assert slack.approvals.get(approval_id).status == "pending"


def test_an_expired_approval_cannot_be_approved(slack: SlackStack) -> None:
    approval_id = _posted_merge(slack)
    slack.later(hours=100)

    slack.click(ids.ACTION_APPROVE, approval_id, APPROVER, name="late")
    eventually(lambda: bool(slack.replies("late")), what="the reply")

    assert "xpired" in slack.replies("late")[0]
    assert slack.approvals.get(approval_id).status == "expired"
    eventually(lambda: ids.ACTION_APPROVE not in _action_ids(_card(slack, approval_id)), what="buttons gone")


def test_a_429_is_retried_after_retry_after_and_the_card_is_not_lost(slack: SlackStack) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    survivor = slack.lead(email="dup@acme.io")
    other = slack.lead(email="DUP@acme.io")

    approval_id = slack.queue(merge_action(survivor, other))
    eventually(lambda: slack.approvals.get(approval_id).slack_ts is not None, timeout=10, what="the card")

    posts = slack.fake.calls_to("chat.postMessage")
    assert len(posts) == 2
    assert posts[1].at - posts[0].at >= 1.0


def test_bulk_approve_all_skips_the_unticked_items(slack: SlackStack) -> None:
    leads = [slack.lead(email=f" Lead{n}@acme.io") for n in range(30)]
    action = bulk_email_action(leads)
    approval_id = slack.queue(action)
    eventually(lambda: slack.approvals.get(approval_id).slack_ts is not None, what="the bulk card")
    card = _card(slack, approval_id)
    items = next(b for b in card["blocks"] if b.get("block_id", "").startswith(ids.BLOCK_BULK_ITEMS))
    shown = [o["value"] for o in items["elements"][0]["options"]]
    ticked = [{"value": v} for v in shown[1:]]  # untick the first item

    slack.click(
        ids.ACTION_BULK_APPROVE,
        approval_id,
        APPROVER,
        message={"blocks": card["blocks"]},
        state_values={
            items["block_id"]: {ids.ACTION_EXCLUDE: {"type": "checkboxes", "selected_options": ticked}}
        },
    )
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")

    assert slack.crm.get("lead", shown[0]).get("email") == " Lead0@acme.io"  # type: ignore[union-attr]
    assert slack.crm.get("lead", shown[1]).get("email") == "lead1@acme.io"  # type: ignore[union-attr]
    assert slack.crm.get("lead", leads[-1].id).get("email") == "lead29@acme.io"  # type: ignore[union-attr]


def test_undo_from_slack_restores_the_previous_values(slack: SlackStack) -> None:
    lead = slack.lead(annual_revenue=3_000_000, email="big@acme.io")
    approval_id = slack.queue(field_action(lead, action_id="hv", email="big2@acme.io"))
    eventually(lambda: slack.approvals.get(approval_id).slack_ts is not None, what="the card")
    slack.click(ids.ACTION_APPROVE, approval_id, APPROVER)
    eventually(lambda: slack.approvals.get(approval_id).status == "executed", what="execution")
    eventually(lambda: ids.ACTION_UNDO in _action_ids(_card(slack, approval_id)), what="the undo button")

    slack.click(ids.ACTION_UNDO, approval_id, APPROVER)
    eventually(lambda: slack.approvals.get(approval_id).status == "undone", what="the undo")

    assert slack.crm.get("lead", lead.id).get("email") == "big@acme.io"  # type: ignore[union-attr]


def test_healthz_reports_the_database(slack: SlackStack) -> None:
    assert slack.get("/healthz") == (200, {"ok": True, "database": "ok"})
    assert slack.get("/nowhere")[0] == 404
