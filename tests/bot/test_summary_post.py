"""Posting the daily summary to a fake Slack Web API with the real WebClient."""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError

from agent.crm.seed import seed_crm
from agent.summary import QualityStore, gather_summary
from bot.blocks.summary import build_summary_message
from bot.chart import render_trend_png
from bot.runtime import SlackRuntime, build_runtime
from bot.settings import Settings
from bot.summary_post import post_summary
from tests.support.fake_slack import FakeSlack
from tests.support.fakes import T0, FixedClock, sequential_ids

CHANNEL = "#revops-summary"
BERLIN = ZoneInfo("Europe/Berlin")
DAY = T0.date()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def runtime(sqlite_url: str, slack: FakeSlack) -> Iterator[SlackRuntime]:
    settings = Settings(
        DATABASE_URL=sqlite_url, SLACK_BOT_TOKEN="xoxb-test", REVGATE_SLACK_API_URL=slack.base_url
    )
    built = build_runtime(settings, clock=FixedClock(), new_id=sequential_ids("p"))
    services = built.services
    seed_crm(services.crm, records=120, seed=7, now=services.clock.now())
    services.runner.run(services.offline_planner(), trigger="schedule")
    yield built
    built.stop()


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_the_summary_lands_in_the_channel_and_the_chart_in_its_thread(
    runtime: SlackRuntime, slack: FakeSlack
) -> None:
    posted = post_summary(runtime, channel=CHANNEL, day=DAY, tz=BERLIN)

    messages = slack.messages(CHANNEL)
    summary = messages[posted.ts]
    s = runtime.services
    expected = build_summary_message(gather_summary(s.database, s.crm, s.policy, s.clock, day=DAY, tz=BERLIN))
    assert summary["blocks"] == expected.to_dict()["blocks"]
    assert summary["text"] == expected.text
    assert "thread_ts" not in summary
    shared = [m for m in messages.values() if m.get("upload")]
    assert len(shared) == 1
    assert shared[0]["thread_ts"] == posted.ts
    assert [f["id"] for f in shared[0]["files"]] == [posted.file_id]
    assert shared[0]["files"][0]["name"] == f"data-quality-{DAY.isoformat()}.png"
    (upload,) = slack.calls_to("upload_url")
    assert upload.params["content"] == render_trend_png(
        gather_summary(s.database, s.crm, s.policy, s.clock, day=DAY, tz=BERLIN).trend
    )
    assert posted.channel == slack.channel_id(CHANNEL)
    assert posted.score is not None
    assert posted.chart_error is None


def test_a_rate_limited_upload_is_retried_after_retry_after(runtime: SlackRuntime, slack: FakeSlack) -> None:
    slack.fail_next("upload_url", status=429, retry_after=3)
    sleeps = Sleeps()

    posted = post_summary(runtime, channel=CHANNEL, day=DAY, tz=BERLIN, sleep=sleeps)

    assert sleeps.delays == [3.0]
    assert len(slack.calls_to("upload_url")) == 2
    assert len(slack.calls_to("files.completeUploadExternal")) == 1
    assert posted.file_id is not None
    assert next(m for m in slack.messages(CHANNEL).values() if m.get("upload"))["thread_ts"] == posted.ts


def test_a_rate_limited_completion_is_retried_by_the_client_and_shared_once(
    runtime: SlackRuntime, slack: FakeSlack
) -> None:
    slack.fail_next("files.completeUploadExternal", status=429, retry_after=0)

    posted = post_summary(runtime, channel=CHANNEL, day=DAY, tz=BERLIN, sleep=Sleeps())

    assert len(slack.calls_to("files.completeUploadExternal")) == 2
    assert len([m for m in slack.messages(CHANNEL).values() if m.get("upload")]) == 1
    assert posted.file_id is not None


def test_a_chart_that_cannot_be_uploaded_leaves_the_summary_posted(
    runtime: SlackRuntime, slack: FakeSlack
) -> None:
    slack.fail_next("upload_url", status=503, times=5)
    sleeps = Sleeps()

    posted = post_summary(runtime, channel=CHANNEL, day=DAY, tz=BERLIN, sleep=sleeps, upload_attempts=3)

    assert posted.ts in slack.messages(CHANNEL)
    assert posted.file_id is None
    assert posted.chart_error is not None
    assert "503" in posted.chart_error
    assert len(sleeps.delays) == 2, "three attempts, two waits"
    assert slack.calls_to("files.completeUploadExternal") == []


def test_a_refused_post_raises_and_uploads_nothing(runtime: SlackRuntime, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found")

    with pytest.raises(SlackApiError):
        post_summary(runtime, channel=CHANNEL, day=DAY, tz=BERLIN, sleep=Sleeps())

    assert slack.messages(CHANNEL) == {}
    assert slack.calls_to("files.getUploadURLExternal") == []


def test_posting_stores_the_days_score_once(runtime: SlackRuntime, slack: FakeSlack) -> None:
    first = post_summary(runtime, channel=CHANNEL, day=DAY, tz=BERLIN)
    second = post_summary(runtime, channel="#another", day=DAY, tz=BERLIN)

    stored = QualityStore(runtime.services.database).trend(DAY, 30)
    assert [p.day for p in stored if p.score is not None] == [DAY]
    assert first.score == second.score == stored[-1].score
