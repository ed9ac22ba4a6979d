"""A local HubSpot CRM API for tests that must never reach api.hubapi.com.

``FakeHubSpot`` serves, on 127.0.0.1, the CRM endpoints revgate's HubSpot adapter
uses, with HubSpot's JSON shapes and error shape (``{"status": "error", "message",
"correlationId", "category"}``); the data model (validation, stamps, merges, search)
is in :mod:`tests.support.fake_hubspot_store`. Point the real client at it::

    with FakeHubSpot() as hubspot:
        ada = hubspot.add_owner("Ada", "Lovelace")
        lead = hubspot.add_contact({"email": "jane@acme.io", "lifecyclestage": "lead"}, owner_id=ada)
        crm = HubSpotCRM.connect(
            access_token=hubspot.token, portal_id=hubspot.portal_id, ledger=ledger,
            clock=hubspot.clock, host=hubspot.url,
        )
        hubspot.later(60)
        hubspot.edit("contacts", lead, {"phone": "+14155550100"})   # someone else, behind revgate's back

Endpoints (``operation`` names used by :meth:`FakeHubSpot.fail_next` and
:meth:`FakeHubSpot.requests_to` in brackets): ``GET|PATCH|DELETE
/crm/v3/objects/{type}/{id}`` [get, update, archive], ``POST /crm/v3/objects/{type}``
[create], ``.../batch/read`` [batch_read], ``.../search`` [search], ``.../merge``
[merge], ``GET /crm/v4/objects/{type}/{id}/associations/{toType}`` [associations],
``GET /crm/v3/owners/`` [owners] and ``GET /crm/v3/owners/{id}`` [owner]. Object types are
``contacts``, ``companies``, ``notes`` and ``meetings`` (the meetings engagement: created with
its associations like a note, found by search, moved or cancelled by PATCH); associations
are listed from a contact or company to its notes or meetings.

Every request is recorded (:attr:`FakeHubSpot.requests`), failures included. Answers
other than search carry ``X-HubSpot-RateLimit-*`` headers (``burst_remaining`` sets
the ``-Remaining`` one). The clock stamps every write; tests move it with
:meth:`FakeHubSpot.later`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_hubspot_store import (
    ENGAGEMENTS,
    HubSpotError,
    Json,
    Store,
    StoredObject,
    iso,
    not_found,
)
from tests.support.fakes import FixedClock
from tests.support.local_server import LocalServer, LoopbackServer

DEFAULT_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
DEFAULT_PORTAL_ID = "4242424"
BATCH_LIMIT = 100
OWNERS_PAGE_LIMIT = 500
ASSOCIATIONS_PAGE_LIMIT = 500

OPERATIONS = (
    "get",
    "update",
    "archive",
    "create",
    "batch_read",
    "search",
    "merge",
    "associations",
    "owners",
    "owner",
)

_OBJECT = r"/crm/v3/objects/(?P<type>[a-z_]+)"
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (method, re.compile(pattern), operation)
    for method, pattern, operation in (
        ("GET", _OBJECT + r"/(?P<id>[^/]+)", "get"),
        ("PATCH", _OBJECT + r"/(?P<id>[^/]+)", "update"),
        ("DELETE", _OBJECT + r"/(?P<id>[^/]+)", "archive"),
        ("POST", _OBJECT + r"/batch/read", "batch_read"),
        ("POST", _OBJECT + r"/search", "search"),
        ("POST", _OBJECT + r"/merge", "merge"),
        ("POST", _OBJECT, "create"),
        (
            "GET",
            r"/crm/v4/objects/(?P<type>[a-z_]+)/(?P<id>[^/]+)/associations/(?P<to>[a-z_]+)",
            "associations",
        ),
        ("GET", r"/crm/v3/owners/?", "owners"),
        ("GET", r"/crm/v3/owners/(?P<id>[^/]+)", "owner"),
    )
)
_TYPES = frozenset({"contacts", "companies", "notes", "meetings"})


@dataclass(frozen=True)
class HubSpotRequest:
    """One request the fake received, and the status it answered."""

    operation: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Json | None
    status: int
    object_type: str | None


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    applied: bool
    remaining: int
    object_type: str | None


@dataclass(frozen=True)
class _Reply:
    status: int
    payload: Json | None
    headers: dict[str, str]


class FakeHubSpot(LocalServer):
    """A local HubSpot CRM API on 127.0.0.1 with a back door for tests."""

    def __init__(
        self,
        *,
        clock: FixedClock | None = None,
        token: str = DEFAULT_TOKEN,
        portal_id: str = DEFAULT_PORTAL_ID,
    ) -> None:
        self.clock = clock or FixedClock()
        self.token = token
        self.portal_id = portal_id
        self.store = Store()
        self.requests: list[HubSpotRequest] = []
        self.burst_remaining = 189
        self._lock = threading.RLock()
        self._failures: dict[str, list[_Failure]] = {}
        self._token_problem: tuple[str, str] | None = None
        self._correlation = itertools.count(1)

    def _make_server(self) -> LoopbackServer[FakeHubSpot]:
        return LoopbackServer(self, _Handler)

    @property
    def url(self) -> str:
        """The API root to pass as ``host=`` (what ``https://api.hubapi.com`` is in production)."""
        return f"http://127.0.0.1:{self.port}"

    # -- the back door: seeding and editing behind revgate's back ------------------------

    def add_owner(
        self,
        first_name: str,
        last_name: str,
        email: str | None = None,
        *,
        active: bool = True,
        team: str | None = None,
    ) -> str:
        """A user who can own records (``active=False``: a deactivated, archived owner); its id."""
        with self._lock:
            owner = self.store.add_owner(
                email=email or f"{first_name}.{last_name}@example.com".lower(),
                first_name=first_name,
                last_name=last_name,
                archived=not active,
                team=team,
                now=self.clock.now(),
            )
            return owner.id

    def add_contact(self, properties: Mapping[str, str | None], *, owner_id: str | None = None) -> str:
        """A contact with these HubSpot properties (``lifecyclestage`` says lead or contact); its id."""
        return self.add_object("contacts", _with_owner(properties, owner_id))

    def add_company(self, properties: Mapping[str, str | None], *, owner_id: str | None = None) -> str:
        """A company with these HubSpot properties; its id."""
        return self.add_object("companies", _with_owner(properties, owner_id))

    def add_object(self, object_type: str, properties: Mapping[str, str | None]) -> str:
        """An object of any type, validated like a create through the API; its id."""
        with self._lock:
            return self.store.create(object_type, properties, self.clock.now()).id

    def add_many(self, object_type: str, rows: Iterable[Mapping[str, str | None]]) -> list[str]:
        """Many objects at once (for paging tests); their ids in order."""
        with self._lock:
            now = self.clock.now()
            return [self.store.create(object_type, row, now).id for row in rows]

    def edit(self, object_type: str, object_id: str, properties: Mapping[str, str | None]) -> None:
        """Another user edits the object in HubSpot: its properties change and it gets a new stamp."""
        with self._lock:
            self.store.update(object_type, object_id, properties, self.clock.now())

    def properties(self, object_type: str, object_id: str) -> dict[str, str]:
        """The properties set on the object an id names now (a merged-away id names the merged one)."""
        with self._lock:
            return dict(self.store.live(object_type, object_id).properties)

    def current_id(self, object_type: str, object_id: str) -> str | None:
        """The id of the object an id names now (merges followed), or None when it is gone."""
        with self._lock:
            try:
                return self.store.live(object_type, object_id).id
            except HubSpotError:
                return None

    def note_bodies(self, object_type: str, object_id: str) -> list[str]:
        """The bodies of the notes associated to an object, oldest first."""
        with self._lock:
            notes = [self.store.objects[n] for n in self.store.notes_of(object_type, object_id)]
            return [n.properties.get("hs_note_body", "") for n in sorted(notes, key=lambda n: n.created_at)]

    def meeting_ids(self, object_type: str, object_id: str) -> list[str]:
        """The ids of the meetings associated to an object, oldest first."""
        with self._lock:
            return self.store.engagements_of("meetings", object_type, object_id)

    def later(self, seconds: float) -> datetime:
        """Move the clock forward; what is written next is stamped later."""
        return self.clock.advance(seconds=seconds)

    # -- scripting failures --------------------------------------------------------------

    def fail_next(
        self,
        operation: str,
        *,
        status: int,
        retry_after: float | None = None,
        times: int = 1,
        applied: bool = False,
        object_type: str | None = None,
    ) -> None:
        """Make the next ``times`` requests of ``operation`` (see :data:`OPERATIONS`) fail.

        ``status=429`` answers HubSpot's rate-limit error, with ``Retry-After`` when
        ``retry_after`` is given; 401 answers an expired token; a 5xx answers an internal
        error. ``applied=True`` does the work first and fails afterwards (the reply was
        lost: a 5xx after the write went through). ``object_type`` limits the failure to
        one object type's requests.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            failure = _Failure(status, retry_after, applied, times, object_type)
            self._failures.setdefault(operation, []).append(failure)

    def expire_token(self) -> None:
        """Every request now answers 401: the access token has expired."""
        self._token_problem = (
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired 1 hour(s) ago.",
        )

    def revoke_token(self) -> None:
        """Every request now answers 401: the private app's token was revoked (or never valid)."""
        self._token_problem = (
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )

    # -- inspection ----------------------------------------------------------------------

    def requests_to(self, operation: str, object_type: str | None = None) -> list[HubSpotRequest]:
        """The recorded requests of one operation (and object type), oldest first."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.operation == operation and (object_type is None or r.object_type == object_type)
            ]

    def writes(self) -> list[HubSpotRequest]:
        """Every recorded request that changes data (update, archive, create, merge)."""
        with self._lock:
            return [r for r in self.requests if r.operation in ("update", "archive", "create", "merge")]

    # -- request handling (called from the server's threads) --------------------------------

    def _dispatch(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> _Reply:
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        route = _route(method, url.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            if route is None:
                reply = self._error(
                    HubSpotError(404, "OBJECT_NOT_FOUND", f"no route for {method} {url.path}")
                )
                self._record("unknown", method, url.path, query, body, reply, None)
                return reply
            operation, params = route
            reply = self._answer(operation, params, query, body, headers)
            self._record(operation, method, url.path, query, body, reply, params.get("type"))
            return reply

    def _record(
        self,
        operation: str,
        method: str,
        path: str,
        query: dict[str, list[str]],
        body: Any,
        reply: _Reply,
        object_type: str | None,
    ) -> None:
        parsed = body if isinstance(body, dict) else None
        self.requests.append(
            HubSpotRequest(operation, method, path, query, parsed, reply.status, object_type)
        )

    def _answer(
        self,
        operation: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        headers: Mapping[str, str],
    ) -> _Reply:
        if self._token_problem is not None or headers.get("authorization") != f"Bearer {self.token}":
            category, message = self._token_problem or (
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            )
            return self._error(HubSpotError(401, category, message))
        failure = self._take_failure(operation, params.get("type"))
        if failure is not None and not failure.applied:
            return self._failed(failure)
        try:
            status, payload = self._handlers()[operation](
                params, query, body if isinstance(body, dict) else {}
            )
        except HubSpotError as refused:
            return self._error(refused)
        if failure is not None:
            return self._failed(failure)
        return _Reply(status, payload, self._limits(operation))

    def _take_failure(self, operation: str, object_type: str | None) -> _Failure | None:
        queue = self._failures.get(operation, [])
        for failure in queue:
            if failure.object_type is None or failure.object_type == object_type:
                failure.remaining -= 1
                if failure.remaining == 0:
                    queue.remove(failure)
                return failure
        return None

    def _failed(self, failure: _Failure) -> _Reply:
        if failure.status == 429:
            headers = {} if failure.retry_after is None else {"Retry-After": f"{failure.retry_after:g}"}
            payload = {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": self._correlation_id(),
                "policyName": "SECONDLY",
                "groupName": "publicapi:private-app:4242424",
            }
            return _Reply(429, payload, {**headers, **self._limits("rate-limited")})
        if failure.status == 401:
            return self._error(
                HubSpotError(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.")
            )
        return self._error(HubSpotError(failure.status, "INTERNAL_ERROR", "internal error"))

    def _error(self, error: HubSpotError) -> _Reply:
        payload: Json = {
            "status": "error",
            "message": error.message,
            "correlationId": self._correlation_id(),
            "category": error.category,
            **error.extra,
        }
        return _Reply(error.status, payload, {})

    def _correlation_id(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._correlation):012d}"

    def _limits(self, operation: str) -> dict[str, str]:
        if operation == "search":  # HubSpot's search endpoints send no rate-limit headers
            return {}
        return {
            "X-HubSpot-RateLimit-Daily": "500000",
            "X-HubSpot-RateLimit-Daily-Remaining": "499000",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": str(self.burst_remaining),
        }

    # -- endpoints -----------------------------------------------------------------------

    def _handlers(
        self,
    ) -> dict[str, Callable[[dict[str, str], dict[str, list[str]], Json], tuple[int, Json | None]]]:
        return {
            "get": self._get,
            "update": self._update,
            "archive": self._archive,
            "create": self._create,
            "batch_read": self._batch_read,
            "search": self._search,
            "merge": self._merge,
            "associations": self._associations,
            "owners": self._owners,
            "owner": self._owner,
        }

    def _get(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        obj = self.store.live(_type(params), params["id"])
        return 200, obj.as_json(_requested(query.get("properties")))

    def _update(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "properties are required")
        obj = self.store.update(_type(params), params["id"], properties, self.clock.now())
        return 200, obj.as_json(list(obj.properties))

    def _archive(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        self.store.archive(_type(params), params["id"], self.clock.now())
        return 204, None

    def _create(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        object_type = _type(params)
        properties = body.get("properties") or {}
        associations = body.get("associations") or []
        obj: StoredObject
        if object_type in ENGAGEMENTS:
            obj = self.store.create_engagement(object_type, properties, associations, self.clock.now())
        else:
            obj = self.store.create(object_type, properties, self.clock.now())
        return 201, obj.as_json(list(obj.properties))

    def _batch_read(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        object_type = _type(params)
        inputs = body.get("inputs") or []
        if len(inputs) > BATCH_LIMIT:
            raise HubSpotError(400, "VALIDATION_ERROR", f"at most {BATCH_LIMIT} inputs per batch")
        names = body.get("properties") or None
        found: dict[str, StoredObject] = {}
        missing: list[str] = []
        for item in inputs:
            try:
                obj = self.store.live(object_type, str(item.get("id")))
            except HubSpotError:
                missing.append(str(item.get("id")))
                continue
            found.setdefault(obj.id, obj)
        now = iso(self.clock.now())
        answer: Json = {
            "status": "COMPLETE",
            "results": [obj.as_json(names) for obj in found.values()],
            "startedAt": now,
            "completedAt": now,
        }
        if not missing:
            return 200, answer
        answer["numErrors"] = 1
        answer["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": f"Could not get some {object_type.upper()} objects, "
                "they may be deleted or not exist.",
                "context": {"ids": missing},
            }
        ]
        return 207, answer

    def _search(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        return 200, self.store.search(_type(params), body)

    def _merge(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        primary, other = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if not primary or not other:
            raise HubSpotError(400, "VALIDATION_ERROR", "primaryObjectId and objectIdToMerge are required")
        made = self.store.merge(_type(params), str(primary), str(other), self.clock.now())
        return 200, made.as_json(list(made.properties))

    def _associations(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        object_type, to_type = _type(params), params["to"]
        if to_type not in ENGAGEMENTS or object_type not in ENGAGEMENTS[to_type][1]:
            raise HubSpotError(
                400, "VALIDATION_ERROR", f"the fake associates notes and meetings only, not {to_type}"
            )
        type_id = ENGAGEMENTS[to_type][1][object_type]
        ids = self.store.engagements_of(to_type, object_type, params["id"])
        page, after = _page(ids, query, ASSOCIATIONS_PAGE_LIMIT)
        results = [
            {
                "toObjectId": int(item),
                "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}],
            }
            for item in page
        ]
        return 200, _paged(results, after)

    def _owners(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        archived = _flag(query, "archived")
        owners = sorted(
            (o for o in self.store.owners.values() if o.archived == archived), key=lambda o: int(o.id)
        )
        page, after = _page(owners, query, OWNERS_PAGE_LIMIT)
        return 200, _paged([o.as_json() for o in page], after)

    def _owner(
        self, params: dict[str, str], query: dict[str, list[str]], body: Json
    ) -> tuple[int, Json | None]:
        owner = self.store.owners.get(params["id"])
        if owner is None or owner.archived != _flag(query, "archived"):
            raise not_found("owner", params["id"])
        return 200, owner.as_json()


# -- pure helpers ------------------------------------------------------------------------


def _with_owner(properties: Mapping[str, str | None], owner_id: str | None) -> dict[str, str | None]:
    return {**properties, **({} if owner_id is None else {"hubspot_owner_id": owner_id})}


def _route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for verb, pattern, operation in _ROUTES:
        found = pattern.fullmatch(path)
        if verb == method and found is not None:
            return operation, found.groupdict()
    return None


def _type(params: dict[str, str]) -> str:
    object_type = params["type"]
    if object_type not in _TYPES:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {object_type}")
    return object_type


def _requested(raw: list[str] | None) -> list[str] | None:
    """``properties`` sent as repeated parameters or comma-separated (both are accepted)."""
    if not raw:
        return None
    return [name for value in raw for name in value.split(",") if name]


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return (query.get(name) or ["false"])[0].lower() == "true"


def _page(items: list[Any], query: dict[str, list[str]], max_limit: int) -> tuple[list[Any], str | None]:
    limit = min(int((query.get("limit") or [str(max_limit)])[0]), max_limit)
    start = int((query.get("after") or ["0"])[0] or 0)
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def _paged(results: list[Json], after: str | None) -> Json:
    answer: Json = {"results": results}
    if after is not None:
        answer["paging"] = {"next": {"after": after}}
    return answer


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets ``FakeHubSpot`` answer it, writes the reply (HTTP/1.0: one per connection)."""

    timeout = 10  # a stalled client cannot keep stop() waiting for ever
    server_version = "FakeHubSpot/1.0"

    def do_GET(self) -> None:
        self._handle_one()

    def do_POST(self) -> None:
        self._handle_one()

    def do_PATCH(self) -> None:
        self._handle_one()

    def do_DELETE(self) -> None:
        self._handle_one()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; every request is recorded in ``FakeHubSpot.requests``."""

    def _handle_one(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            fake = cast(LoopbackServer[FakeHubSpot], self.server).fake
            reply = fake._dispatch(self.command, self.path, headers, raw)
        except Exception as exc:  # a bug in the fake must show up in the test, not hang it
            reply = _Reply(500, {"status": "error", "message": f"fake HubSpot bug: {exc!r}"}, {})
        body = b"" if reply.payload is None else json.dumps(reply.payload).encode()
        self.send_response(reply.status)
        if reply.payload is not None:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
