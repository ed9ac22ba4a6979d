from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.enrich import DomainParser, Geography, OfflineProvider, ReferenceLists
from agent.enrich.record_fields import FieldFix, RecordNormaliser
from agent.models import FieldValue, Record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def lead(**fields: FieldValue) -> Record:
    return Record(object_type="lead", id="L1", version="1", fields=fields, created_at=T0, updated_at=T0)


@pytest.fixture
def normaliser(lists: ReferenceLists, domains: DomainParser, geography: Geography) -> RecordNormaliser:
    return RecordNormaliser(lists=lists, domains=domains, geography=geography)


def fixes_of(normaliser: RecordNormaliser, record: Record) -> dict[str, str]:
    return {fix.field: fix.after for fix in normaliser.normalise(record).fixes}


def test_a_messy_lead_gets_every_canonical_form(normaliser: RecordNormaliser) -> None:
    record = lead(
        first_name="JAN",
        last_name="van der berg",
        email=" Jan@Acme.CO.UK ",
        phone="020 7946 0018",
        country="U.K.",
        website="https://www.Acme.co.uk/contact",
        state=None,
    )
    assert fixes_of(normaliser, record) == {
        "first_name": "Jan",
        "last_name": "Van der Berg",
        "email": "jan@acme.co.uk",
        "phone": "+442079460018",
        "country": "GB",
        "website": "acme.co.uk",
    }


def test_every_fix_carries_before_source_confidence_and_reason(normaliser: RecordNormaliser) -> None:
    result = normaliser.normalise(lead(country="Deutschland", state="Bavaria"))
    assert result.fixes == (
        FieldFix(
            "country", "Deutschland", "DE", "offline:country-aliases", 0.95, "ISO 3166 code for Germany"
        ),
        FieldFix("state", "Bavaria", "BY", "offline:pycountry", 1.0, "ISO 3166 code for Bayern"),
    )


def test_a_clean_record_needs_nothing(normaliser: RecordNormaliser) -> None:
    record = lead(
        first_name="Ann",
        last_name="O'Neil",
        email="ann@acme.com",
        phone="+12025550143",
        country="US",
        state="CA",
        website="acme.com",
    )
    result = normaliser.normalise(record)
    assert result.fixes == ()
    assert result.questions == ()


def test_an_ambiguous_country_becomes_a_question_and_blocks_the_phone(normaliser: RecordNormaliser) -> None:
    result = normaliser.normalise(lead(country="Georgia", phone="(404) 555-0143"))
    assert result.fixes == ()
    (question,) = result.questions
    assert (question.field, question.value, set(question.candidates)) == ("country", "Georgia", {"GE", "US"})


def test_an_ambiguous_state_without_country_is_a_question(normaliser: RecordNormaliser) -> None:
    result = normaliser.normalise(lead(state="Georgia"))
    assert [q.field for q in result.questions] == ["state"]


def test_low_confidence_fixes_are_held_back(
    lists: ReferenceLists, domains: DomainParser, geography: Geography
) -> None:
    strict = RecordNormaliser(lists=lists, domains=domains, geography=geography, min_confidence=0.99)
    # The alias table is 0.95 sure; an ISO name is certain.
    assert fixes_of(strict, lead(country="Holland")) == {}
    assert fixes_of(strict, lead(country="netherlands")) == {"country": "NL"}


def test_invalid_values_are_left_alone(normaliser: RecordNormaliser) -> None:
    record = lead(email="X@Mailinator.com", phone="12", website="n/a", domain="localhost", country="Atlantis")
    assert fixes_of(normaliser, record) == {}


def test_it_can_share_an_offline_providers_reference_data() -> None:
    provider = OfflineProvider.build()
    normaliser = RecordNormaliser.sharing(provider)
    assert normaliser.domains is provider.domains
    assert fixes_of(normaliser, lead(domain="WWW.Acme.com")) == {"domain": "acme.com"}
