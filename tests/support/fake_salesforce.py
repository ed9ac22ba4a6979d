"""A local Salesforce for tests that must never reach salesforce.com, served over TLS on 127.0.0.1.

simple-salesforce builds every URL with ``https://``, so the fake serves HTTPS with a
certificate from a test CA (``trustme``); :meth:`FakeSalesforce.session` is a
``requests.Session`` that trusts it. What it answers, in Salesforce's documented shapes:

- ``POST /services/oauth2/token`` (username-password flow) and ``GET /services/oauth2/userinfo``;
- ``/services/data/vXX.X/``: ``query`` (``Sforce-Query-Options: batchSize``, 200-2,000, default
  2,000; ``nextRecordsUrl`` for queryMore), ``sobjects/{type}`` (POST create; Lead, Contact,
  Account, Note and Event),
  ``sobjects/{type}/{id}`` (GET, PATCH with ``If-Unmodified-Since`` -> 412, DELETE -> 204),
  ``composite/sobjects/{type}`` (retrieve, GET and POST: ``null`` for ids it cannot return) and
  ``limits`` (``DailyApiRequests``); every answer carries ``Sforce-Limit-Info: api-usage=N/M``;
- ``POST /services/Soap/u/XX.X``: the partner API's ``merge``.

Errors are ``[{"message", "errorCode", "fields"}]``: 401 ``INVALID_SESSION_ID`` for an unknown
or expired session (a SOAP fault of that code on the SOAP endpoint). Tests inject failures with
:meth:`FakeSalesforce.fail` (429 with ``Retry-After``, 5xx before or after the write is applied,
403 ``REQUEST_LIMIT_EXCEEDED``), expire or revoke sessions, and read :attr:`FakeSalesforce.requests`.
The org's data and clock are :attr:`FakeSalesforce.org` (see :mod:`tests.support.fake_salesforce_org`).
"""

from __future__ import annotations

import atexit
import functools
import itertools
import json
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import socket
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import requests
import trustme

from tests.support.fake_salesforce_org import NUMBERS, ORG_ID, READABLE, Org, OrgError, Row
from tests.support.fake_salesforce_soql import SoqlError, parse
from tests.support.local_server import LocalServer, LoopbackServer

USERNAME = "revgate@example.com"
PASSWORD = "hunter2"
SECURITY_TOKEN = "TOKEN42"
CLIENT_ID = "3MVG-revgate-client"
CLIENT_SECRET = "revgate-secret"
FIRST_TOKEN = "00D8c!session-1"
API_VERSION = "59.0"
DAILY_LIMIT = 100_000

_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
_PARTNER = "urn:partner.soap.sforce.com"
_SOBJECT = "urn:sobject.partner.soap.sforce.com"
_DEFAULT_BATCH = 2000
_MIN_BATCH = 200


@dataclass(frozen=True)
class SfRequest:
    """One request the fake received (``path`` without the query string; ``headers`` lower-cased)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def is_write(self) -> bool:
        retrieve = "/composite/sobjects/" in self.path and self.method == "POST"
        return self.method in ("PATCH", "DELETE", "POST") and not retrieve and "/oauth2/" not in self.path


@dataclass
class _Failure:
    method: str
    path_part: str
    status: int
    error_code: str
    retry_after: str | None
    after_apply: bool
    times: int


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> _Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json;charset=UTF-8"})

    @classmethod
    def xml(cls, text: str, status: int = 200) -> _Reply:
        return cls(status, text.encode(), {"Content-Type": "text/xml;charset=UTF-8"})


@functools.cache
def _authority() -> tuple[trustme.CA, trustme.LeafCert, Path]:
    """One test CA per process (making keys is the slow part), its leaf for 127.0.0.1 and CA file."""
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    directory = tempfile.mkdtemp(prefix="fake-salesforce-ca-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    ca_file = Path(directory) / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca, leaf, ca_file


class _TlsServer(LoopbackServer["FakeSalesforce"]):
    """The loopback server, each accepted connection wrapped in TLS (handshake in the handler thread)."""

    def __init__(self, fake: FakeSalesforce, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(fake, handler)
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        _authority()[1].configure_cert(self.tls)

    def get_request(self) -> tuple[socket, Any]:
        connection, address = super().get_request()
        return self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    server: _TlsServer

    def setup(self) -> None:
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
        super().setup()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.fake.answer(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return None


class FakeSalesforce(LocalServer):
    """A Salesforce org on https://127.0.0.1:<port>, recording every request."""

    def __init__(self, org: Org | None = None) -> None:
        self.org = org or Org()
        self.requests: list[SfRequest] = []
        self.api_used = 0
        self.daily_limit = DAILY_LIMIT
        self.logins_refused = False
        self._tokens = {FIRST_TOKEN}
        self._token_serial = itertools.count(2)
        self._locator_serial = itertools.count(1)
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._failures: list[_Failure] = []
        self._hooks: list[tuple[str, str, Callable[[], None]]] = []
        self._lock = threading.Lock()

    def _make_server(self) -> ThreadingHTTPServer:
        return _TlsServer(self, _Handler)

    # -- what tests use ------------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        """A session valid now (the first one, unless sessions were expired)."""
        return sorted(self._tokens)[0] if self._tokens else FIRST_TOKEN

    @staticmethod
    def ca_file() -> Path:
        """The test CA's certificate (PEM), for clients configured through ``REQUESTS_CA_BUNDLE``."""
        return _authority()[2]

    @staticmethod
    def session() -> requests.Session:
        """A ``requests.Session`` that trusts the fake's test CA."""
        session = requests.Session()
        # Not from the environment: REQUESTS_CA_BUNDLE would override ``verify``, and a proxy
        # setting would send 127.0.0.1 elsewhere.
        session.trust_env = False
        session.verify = str(_authority()[2])
        return session

    def fail(
        self,
        method: str,
        path_part: str,
        status: int,
        *,
        error_code: str = "",
        retry_after: float | None = None,
        after_apply: bool = False,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests of ``method`` whose path contains ``path_part`` answer ``status``.

        With ``after_apply`` the request is carried out first and its answer replaced (a 5xx
        after the write was applied).
        """
        codes = {429: "REQUEST_LIMIT_EXCEEDED", 403: "REQUEST_LIMIT_EXCEEDED", 503: "SERVER_UNAVAILABLE"}
        with self._lock:
            self._failures.append(
                _Failure(
                    method,
                    path_part,
                    status,
                    error_code or codes.get(status, "UNKNOWN_EXCEPTION"),
                    None if retry_after is None else f"{retry_after:g}",
                    after_apply,
                    times,
                )
            )

    def before(self, method: str, path_part: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, just before the next matching request is carried out.

        For races: another user's edit landing between the adapter's read and its write.
        """
        with self._lock:
            self._hooks.append((method, path_part, action))

    def expire_sessions(self) -> None:
        """Every session issued so far is now invalid (a timeout, or an admin's revoke)."""
        with self._lock:
            self._tokens.clear()

    def revoke(self) -> None:
        """Sessions are invalid and the username-password flow is refused from now on."""
        self.expire_sessions()
        self.logins_refused = True

    def requests_to(self, method: str, path_part: str) -> list[SfRequest]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def writes(self) -> list[SfRequest]:
        return [r for r in self.requests if r.is_write]

    # -- dispatch ------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Reply:
        parts = urlsplit(target)
        request = SfRequest(
            method, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in headers.items()}, body
        )
        with self._lock:
            self.requests.append(request)
            failure = self._take_failure(request)
            hook = next((h for h in self._hooks if h[0] == method and h[1] in request.path), None)
            if hook is not None:
                self._hooks.remove(hook)
        if failure is not None and not failure.after_apply:
            return self._failed(failure)
        if hook is not None:
            hook[2]()
        reply = self._route(request)
        if failure is not None:
            return self._failed(failure)
        return reply

    def _take_failure(self, request: SfRequest) -> _Failure | None:
        for failure in self._failures:
            if failure.method == request.method and failure.path_part in request.path:
                failure.times -= 1
                if failure.times == 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _failed(self, failure: _Failure) -> _Reply:
        message = {429: "Too many requests", 403: "TotalRequests Limit exceeded."}.get(
            failure.status, "An unexpected error occurred. Please try again."
        )
        if failure.path_part.startswith("/services/Soap/"):
            reply = _fault(failure.error_code, message, status=failure.status)
        else:
            reply = _Reply.json(OrgError(failure.status, failure.error_code, message).body(), failure.status)
        if failure.retry_after is not None:
            reply.headers["Retry-After"] = failure.retry_after
        return reply

    def _route(self, request: SfRequest) -> _Reply:
        path = request.path
        if path == "/services/oauth2/token" and request.method == "POST":
            return self._login(request)
        if path.startswith("/services/Soap/u/") and request.method == "POST":
            return self._soap(request)
        if not self._authorised(request):
            return _Reply.json(
                OrgError(401, "INVALID_SESSION_ID", "Session expired or invalid").body(), status=401
            )
        if path == "/services/oauth2/userinfo":
            return _Reply.json({"user_id": self.org.integration_user_id, "organization_id": ORG_ID})
        prefix = f"/services/data/v{API_VERSION}/"
        if not path.startswith(prefix):
            return _Reply.json(OrgError(404, "NOT_FOUND", f"no resource {path}").body(), 404)
        with self._lock:
            self.api_used += 1
            usage = f"api-usage={self.api_used}/{self.daily_limit}"
        try:
            reply = self._rest(request, path[len(prefix) :].strip("/").split("/"))
        except OrgError as refused:
            reply = _Reply.json(refused.body(), refused.status)
        except SoqlError as malformed:
            reply = _Reply.json(OrgError(400, "MALFORMED_QUERY", str(malformed)).body(), 400)
        reply.headers["Sforce-Limit-Info"] = usage
        return reply

    def _authorised(self, request: SfRequest) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            return scheme.lower() == "bearer" and token in self._tokens

    # -- OAuth ---------------------------------------------------------------------------

    def _login(self, request: SfRequest) -> _Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        expected = {
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "username": USERNAME,
            "password": PASSWORD + SECURITY_TOKEN,
        }
        if self.logins_refused or form != expected:
            return _Reply.json({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
        with self._lock:
            token = f"00D8c!session-{next(self._token_serial)}"
            self._tokens.add(token)
        return _Reply.json(
            {
                "access_token": token,
                "instance_url": self.instance_url,
                "id": f"{self.instance_url}/id/{ORG_ID}/{self.org.integration_user_id}",
                "token_type": "Bearer",
                "issued_at": "1795683600000",
                "signature": "c2lnbmF0dXJl",
            }
        )

    # -- REST ----------------------------------------------------------------------------

    def _rest(self, request: SfRequest, parts: list[str]) -> _Reply:
        method = request.method
        match parts:
            case ["query"] if method == "GET":
                return self._query(request)
            case ["query", locator] if method == "GET":
                return self._query_more(locator)
            case ["limits"] if method == "GET":
                remaining = max(0, self.daily_limit - self.api_used)
                return _Reply.json({"DailyApiRequests": {"Max": self.daily_limit, "Remaining": remaining}})
            case ["sobjects", sobject] if method == "POST":
                created = self.org.create(sobject, _json(request.body))
                return _Reply.json({"id": created, "success": True, "errors": []}, 201)
            case ["sobjects", sobject, record_id]:
                return self._sobject_row(request, sobject, record_id)
            case ["composite", "sobjects", sobject] if method in ("GET", "POST"):
                return self._retrieve(request, sobject)
        raise OrgError(404, "NOT_FOUND", f"no resource {method} {'/'.join(parts)}")

    def _sobject_row(self, request: SfRequest, sobject: str, record_id: str) -> _Reply:
        if request.method == "GET":
            return _Reply.json(self.org.read(sobject, record_id))
        if request.method == "PATCH":
            since = request.headers.get("if-unmodified-since")
            self.org.update(
                record_id,
                _json(request.body),
                unmodified_since=parsedate_to_datetime(since) if since else None,
                sobject=sobject,
            )
            return _Reply(204)
        if request.method == "DELETE":
            self.org.delete(sobject, record_id)
            return _Reply(204)
        raise OrgError(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed")

    def _retrieve(self, request: SfRequest, sobject: str) -> _Reply:
        if request.method == "POST":
            wanted = _json(request.body)
            ids, names = list(wanted["ids"]), list(wanted["fields"])
        else:
            ids = request.query.get("ids", [""])[0].split(",")
            names = request.query.get("fields", [""])[0].split(",")
        if len(ids) > 2000:
            raise OrgError(400, "LIMIT_EXCEEDED", "at most 2,000 ids per request")
        _check_fields(sobject, names)
        rows: list[dict[str, Any] | None] = []
        for record_id in ids:
            try:
                rows.append(_selected(self.org.read(sobject, record_id), names))
            except OrgError:
                rows.append(None)
        return _Reply.json(rows)

    def _query(self, request: SfRequest) -> _Reply:
        query = parse(request.query.get("q", [""])[0])
        if query.sobject not in READABLE:
            raise OrgError(400, "INVALID_TYPE", f"sObject type '{query.sobject}' is not supported")
        _check_fields(query.sobject, query.fields)
        rows = sorted((r for r in self.org.query(query.sobject) if query.matches(r)), key=query.sort_key)
        if query.limit is not None:
            rows = rows[: query.limit]
        options = request.headers.get("sforce-query-options", "")
        size = _DEFAULT_BATCH
        if options.startswith("batchSize="):
            size = min(max(int(options.partition("=")[2]), _MIN_BATCH), _DEFAULT_BATCH)
        selected = [_selected(row, query.fields) for row in rows]
        with self._lock:
            locator = f"01g8c{next(self._locator_serial):010d}AAA"
            self._cursors[locator] = (selected, size)
        return self._page(locator, 0)

    def _query_more(self, locator_and_position: str) -> _Reply:
        locator, _, position = locator_and_position.rpartition("-")
        if locator not in self._cursors or not position.isdigit():
            raise OrgError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(locator, int(position))

    def _page(self, locator: str, start: int) -> _Reply:
        rows, size = self._cursors[locator]
        end = start + size
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows), "records": rows[start:end]}
        if end < len(rows):
            page["nextRecordsUrl"] = f"/services/data/v{API_VERSION}/query/{locator}-{end}"
        return _Reply.json(page)

    # -- SOAP ----------------------------------------------------------------------------

    def _soap(self, request: SfRequest) -> _Reply:
        try:
            envelope = ET.fromstring(request.body)
        except ET.ParseError:
            return _fault("INVALID_XML", "the request is not XML")
        session_id = envelope.findtext(f".//{{{_PARTNER}}}SessionHeader/{{{_PARTNER}}}sessionId") or ""
        with self._lock:
            if session_id not in self._tokens:
                return _fault(
                    "INVALID_SESSION_ID", "Invalid Session ID found in SessionHeader: Illegal Session"
                )
        merges = envelope.findall(f".//{{{_PARTNER}}}merge/{{{_PARTNER}}}request")
        if not merges:
            return _fault("UNKNOWN_EXCEPTION", "the fake answers only merge")
        results = "".join(self._merge(merge) for merge in merges)
        return _Reply.xml(
            f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" '
            f'xmlns="{_PARTNER}"><soapenv:Body><mergeResponse>{results}</mergeResponse>'
            "</soapenv:Body></soapenv:Envelope>"
        )

    def _merge(self, merge: ET.Element) -> str:
        master = merge.find(f"{{{_PARTNER}}}masterRecord")
        victims = [e.text or "" for e in merge.findall(f"{{{_PARTNER}}}recordToMergeIds")]
        if master is None:
            return _merge_error("MISSING_ARGUMENT", "masterRecord is required", "")
        sobject = master.findtext(f"{{{_SOBJECT}}}type") or ""
        master_id = master.findtext(f"{{{_SOBJECT}}}Id") or ""
        to_null = [e.text or "" for e in master.findall(f"{{{_SOBJECT}}}fieldsToNull")]
        values: dict[str, Any] = {}
        for element in master:
            name = element.tag.rpartition("}")[2]
            if name not in ("type", "Id", "fieldsToNull"):
                text = element.text or ""
                values[name] = NUMBERS[name](text) if name in NUMBERS else text
        try:
            merged = self.org.merge(sobject, master_id, victims, values, to_null)
        except OrgError as refused:
            return _merge_error(refused.error_code, refused.message, master_id)
        merged_ids = "".join(f"<mergedRecordIds>{i}</mergedRecordIds>" for i in merged.merged_ids)
        related = "".join(f"<updatedRelatedIds>{i}</updatedRelatedIds>" for i in merged.updated_related_ids)
        return f"<result><id>{master_id}</id>{merged_ids}<success>true</success>{related}</result>"


def _merge_error(code: str, message: str, master_id: str) -> str:
    return (
        f"<result><errors><message>{escape(message)}</message><statusCode>{code}</statusCode></errors>"
        f"<id>{escape(master_id)}</id><success>false</success></result>"
    )


def _fault(code: str, message: str, *, status: int = 500) -> _Reply:
    # SOAP 1.1 faults travel with HTTP 500; the partner API puts its code in detail/exceptionCode.
    return _Reply.xml(
        f'<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:UnexpectedErrorFault xsi:type="sf:UnexpectedErrorFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{escape(message)}"
        "</sf:exceptionMessage></sf:UnexpectedErrorFault></detail></soapenv:Fault></soapenv:Body>"
        "</soapenv:Envelope>",
        status=status,
    )


def _json(body: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(body or b"{}")
    except json.JSONDecodeError as exc:
        raise OrgError(400, "JSON_PARSER_ERROR", str(exc)) from exc
    if not isinstance(decoded, dict):
        raise OrgError(400, "JSON_PARSER_ERROR", "expected a JSON object")
    return decoded


def _check_fields(sobject: str, names: list[str]) -> None:
    known = {name.lower() for name in READABLE.get(sobject, frozenset())}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise OrgError(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{sobject}'", unknown)


def _selected(row: Row, names: list[str]) -> dict[str, Any]:
    by_lower = {name.lower(): name for name in row}
    selected: dict[str, Any] = {"attributes": row["attributes"]}
    for name in names:
        selected[name] = row.get(by_lower.get(name.lower(), name))
    return selected
