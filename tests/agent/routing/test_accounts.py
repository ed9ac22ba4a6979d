"""Lead-to-account matching for routing: domains first, then a close name with a supporting signal."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from agent.models import FieldValue, Owner, Record
from agent.routing.accounts import AccountIndex, AccountMatch
from tests.support.fakes import T0

OWNERS = {
    "O1": Owner(id="O1", name="Ann", email="ann@x.example"),
    "O2": Owner(id="O2", name="Bob", email="bob@x.example"),
    "GONE": Owner(id="GONE", name="Gone", email="gone@x.example", active=False),
}
_ids = count(1)


def account(name: str, *, owner: str | None = "O1", age_days: int = 100, **fields: FieldValue) -> Record:
    return Record(
        object_type="account",
        id=f"A{next(_ids):04d}",
        version="1",
        owner_id=owner,
        fields={"name": name, **fields},
        created_at=T0 - timedelta(days=age_days),
        updated_at=T0,
    )


def lead(**fields: FieldValue) -> Record:
    return Record(object_type="lead", id="L1", version="1", fields=fields, created_at=T0, updated_at=T0)


def match(accounts: list[Record], **lead_fields: FieldValue) -> AccountMatch:
    return AccountIndex(accounts, OWNERS).match(lead(**lead_fields))


def chosen_id(result: AccountMatch) -> str | None:
    return result.chosen.account.id if result.chosen else None


def test_a_work_email_matches_the_account_by_registrable_domain() -> None:
    acme = account("Acme Corp", website="https://www.acme.co.uk")
    result = match([acme, account("Other", website="other.example")], email="ann@eu.acme.co.uk")
    assert chosen_id(result) == acme.id
    assert result.chosen is not None
    assert result.chosen.matched_by == "email domain"
    assert result.chosen.similarity == 100.0
    assert result.tie_break is None


def test_the_account_domain_field_counts_as_well_as_its_website() -> None:
    acme = account("Acme Corp", domain="acme.io")
    assert chosen_id(match([acme], email="ann@acme.io")) == acme.id


def test_a_lead_website_matches_when_its_email_is_free_mail() -> None:
    acme = account("Acme Corp", website="https://acme.io/about")
    result = match([acme], email="ann@gmail.com", website="www.acme.io")
    assert chosen_id(result) == acme.id
    assert result.chosen is not None
    assert result.chosen.matched_by == "website"


def test_free_mail_never_matches_by_domain() -> None:
    fans = account("Gmail", website="https://gmail.com")
    yahoo = account("Yahoo", domain="yahoo.com")
    assert match([fans, yahoo], email="ann@gmail.com", company="Gmail").chosen is None
    assert match([fans, yahoo], email="bob@yahoo.com", company="Yahoo").chosen is None


def test_a_close_company_name_with_the_same_phone_matches() -> None:
    acme = account("Acme Inc.", phone="+1 415 555 0134", country="US")
    result = match([acme], email="ann@gmail.com", company="ACME", phone="(415) 555-0134", country="US")
    assert chosen_id(result) == acme.id
    assert result.chosen is not None
    assert (result.chosen.matched_by, result.chosen.signals) == ("company name", ("phone",))
    assert "company name 100% + phone" in result.chosen.describe()


def test_a_close_company_name_with_the_same_postcode_and_country_matches() -> None:
    globex = account("Globex Systems", postcode="10115", country="DE")
    result = match([globex], company="Globex System", postcode="10115", country="Germany")
    assert chosen_id(result) == globex.id
    assert result.chosen is not None
    assert result.chosen.signals == ("postcode",)
    assert round(result.chosen.similarity) == 96


def test_a_company_name_alone_is_refused() -> None:
    acme = account("Acme Inc.", phone="+1 415 555 0134", postcode="94105", country="US")
    assert match([acme], email="ann@gmail.com", company="Acme").chosen is None
    # Same postcode in another country is no support either.
    assert match([acme], company="Acme", postcode="94105", country="DE").chosen is None
    # A different phone is no support.
    assert match([acme], company="Acme", phone="+1 212 555 0199", country="US").chosen is None


def test_a_supporting_signal_does_not_rescue_a_distant_name() -> None:
    hooli = account("Hooli Technologies", phone="+1 415 555 0134", country="US")
    assert match([hooli], company="Hooli Technology", phone="+1 415 555 0134", country="US").chosen is None


def test_ties_go_to_the_closer_name() -> None:
    exact = account("Initech Software", phone="+1 415 555 0134", country="US")
    close = account("Initech Softwares", phone="+1 415 555 0134", country="US")
    result = match([close, exact], company="Initech Software", phone="4155550134", country="US")
    assert chosen_id(result) == exact.id
    assert [c.account.id for c in result.candidates] == [exact.id, close.id]
    assert result.tie_break == "closer name (100% vs 97%)"


def test_ties_go_to_more_signals() -> None:
    phone_only = account("Acme", phone="+1 415 555 0134", country="US")
    both = account("Acme", phone="+1 415 555 0134", postcode="94105", country="US")
    result = match([phone_only, both], company="Acme", phone="415 555 0134", postcode="94105", country="US")
    assert chosen_id(result) == both.id
    assert result.tie_break == "more signals (phone, postcode)"


def test_ties_go_to_the_account_whose_owner_is_active() -> None:
    orphaned = account("Acme", owner="GONE", domain="acme.io")
    owned = account("Acme", owner="O2", domain="acme.io")
    result = match([orphaned, owned], email="ann@acme.io")
    assert chosen_id(result) == owned.id
    assert result.chosen is not None
    assert result.chosen.owner_active
    assert result.tie_break == "its owner is active"


def test_ties_then_go_to_the_merge_masters_order() -> None:
    sparse = account("Acme", domain="acme.io", age_days=900)
    complete = account("Acme", domain="acme.io", age_days=10, industry="Software", phone="+1 415 555 0134")
    older = account("Acme", domain="acme.io", age_days=20, industry="Software", phone="+1 415 555 0135")
    result = match([sparse, complete, older], email="ann@acme.io")
    assert [c.account.id for c in result.candidates] == [older.id, complete.id, sparse.id]
    assert result.tie_break == "more complete, then older (the merge master's order)"


def test_a_lead_without_company_or_domain_matches_nothing() -> None:
    assert match([account("Acme", domain="acme.io")], email="ann@gmail.com") == AccountMatch(None)
    assert match([account("Acme", domain="acme.io")]) == AccountMatch(None)


def test_the_index_tells_its_size_and_sees_owner_changes() -> None:
    acme = account("Acme", owner="O1", domain="acme.io")
    index = AccountIndex([acme], OWNERS)
    assert index.size == 1
    first = index.match(lead(email="ann@acme.io")).chosen
    assert first is not None
    assert first.owner_active
    index.owners = {**OWNERS, "O1": OWNERS["O1"].model_copy(update={"active": False})}
    again = index.match(lead(email="ann@acme.io")).chosen
    assert again is not None
    assert not again.owner_active
