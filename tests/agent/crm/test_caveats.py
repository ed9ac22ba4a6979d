"""Each CRM's merge caveats, as an approver reads them."""

from __future__ import annotations

from agent.crm.caveats import merge_caveats


def test_a_hubspot_merge_warns_it_is_irreversible_and_changes_the_record_id() -> None:
    text = " ".join(merge_caveats("hubspot", 2))

    assert "cannot be undone" in text
    assert "new record id" in text
    assert "merges in a row" not in text


def test_a_hubspot_merge_of_four_records_says_it_takes_three_merges() -> None:
    assert any("takes 3 merges in a row" in c for c in merge_caveats("hubspot", 4))


def test_a_salesforce_merge_warns_of_the_three_record_limit_and_the_deletions() -> None:
    text = " ".join(merge_caveats("salesforce", 3))

    assert "at most 3 records" in text
    assert "deleted" in text
    assert "calls in a row" not in text


def test_a_salesforce_merge_of_five_records_takes_two_calls() -> None:
    assert any("5 records take 2 merge calls" in c for c in merge_caveats("salesforce", 5))


def test_the_embedded_crm_has_no_platform_caveats() -> None:
    assert merge_caveats("local", 3) == []
