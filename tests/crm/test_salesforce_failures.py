"""How the Salesforce adapter meets rate limits, outages, refused sessions, its API usage ceiling and
long result sets, against the fake Salesforce."""

from __future__ import annotations

import pytest

from agent.errors import CRMAuthError, CRMConflictError, CRMRateLimitedError, CRMUnavailableError
from agent.store.database import Database
from tests.crm.conformance import sample
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.fake_salesforce_arrangement import (
    RecordingSleep,
    SalesforceArrangement,
    connect,
)

PHONE = "+14155550123"


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def arranged(salesforce: FakeSalesforce, database: Database, sleep: RecordingSleep) -> SalesforceArrangement:
    return SalesforceArrangement(salesforce, connect(salesforce, database, sleep=sleep))


# -- 429 and 5xx -----------------------------------------------------------------------------


def test_a_429_is_waited_out_for_as_long_as_its_retry_after_says(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, sleep: RecordingSleep
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("POST", "/composite/sobjects/Lead", 429, retry_after=7)

    assert arranged.crm.get("lead", lead.id) == lead
    assert sleep.waits == [7.0]
    assert len(salesforce.requests_to("POST", "/composite/sobjects/Lead")) == 3  # arranged, refused, retried


def test_a_retry_after_longer_than_the_longest_wait_is_raised_not_slept(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, sleep: RecordingSleep
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("POST", "/composite/sobjects/Lead", 429, retry_after=600)

    with pytest.raises(CRMRateLimitedError) as raised:
        arranged.crm.get("lead", lead.id)

    assert raised.value.retry_after == 600.0
    assert sleep.waits == []


def test_a_write_refused_with_429_is_sent_again_since_it_was_not_processed(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, sleep: RecordingSleep
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("PATCH", "/sobjects/Lead/", 429, retry_after=2)

    written = arranged.crm.update(
        "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
    )

    assert written.get("phone") == PHONE
    assert sleep.waits == [2.0]
    assert len(salesforce.requests_to("PATCH", "/sobjects/Lead/")) == 2


def test_the_daily_api_limit_is_a_rate_limit_with_a_long_wait(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, sleep: RecordingSleep
) -> None:
    salesforce.fail("GET", "/query", 403, error_code="REQUEST_LIMIT_EXCEEDED")

    with pytest.raises(CRMRateLimitedError, match="REQUEST_LIMIT_EXCEEDED") as raised:
        arranged.crm.owners()

    assert raised.value.retry_after is not None
    assert raised.value.retry_after >= 3600
    assert sleep.waits == []


def test_a_read_that_met_5xx_is_retried_and_then_succeeds(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, sleep: RecordingSleep
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("GET", "/query", 503, times=2)

    assert [r.id for r in arranged.crm.iter_records("lead")] == [lead.id]
    assert sleep.waits == [0.5, 1.0]


def test_a_read_that_keeps_meeting_5xx_gives_up_with_crm_unavailable(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, sleep: RecordingSleep
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("POST", "/composite/sobjects/Lead", 500, times=10)

    with pytest.raises(CRMUnavailableError, match="500"):
        arranged.crm.get("lead", lead.id)

    assert sleep.waits == [0.5, 1.0, 2.0]


def test_a_write_that_met_a_500_after_it_was_applied_is_not_resent_and_its_retry_writes_nothing(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce, database: Database, sleep: RecordingSleep
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("PATCH", "/sobjects/Lead/", 500, after_apply=True)

    with pytest.raises(CRMUnavailableError):
        arranged.crm.update(
            "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
        )
    assert len(salesforce.requests_to("PATCH", "/sobjects/Lead/")) == 1
    assert sleep.waits == []

    # The next attempt (the outbox's retry) sees the change applied and sends nothing.
    retried = connect(salesforce, database).update(
        "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
    )

    assert retried.get("phone") == PHONE
    assert len(salesforce.requests_to("PATCH", "/sobjects/Lead/")) == 1


def test_a_write_that_met_a_500_before_it_was_applied_is_written_by_its_retry(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.fail("PATCH", "/sobjects/Lead/", 500)

    with pytest.raises(CRMUnavailableError):
        arranged.crm.update(
            "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
        )
    retried = arranged.crm.update(
        "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
    )

    assert retried.get("phone") == PHONE
    assert len(salesforce.requests_to("PATCH", "/sobjects/Lead/")) == 2


def test_an_edit_landing_between_the_read_and_the_patch_fails_the_precondition_and_is_kept(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    arranged.later(5)
    salesforce.before("PATCH", "/sobjects/Lead/", lambda: salesforce.org.edit(lead.id, {"Title": "CEO"}))

    with pytest.raises(CRMConflictError) as raised:
        arranged.crm.update(
            "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
        )

    patch = salesforce.requests_to("PATCH", "/sobjects/Lead/")[0]
    assert patch.headers["if-unmodified-since"] == "Tue, 24 Nov 2026 09:00:00 GMT"
    now = arranged.crm.get("lead", lead.id)
    assert now is not None
    assert (now.get("title"), now.get("phone")) == ("CEO", sample("lead", 1)["phone"])
    assert raised.value.actual == now.version


# -- sessions --------------------------------------------------------------------------------


def test_an_expired_access_token_is_an_auth_error_that_writes_nothing(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.expire_sessions()

    with pytest.raises(CRMAuthError, match="expired or revoked"):
        arranged.crm.update(
            "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
        )

    assert salesforce.writes() == []
    row = salesforce.org.row(lead.id)
    assert row is not None
    assert row["Phone"] == sample("lead", 1)["phone"]


def test_a_password_login_renews_a_session_that_expires_mid_run_once(
    salesforce: FakeSalesforce, database: Database
) -> None:
    crm = connect(salesforce, database, password_login=True)
    arranged = SalesforceArrangement(salesforce, crm)
    lead = arranged.record("lead", sample("lead", 1))
    salesforce.expire_sessions()

    written = crm.update(
        "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
    )

    assert written.get("phone") == PHONE
    assert len(salesforce.requests_to("POST", "/services/oauth2/token")) == 2  # the first login, one renewal
    assert len(salesforce.requests_to("PATCH", "/sobjects/Lead/")) == 1


def test_a_session_refused_again_after_its_renewal_is_an_auth_error_not_a_loop(
    salesforce: FakeSalesforce, database: Database
) -> None:
    crm = connect(salesforce, database, password_login=True)
    lead = SalesforceArrangement(salesforce, crm).record("lead", sample("lead", 1))
    salesforce.fail("POST", "/composite/sobjects/Lead", 401, error_code="INVALID_SESSION_ID", times=5)

    with pytest.raises(CRMAuthError, match="freshly issued session"):
        crm.get("lead", lead.id)

    assert len(salesforce.requests_to("POST", "/services/oauth2/token")) == 2


def test_a_merge_whose_session_expired_is_sent_again_on_the_renewed_session(
    salesforce: FakeSalesforce, database: Database
) -> None:
    crm = connect(salesforce, database, password_login=True)
    arranged = SalesforceArrangement(salesforce, crm)
    survivor, other = (arranged.record("lead", sample("lead", n)) for n in (1, 2))
    # The session runs out between the merge's reads and its SOAP call.
    salesforce.fail("POST", "/services/Soap/", 500, error_code="INVALID_SESSION_ID")

    merged = crm.merge(
        "lead",
        survivor.id,
        [other.id],
        {},
        expected_versions={survivor.id: survivor.version, other.id: other.version},
        idempotency_key="m-1",
    )

    assert merged.id == survivor.id
    assert crm.get("lead", other.id) is None
    assert len(salesforce.requests_to("POST", "/services/oauth2/token")) == 2
    assert len(salesforce.requests_to("POST", "/services/Soap/")) == 2


def test_a_revoked_password_login_is_an_auth_error_that_writes_nothing(
    salesforce: FakeSalesforce, database: Database
) -> None:
    crm = connect(salesforce, database, password_login=True)
    lead = SalesforceArrangement(salesforce, crm).record("lead", sample("lead", 1))
    salesforce.revoke()

    with pytest.raises(CRMAuthError, match="login refused"):
        crm.update("lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1")

    assert salesforce.writes() == []


# -- the API usage ceiling -------------------------------------------------------------------


def test_writes_are_refused_while_api_usage_is_above_the_ceiling_and_reads_go_on(
    salesforce: FakeSalesforce, database: Database
) -> None:
    crm = connect(salesforce, database, usage_ceiling=0.8)
    lead = SalesforceArrangement(salesforce, crm).record("lead", sample("lead", 1))
    salesforce.api_used = 85_000

    with pytest.raises(CRMRateLimitedError, match=r"above the 80% ceiling") as raised:
        crm.update("lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1")

    assert raised.value.retry_after is not None
    assert salesforce.writes() == []
    assert crm.get("lead", lead.id) == lead
    assert crm.api_usage is not None
    assert crm.api_usage.used > 85_000
    salesforce.api_used = 10_000
    written = crm.update(
        "lead", lead.id, {"phone": PHONE}, expected_version=lead.version, idempotency_key="k-1"
    )
    assert written.get("phone") == PHONE


def test_the_ceiling_is_checked_against_limits_before_any_answer_reported_usage(
    salesforce: FakeSalesforce, database: Database
) -> None:
    crm = connect(salesforce, database, usage_ceiling=0.5)
    salesforce.api_used = 60_000

    with pytest.raises(CRMRateLimitedError, match="ceiling"):
        crm.connection.check_headroom()

    assert len(salesforce.requests_to("GET", "/limits")) == 1


# -- long result sets ------------------------------------------------------------------------


def test_iter_records_and_search_page_past_ten_thousand_records_with_query_more(
    arranged: SalesforceArrangement, salesforce: FakeSalesforce
) -> None:
    ids = salesforce.org.seed(
        "Lead", ({"LastName": f"Doe{n}", "Company": "Acme", "Email": f"j{n}@acme.io"} for n in range(10_500))
    )

    listed = [r.id for r in arranged.crm.iter_records("lead")]
    found = arranged.crm.search("lead", "company", "Acme")

    assert listed == sorted(ids)
    assert sorted(r.id for r in found) == sorted(ids)
    # iter_records asks batches of 1,000 (11 pages), search the default 2,000 (6 pages); all
    # but the first page of each come through queryMore's nextRecordsUrl.
    assert len(salesforce.requests_to("GET", "/query/")) == 11 + 6
    assert len([r for r in salesforce.requests_to("GET", "/query/") if "q" not in r.query]) == 10 + 5
