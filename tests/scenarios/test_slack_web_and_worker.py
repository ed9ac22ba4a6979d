"""`revgate serve --no-worker` beside `revgate worker`: the web process acks and stores, the worker acts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import ids
from bot.inbox import pending_count
from bot.runtime import SlackRuntime, build_runtime
from tests.support.fakes import sequential_ids
from tests.support.slack_stack import SlackStack, running_slack
from tests.support.stack import APPROVER, merge_action
from tests.support.waiting import eventually


@pytest.fixture
def web(database_url: str) -> Iterator[SlackStack]:
    with running_slack(database_url, background=False) as stack:
        yield stack


def _worker(web: SlackStack) -> SlackRuntime:
    worker = build_runtime(
        web.settings, clock=web.clock, new_id=sequential_ids("w"), card_interval=0.0, poll_interval=0.05
    )
    worker.start(background=True)
    return worker


def _queued_merge(web: SlackStack) -> str:
    survivor = web.lead(email="dup@acme.io")
    other = web.lead(email="DUP@acme.io")
    return web.queue(merge_action(survivor, other))


def test_the_web_process_only_stores_the_click_and_the_worker_executes_it(web: SlackStack) -> None:
    approval_id = _queued_merge(web)
    assert web.click(ids.ACTION_APPROVE, approval_id, APPROVER) == 200
    eventually(lambda: pending_count(web.services.database) == 1, what="the click to be stored")
    assert web.approvals.get(approval_id).status == "pending"

    worker = _worker(web)
    try:
        # No card was ever posted (the web process has no card sync, and the click came
        # first): a request decided before its card exists gets no card at all.
        eventually(lambda: web.approvals.get(approval_id).status == "executed", what="the execution")
    finally:
        worker.stop()
    assert pending_count(web.services.database) == 0


def test_a_click_stored_before_the_web_process_stops_is_not_lost(web: SlackStack) -> None:
    approval_id = _queued_merge(web)
    assert web.command("/approvals", "", APPROVER, name="mine")[0] == 200
    assert web.click(ids.ACTION_APPROVE, approval_id, APPROVER) == 200
    web.runtime.inbox.stop()  # what a SIGTERM does: store everything acked so far
    assert pending_count(web.services.database) == 2

    worker = _worker(web)
    try:
        eventually(lambda: web.approvals.get(approval_id).status == "executed", what="the execution")
        eventually(lambda: len(web.replies("mine")) == 1, what="the /approvals reply")
    finally:
        worker.stop()
