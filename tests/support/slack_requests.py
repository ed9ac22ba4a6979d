"""Requests the way Slack sends them to the bot: signed, and shaped like the real thing.

Slack signs each request with the app's signing secret: the hex HMAC-SHA256 of
``v0:{timestamp}:{raw body}``, sent as ``X-Slack-Signature: v0=<hex>`` next to
``X-Slack-Request-Timestamp``. :func:`signed_post` does the same and POSTs to the
bot's real HTTP endpoint; the ``*_body`` builders produce the raw bodies of block
actions, view submissions, slash commands and Events API callbacks.

The ids match :mod:`tests.support.fake_slack` (team, app and bot user), so a bot
wired to ``FakeSlack`` sees one consistent workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.support.fake_slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

VERIFICATION_TOKEN = "legacy-verification-token"
# Port 9 (discard) refuses connections: a handler that answers through a response URL
# the test did not provide fails loudly on the local machine instead of reaching Slack.
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response_url/unset"
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_event_serial = itertools.count(1)


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    """The ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers Slack would send."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def signed_post(
    url: str,
    *,
    secret: str,
    body: bytes,
    content_type: str,
    timestamp: int | None = None,
    signature: str | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    """POST ``body`` to a local ``url`` signed with ``secret``; return status, body and headers.

    ``timestamp`` defaults to now (pass an old one to test replay protection);
    ``signature`` replaces the computed one, to forge a request. Response header
    names are lower-cased. Error statuses are returned, not raised.
    """
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **sign(body, secret, int(time.time()) if timestamp is None else timestamp),
    }
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    return _post(url, body, headers)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in _LOCAL_HOSTS:
        raise ValueError(f"tests only talk to local HTTP servers, not {url!r}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            received[key] = f"{received[key]}, {value}" if key in received else value
        return response.status, data, received
    finally:
        connection.close()


def block_action_body(
    *,
    action_id: str,
    value: str,
    user_id: str,
    channel_id: str = "C0APPROVALS",
    message_ts: str = "1700000000.000100",
    trigger_id: str = "tr-1",
    response_url: str | None = None,
    team_id: str = TEAM_ID,
    block_id: str = "b1",
    extra_actions: list[dict[str, Any]] | None = None,
    state_values: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
) -> bytes:
    """A button click on a message: ``payload=<json>`` of a ``block_actions`` interaction.

    ``message`` is merged over the default (empty) copy of the clicked message that
    Slack includes, for handlers that read its blocks. ``response_url`` defaults to
    :data:`UNSET_RESPONSE_URL`.
    """
    action = {
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "type": "button",
        "action_ts": _action_ts(),
    }
    clicked = {
        "type": "message",
        "ts": message_ts,
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": team_id,
        "text": "",
        "blocks": [],
        **(message or {}),
    }
    return _interaction(
        {
            "type": "block_actions",
            "user": _user(user_id, team_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": trigger_id,
            "team": {"id": team_id, "domain": TEAM_DOMAIN},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "message": clicked,
            "state": {"values": state_values or {}},
            "response_url": response_url or UNSET_RESPONSE_URL,
            "actions": [action, *(extra_actions or [])],
        }
    )


def view_submission_body(
    *,
    callback_id: str,
    private_metadata: str,
    user_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    view_id: str = "V1",
    trigger_id: str = "tr-2",
    blocks: list[dict[str, Any]] | None = None,
) -> bytes:
    """A modal submitted: ``payload=<json>`` of a ``view_submission`` interaction.

    ``values`` is ``view.state.values``: block_id -> action_id -> element state, e.g.
    ``{"reason": {"reason_input": {"type": "plain_text_input", "value": "ok"}}}``.
    """
    return _interaction(
        {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": _user(user_id, TEAM_ID),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": {
                "id": view_id,
                "team_id": TEAM_ID,
                "type": "modal",
                "blocks": blocks or [],
                "private_metadata": private_metadata,
                "callback_id": callback_id,
                "state": {"values": values},
                "hash": "1700000000.00000001",
                "title": {"type": "plain_text", "text": "revgate", "emoji": True},
                "clear_on_close": False,
                "notify_on_close": False,
                "close": None,
                "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
                "previous_view_id": None,
                "root_view_id": view_id,
                "app_id": APP_ID,
                "external_id": "",
                "app_installed_team_id": TEAM_ID,
                "bot_id": BOT_ID,
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
    )


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str = "C0GENERAL",
    response_url: str | None = None,
    trigger_id: str = "tr-3",
) -> bytes:
    """A slash command, form-encoded as Slack sends it (``response_url`` defaults to unset)."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or UNSET_RESPONSE_URL,
            "trigger_id": trigger_id,
        }
    ).encode()


def event_body(event: dict[str, Any], *, team_id: str = TEAM_ID, event_id: str | None = None) -> bytes:
    """An Events API ``event_callback`` envelope (JSON) around ``event``.

    Each call gets a fresh ``event_id`` unless one is given (Slack keeps it on retries).
    """
    return _compact_json(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_serial):010d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
    ).encode()


def _interaction(payload: dict[str, Any]) -> bytes:
    """Interactions arrive form-encoded, the JSON in a single ``payload`` field."""
    return urlencode({"payload": _compact_json(payload)}).encode()


def _compact_json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}


def _action_ts() -> str:
    return f"{time.time():.6f}"
