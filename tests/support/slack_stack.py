"""The Slack bot for real: bolt under waitress on 127.0.0.1, talking to a fake Slack Web API."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agent.policy_file import load_policy
from bot.app import build_app
from bot.runtime import build_runtime
from bot.server import make_http_server, make_wsgi, stop_http_server
from bot.settings import Settings
from tests.support.fake_slack import FakeSlack
from tests.support.fakes import FixedClock, RecordingNotifier, sequential_ids
from tests.support.slack_requests import (
    block_action_body,
    signed_post,
    slash_command_body,
    view_submission_body,
)
from tests.support.stack import DEFAULT_POLICY, Stack

SECRET = "test-signing-secret"
FORM = "application/x-www-form-urlencoded"


class SlackStack(Stack):
    """A Stack whose services are the Slack runtime's, served over HTTP."""

    def __init__(self, database_url: str, fake: FakeSlack, *, background: bool = True) -> None:
        """``background=False`` is ``revgate serve --no-worker``: a worker must run the rest."""
        import threading

        self.fake = fake
        self.clock = FixedClock()
        self.notifier = RecordingNotifier()
        self.settings = settings = Settings(
            DATABASE_URL=database_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET=SECRET,
            REVGATE_SLACK_API_URL=fake.base_url,
            REVGATE_APPROVALS_CHANNEL="#revops-approvals",
        )
        self.runtime = build_runtime(
            settings, clock=self.clock, new_id=sequential_ids("s"), card_interval=0.0, poll_interval=0.05
        )
        assert self.runtime.services.policy == load_policy(DEFAULT_POLICY)
        self.services = self.runtime.services
        self.crm = self.services.crm
        self.approvals = self.services.approvals
        self.worker = self.services.worker
        self.app = build_app(self.runtime)
        self.server = make_http_server(
            make_wsgi(self.app, self.runtime), host="127.0.0.1", port=0, threads=16
        )
        self.url = f"http://127.0.0.1:{self.server.effective_port}"  # type: ignore[union-attr]
        self._thread = threading.Thread(target=self.server.run, daemon=True)
        self._thread.start()
        self.runtime.start(background=background)

    def close(self) -> None:
        stop_http_server(self.server)
        self._thread.join(5)
        self.runtime.stop()

    # -- talking to the bot as Slack does ---------------------------------------

    def post(self, body: bytes, **kw: Any) -> tuple[int, bytes]:
        status, payload, _ = signed_post(
            f"{self.url}/slack/events", secret=SECRET, body=body, content_type=FORM, **kw
        )
        return status, payload

    def click(self, action_id: str, approval_id: str, user: str, name: str = "click", **kw: Any) -> int:
        approval = self.approvals.get(approval_id)
        body = block_action_body(
            action_id=action_id,
            value=approval_id,
            user_id=user,
            channel_id=approval.slack_channel or "C0APPROVALS",
            message_ts=approval.slack_ts or "1700000000.000100",
            response_url=self.fake.response_url(name),
            **kw,
        )
        return self.post(body)[0]

    def submit(
        self, callback_id: str, approval_id: str, user: str, values: dict[str, Any], **kw: Any
    ) -> tuple[int, Any]:
        body = view_submission_body(
            callback_id=callback_id, private_metadata=approval_id, user_id=user, values=values, **kw
        )
        status, payload = self.post(body)
        return status, json.loads(payload) if payload.strip() else None

    def command(self, command: str, text: str, user: str, name: str = "command") -> tuple[int, bytes]:
        body = slash_command_body(
            command=command, text=text, user_id=user, response_url=self.fake.response_url(name)
        )
        return self.post(body)

    def replies(self, name: str) -> list[str]:
        return [str(call.params.get("text", "")) for call in self.fake.calls_to(f"response_url:{name}")]

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return error.code, {}


@contextmanager
def running_slack(
    database_url: str, *, leads: tuple[str, ...] = ("U0LEAD1", "U0LEAD2"), background: bool = True
) -> Iterator[SlackStack]:
    """A SlackStack on a fresh FakeSlack whose ``S0REVOPSLEADS`` group holds ``leads``."""
    with FakeSlack() as fake:
        fake.set_usergroup("S0REVOPSLEADS", list(leads))
        stack = SlackStack(database_url, fake, background=background)
        try:
            yield stack
        finally:
            stack.close()
