from __future__ import annotations

from datetime import timedelta

import pytest
from slack_sdk.models.blocks import ContextBlock, SectionBlock

from agent.crm.caveats import merge_caveats
from agent.models import FieldChange, ProposedAction, Target
from bot import ids
from bot.blocks import build_approval_message
from tests.bot.blocks import (
    DECIDED,
    NOW,
    STATUSES,
    action_ids,
    approval,
    assert_valid_message,
    block,
    block_ids,
    bulk_normalise,
    buttons,
    context,
    merge_of_three,
    owner_change,
    revenue_change,
    text_of,
)

LONG = "The west team took over this territory on Monday. " * 100  # 5,000 characters


def note_action(length: int = 5000) -> ProposedAction:
    return ProposedAction(
        id="act-note",
        kind="add_note",
        object_type="contact",
        targets=[Target(record_id="C1", version="v1", label="Jo Bloggs", note="N" * length)],
        rationale="Log the call.",
    )


ACTIONS = {
    "owner": owner_change(),
    "merge3": merge_of_three(),
    "revenue": revenue_change(),
    "bulk500": bulk_normalise(500),
    "long_rationale": bulk_normalise(3, rationale=LONG),
    "long_note": note_action(),
    "long_label": owner_change(label="Acme " * 300),
}


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", ACTIONS)
def test_every_status_renders_a_valid_card(name: str, status: str) -> None:
    message = build_approval_message(approval(ACTIONS[name], status), context())  # type: ignore[arg-type]
    assert_valid_message(message)


def test_button_values_carry_only_the_approval_id() -> None:
    for status in STATUSES:
        message = build_approval_message(approval(merge_of_three(), status), context())
        assert buttons(message.blocks)
        assert {b.value for b in buttons(message.blocks)} == {"apr_0001"}


def test_pending_card_offers_approve_reject_edit_and_details() -> None:
    message = build_approval_message(approval(merge_of_three()), context())
    assert action_ids(message.blocks) == [
        ids.ACTION_APPROVE,
        ids.ACTION_REJECT,
        ids.ACTION_EDIT,
        ids.ACTION_DETAILS,
    ]
    approve, reject = buttons(message.blocks)[:2]
    assert approve.style == "primary"
    assert reject.style == "danger"


def test_edit_is_offered_only_when_there_is_something_to_narrow() -> None:
    single = build_approval_message(approval(owner_change()), context())
    assert ids.ACTION_EDIT not in action_ids(single.blocks)
    several = build_approval_message(approval(revenue_change()), context())
    assert ids.ACTION_EDIT in action_ids(several.blocks)


def test_approve_asks_for_confirmation_summarising_the_action() -> None:
    message = build_approval_message(approval(merge_of_three()), context())
    approve = buttons(message.blocks)[0]
    assert approve.confirm is not None
    assert "Merge 2 duplicate accounts into Acme Corp (A1)." in str(approve.confirm.text)
    assert "cannot be undone" in str(approve.confirm.text)


@pytest.mark.parametrize("status", sorted(DECIDED))
def test_buttons_are_gone_after_a_decision(status: str) -> None:
    message = build_approval_message(approval(owner_change(), status), context())  # type: ignore[arg-type]
    found = action_ids(message.blocks)
    assert ids.ACTION_APPROVE not in found
    assert ids.ACTION_REJECT not in found
    assert ids.ACTION_EDIT not in found
    assert ids.ACTION_DETAILS in found


def test_undo_button_appears_on_an_executed_reversible_change_within_the_window() -> None:
    message = build_approval_message(approval(owner_change(), "executed"), context())
    assert action_ids(message.blocks) == [ids.ACTION_UNDO, ids.ACTION_DETAILS]
    undo = buttons(message.blocks)[0]
    assert undo.confirm is not None
    assert "Undo is possible until <!date^" in text_of(message.blocks, "status")


def test_undo_button_disappears_after_the_window() -> None:
    executed = approval(owner_change(), "executed", executed_at=NOW - timedelta(hours=24, seconds=1))
    message = build_approval_message(executed, context())
    assert action_ids(message.blocks) == [ids.ACTION_DETAILS]
    assert "Undo is possible" not in text_of(message.blocks, "status")


def test_undo_window_is_counted_from_the_execution_time() -> None:
    hour = context(undo_window=timedelta(hours=1))
    executed = approval(
        owner_change(),
        "executed",
        decided_at=NOW - timedelta(hours=3),
        executed_at=NOW - timedelta(minutes=59),
    )
    assert ids.ACTION_UNDO in action_ids(build_approval_message(executed, hour).blocks)
    late = approval(owner_change(), "executed", executed_at=NOW - timedelta(hours=1))
    assert late.decided_at is not None
    assert late.decided_at > NOW - timedelta(hours=1)  # the decision alone would still allow it
    assert ids.ACTION_UNDO not in action_ids(build_approval_message(late, hour).blocks)


def test_undo_window_falls_back_to_the_decision_time() -> None:
    hour = context(undo_window=timedelta(hours=1))
    recent = approval(owner_change(), "executed", decided_at=NOW - timedelta(minutes=59), executed_at=None)
    assert recent.executed_at is None
    assert ids.ACTION_UNDO in action_ids(build_approval_message(recent, hour).blocks)
    old = approval(owner_change(), "executed", decided_at=NOW - timedelta(hours=1), executed_at=None)
    assert ids.ACTION_UNDO not in action_ids(build_approval_message(old, hour).blocks)


@pytest.mark.parametrize("status", ["undone", "failed", "approved"])
def test_no_undo_unless_executed(status: str) -> None:
    message = build_approval_message(approval(owner_change(), status), context())  # type: ignore[arg-type]
    assert ids.ACTION_UNDO not in action_ids(message.blocks)


def test_no_undo_for_irreversible_kinds() -> None:
    message = build_approval_message(approval(merge_of_three(), "executed"), context())
    assert ids.ACTION_UNDO not in action_ids(message.blocks)


def test_diff_shows_owner_names_and_blank_values() -> None:
    message = build_approval_message(approval(owner_change()), context())
    assert "*owner_id*: Ada Lovelace → Grace Hopper" in text_of(message.blocks, "diff")
    enrich = build_approval_message(approval(revenue_change()), context())
    assert "*industry*: ∅ → Software" in text_of(enrich.blocks, "diff")


def test_inactive_and_unknown_owners_are_still_named() -> None:
    message = build_approval_message(approval(owner_change(before="O3")), context())
    assert "Old Timer (inactive) → Grace Hopper" in text_of(message.blocks, "diff")
    unknown = build_approval_message(approval(owner_change(before="O404")), context())
    assert "O404 → Grace Hopper" in text_of(unknown.blocks, "diff")


def test_merge_card_shows_survivor_others_plan_and_caveats() -> None:
    message = build_approval_message(approval(merge_of_three()), context())
    plan = text_of(message.blocks, "merge")
    assert "Survivor: Acme Corp `A1`" in plan
    assert "Merged into it and removed: ACME Corporation `A2`" in plan
    assert "Merged into it and removed: Acme Corp. `A3`" in plan
    assert "• *phone* → +15550100" in plan
    assert "open opportunity" in text_of(message.blocks, "caveats")
    assert "diff" not in block_ids(message.blocks)


def test_merge_card_shows_the_crms_own_caveats_after_the_plans() -> None:
    ctx = context(platform_caveats=lambda action: merge_caveats("hubspot", len(action.record_ids)))

    caveats = text_of(build_approval_message(approval(merge_of_three()), ctx).blocks, "caveats")

    assert "open opportunity" in caveats
    assert "HubSpot merges cannot be undone." in caveats
    assert "this takes 2 merges in a row" in caveats
    assert caveats.index("open opportunity") < caveats.index("HubSpot")


def test_blast_radius_counts_records_owners_revenue_and_reversibility() -> None:
    owners = text_of(build_approval_message(approval(owner_change()), context()).blocks, "blast")
    assert "1 lead" in owners
    assert "owners affected: Ada Lovelace, Grace Hopper" in owners
    assert "not reversible" not in owners
    revenue = text_of(build_approval_message(approval(revenue_change()), context()).blocks, "blast")
    # The larger of before/after per record: 1,500,000 + 3,000,000.
    assert "annual_revenue involved: 4,500,000" in revenue
    merge = text_of(build_approval_message(approval(merge_of_three()), context()).blocks, "blast")
    assert "3 accounts" in merge
    assert "*not reversible*" in merge


def test_policy_rule_and_reason_are_shown() -> None:
    message = build_approval_message(approval(), context())
    assert text_of(message.blocks, "policy") == (
        "*Policy:* `requires_approval: change_owner` — owner changes need a person"
    )


def _meta(message_blocks: list) -> list[str]:  # type: ignore[type-arg]
    meta = block(message_blocks, "meta")
    assert isinstance(meta, ContextBlock)
    return [str(getattr(e, "text", "")) for e in meta.elements]


def test_requester_is_a_mention_when_it_is_a_slack_user() -> None:
    message = build_approval_message(approval(), context())
    assert _meta(message.blocks)[0].startswith("Requested by <@U0REQUESTER> via the offline planner")
    agent = build_approval_message(approval(requested_by="agent"), context())
    assert _meta(agent.blocks)[0].startswith("Requested by agent via")


def test_votes_so_far_are_shown_when_several_approvals_are_needed() -> None:
    pending = approval(approvals=("U1",))
    message = build_approval_message(pending, context(approvals_needed=lambda a: 2))
    assert "1 of 2 approvals: <@U1>" in _meta(message.blocks)
    none_yet = build_approval_message(approval(), context(approvals_needed=lambda a: 2))
    assert "0 of 2 approvals so far" in _meta(none_yet.blocks)
    single = build_approval_message(approval(), context())
    assert not any("approvals" in text for text in _meta(single.blocks))


def test_expiry_uses_slack_date_formatting() -> None:
    message = build_approval_message(approval(), context())
    expiry = int((NOW + timedelta(hours=23)).timestamp())
    assert f"Expires <!date^{expiry}^{{date_short_pretty}} at {{time}}|2026-03-03 09:00 UTC>" in _meta(
        message.blocks
    )


def test_record_links_come_from_the_crm() -> None:
    ctx = context(record_url=lambda object_type, record_id: f"https://crm.example/{object_type}/{record_id}")
    message = build_approval_message(approval(), ctx)
    assert "<https://crm.example/lead/L1|Acme Corp> `L1`" in text_of(message.blocks, "diff")


def test_untrusted_text_is_escaped() -> None:
    action = owner_change(label="<!channel> & friends").model_copy(
        update={"rationale": "ping <!here> & <@U99>"}
    )
    message = build_approval_message(approval(action), context())
    payload = repr(message.to_dict())
    assert "<!channel>" not in payload
    assert "<!here>" not in payload
    assert "<@U99>" not in payload
    assert "&lt;!here&gt; &amp; &lt;@U99&gt;" in text_of(message.blocks, "why")


def test_long_rationale_is_cut_with_a_pointer_to_details() -> None:
    message = build_approval_message(approval(bulk_normalise(3, rationale=LONG)), context())
    why = text_of(message.blocks, "why")
    assert len(why) <= 3000
    assert why.endswith("… (see Details)")


def test_many_records_show_a_sample_and_how_many_more() -> None:
    message = build_approval_message(approval(bulk_normalise(140)), context(max_items=5))
    diff = text_of(message.blocks, "diff")
    assert diff.count("\n• ") == 5
    assert diff.endswith("… and 135 more records (see Details)")


def test_fallback_text_is_one_line_saying_what_and_the_state() -> None:
    pending = build_approval_message(approval(), context())
    assert pending.text == "Approval needed: Move lead Acme Corp from Ada Lovelace to Grace Hopper."
    rejected = build_approval_message(approval(status="rejected"), context())
    assert rejected.text.startswith("Rejected: Move lead Acme Corp")
    assert "\n" not in build_approval_message(approval(owner_change(label="two\nlines")), context()).text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("approved", "Approved by <@U0APPROVER>; executing…"),
        ("executing", "Approved by <@U0APPROVER>; executing…"),
        ("rejected", "*Rejected* by <@U0APPROVER>: Wrong territory"),
        ("failed", "*Failed*: CRM answered 409: record locked"),
        ("superseded", "*Superseded*: the record changed since the proposal"),
        ("expired", "*Expired* <!date^"),
        ("undone", "*Undone*: restored 1 record(s)."),
        ("executed", "*Executed* (approved by <@U0APPROVER>): wrote 1 record(s)."),
    ],
)
def test_status_line_says_what_happened(status: str, expected: str) -> None:
    message = build_approval_message(approval(owner_change(), status), context())  # type: ignore[arg-type]
    assert expected in text_of(message.blocks, "status")
    assert "status" not in block_ids(build_approval_message(approval(), context()).blocks)


def test_executed_card_lists_skipped_records_with_reasons() -> None:
    action = bulk_normalise(30)
    skipped = {t.record_id: "changed since the plan" for t in action.targets[:15]}
    result = {"written": [t.record_id for t in action.targets[15:]], "skipped": skipped}
    message = build_approval_message(approval(action, "executed", result=result), context())
    status = text_of(message.blocks, "status")
    assert "wrote 15 record(s), skipped 15." in status
    assert "• Lead number 0 `L0000`: changed since the plan" in status
    assert "… and 5 more skipped (see Details)" in status
    assert_valid_message(message)


def test_many_evidence_items_fit_in_ten_fields() -> None:
    action = owner_change().model_copy(update={"evidence": {f"signal_{n}": "x" * 3000 for n in range(15)}})
    message = build_approval_message(approval(action), context())
    evidence = block(message.blocks, "evidence")
    assert isinstance(evidence, SectionBlock)
    assert len(evidence.fields) == 10
    assert "6 more (see Details)" in str(evidence.fields[-1].text)
    assert_valid_message(message)


def test_record_with_many_changed_fields_is_valid() -> None:
    changes = {f"field_{n}": FieldChange(before="b" * 500, after="a" * 500) for n in range(40)}
    action = ProposedAction(
        id="act-wide",
        kind="enrich_data",
        object_type="account",
        targets=[Target(record_id=f"A{n}", version="v1", changes=changes) for n in range(10)],
        rationale="Wide enrichment.",
    )
    for status in STATUSES:
        assert_valid_message(build_approval_message(approval(action, status), context()))


def test_an_executed_merge_links_the_new_id_the_crm_gave_the_merged_record() -> None:
    result = {"written": ["A1", "A2", "A3"], "survivor_id": "A9"}
    ctx = context(record_url=lambda object_type, record_id: f"https://crm.example/{object_type}/{record_id}")

    status = text_of(
        build_approval_message(approval(merge_of_three(), "executed", result=result), ctx).blocks, "status"
    )

    assert "new id in the CRM: <https://crm.example/account/A9|`A9`>" in status


def test_an_executed_merge_that_kept_its_survivor_id_says_nothing_of_ids() -> None:
    result = {"written": ["A1", "A2", "A3"], "survivor_id": "A1"}

    status = text_of(
        build_approval_message(approval(merge_of_three(), "executed", result=result), context()).blocks,
        "status",
    )

    assert "new id" not in status
