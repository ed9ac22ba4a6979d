"""The HubSpot adapter under rate limits, 5xx and dead tokens, against the fake HubSpot."""

from __future__ import annotations

import pytest

from agent.crm.hubspot import HubSpotCRM
from agent.crm.ledger import WriteLedger
from agent.errors import CRMAuthError, CRMRateLimitedError, CRMUnavailableError
from agent.models import Record
from agent.store.database import Database
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fake_hubspot_adapter import connect, new_ledger

NEW_PHONE = "+14155550100"


@pytest.fixture
def ledger(database: Database, hubspot: FakeHubSpot) -> WriteLedger:
    return new_ledger(database, hubspot.clock)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def crm(hubspot: FakeHubSpot, ledger: WriteLedger, sleeps: list[float]) -> HubSpotCRM:
    return connect(hubspot, ledger, sleeps)


def _lead(hubspot: FakeHubSpot, crm: HubSpotCRM, n: int = 1) -> Record:
    created = hubspot.add_contact(
        {"firstname": "Jane", "lastname": f"Doe{n}", "email": f"jane{n}@acme.io", "lifecyclestage": "lead"}
    )
    found = crm.get("lead", created)
    assert found is not None
    return found


def _statuses(hubspot: FakeHubSpot, operation: str) -> list[int]:
    return [r.status for r in hubspot.requests_to(operation)]


# -- 429 -----------------------------------------------------------------------------------


def test_a_read_that_met_a_429_waits_the_retry_after_it_was_given_then_succeeds(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("get", status=429, retry_after=7)

    assert crm.get("lead", lead.id) == lead

    assert sleeps == [7]
    assert _statuses(hubspot, "get")[-2:] == [429, 200]


def test_a_write_that_met_a_429_is_sent_again_after_the_wait_and_applied_once(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("update", status=429, retry_after=3)

    written = crm.update(
        "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
    )

    assert written.get("phone") == NEW_PHONE
    assert sleeps == [3]
    assert _statuses(hubspot, "update") == [429, 200]


def test_a_retry_after_longer_than_the_longest_wait_is_raised_not_slept(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("get", status=429, retry_after=120)

    with pytest.raises(CRMRateLimitedError) as raised:
        crm.get("lead", lead.id)

    assert raised.value.retry_after == 120
    assert sleeps == []


def test_a_rate_limited_write_writes_nothing_and_frees_its_key_for_the_retry(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("update", status=429, retry_after=600)

    with pytest.raises(CRMRateLimitedError):
        crm.update("lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u")

    assert "phone" not in hubspot.properties("contacts", lead.id)
    assert ledger.entry("u") is None
    retried = crm.update(
        "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
    )
    assert retried.get("phone") == NEW_PHONE


def test_a_spent_burst_window_is_waited_out_before_the_next_request(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.burst_remaining = 0  # X-HubSpot-RateLimit-Remaining: 0 on the next answer

    crm.get("lead", lead.id)
    crm.get("lead", lead.id)

    assert sleeps == [10.0]  # X-HubSpot-RateLimit-Interval-Milliseconds: 10000
    assert 429 not in _statuses(hubspot, "get")


# -- 5xx -----------------------------------------------------------------------------------


def test_a_read_that_met_5xx_is_retried_and_succeeds(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("search", status=503, times=2)

    assert [r.id for r in crm.search("lead", "email", "jane1@acme.io")] == [lead.id]

    assert _statuses(hubspot, "search") == [503, 503, 200]
    assert sleeps == [0.5, 1.0]


def test_a_read_that_keeps_meeting_5xx_raises_unavailable_after_the_last_attempt(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("get", status=500, times=4)

    with pytest.raises(CRMUnavailableError):
        crm.get("lead", lead.id)

    assert _statuses(hubspot, "get")[-4:] == [500, 500, 500, 500]
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_write_that_met_a_500_after_applying_is_not_resent(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("update", status=500, applied=True)

    with pytest.raises(CRMUnavailableError):
        crm.update("lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u")

    assert _statuses(hubspot, "update") == [500]
    assert hubspot.properties("contacts", lead.id)["phone"] == NEW_PHONE
    entry = ledger.entry("u")
    assert entry is not None
    assert entry.state == "started"


def test_the_retry_of_a_write_applied_behind_a_500_resolves_via_the_ledger_without_writing_again(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("update", status=500, applied=True)
    with pytest.raises(CRMUnavailableError):
        crm.update("lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u")

    retried = crm.update(
        "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
    )

    assert retried.get("phone") == NEW_PHONE
    assert retried == crm.get("lead", lead.id)
    assert _statuses(hubspot, "update") == [500]
    entry = ledger.entry("u")
    assert entry is not None
    assert entry.done


def test_the_retry_of_a_write_refused_by_a_500_before_applying_writes_once(
    hubspot: FakeHubSpot, crm: HubSpotCRM
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("update", status=502)
    with pytest.raises(CRMUnavailableError):
        crm.update("lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u")
    assert "phone" not in hubspot.properties("contacts", lead.id)

    retried = crm.update(
        "lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u"
    )

    assert retried.get("phone") == NEW_PHONE
    assert _statuses(hubspot, "update") == [502, 200]


def test_a_note_created_behind_a_500_is_not_created_again_by_the_retry(
    hubspot: FakeHubSpot, crm: HubSpotCRM
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("create", status=500, applied=True)
    with pytest.raises(CRMUnavailableError):
        crm.add_note("lead", lead.id, "Called twice.", idempotency_key="n")

    note = crm.add_note("lead", lead.id, "Called twice.", idempotency_key="n")

    assert crm.notes("lead", lead.id) == [note]
    assert hubspot.note_bodies("contacts", lead.id) == ["Called twice."]
    assert _statuses(hubspot, "create") == [500]


def test_a_delete_applied_behind_a_500_is_finished_by_the_retry_without_a_second_request(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("archive", status=500, applied=True)
    with pytest.raises(CRMUnavailableError):
        crm.delete("lead", lead.id, expected_version=lead.version, idempotency_key="d")

    crm.delete("lead", lead.id, expected_version=lead.version, idempotency_key="d")

    assert crm.get("lead", lead.id) is None
    assert _statuses(hubspot, "archive") == [500]
    entry = ledger.entry("d")
    assert entry is not None
    assert entry.done


# -- expired and revoked tokens ------------------------------------------------------------


def test_an_expired_token_raises_an_auth_error_that_says_so_and_is_not_retried(
    hubspot: FakeHubSpot, crm: HubSpotCRM, sleeps: list[float]
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.expire_token()

    with pytest.raises(CRMAuthError, match=r"expired.*HUBSPOT_ACCESS_TOKEN"):
        crm.get("lead", lead.id)

    assert _statuses(hubspot, "get")[-1:] == [401]
    assert len(hubspot.requests_to("get")) == 2  # the arrangement's read, then the refused one
    assert sleeps == []


def test_a_revoked_token_raises_an_auth_error_that_says_so(hubspot: FakeHubSpot, crm: HubSpotCRM) -> None:
    hubspot.revoke_token()

    with pytest.raises(CRMAuthError, match=r"not valid \(revoked"):
        crm.owners()


def test_an_update_refused_for_its_token_writes_nothing_and_frees_its_key(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    lead = _lead(hubspot, crm)
    hubspot.fail_next("update", status=401)  # the token expired between the read and the write

    with pytest.raises(CRMAuthError):
        crm.update("lead", lead.id, {"phone": NEW_PHONE}, expected_version=lead.version, idempotency_key="u")

    assert crm.get("lead", lead.id) == lead
    assert ledger.entry("u") is None


def test_a_merge_refused_for_its_token_merges_nothing(
    hubspot: FakeHubSpot, crm: HubSpotCRM, ledger: WriteLedger
) -> None:
    survivor, other = _lead(hubspot, crm, 1), _lead(hubspot, crm, 2)
    hubspot.fail_next("merge", status=401)

    with pytest.raises(CRMAuthError):
        crm.merge(
            "lead",
            survivor.id,
            [other.id],
            {"phone": NEW_PHONE},
            expected_versions={survivor.id: survivor.version, other.id: other.version},
            idempotency_key="m",
        )

    assert crm.get_many("lead", [survivor.id, other.id]) == {survivor.id: survivor, other.id: other}
    assert [r.status for r in hubspot.writes()] == [401]
    assert ledger.entry("m") is None
