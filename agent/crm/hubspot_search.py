"""Walking HubSpot's search API without its 10,000-result cap.

HubSpot's ``POST /crm/v3/objects/{type}/search`` pages with an ``after`` offset and
refuses (400) any page past the 10,000th result of a query. Instead of offset paging,
every page here is a fresh query sorted by ``hs_object_id`` with ``hs_object_id >
<last id seen>`` added to each filter group (a keyset cursor). No query ever asks
for a page beyond its first, so the cap never applies, however many records match;
and unlike offset paging, a record deleted or merged mid-scan cannot shift the
offsets and make the scan skip a live record. The date window (``changed_since``) is
a filter like any other: an edit during the scan only moves a record's
``hs_lastmodifieddate`` forward, so it stays inside the window.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from agent.crm.hubspot_mapping import ID_PROPERTY, STAGE_PROPERTY
from agent.crm.hubspot_transport import SEARCH_PAGE_LIMIT, HubSpotObject, HubSpotTransport
from agent.models import ObjectType

Filter = dict[str, Any]


def filter_(name: str, operator: str, value: str | None = None, values: Sequence[str] = ()) -> Filter:
    """One search filter in HubSpot's JSON shape."""
    found: Filter = {"propertyName": name, "operator": operator}
    if value is not None:
        found["value"] = value
    if values:
        found["values"] = list(values)
    return found


def type_groups(object_type: ObjectType, lead_stages: Sequence[str]) -> list[list[Filter]]:
    """Filter groups (ORed) that select the records of a revgate type among HubSpot's objects."""
    if object_type == "account":
        return [[]]
    stages = sorted(lead_stages)
    if object_type == "lead":
        return [[filter_(STAGE_PROPERTY, "IN", values=stages)], [filter_(STAGE_PROPERTY, "NOT_HAS_PROPERTY")]]
    return [[filter_(STAGE_PROPERTY, "HAS_PROPERTY"), filter_(STAGE_PROPERTY, "NOT_IN", values=stages)]]


def combine(groups: list[list[Filter]], extra: Sequence[Filter]) -> list[dict[str, Any]]:
    """``extra`` ANDed into every group, in the request's ``filterGroups`` shape."""
    combined = [[*group, *extra] for group in groups]
    return [{"filters": group} for group in combined if group]


def scan(
    transport: HubSpotTransport,
    hubspot_type: str,
    groups: list[list[Filter]],
    extra: Sequence[Filter],
    properties: Sequence[str],
    *,
    page_size: int,
) -> Iterator[HubSpotObject]:
    """Every object matching ``groups`` AND ``extra``, in ``hs_object_id`` order, by keyset pages."""
    limit = max(1, min(page_size, SEARCH_PAGE_LIMIT))
    last: str | None = None
    while True:
        cursor = [] if last is None else [filter_(ID_PROPERTY, "GT", last)]
        page = transport.search(hubspot_type, combine(groups, [*extra, *cursor]), properties, limit=limit)
        yield from page
        if len(page) < limit:
            return
        last = page[-1].id
