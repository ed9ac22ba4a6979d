"""A local Slack Web API for tests that must never reach slack.com.

``FakeSlack`` serves the Web API methods revgate uses on 127.0.0.1, answers them
with Slack's response shapes and error codes, records every call, and keeps just
enough state (messages, views, users, user groups, uploaded files) for a test to
read back what the bot did. Point the real client at it::

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        client.chat_postMessage(channel="#approvals", text="Approve?")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "Approve?"

Besides ``/api/<method>``, the server answers the upload URLs that
``files.getUploadURLExternal`` hands out (recorded as method ``"upload_url"``) and
the response URLs made by :meth:`FakeSlack.response_url` (recorded as
``"response_url:<name>"``).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import mimetypes
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from tests.support.local_server import LocalServer, LoopbackServer

Json = dict[str, Any]

TEAM_ID = "T0TEAM"
TEAM_NAME = "RevGate Test"
TEAM_DOMAIN = "revgate-test"
BOT_USER_ID = "U0REVGATE"
BOT_NAME = "revgate"
BOT_ID = "B0REVGATE"
APP_ID = "A0REVGATE"
INVALID_TOKEN = "xoxb-invalid"
UPLOAD_URL_METHOD = "upload_url"
RESPONSE_URL_PREFIX = "response_url:"

_FIRST_TS_SECONDS = 1_700_000_000
_TS_STEP_MICROS = 100
# Form fields Slack takes as JSON strings; they are decoded so tests see structures.
_JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
_MESSAGE_CONTENT = ("text", "blocks", "attachments", "metadata")
_CHANNEL_ID = re.compile(r"[CDG][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_DEFAULT_ERROR = {429: "ratelimited"}
_UPLOAD_PATH = "/upload/v1/"


@dataclass(frozen=True)
class SlackCall:
    """One request the fake received.

    ``params`` merges the query string with the form or JSON body; form fields Slack
    takes as JSON strings (blocks, attachments, view, files, metadata) are decoded.
    ``headers`` has lower-cased names. ``at`` is ``time.monotonic()`` on arrival.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str
    remaining: int


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, payload: Json, *, status: int = 200, headers: dict[str, str] | None = None) -> _Reply:
        body = json.dumps(payload).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def of_text(cls, text: str, *, status: int = 200) -> _Reply:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


class FakeSlack(LocalServer):
    """A local Slack Web API on 127.0.0.1 that records every call and answers like Slack."""

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ts_serial = itertools.count(1)
        self._id_serial = itertools.count(1)
        self._failures: dict[str, list[_Failure]] = {}
        self._messages: dict[str, dict[str, Json]] = {}
        self._views: dict[str, Json] = {}
        self._home_views: dict[str, str] = {}
        self._usergroups: dict[str, list[str]] = {}
        self._users: dict[str, Json] = {}
        self._files: dict[str, Json] = {}
        self._uploaded: set[str] = set()
        self._response_targets: dict[str, tuple[str, str]] = {}
        self._methods: dict[str, Callable[[Json], Json]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "usergroups.users.list": self._usergroups_users_list,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }
        self.set_user(BOT_USER_ID, name=BOT_NAME, is_bot=True)

    def _make_server(self) -> LoopbackServer[FakeSlack]:
        return LoopbackServer(self, _Handler)

    @property
    def base_url(self) -> str:
        """The Web API root to pass as ``WebClient(base_url=...)``."""
        return f"{self._root_url}/api/"

    @property
    def _root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- scripting ---------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        retry_after: int | None = None,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (they are still recorded).

        ``status=429`` answers ``{"ok": false, "error": "ratelimited"}`` with a
        ``Retry-After`` header (``retry_after`` seconds, default 1); ``status=500``
        answers an HTTP 500; ``status=200`` with ``error`` answers Slack's usual
        ``{"ok": false, "error": error}``. Failures scripted for one method queue up.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        if status == 200 and error is None:
            raise ValueError("a scripted failure with status 200 needs an error code")
        if status == 429 and retry_after is None:
            retry_after = 1  # Slack always tells a rate-limited client when to come back
        reason = error or _DEFAULT_ERROR.get(status, "internal_error")
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(status, retry_after, reason, times))

    def set_usergroup(self, group_id: str, users: list[str]) -> None:
        """Define (or redefine) the members of a user group (``S…``)."""
        with self._lock:
            self._usergroups[group_id] = list(users)

    def set_user(
        self, user_id: str, *, name: str | None = None, tz: str = "UTC", is_bot: bool = False
    ) -> None:
        """Define a user for ``users.info``; ``name`` defaults to the lower-cased id."""
        with self._lock:
            self._users[user_id] = _user_object(user_id, name or user_id.lower(), tz, is_bot)

    def response_url(self, name: str, *, channel: str | None = None, message_ts: str | None = None) -> str:
        """A response URL on this server; POSTs to it are recorded as ``"response_url:<name>"``.

        With ``channel`` and ``message_ts``, the URL belongs to that message the way an
        interaction's response URL does: ``replace_original`` rewrites it,
        ``delete_original`` deletes it and ``response_type: in_channel`` posts a new one.
        """
        if channel is not None and message_ts is not None:
            with self._lock:
                self._response_targets[name] = (self.channel_id(channel), message_ts)
        return f"{self._root_url}/response_url/{quote(name, safe='')}"

    # -- inspection --------------------------------------------------------------

    def calls_to(self, method: str) -> list[SlackCall]:
        """The recorded calls to ``method``, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Block until at least ``count`` calls to ``method`` arrived, then return them all.

        Raises ``AssertionError`` (listing the methods seen) when ``timeout`` runs out.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.calls_to(method)) >= count, timeout):
                seen = sorted({call.method for call in self.calls})
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, "
                    f"got {len(self.calls_to(method))}; methods called: {seen}"
                )
            return self.calls_to(method)

    def messages(self, channel: str) -> dict[str, dict[str, Any]]:
        """ts -> latest state of each message in ``channel`` (an id, ``#name`` or user id).

        Thread replies are listed under their own ts and carry ``thread_ts``.
        """
        with self._lock:
            return copy.deepcopy(self._messages.get(self.channel_id(channel), {}))

    def views(self) -> dict[str, dict[str, Any]]:
        """view id -> latest state of each view opened, pushed, updated or published."""
        with self._lock:
            return copy.deepcopy(self._views)

    def channel_id(self, channel: str) -> str:
        """The id Slack would use for ``channel``.

        Ids pass through, ``#name`` (or a bare name) maps to a stable ``C…`` id and a
        user id maps to the stable ``D…`` id of the bot's direct message with them.
        """
        if _CHANNEL_ID.fullmatch(channel):
            return channel
        if _USER_ID.fullmatch(channel):
            return _stable_id("D", channel)
        return _stable_id("C", channel.removeprefix("#"))

    # -- request handling (called from the server's threads) -----------------------

    def _dispatch(self, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        url = urlsplit(path)
        method = _method_for(url.path)
        if method is None:
            return _Reply.of_text("Not Found", status=404)
        malformed = False
        if method == UPLOAD_URL_METHOD:  # the body is the file itself
            params: Json = {"file_id": url.path.removeprefix(_UPLOAD_PATH), "content": body}
        else:
            try:
                params = _parse_params(url.query, headers.get("content-type", ""), body)
            except ValueError:
                params, malformed = {}, True
        with self._changed:
            self.calls.append(SlackCall(method, params, headers, time.monotonic()))
            self._changed.notify_all()
            return (
                _Reply.of_json(_error("invalid_json")) if malformed else self._answer(method, params, headers)
            )

    def _answer(self, method: str, params: Json, headers: dict[str, str]) -> _Reply:
        failure = self._take_failure(method)
        if failure is not None:
            retry_after = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
            return _Reply.of_json(_error(failure.error), status=failure.status, headers=retry_after)
        if method == UPLOAD_URL_METHOD:
            return self._receive_upload(params)
        if method.startswith(RESPONSE_URL_PREFIX):
            return self._receive_response(method.removeprefix(RESPONSE_URL_PREFIX), params)
        problem = _auth_problem(headers, params)
        if problem is not None:
            return _Reply.of_json(_error(problem))
        handler = self._methods.get(method)
        return _Reply.of_json(handler(params) if handler else _error("unknown_method"))

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining == 0:
            queue.pop(0)
        return failure

    def _new_ts(self) -> str:
        micros = next(self._ts_serial) * _TS_STEP_MICROS
        return f"{_FIRST_TS_SECONDS + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._id_serial):010d}"

    # -- auth, chat ------------------------------------------------------------------

    def _auth_test(self, params: Json) -> Json:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post(self, channel_id: str, params: Json) -> Json:
        ts = self._new_ts()
        message: Json = {
            "type": "message",
            "ts": ts,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "text": "",
        }
        message.update(_picked(params, (*_MESSAGE_CONTENT, "thread_ts")))
        self._messages.setdefault(channel_id, {})[ts] = message
        return message

    def _chat_post_message(self, params: Json) -> Json:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not _has_content(params):
            return _error("no_text")
        channel_id = self.channel_id(str(params["channel"]))
        message = self._post(channel_id, params)
        return {"ok": True, "channel": channel_id, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: Json) -> Json:
        if not params.get("channel"):
            return _error("channel_not_found")
        channel_id = self.channel_id(str(params["channel"]))
        message = self._messages.get(channel_id, {}).get(str(params.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        if not _has_content(params):
            return _error("no_text")
        message.update(_picked(params, _MESSAGE_CONTENT))
        return {
            "ok": True,
            "channel": channel_id,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, params: Json) -> Json:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_found")
        if not _has_content(params):
            return _error("no_text")
        return {"ok": True, "message_ts": self._new_ts()}

    def _chat_get_permalink(self, params: Json) -> Json:
        channel_id = self.channel_id(str(params.get("channel", "")))
        message = self._messages.get(channel_id, {}).get(str(params.get("message_ts", "")))
        if message is None:
            return _error("message_not_found")
        permalink = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel_id}/p{message['ts'].replace('.', '')}"
        if "thread_ts" in message:
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel_id}"
        return {"ok": True, "channel": channel_id, "permalink": permalink}

    # -- views -----------------------------------------------------------------------

    def _store_view(self, view_id: str, view: Json, root_view_id: str) -> Json:
        stored: Json = {
            "type": "modal",
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            "previous_view_id": None,
            **copy.deepcopy(view),
            "id": view_id,
            "team_id": TEAM_ID,
            "state": {"values": {}},
            "hash": f"{_FIRST_TS_SECONDS}.{next(self._id_serial):08d}",
            "root_view_id": root_view_id,
            "app_id": APP_ID,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self._views[view_id] = stored
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_open(self, params: Json) -> Json:
        view = params.get("view")
        if not params.get("trigger_id") or not isinstance(view, dict):
            return _error("invalid_arguments")
        view_id = self._new_id("V")
        return self._store_view(view_id, view, root_view_id=view_id)

    def _views_update(self, params: Json) -> Json:
        view = params.get("view")
        if not isinstance(view, dict):
            return _error("invalid_arguments")
        current = self._find_view(params)
        if current is None:
            return _error("not_found")
        if params.get("hash") and params["hash"] != current["hash"]:
            return _error("hash_conflict")
        return self._store_view(current["id"], view, root_view_id=current["root_view_id"])

    def _find_view(self, params: Json) -> Json | None:
        if params.get("view_id"):
            return self._views.get(str(params["view_id"]))
        external_id = params.get("external_id")
        if not external_id:
            return None
        return next((view for view in self._views.values() if view["external_id"] == external_id), None)

    def _views_publish(self, params: Json) -> Json:
        view = params.get("view")
        user_id = str(params.get("user_id", ""))
        if not user_id or not isinstance(view, dict) or view.get("type") != "home":
            return _error("invalid_arguments")
        view_id = self._home_views.setdefault(user_id, self._new_id("V"))
        return self._store_view(view_id, view, root_view_id=view_id)

    # -- people and conversations ----------------------------------------------------

    def _usergroups_users_list(self, params: Json) -> Json:
        group_id = params.get("usergroup")
        if not group_id:
            return _error("invalid_arguments")
        if group_id not in self._usergroups:
            return _error("no_such_subteam")
        return {"ok": True, "users": list(self._usergroups[group_id])}

    def _users_info(self, params: Json) -> Json:
        user = self._users.get(str(params.get("user", "")))
        if user is None:
            return _error("user_not_found")
        return {"ok": True, "user": copy.deepcopy(user)}

    def _conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            return {"ok": True, "channel": {"id": self.channel_id(str(params["channel"]))}}
        users = [user for user in str(params.get("users", "")).split(",") if user]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 8:
            return _error("too_many_users")
        if len(users) == 1:
            return {"ok": True, "channel": {"id": self.channel_id(users[0])}}
        return {"ok": True, "channel": {"id": _stable_id("G", ",".join(sorted(users)))}}

    # -- files -----------------------------------------------------------------------

    def _files_get_upload_url_external(self, params: Json) -> Json:
        filename = str(params.get("filename", ""))
        length = str(params.get("length", ""))
        if not filename or not length.isdigit():
            return _error("invalid_arguments")
        file_id = self._new_id("F")
        self._files[file_id] = _file_object(file_id, filename, int(length))
        return {"ok": True, "upload_url": f"{self._root_url}{_UPLOAD_PATH}{file_id}", "file_id": file_id}

    def _receive_upload(self, params: Json) -> _Reply:
        file_id = params["file_id"]
        if file_id not in self._files:
            return _Reply.of_text("file not found", status=404)
        self._uploaded.add(file_id)
        self._files[file_id]["size"] = len(params["content"])
        return _Reply.of_text(f"OK - {len(params['content'])}")

    def _files_complete_upload_external(self, params: Json) -> Json:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            return _error("invalid_arguments")
        if not all(isinstance(entry, dict) and entry.get("id") in self._uploaded for entry in entries):
            return _error("file_not_found")
        for entry in entries:
            if entry.get("title"):
                self._files[entry["id"]]["title"] = entry["title"]
        files = [copy.deepcopy(self._files[entry["id"]]) for entry in entries]
        for channel in _share_targets(params):
            self._share(self.channel_id(channel), files, params)
        return {"ok": True, "files": files}

    def _share(self, channel_id: str, files: list[Json], params: Json) -> None:
        """The message Slack posts for shared files, with ``initial_comment`` as its text."""
        comment = {"text": params.get("initial_comment", ""), **_picked(params, ("thread_ts",))}
        message = self._post(channel_id, comment)
        message.update(files=copy.deepcopy(files), upload=True)

    # -- response URLs ---------------------------------------------------------------

    def _receive_response(self, name: str, params: Json) -> _Reply:
        target = self._response_targets.get(name)
        if target is not None:
            self._respond_to(*target, params)
        return _Reply.of_json({"ok": True})

    def _respond_to(self, channel_id: str, ts: str, params: Json) -> None:
        """Apply a response the way Slack does to the message the URL belongs to."""
        messages = self._messages.get(channel_id, {})
        if _truthy(params.get("replace_original")):
            if ts in messages:
                _replace_content(messages[ts], params)
            return
        if _truthy(params.get("delete_original")):
            messages.pop(ts, None)
        if params.get("response_type") == "in_channel" and _has_content(params):
            self._post(channel_id, params)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets ``FakeSlack`` answer it, writes the reply (HTTP/1.0: one per connection)."""

    timeout = 10  # a stalled client cannot keep stop() waiting for ever
    server_version = "FakeSlack/1.0"

    def do_GET(self) -> None:
        self._handle_one()

    def do_POST(self) -> None:
        self._handle_one()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; every request is recorded in ``FakeSlack.calls``."""

    def _handle_one(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            reply = cast(LoopbackServer[FakeSlack], self.server).fake._dispatch(self.path, headers, body)
        except Exception as exc:  # a bug in the fake must show up in the test, not hang it
            reply = _Reply.of_json(
                {"ok": False, "error": "fake_slack_error", "detail": repr(exc)}, status=500
            )
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)


# -- pure helpers ----------------------------------------------------------------------


def _error(code: str) -> Json:
    return {"ok": False, "error": code}


def _method_for(path: str) -> str | None:
    """The recorded method name for a request path, or None when nothing lives there."""
    if path.startswith("/api/") and len(path) > len("/api/"):
        return path.removeprefix("/api/")
    if path.startswith(_UPLOAD_PATH):
        return UPLOAD_URL_METHOD
    if path.startswith("/response_url/"):
        return RESPONSE_URL_PREFIX + unquote(path.removeprefix("/response_url/"))
    return None


def _parse_params(query: str, content_type: str, body: bytes) -> Json:
    """Query string plus form or JSON body as one dict; ValueError for a malformed JSON body."""
    fields: Json = dict(parse_qsl(query, keep_blank_values=True))
    if body and content_type.startswith("application/json"):
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("a JSON body must be an object")
        return {**_decode_json_fields(fields), **decoded}
    if body and (not content_type or content_type.startswith("application/x-www-form-urlencoded")):
        fields.update(parse_qsl(body.decode(), keep_blank_values=True))
    return _decode_json_fields(fields)


def _decode_json_fields(fields: Json) -> Json:
    decoded = dict(fields)
    for key in _JSON_FIELDS & decoded.keys():
        value = decoded[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # left raw: Slack would reject it, the test sees it
                decoded[key] = json.loads(value)
    return decoded


def _auth_problem(headers: dict[str, str], params: Json) -> str | None:
    """Slack's error for the request's token, or None when it is accepted."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else ""
    token = token or str(params.get("token", ""))
    if not token:
        return "not_authed"
    if token == INVALID_TOKEN or not token.startswith("xox"):
        return "invalid_auth"
    return None


def _picked(params: Json, keys: tuple[str, ...]) -> Json:
    """Copies of the given fields, so stored state never shares objects with recorded calls."""
    return {key: copy.deepcopy(params[key]) for key in keys if key in params}


def _replace_content(message: Json, params: Json) -> None:
    for key in _MESSAGE_CONTENT:
        message.pop(key, None)
    message.update({"text": "", **_picked(params, _MESSAGE_CONTENT)})


def _has_content(params: Json) -> bool:
    return any(params.get(key) for key in ("text", "blocks", "attachments"))


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _stable_id(prefix: str, key: str) -> str:
    """The same id for the same key, in every run."""
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


def _share_targets(params: Json) -> list[str]:
    channels = [channel for channel in str(params.get("channels", "")).split(",") if channel]
    if params.get("channel_id"):
        channels.append(str(params["channel_id"]))
    return channels


def _user_object(user_id: str, name: str, tz: str, is_bot: bool) -> Json:
    local = datetime.now(UTC).astimezone(ZoneInfo(tz))
    offset = local.utcoffset()
    real_name = name.replace(".", " ").title()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "real_name": real_name,
        "tz": tz,
        "tz_label": local.tzname(),
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "is_admin": False,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": _FIRST_TS_SECONDS,
        "profile": {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": name,
            "display_name_normalized": name,
            "team": TEAM_ID,
        },
    }


def _file_object(file_id: str, filename: str, size: int) -> Json:
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return {
        "id": file_id,
        "created": _FIRST_TS_SECONDS,
        "timestamp": _FIRST_TS_SECONDS,
        "name": filename,
        "title": filename,
        "mimetype": mimetype,
        "filetype": filename.rpartition(".")[2].lower() if "." in filename else "binary",
        "user": BOT_USER_ID,
        "size": size,
        "is_external": False,
        "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{file_id}/{quote(filename)}",
    }
