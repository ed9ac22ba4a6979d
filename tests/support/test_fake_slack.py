"""The Slack test doubles, checked against the real slack_sdk and slack_bolt."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.support.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from tests.support.slack_requests import (
    UNSET_RESPONSE_URL,
    block_action_body,
    event_body,
    sign,
    signed_post,
    slash_command_body,
    view_submission_body,
)

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.base_url)


def _payload(body: bytes) -> dict[str, Any]:
    form = parse_qs(body.decode(), strict_parsing=True)
    assert list(form) == ["payload"]
    decoded: dict[str, Any] = json.loads(form["payload"][0])
    return decoded


# -- the fake Web API -----------------------------------------------------------------


def test_post_update_and_read_back(slack: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approve?"}}]
    posted = client.chat_postMessage(channel="#approvals", text="Approve?", blocks=blocks)
    reply = client.chat_postMessage(channel=posted["channel"], thread_ts=posted["ts"], text="details")
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="Approved", blocks=[])

    assert posted["channel"] == slack.channel_id("#approvals")
    assert posted["channel"].startswith("C")
    assert (posted["ts"], reply["ts"]) == ("1700000000.000100", "1700000000.000200")
    assert posted["message"]["blocks"] == blocks
    messages = slack.messages("#approvals")
    assert list(messages) == [posted["ts"], reply["ts"]]
    assert messages[posted["ts"]]["text"] == "Approved"
    assert messages[posted["ts"]]["blocks"] == []
    assert messages[reply["ts"]]["thread_ts"] == posted["ts"]
    call = slack.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == blocks  # decoded from the form body
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_update_of_an_unknown_message_fails_like_slack(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C0APPROVALS", ts="1700000000.000100", text="x")
    assert raised.value.response["error"] == "message_not_found"


def test_json_bodies_and_get_requests_are_understood(slack: FakeSlack, client: WebClient) -> None:
    client.api_call("chat.postMessage", json={"channel": "C0JSON", "text": "hi", "blocks": []})
    request = urllib.request.Request(
        f"{slack.base_url}auth.test?foo=bar", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request) as response:
        answer = json.loads(response.read())

    assert slack.calls_to("chat.postMessage")[0].params == {"channel": "C0JSON", "text": "hi", "blocks": []}
    assert answer["user_id"] == BOT_USER_ID
    assert slack.calls_to("auth.test")[0].params == {"foo": "bar"}


def test_ephemeral_and_permalink(slack: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0APPROVALS", text="card")
    ephemeral = client.chat_postEphemeral(channel="C0APPROVALS", user="U0ALICE", text="only you")
    link = client.chat_getPermalink(channel="C0APPROVALS", message_ts=posted["ts"])

    assert float(ephemeral["message_ts"]) > float(posted["ts"])
    assert list(slack.messages("C0APPROVALS")) == [posted["ts"]]  # ephemeral messages are not stored
    assert link["permalink"].endswith("/archives/C0APPROVALS/p1700000000000100")


def test_views_open_update_and_publish(slack: FakeSlack, client: WebClient) -> None:
    modal = {"type": "modal", "callback_id": "reject", "title": {"type": "plain_text", "text": "Reject"}}
    opened = client.views_open(trigger_id="tr-1", view=modal)
    view_id = opened["view"]["id"]
    updated = client.views_update(view_id=view_id, hash=opened["view"]["hash"], view={**modal, "blocks": []})
    home = client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})

    assert opened["view"]["callback_id"] == "reject"
    assert updated["view"]["id"] == view_id
    assert slack.views()[view_id]["hash"] == updated["view"]["hash"] != opened["view"]["hash"]
    assert home["view"]["type"] == "home"
    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=view_id, hash=opened["view"]["hash"], view=modal)
    with pytest.raises(SlackApiError, match="not_found"):
        client.views_update(view_id="V404", view=modal)


def test_usergroups_users_and_conversations(slack: FakeSlack, client: WebClient) -> None:
    slack.set_usergroup("S0LEADS", ["U0ALICE", "U0BOB"])
    slack.set_user("U0ALICE", name="alice", tz="America/New_York")

    assert client.usergroups_users_list(usergroup="S0LEADS")["users"] == ["U0ALICE", "U0BOB"]
    user = client.users_info(user="U0ALICE")["user"]
    assert (user["name"], user["tz"], user["is_bot"]) == ("alice", "America/New_York", False)
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    dm = client.conversations_open(users="U0ALICE")["channel"]["id"]
    assert dm.startswith("D")
    assert client.chat_postMessage(channel="U0ALICE", text="hi")["channel"] == dm
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0NOPE")
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="U0NOBODY")


def test_files_upload_v2_end_to_end(slack: FakeSlack, client: WebClient) -> None:
    thread = client.chat_postMessage(channel="C0REPORTS", text="weekly")
    result = client.files_upload_v2(
        channel="C0REPORTS", thread_ts=thread["ts"], content=PNG, filename="chart.png", title="Chart"
    )

    upload = slack.calls_to("upload_url")[0]
    assert upload.params == {"file_id": result["file"]["id"], "content": PNG}
    assert result["file"]["title"] == "Chart"
    assert result["file"]["mimetype"] == "image/png"
    share = [m for m in slack.messages("C0REPORTS").values() if "files" in m]
    assert len(share) == 1
    assert share[0]["thread_ts"] == thread["ts"]


def test_rate_limit_is_retried_after_retry_after(slack: FakeSlack) -> None:
    handler = RateLimitErrorRetryHandler(max_retry_count=1)
    client = WebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[handler])
    slack.fail_next("chat.postMessage", status=429, retry_after=1)

    started = time.monotonic()
    assert client.chat_postMessage(channel="C0X", text="hi")["ok"]

    first, second = slack.calls_to("chat.postMessage")
    assert time.monotonic() - started >= 1
    assert second.at - first.at >= 1
    assert len(slack.messages("C0X")) == 1


def test_rate_limit_answer_carries_retry_after(slack: FakeSlack, client: WebClient) -> None:
    slack.fail_next("users.info", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        client.users_info(user=BOT_USER_ID)
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"


def test_server_error_is_retried(slack: FakeSlack) -> None:
    handler = ServerErrorRetryHandler(
        max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01)
    )
    client = WebClient(token=TOKEN, base_url=slack.base_url, retry_handlers=[handler])
    slack.fail_next("chat.postMessage", status=500)

    assert client.chat_postMessage(channel="C0X", text="hi")["ok"]
    assert len(slack.calls_to("chat.postMessage")) == 2


def test_scripted_slack_errors_repeat_then_stop(slack: FakeSlack, client: WebClient) -> None:
    slack.fail_next("auth.test", status=200, error="account_inactive", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="account_inactive"):
            client.auth_test()
    assert client.auth_test()["ok"]


@pytest.mark.parametrize(("token", "error"), [(None, "not_authed"), ("xoxb-invalid", "invalid_auth")])
def test_tokens_are_checked(slack: FakeSlack, token: str | None, error: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(token=token, base_url=slack.base_url).chat_postMessage(channel="C0X", text="hi")
    assert raised.value.response["error"] == error
    assert slack.messages("C0X") == {}


def test_unknown_methods_are_refused(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("admin.everything.delete")


def test_response_url_is_recorded_and_replaces_the_message(slack: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="C0APPROVALS", text="Approve?")
    url = slack.response_url("click", channel="C0APPROVALS", message_ts=posted["ts"])

    response = WebhookClient(url).send(text="Approved by Alice", replace_original=True)

    assert response.status_code == 200
    assert slack.calls_to("response_url:click")[0].params["text"] == "Approved by Alice"
    assert slack.messages("C0APPROVALS")[posted["ts"]]["text"] == "Approved by Alice"


def test_wait_for_blocks_until_the_call_arrives(slack: FakeSlack, client: WebClient) -> None:
    later = threading.Timer(0.05, lambda: client.chat_postMessage(channel="C0X", text="late"))
    later.start()
    try:
        assert slack.wait_for("chat.postMessage")[0].params["text"] == "late"
    finally:
        later.join()
    with pytest.raises(AssertionError, match=r"2 call\(s\) to chat.postMessage"):
        slack.wait_for("chat.postMessage", count=2, timeout=0.05)


# -- signing and request bodies ---------------------------------------------------------


def test_sign_matches_slack_sdk_verifier() -> None:
    body = slash_command_body(command="/revgate", text="status", user_id="U0ALICE")
    now = int(time.time())
    headers = sign(body, SECRET, now)
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid(body, str(now), headers["X-Slack-Signature"])
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid(body + b"&text=rm", str(now), headers["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(body, str(now), headers["X-Slack-Signature"])


def test_signed_post_sends_slacks_headers(slack: FakeSlack) -> None:
    body = event_body({"type": "app_mention", "text": "hi"})
    status, _, headers = signed_post(
        slack.response_url("sink"), secret=SECRET, body=body, content_type="application/json"
    )
    forged = signed_post(
        slack.response_url("sink"),
        secret=SECRET,
        body=body,
        content_type="application/json",
        signature="v0=0",
    )

    received = [call.headers for call in slack.calls_to("response_url:sink")]
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert SignatureVerifier(SECRET).is_valid_request(body, received[0])
    assert forged[0] == 200
    assert received[1]["x-slack-signature"] == "v0=0"


def test_signed_post_refuses_remote_hosts() -> None:
    with pytest.raises(ValueError, match="local"):
        signed_post("https://slack.com/api/x", secret=SECRET, body=b"", content_type="text/plain")


def test_block_action_body_shape() -> None:
    payload = _payload(
        block_action_body(
            action_id="approve",
            value="apr-1",
            user_id="U0ALICE",
            extra_actions=[{"action_id": "more", "type": "button", "value": "x"}],
            state_values={"b2": {"note": {"type": "plain_text_input", "value": "ok"}}},
        )
    )

    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": "U0ALICE", "username": "u0alice", "name": "u0alice", "team_id": TEAM_ID}
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C0APPROVALS",
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == "C0APPROVALS"
    assert payload["message"]["ts"] == "1700000000.000100"
    assert payload["team"]["id"] == TEAM_ID
    assert payload["trigger_id"] == "tr-1"
    assert payload["response_url"] == UNSET_RESPONSE_URL
    assert [a["action_id"] for a in payload["actions"]] == ["approve", "more"]
    assert payload["actions"][0] | {"action_ts": "t"} == {
        "action_id": "approve",
        "block_id": "b1",
        "value": "apr-1",
        "type": "button",
        "action_ts": "t",
    }
    assert payload["state"]["values"]["b2"]["note"]["value"] == "ok"


def test_view_submission_body_shape() -> None:
    values = {"reason": {"reason_input": {"type": "plain_text_input", "value": "too big"}}}
    payload = _payload(
        view_submission_body(callback_id="reject", private_metadata="apr-1", user_id="U0ALICE", values=values)
    )

    assert payload["type"] == "view_submission"
    assert payload["user"]["id"] == "U0ALICE"
    assert payload["view"]["id"] == "V1"
    assert payload["view"]["callback_id"] == "reject"
    assert payload["view"]["private_metadata"] == "apr-1"
    assert payload["view"]["state"]["values"] == values


def test_slash_command_and_event_body_shapes() -> None:
    command = parse_qs(slash_command_body(command="/revgate", text="list open", user_id="U0ALICE").decode())
    envelope = json.loads(event_body({"type": "app_mention", "user": "U0ALICE", "text": "hi"}))
    again = json.loads(event_body({"type": "app_mention"}))

    assert {key: values[0] for key, values in command.items()} | {"response_url": "u"} == {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "revgate-test",
        "channel_id": "C0GENERAL",
        "channel_name": "c0general",
        "user_id": "U0ALICE",
        "user_name": "u0alice",
        "command": "/revgate",
        "text": "list open",
        "api_app_id": "A0REVGATE",
        "is_enterprise_install": "false",
        "response_url": "u",
        "trigger_id": "tr-3",
    }
    assert envelope["type"] == "event_callback"
    assert envelope["team_id"] == TEAM_ID
    assert envelope["event"]["type"] == "app_mention"
    assert envelope["authorizations"][0]["user_id"] == BOT_USER_ID
    assert envelope["event_id"] != again["event_id"]


# -- everything together: signed requests into a Bolt app that talks to the fake ------------


class _BoltEndpoint(BaseHTTPRequestHandler):
    """A bare HTTP endpoint in front of a Bolt app, standing in for the bot's own."""

    app: App

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = self.app.dispatch(BoltRequest(body=body.decode(), headers=dict(self.headers.items())))
        payload = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def bolt_url(slack: FakeSlack) -> Iterator[str]:
    app = App(signing_secret=SECRET, client=WebClient(token=TOKEN, base_url=slack.base_url))

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="Approved")

    @app.command("/revgate")
    def command(ack: Ack, command: dict[str, str], respond: Any) -> None:
        ack()
        respond(text=f"you said {command['text']}")

    @app.view("reject")
    def reject(ack: Ack, view: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel="#approvals", text=view["private_metadata"])

    @app.event("app_mention")
    def mention(event: dict[str, Any], say: Any) -> None:
        say(text="hello")

    handler = type("Endpoint", (_BoltEndpoint,), {"app": app})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_bolt_accepts_each_request_kind_and_talks_to_the_fake(slack: FakeSlack, bolt_url: str) -> None:
    form = "application/x-www-form-urlencoded"
    card = WebClient(token=TOKEN, base_url=slack.base_url).chat_postMessage(channel="C0APPROVALS", text="?")
    click = block_action_body(action_id="approve", value="apr-1", user_id="U0ALICE", message_ts=card["ts"])
    command = slash_command_body(
        command="/revgate", text="status", user_id="U0ALICE", response_url=slack.response_url("cmd")
    )
    submit = view_submission_body(
        callback_id="reject", private_metadata="apr-1", user_id="U0ALICE", values={}
    )
    mention = event_body({"type": "app_mention", "user": "U0ALICE", "text": "hi", "channel": "C0GENERAL"})

    assert signed_post(bolt_url, secret=SECRET, body=click, content_type=form)[0] == 200
    assert signed_post(bolt_url, secret=SECRET, body=command, content_type=form)[0] == 200
    assert signed_post(bolt_url, secret=SECRET, body=submit, content_type=form)[0] == 200
    assert signed_post(bolt_url, secret=SECRET, body=mention, content_type="application/json")[0] == 200

    slack.wait_for("chat.update")
    slack.wait_for("response_url:cmd")
    posts = slack.wait_for("chat.postMessage", count=3)
    assert slack.messages("C0APPROVALS")[card["ts"]]["text"] == "Approved"
    assert slack.calls_to("response_url:cmd")[0].params["text"] == "you said status"
    assert sorted(call.params["text"] for call in posts[1:]) == ["apr-1", "hello"]


def test_bolt_rejects_forged_and_stale_requests(bolt_url: str) -> None:
    click = block_action_body(action_id="approve", value="apr-1", user_id="U0ALICE")
    form = "application/x-www-form-urlencoded"
    stale = int(time.time()) - 10 * 60

    assert signed_post(bolt_url, secret=SECRET, body=click, content_type=form, signature="v0=bad")[0] == 401
    assert signed_post(bolt_url, secret="wrong", body=click, content_type=form)[0] == 401
    assert signed_post(bolt_url, secret=SECRET, body=click, content_type=form, timestamp=stale)[0] == 401
