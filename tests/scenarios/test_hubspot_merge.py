"""A hygiene run on HubSpot: the planned merge waits for approval and runs only on unchanged records.

The whole agent is wired from settings (``REVGATE_CRM=hubspot``) against the fake HubSpot
server; the offline planner finds two companies on one domain, the merge goes to approval,
and what happens on approval depends on whether someone edited a company in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.crm.hubspot import HubSpotCRM
from agent.models import Approval
from agent.policy_file import load_policy
from bot.container import Services, build_services
from bot.settings import Settings
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.fakes import FixedClock, RecordingNotifier, StaticGroups, sequential_ids
from tests.support.stack import APPROVER, DEFAULT_POLICY, GROUP


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(clock=FixedClock()) as fake:
        yield fake


@pytest.fixture
def services(hubspot: FakeHubSpot, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite:///{tmp_path / 'revgate.db'}",
        REVGATE_CRM="hubspot",
        HUBSPOT_ACCESS_TOKEN=hubspot.token,
        HUBSPOT_PORTAL_ID=hubspot.portal_id,
        REVGATE_HUBSPOT_URL=hubspot.url,
    )
    built = build_services(
        settings,
        clock=hubspot.clock,
        new_id=sequential_ids("t"),
        notifier=RecordingNotifier(),
        directory=StaticGroups({GROUP: {"U0LEAD1", "U0LEAD2"}}),
        policy=load_policy(DEFAULT_POLICY),
    )
    yield built
    built.close()


def _two_companies_on_one_domain(hubspot: FakeHubSpot) -> tuple[str, str]:
    owner = hubspot.add_owner("Ada", "Lovelace")
    old = hubspot.add_company({"name": "Acme", "domain": "acme.com"}, owner_id=owner)
    hubspot.later(3600)
    full = hubspot.add_company(
        {"name": "Acme Inc.", "website": "https://www.acme.com/about", "industry": "COMPUTER_SOFTWARE"},
        owner_id=owner,
    )
    hubspot.later(3600)
    return old, full


def _planned_merge(services: Services) -> Approval:
    report = services.runner.run(services.offline_planner(), trigger="test")
    merges = [o for o in report.outcomes if o.action.kind == "merge"]
    assert [o.disposition for o in merges] == ["queued"], report.outcomes
    approval_id = merges[0].approval_id
    assert approval_id is not None
    approval = services.approvals.get(approval_id)
    assert approval.status == "pending"
    return approval


def test_the_wiring_builds_the_hubspot_adapter_from_settings(
    services: Services, hubspot: FakeHubSpot
) -> None:
    assert isinstance(services.crm, HubSpotCRM)
    old, _ = _two_companies_on_one_domain(hubspot)

    assert services.crm.record_url("account", old) == (
        f"https://app.hubspot.com/contacts/{hubspot.portal_id}/record/0-2/{old}"
    )
    assert services.crm.get("account", old) is not None


def test_an_approved_merge_of_unchanged_companies_runs_in_hubspot(
    services: Services, hubspot: FakeHubSpot
) -> None:
    old, full = _two_companies_on_one_domain(hubspot)
    approval = _planned_merge(services)
    assert approval.action.merge is not None
    survivor = approval.action.merge.survivor_id
    merged = next(rid for rid in (old, full) if rid != survivor)

    services.approvals.approve(approval.id, APPROVER)
    outcomes = services.worker.drain()

    assert [o.outcome for o in outcomes] == ["executed"]
    assert services.approvals.get(approval.id).status == "executed"
    assert len(hubspot.requests_to("merge", "companies")) == 1
    assert services.crm.get("account", merged) is None  # merged away: gone from every read
    # HubSpot gives the merged company a new id; both old ids lead to it in HubSpot.
    new_id = hubspot.current_id("companies", survivor)
    assert new_id is not None
    assert hubspot.current_id("companies", merged) == new_id
    kept = services.crm.get("account", new_id)
    assert kept is not None
    assert kept.get("domain") == "acme.com"
    assert kept.get("industry") is not None
    result = services.approvals.get(approval.id).result or {}
    assert result["survivor_id"] == new_id  # the card links the record under its new id


def test_a_merge_whose_company_changed_in_between_is_superseded_not_executed(
    services: Services, hubspot: FakeHubSpot
) -> None:
    old, full = _two_companies_on_one_domain(hubspot)
    approval = _planned_merge(services)
    hubspot.later(600)
    hubspot.edit("companies", old, {"phone": "+14155550199"})  # a rep edits it in HubSpot

    services.approvals.approve(approval.id, APPROVER)
    outcomes = services.worker.drain()

    assert [o.outcome for o in outcomes] == ["superseded"]
    final = services.approvals.get(approval.id)
    assert final.status == "superseded"
    assert "changed since the plan" in (final.reason or "")
    assert hubspot.requests_to("merge") == []  # nothing was sent to HubSpot's merge endpoint
    assert hubspot.current_id("companies", old) == old
    assert hubspot.current_id("companies", full) == full
    assert hubspot.properties("companies", old)["phone"] == "+14155550199"
