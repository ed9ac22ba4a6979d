"""The Salesforce connection: logging in, sending requests, and mapping what comes back to revgate's errors.

Every request goes through simple-salesforce (REST and SOQL) or through its ``requests``
session (the SOAP merge call), and every outcome becomes one of :mod:`agent.errors`:

- 401 ``INVALID_SESSION_ID`` (or the SOAP fault of that name): with username/password the
  connection logs in again once and re-sends (a 401 was not processed); with a bare access
  token, or when the new session is refused too, ``CRMAuthError``.
- 429, or 403 ``REQUEST_LIMIT_EXCEEDED``: ``CRMRateLimitedError`` with the ``Retry-After``
  the answer carried; re-sent by :class:`~agent.crm.retry.Retrying` (refused = not processed).
  The org's spent daily allowance (``TotalRequests Limit exceeded``) comes with an hour's
  ``retry_after`` instead, so it is raised at once rather than retried within the minute.
- 5xx and unreachable: ``CRMUnavailableError``; reads are retried, writes are not re-sent.
- 404: ``CRMNotFoundError``; 412 (``If-Unmodified-Since`` failed): :class:`PreconditionFailed`;
  any other 4xx: ``CRMValidationError`` with Salesforce's error code and message.

API usage: simple-salesforce reads ``Sforce-Limit-Info: api-usage=N/M`` into
``Salesforce.api_usage``; the connection keeps the last one it saw and :meth:`check_headroom`
refuses a write once usage is above the ceiling, so other integrations keep theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.util import Usage

from agent.crm.retry import Retrying
from agent.crm.salesforce_soap import SoapFault, parse_fault
from agent.errors import (
    CRMAuthError,
    CRMError,
    CRMNotFoundError,
    CRMRateLimitedError,
    CRMUnavailableError,
    CRMValidationError,
)

_T = TypeVar("_T")

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = "59.0"
_RATE_LIMIT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED"})
_EXPIRED = "INVALID_SESSION_ID"
_DAILY_LIMIT_WAIT = 3600.0


class PreconditionFailed(CRMError):
    """412: the record was modified after the ``If-Unmodified-Since`` the update carried."""


class _SessionExpired(Exception):
    """A 401 / INVALID_SESSION_ID, before the connection decides whether to log in again."""


@dataclass(frozen=True)
class PasswordLogin:
    """The OAuth 2.0 username-password flow against a connected app."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    login_url: str = DEFAULT_LOGIN_URL


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _first_error(content: Any) -> tuple[str, str]:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", "")), str(content[0].get("message", ""))
    return "", str(content)[:300]


class SalesforceConnection:
    """One authenticated Salesforce API client, logged in lazily on the first request."""

    def __init__(
        self,
        *,
        session: requests.Session,
        retrying: Retrying,
        access_token: str | None = None,
        instance_url: str | None = None,
        login: PasswordLogin | None = None,
        api_version: str = DEFAULT_API_VERSION,
        usage_ceiling: float = 0.9,
        timeout: float = 30.0,
    ) -> None:
        if login is None and not (access_token and instance_url):
            raise ValueError("Salesforce needs an access token and instance URL, or a password login")
        if not 0 < usage_ceiling <= 1:
            raise ValueError("usage_ceiling is a fraction of the daily API limit, in (0, 1]")
        self._session = session
        self._retrying = retrying
        self._login = login
        self._token = access_token
        self._instance_url = instance_url
        self._version = api_version
        self._ceiling = usage_ceiling
        self._timeout = timeout
        self._sf: Salesforce | None = None
        self._user_id: str | None = None
        self._usage: Usage | None = None
        self._lock = threading.Lock()
        self._seen = threading.local()

    # -- what callers read ---------------------------------------------------------------

    @property
    def instance_url(self) -> str:
        self._client()
        assert self._instance_url is not None
        return self._instance_url.rstrip("/")

    @property
    def api_usage(self) -> Usage | None:
        """The ``api-usage`` (used, total) of the last answer that reported it."""
        return self._usage

    def check_headroom(self) -> None:
        """Refuse to start a write while the org's API usage is above the ceiling.

        The usage is the last ``Sforce-Limit-Info`` seen (every write reads first, so it is
        fresh); before any answer carried one, ``/limits`` is asked.
        """
        if self._usage is None:
            self._read_limits()
        usage = self._usage
        if usage is not None and usage.total > 0 and usage.used > self._ceiling * usage.total:
            raise CRMRateLimitedError(
                f"Salesforce API usage is {usage.used}/{usage.total}, above the {self._ceiling:.0%} ceiling "
                "revgate keeps so other integrations have headroom; the write waits for the window to roll",
                retry_after=_DAILY_LIMIT_WAIT,
            )

    def _read_limits(self) -> None:
        limits = self.read(lambda sf: sf.limits(**self.options))
        daily = limits.get("DailyApiRequests") if isinstance(limits, dict) else None
        if isinstance(daily, dict) and isinstance(daily.get("Max"), int):
            maximum = int(daily["Max"])
            self._usage = Usage(used=maximum - int(daily.get("Remaining", maximum)), total=maximum)

    def user_id(self) -> str:
        """The id of the user revgate is logged in as."""
        self._client()
        if self._user_id is None:
            info = self.read(lambda sf: sf.oauth2("userinfo"))
            if not isinstance(info, dict) or "user_id" not in info:
                raise CRMUnavailableError("Salesforce's userinfo answer names no user_id")
            self._user_id = str(info["user_id"])
        return self._user_id

    # -- requests ------------------------------------------------------------------------

    def read(self, request: Callable[[Salesforce], _T]) -> _T:
        """A request safe to send twice: retried on 429 and on 5xx."""
        return self._retrying.call(lambda: self._send(request), retry_unavailable=True)

    def write(self, request: Callable[[Salesforce], _T]) -> _T:
        """A write: re-sent after a 429 (not processed) but never after a 5xx (maybe processed)."""
        return self._retrying.call(lambda: self._send(request), retry_unavailable=False)

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments for every request (simple-salesforce passes them on to ``requests``)."""
        return {"timeout": self._timeout, "hooks": {"response": [self._observe]}}

    def soap(self, sf: Salesforce, envelope: Callable[[str], bytes]) -> bytes:
        """POST a partner SOAP envelope (built for the session id) and return the body of a 200."""
        url = f"https://{sf.sf_instance}/services/Soap/u/{self._version}"
        headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'}
        answer = sf.session.post(url, data=envelope(sf.session_id), headers=headers, **self.options)
        if answer.status_code == 200:
            return answer.content
        fault = parse_fault(answer.content)
        raise _soap_error(answer.status_code, fault, _retry_after(answer.headers))

    # -- internals -----------------------------------------------------------------------

    def _observe(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        self._seen.headers = response.headers

    def _send(self, request: Callable[[Salesforce], _T]) -> _T:
        sf = self._client()
        try:
            return self._attempt(sf, request)
        except _SessionExpired as expired:
            if self._login is None:
                raise CRMAuthError(
                    "Salesforce refused the access token (expired or revoked); reconnect revgate"
                ) from expired
            sf = self._client(renew=sf)
            try:
                return self._attempt(sf, request)
            except _SessionExpired as again:
                raise CRMAuthError("Salesforce refused a freshly issued session") from again

    def _attempt(self, sf: Salesforce, request: Callable[[Salesforce], _T]) -> _T:
        self._seen.headers = None
        try:
            result = request(sf)
        except SalesforceError as exc:
            code, message = _first_error(exc.content)
            if exc.status == 401:
                raise _SessionExpired(code) from exc
            raise _rest_error(exc.status, code, message, _retry_after(self._seen.headers)) from exc
        except _SessionExpired:
            raise
        except requests.RequestException as exc:
            raise CRMUnavailableError(f"Salesforce could not be reached: {exc}") from exc
        usage = sf.api_usage.get("api-usage")
        if isinstance(usage, Usage):
            self._usage = usage
        return result

    def _client(self, renew: Salesforce | None = None) -> Salesforce:
        with self._lock:
            if self._sf is None or (renew is not None and self._sf is renew):
                if self._login is not None and (self._sf is not None or self._token is None):
                    self._token, self._instance_url, self._user_id = self._password_flow(self._login)
                assert self._token is not None
                assert self._instance_url is not None
                self._sf = Salesforce(
                    instance_url=self._instance_url,
                    session_id=self._token,
                    session=self._session,
                    version=self._version,
                )
            return self._sf

    def _password_flow(self, login: PasswordLogin) -> tuple[str, str, str | None]:
        form = {
            "grant_type": "password",
            "client_id": login.client_id,
            "client_secret": login.client_secret,
            "username": login.username,
            "password": login.password + login.security_token,
        }
        url = f"{login.login_url.rstrip('/')}/services/oauth2/token"
        try:
            answer = self._session.post(url, data=form, timeout=self._timeout)
        except requests.RequestException as exc:
            raise CRMUnavailableError(f"Salesforce login could not be reached: {exc}") from exc
        if answer.status_code >= 500:
            raise CRMUnavailableError(f"Salesforce login answered {answer.status_code}")
        try:
            body = answer.json() if answer.content else {}
        except ValueError:  # a proxy's HTML page, say
            body = {}
        if not isinstance(body, dict):
            body = {}
        if answer.status_code != 200 or "access_token" not in body:
            raise CRMAuthError(
                f"Salesforce login refused: {body.get('error', answer.status_code)} "
                f"({body.get('error_description', '')})"
            )
        user_id = str(body.get("id", "")).rstrip("/").rpartition("/")[2] or None
        return str(body["access_token"]), str(body["instance_url"]), user_id


def _rest_error(status: int, code: str, message: str, retry_after: float | None) -> CRMError:
    detail = f"Salesforce answered {status} {code}: {message}".rstrip(": ")
    if status == 429 or code in _RATE_LIMIT_CODES:
        if retry_after is None and "TotalRequests" in message:
            # The org's 24-hour API allowance is spent: no point retrying within the minute.
            retry_after = _DAILY_LIMIT_WAIT
        return CRMRateLimitedError(detail, retry_after=retry_after)
    if status >= 500:
        return CRMUnavailableError(detail)
    if status == 403:
        return CRMAuthError(f"{detail} (check the integration user's permissions)")
    if status == 404:
        return CRMNotFoundError(detail)
    if status == 412:
        return PreconditionFailed(detail)
    return CRMValidationError(detail)


def _soap_error(status: int, fault: SoapFault | None, retry_after: float | None) -> Exception:
    if fault is None:
        # No fault to read: a gateway's 5xx, or a body cut short. The merge may have run.
        return _rest_error(status if status >= 400 else 502, "", "no SOAP fault in the answer", retry_after)
    if fault.exception_code == _EXPIRED:
        return _SessionExpired(fault.exception_code)
    if fault.exception_code in ("UNKNOWN_EXCEPTION", "SERVER_UNAVAILABLE"):
        return CRMUnavailableError(f"Salesforce merge failed: {fault.exception_code}: {fault.message}")
    status = 429 if status == 429 else 400
    return _rest_error(status, fault.exception_code, fault.message, retry_after)
