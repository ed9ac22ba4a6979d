"""The HubSpot requests revgate makes, through hubspot-api-client, with HTTP outcomes mapped to errors.

Every call goes through the SDK's ``*_with_http_info`` methods so the response headers
are seen: ``X-HubSpot-RateLimit-Remaining`` / ``-Interval-Milliseconds`` (the burst
window) are remembered, and when a window is spent the next request waits it out
instead of earning a 429. The search endpoints send no such headers; their 429s carry
``Retry-After`` like the rest.

Outcomes: 401 (expired or revoked token) and 403 (missing scope) -> ``CRMAuthError``;
404 -> ``CRMNotFoundError``; 429 -> ``CRMRateLimitedError`` (``Retry-After``, else the
burst interval, else an hour for the daily limit); 5xx, a refused connection or a
timeout -> ``CRMUnavailableError``; any other 4xx (unknown property, invalid option)
-> ``CRMValidationError``.

Reads are retried on 429 and 5xx; writes on 429 only (HubSpot did not process them),
never after a 5xx, which may have been applied (see :mod:`agent.crm.retry`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import hubspot
import urllib3
from hubspot.crm.associations.v4 import exceptions as associations_errors
from hubspot.crm.companies import PublicMergeInput as CompanyMergeInput
from hubspot.crm.companies import exceptions as companies_errors
from hubspot.crm.contacts import PublicMergeInput as ContactMergeInput
from hubspot.crm.contacts import exceptions as contacts_errors
from hubspot.crm.objects import (
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
    SimplePublicObjectInput,
)
from hubspot.crm.objects import exceptions as objects_errors
from hubspot.crm.owners import exceptions as owners_errors

from agent.crm.hubspot_mapping import COMPANIES
from agent.crm.retry import Retrying
from agent.errors import (
    CRMAuthError,
    CRMError,
    CRMNotFoundError,
    CRMRateLimitedError,
    CRMUnavailableError,
    CRMValidationError,
)

Json = dict[str, Any]

BATCH_READ_LIMIT = 100
SEARCH_PAGE_LIMIT = 200
_DAILY_LIMIT_WAIT = 3600.0

_FAILURES: tuple[type[Exception], ...] = (
    objects_errors.ApiException,
    contacts_errors.ApiException,
    companies_errors.ApiException,
    owners_errors.ApiException,
    associations_errors.ApiException,
    urllib3.exceptions.HTTPError,
)
"""What a request can raise: each SDK package's own ApiException, and urllib3's connection errors."""


@dataclass(frozen=True)
class HubSpotObject:
    """A CRM object as HubSpot returned it: its id and its properties (strings or None)."""

    id: str
    properties: Mapping[str, Any]


@dataclass
class RateWindow:
    """What the last response said of the burst window (``X-HubSpot-RateLimit-*``)."""

    remaining: int | None = None
    interval_seconds: float | None = None
    daily_remaining: int | None = None

    def observe(self, headers: Mapping[str, str] | None) -> None:
        if not headers:
            return
        self.remaining = _int(headers.get("X-HubSpot-RateLimit-Remaining"), self.remaining)
        interval = _int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"), None)
        if interval is not None:
            self.interval_seconds = interval / 1000
        self.daily_remaining = _int(headers.get("X-HubSpot-RateLimit-Daily-Remaining"), self.daily_remaining)

    def spent(self) -> float | None:
        """Seconds to wait before the next request when the burst window is used up."""
        if self.remaining is not None and self.remaining <= 0 and self.interval_seconds:
            self.remaining = None
            return self.interval_seconds
        return None


def _int(raw: str | None, default: int | None) -> int | None:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


_AUTH_PROBLEMS = {
    "EXPIRED_AUTHENTICATION": "has expired",
    "INVALID_AUTHENTICATION": "is not valid (revoked, or never issued for this portal)",
}


def translate(error: Exception) -> CRMError:
    """An SDK or connection error as the error tree's member for it."""
    if isinstance(error, urllib3.exceptions.HTTPError):
        return CRMUnavailableError(f"HubSpot could not be reached: {error}")
    status = int(getattr(error, "status", 0) or 0)
    headers = getattr(error, "headers", None) or {}
    body = _body(getattr(error, "body", None))
    message = str(body.get("message") or getattr(error, "reason", "") or "no message")
    if status == 401:
        why = _AUTH_PROBLEMS.get(str(body.get("category")), "was refused")
        return CRMAuthError(
            f"HubSpot access token {why} (401): {message} "
            "Create a new private app access token and set HUBSPOT_ACCESS_TOKEN."
        )
    if status == 403:
        return CRMAuthError(
            f"HubSpot refused the access token (403): {message} "
            "The private app lacks a scope revgate needs (crm.objects.contacts/companies read+write, "
            "crm.objects.owners.read)."
        )
    if status == 404:
        return CRMNotFoundError(f"HubSpot has no such object: {message}")
    if status == 429:
        return CRMRateLimitedError(f"HubSpot rate limit: {message}", retry_after=_retry_after(headers, body))
    if status == 0 or status >= 500:
        return CRMUnavailableError(f"HubSpot answered {status or 'nothing'}: {message}")
    return CRMValidationError(f"HubSpot refused the request ({status}): {message}")


def _body(raw: object) -> Json:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"message": raw[:200]}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _retry_after(headers: Mapping[str, str], body: Json) -> float | None:
    raw = headers.get("Retry-After")
    if raw is not None:
        try:
            return max(float(raw), 0.0)
        except ValueError:
            pass
    if body.get("policyName") == "DAILY":
        return _DAILY_LIMIT_WAIT
    interval = _int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds"), None)
    return interval / 1000 if interval is not None else None


def _object(raw: Json) -> HubSpotObject:
    return HubSpotObject(str(raw["id"]), dict(raw.get("properties") or {}))


class HubSpotTransport:
    """The HubSpot endpoints the adapter uses, each one call, answering plain values."""

    def __init__(self, client: hubspot.Client, *, retrying: Retrying, timeout: float = 30.0) -> None:
        crm = client.crm
        # Each SDK property builds a new API client (and connection pool): build them once.
        self._objects = crm.objects.basic_api
        self._batch = crm.objects.batch_api
        self._search = crm.objects.search_api
        self._merge_api = {"contacts": crm.contacts.basic_api, COMPANIES: crm.companies.basic_api}
        self._associations = crm.associations.v4.basic_api
        self._owners = crm.owners.owners_api
        self._retrying = retrying
        self._timeout = (min(timeout, 10.0), timeout)
        self.window = RateWindow()

    # -- the two ways a request is sent --------------------------------------------

    def _send(self, call: Callable[..., Any], *args: Any, as_json: bool = False, **kwargs: Any) -> Any:
        """One request; ``as_json``: the answer's JSON as plain dicts, not the SDK's models.

        Object answers are read as JSON: the SDK's model deserialisation parses two
        datetimes per object with dateutil, which made a 10,000-record scan spend more
        time there than on the wire.
        """
        pause = self.window.spent()
        if pause:
            self._retrying.sleep(pause)
        try:
            if as_json:
                response = call(*args, _request_timeout=self._timeout, _preload_content=False, **kwargs)
                try:
                    raw = response.data
                finally:
                    response.release_conn()
                headers = response.headers
                data = json.loads(raw) if raw else {}
            else:
                data, _status, headers = call(*args, _request_timeout=self._timeout, **kwargs)
        except _FAILURES as error:
            self.window.observe(getattr(error, "headers", None))
            raise translate(error) from error
        except ValueError as error:
            raise CRMUnavailableError(f"HubSpot answered something that is not JSON: {error}") from error
        self.window.observe(headers)
        return data

    def read(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A request that is safe to repeat: retried on 429 and on 5xx."""
        return self._retrying.call(lambda: self._send(call, *args, **kwargs))

    def write(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A request that changes data: retried on 429 only."""
        return self._retrying.call(lambda: self._send(call, *args, **kwargs), retry_unavailable=False)

    # -- objects ---------------------------------------------------------------------

    def get(self, object_type: str, object_id: str, properties: Sequence[str]) -> HubSpotObject | None:
        """One object (HubSpot follows a merged-away id to the merged object), or None."""
        try:
            raw = self.read(
                self._objects.get_by_id_with_http_info,
                object_type,
                object_id,
                properties=list(properties),
                archived=False,
                as_json=True,
            )
        except CRMNotFoundError:
            return None
        return _object(raw)

    def batch_read(
        self, object_type: str, object_ids: Sequence[str], properties: Sequence[str]
    ) -> list[HubSpotObject]:
        """The objects among ``object_ids`` that exist (missing ids are HubSpot's 207 errors)."""
        found: list[HubSpotObject] = []
        for start in range(0, len(object_ids), BATCH_READ_LIMIT):
            chunk = object_ids[start : start + BATCH_READ_LIMIT]
            body = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=i) for i in chunk],
                properties=list(properties),
                properties_with_history=[],
            )
            raw = self.read(self._batch.read_with_http_info, object_type, body, archived=False, as_json=True)
            found.extend(_object(item) for item in raw.get("results") or [])
        return found

    def search(
        self,
        object_type: str,
        filter_groups: list[Json],
        properties: Sequence[str],
        *,
        limit: int,
        sort_by_id: bool = True,
    ) -> list[HubSpotObject]:
        """One page of a search, sorted by ``hs_object_id`` (the caller pages by keyset)."""
        body = PublicObjectSearchRequest(
            filter_groups=filter_groups,
            sorts=[{"propertyName": "hs_object_id", "direction": "ASCENDING"}] if sort_by_id else [],
            properties=list(properties),
            limit=min(limit, SEARCH_PAGE_LIMIT),
        )
        raw = self.read(self._search.do_search_with_http_info, object_type, body, as_json=True)
        return [_object(item) for item in raw.get("results") or []]

    def update(self, object_type: str, object_id: str, properties: Mapping[str, str]) -> HubSpotObject:
        body = SimplePublicObjectInput(properties=dict(properties))
        return _object(
            self.write(self._objects.update_with_http_info, object_type, object_id, body, as_json=True)
        )

    def archive(self, object_type: str, object_id: str) -> None:
        self.write(self._objects.archive_with_http_info, object_type, object_id, as_json=True)

    def merge(self, object_type: str, primary_id: str, other_id: str) -> HubSpotObject:
        """Merge two objects; HubSpot answers with the merged object (a new id)."""
        make = CompanyMergeInput if object_type == COMPANIES else ContactMergeInput
        body = make(primary_object_id=primary_id, object_id_to_merge=other_id)
        return _object(self.write(self._merge_api[object_type].merge_with_http_info, body, as_json=True))

    def create(self, object_type: str, body: Json) -> HubSpotObject:
        """Create an object (with its associations, in the same request)."""
        return _object(self.write(self._objects.create_with_http_info, object_type, body, as_json=True))

    def associated_ids(self, object_type: str, object_id: str, to_object_type: str) -> list[str]:
        """Ids of the ``to_object_type`` objects associated to one object (v4, every page)."""
        ids: list[str] = []
        after: str | None = None
        while True:
            kwargs: Json = {"limit": 500}
            if after is not None:
                kwargs["after"] = after
            raw = self.read(
                self._associations.get_page_with_http_info, object_type, object_id, to_object_type, **kwargs
            )
            ids.extend(str(item.to_object_id) for item in raw.results or [])
            after = raw.paging.next.after if raw.paging and raw.paging.next else None
            if after is None:
                return ids

    # -- owners ----------------------------------------------------------------------

    def owners(self, *, archived: bool) -> Iterator[Json]:
        after: str | None = None
        while True:
            kwargs: Json = {"limit": 500, "archived": archived}
            if after is not None:
                kwargs["after"] = after
            raw = self.read(self._owners.get_page_with_http_info, **kwargs)
            yield from (owner.to_dict() for owner in raw.results or [])
            after = raw.paging.next.after if raw.paging and raw.paging.next else None
            if after is None:
                return

    def owner(self, owner_id: str, *, archived: bool) -> Json | None:
        try:
            raw = self.read(
                self._owners.get_by_id_with_http_info, owner_id, id_property="id", archived=archived
            )
        except CRMNotFoundError:
            return None
        result: Json = raw.to_dict()
        return result
