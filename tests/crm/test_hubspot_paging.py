"""Reading past HubSpot search's 10,000-result cap: keyset pages by ``hs_object_id``, never an offset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from agent.crm.hubspot import HubSpotCRM
from agent.store.database import Database
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_hubspot_adapter import connect, new_ledger
from tests.support.fake_hubspot_store import SEARCH_CAP, SEARCH_LIMIT

MANY = SEARCH_CAP + 2 * SEARCH_LIMIT + 7


@pytest.fixture(scope="module")
def hubspot() -> Iterator[FakeHubSpot]:
    """One portal with more leads (all of one owner) than a search query can page through."""
    with FakeHubSpot() as fake:
        owner = fake.add_owner("Ada", "Lovelace")
        fake.add_many(
            "contacts",
            (
                {"email": f"lead{n}@acme.io", "lifecyclestage": "lead", "hubspot_owner_id": owner}
                for n in range(MANY)
            ),
        )
        fake.add_company({"name": "Acme", "domain": "acme.io"})
        yield fake


@pytest.fixture
def crm(hubspot: FakeHubSpot, database: Database) -> HubSpotCRM:
    hubspot.requests.clear()
    return connect(hubspot, new_ledger(database, hubspot.clock), [])


def test_the_fake_refuses_to_page_past_the_10000th_result_like_hubspot(hubspot: FakeHubSpot) -> None:
    answer = requests.post(
        f"{hubspot.url}/crm/v3/objects/contacts/search",
        json={"filterGroups": [], "limit": SEARCH_LIMIT, "after": str(SEARCH_CAP)},
        headers={"Authorization": f"Bearer {hubspot.token}"},
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"


def test_iter_records_yields_every_record_past_the_search_cap_once_in_id_order(
    hubspot: FakeHubSpot, crm: HubSpotCRM
) -> None:
    ids = [r.id for r in crm.iter_records("lead")]

    assert len(ids) == MANY
    assert ids == sorted(set(ids), key=int)
    searches = hubspot.requests_to("search")
    assert all(r.status == 200 for r in searches)
    assert all("after" not in (r.body or {}) for r in searches)  # every page is a first page
    assert len(searches) == MANY // SEARCH_LIMIT + 1


def test_search_returns_every_match_past_the_search_cap(hubspot: FakeHubSpot, crm: HubSpotCRM) -> None:
    owner = next(iter(hubspot.store.owners))

    found = crm.search("lead", "owner_id", owner)

    assert len(found) == MANY
    assert all(r.status == 200 for r in hubspot.requests_to("search"))


def test_changed_since_pages_the_same_way_and_keeps_only_later_changes(
    hubspot: FakeHubSpot, crm: HubSpotCRM
) -> None:
    first = next(crm.iter_records("lead", batch_size=1))
    since = hubspot.later(3600)
    hubspot.edit("contacts", first.id, {"phone": "+14155550100"})

    changed = list(crm.iter_records("lead", changed_since=since))

    assert [r.id for r in changed] == [first.id]
