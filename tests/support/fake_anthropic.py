"""A local Messages API for tests that must never reach api.anthropic.com.

``FakeAnthropic`` serves ``POST /v1/messages`` on 127.0.0.1, answers from a queue
of scripted turns (or a responder function), records every request, and speaks
the API's JSON: ``message`` objects with ``content`` blocks (``text``,
``tool_use``), ``stop_reason`` and ``usage``, and error bodies
``{"type": "error", "error": {"type": ..., "message": ...}}`` with their HTTP status
(429 ``rate_limit_error`` with ``retry-after``, 500 ``api_error``, 529
``overloaded_error``). Point the real client at it::

    with FakeAnthropic() as fake:
        fake.enqueue(turn(tool_use("skip_cases", {"case_ids": ["c1"]})))
        client = anthropic.Anthropic(api_key="test", base_url=fake.base_url)

Usage is estimated when a turn does not give it: four characters a token, and a
prompt cache keyed on the system prompt and tools (blocks marked with
``cache_control``): the first request writes the cache, later ones read it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

from tests.support.local_server import LocalServer, LoopbackServer

Json = dict[str, Any]
INVALID_KEY = "sk-invalid"


@dataclass(frozen=True)
class FakeRequest:
    """One request the fake received: the decoded JSON body and lower-cased headers."""

    body: Json
    headers: dict[str, str]

    @property
    def api_key(self) -> str:
        """The key sent as ``x-api-key`` or as an ``Authorization: Bearer`` token."""
        bearer = self.headers.get("authorization", "")
        return self.headers.get("x-api-key") or bearer.removeprefix("Bearer ").strip()

    @property
    def messages(self) -> list[Json]:
        return list(self.body.get("messages", []))

    def text(self) -> str:
        """Every text the request carries (system, user turns, tool results), joined."""
        parts = [block.get("text", "") for block in self.body.get("system", []) if isinstance(block, dict)]
        for message in self.messages:
            content = message["content"]
            if isinstance(content, str):
                parts.append(content)
                continue
            for block in content:
                if block.get("type") == "text":
                    parts.append(block["text"])
                elif block.get("type") == "tool_result":
                    inner = block.get("content")
                    parts.append(inner if isinstance(inner, str) else json.dumps(inner))
        return "\n".join(parts)

    def tool_results(self) -> list[Json]:
        """The ``tool_result`` blocks of the last user turn."""
        last = self.messages[-1]["content"] if self.messages else []
        if not isinstance(last, list):
            return []
        return [b for b in last if isinstance(b, dict) and b.get("type") == "tool_result"]

    def data_blocks(self) -> list[Json]:
        """Every ``<crm_data>`` block of the first user turn, decoded."""
        first = self.messages[0]["content"] if self.messages else ""
        text = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
        found = []
        for chunk in text.split("<crm_data>")[1:]:
            found.append(json.loads(chunk.split("</crm_data>")[0]))
        return found


@dataclass(frozen=True)
class Turn:
    """A scripted ``message`` reply."""

    content: list[Json]
    stop_reason: str | None = None
    usage: Json | None = None


@dataclass(frozen=True)
class Failure:
    """A scripted error reply."""

    status: int
    error_type: str
    message: str = "scripted failure"
    retry_after: float | None = None


Responder = Callable[[FakeRequest], Turn | Failure]
Script = Turn | Failure | Responder


def text(value: str) -> Json:
    return {"type": "text", "text": value}


_ids = itertools.count(1)


def tool_use(name: str, input: Json, id: str | None = None) -> Json:
    return {"type": "tool_use", "id": id or f"toolu_{next(_ids):06d}", "name": name, "input": input}


def turn(*blocks: Json, stop_reason: str | None = None, usage: Json | None = None) -> Turn:
    """A reply; ``stop_reason`` defaults to ``tool_use`` when a block is a tool call, else ``end_turn``."""
    default = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    return Turn(list(blocks), stop_reason or default, usage)


def rate_limited(retry_after: float = 0) -> Failure:
    return Failure(429, "rate_limit_error", "Number of requests has exceeded your rate limit", retry_after)


def server_error() -> Failure:
    return Failure(500, "api_error", "Internal server error")


def overloaded() -> Failure:
    return Failure(529, "overloaded_error", "Overloaded")


def tokens(value: Any) -> int:
    """The fake's token estimate: four characters of JSON a token."""
    return math.ceil(len(json.dumps(value, separators=(",", ":"))) / 4)


@dataclass
class FakeAnthropic(LocalServer):
    """A local Messages API on 127.0.0.1 that records every request and answers as scripted."""

    default: Script | None = None
    """What to answer when the queue is empty (``None``: a 400 saying nothing was scripted)."""
    requests: list[FakeRequest] = field(default_factory=list)
    _queue: deque[Script] = field(default_factory=deque)
    _cached: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _make_server(self) -> LoopbackServer[FakeAnthropic]:
        return LoopbackServer(self, _Handler)

    @property
    def base_url(self) -> str:
        """The API root to pass as ``anthropic.Anthropic(base_url=...)`` (or ``REVGATE_ANTHROPIC_URL``)."""
        return f"http://127.0.0.1:{self.port}"

    # -- scripting and inspection ------------------------------------------------

    def enqueue(self, *replies: Script) -> None:
        """Answer the next requests with these, in order (a callable is called with the request)."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- answering ---------------------------------------------------------------

    def _answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Json, dict[str, str]]:
        if path.split("?")[0] != "/v1/messages":
            return 404, _error("not_found_error", f"no route {path}"), {}
        request = FakeRequest(json.loads(raw or b"{}"), headers)
        with self._lock:
            self.requests.append(request)
            script = self._queue.popleft() if self._queue else self.default
        if request.api_key in ("", INVALID_KEY):
            return 401, _error("authentication_error", "invalid x-api-key"), {}
        if script is None:
            return 400, _error("invalid_request_error", "fake: no scripted response left"), {}
        reply = script if isinstance(script, Turn | Failure) else script(request)
        if isinstance(reply, Failure):
            extra = {} if reply.retry_after is None else {"retry-after": f"{reply.retry_after:g}"}
            return reply.status, _error(reply.error_type, reply.message), extra
        return 200, self._message(request, reply), {}

    def _message(self, request: FakeRequest, reply: Turn) -> Json:
        return {
            "id": f"msg_{len(self.requests):06d}",
            "type": "message",
            "role": "assistant",
            "model": request.body.get("model", "claude-test"),
            "content": reply.content,
            "stop_reason": reply.stop_reason,
            "stop_sequence": None,
            "usage": reply.usage or self._usage(request, reply),
        }

    def _usage(self, request: FakeRequest, reply: Turn) -> Json:
        prefix = {"system": request.body.get("system"), "tools": request.body.get("tools")}
        digest = hashlib.sha256(json.dumps(prefix, sort_keys=True).encode()).hexdigest()
        marked = '"cache_control"' in json.dumps(prefix)
        with self._lock:
            hit = digest in self._cached
            if marked:
                self._cached.add(digest)
        cached = tokens(prefix) if marked else 0
        return {
            "input_tokens": tokens(request.messages) + (0 if marked else tokens(prefix)),
            "output_tokens": tokens(reply.content),
            "cache_creation_input_tokens": 0 if hit else cached,
            "cache_read_input_tokens": cached if hit else 0,
        }


def _error(kind: str, message: str) -> Json:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}


class _Handler(BaseHTTPRequestHandler):
    """One request per connection (HTTP/1.0), so stop() never waits on an idle keep-alive."""

    timeout = 10
    server_version = "FakeAnthropic/1.0"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            status, body, extra = cast(LoopbackServer[FakeAnthropic], self.server).fake._answer(
                self.path, headers, raw
            )
        except Exception as exc:  # a bug in the fake must show up in the test, not hang it
            status, body, extra = 500, _error("api_error", f"fake: {exc!r}"), {"x-should-retry": "false"}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("request-id", "req_fake")
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: every request is in ``FakeAnthropic.requests``."""
