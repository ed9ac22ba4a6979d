"""The one conformance suite every CRM adapter passes, written only against the CRM port.

It checks the contract of :class:`agent.ports.CRMClient` (and the error tree of
:mod:`agent.errors`) and nothing an adapter happens to do beyond it, so the embedded
CRM, HubSpot against its fake server and Salesforce against its fake server all run
the very same tests.

How an adapter plugs in: subclass :class:`CRMConformance` in a ``test_*.py`` module,
name the subclass ``Test...`` so pytest collects it, and provide the ``arranged``
fixture, returning an :class:`Arrangement` for the adapter under test::

    class TestHubSpotConformance(CRMConformance):
        @pytest.fixture
        def arranged(self, hubspot_fake: FakeHubSpot) -> Arrangement:
            return HubSpotArrangement(hubspot_fake)

        # optional: only the object types this adapter maps
        @pytest.fixture(params=["contact", "account"])
        def object_type(self, request: pytest.FixtureRequest) -> ObjectType:
            return request.param

A base class rather than plain functions, because pytest then collects every test
once per adapter module under the adapter's own class name, a fixture overrides by
name, and this module (not named ``test_*``, its class not named ``Test*``) is never
collected on its own. The base ``arranged`` fixture fails loudly, so a subclass that
forgets it cannot pass.

The arrangement is how test data gets *into* the CRM, which is the one thing adapters
cannot share: the embedded CRM inserts rows, an adapter's fake server is seeded over
its own back door. Everything the suite then asserts goes through ``arranged.crm``.

Every test runs once per object type (``object_type``, all three by default); tests of
owners do not depend on it. Record versions are opaque: the suite only compares them.

Where the port's docstrings are silent, the suite holds adapters to what the agent
relies on, and says so in the test's name:

- a merge keeps the notes of every merged record (on the survivor), and keeps the
  survivor's own values for every field the plan does not name;
- a refused write (``CRMValidationError``: unknown owner or field) writes none of its
  fields, like a stale one;
- a field set to ``None`` reads back empty; ``owner_id`` can be searched like a field;
- ``get``, ``search`` and ``iter_records`` never return a record of another type.

Not here, because it cannot be arranged the same way for every adapter: rate limits,
5xx, expired tokens and pagination caps. Each adapter tests those against its own
fake server, next to its conformance class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pytest

from agent.errors import CRMConflictError, CRMNotFoundError, CRMValidationError
from agent.models import FieldValue, ObjectType, Owner, Record
from agent.ports import CRMClient

OBJECT_TYPES: tuple[ObjectType, ...] = ("lead", "contact", "account")

KEY_FIELD: Mapping[ObjectType, str] = {"lead": "email", "contact": "email", "account": "domain"}
"""A field each record of a type gets a distinct value in, searched by in the suite."""

PHONE = "phone"
"""A field every object type has; the suite updates and clears it."""

OWNER_ID = "owner_id"


class Arrangement(Protocol):
    """Puts test data into the CRM behind an adapter, and hands out the adapter under test."""

    @property
    def crm(self) -> CRMClient:
        """The adapter under test."""
        ...

    def owner(self, owner_id: str, *, active: bool = True) -> Owner:
        """Create a user who can own records and return it as the adapter reads it.

        ``owner_id`` tells the suite's owners apart; a CRM that assigns its own ids may use
        another one, since the suite only ever uses the returned owner's ``id``.
        """
        ...

    def record(
        self, object_type: ObjectType, fields: Mapping[str, FieldValue], *, owner_id: str | None = None
    ) -> Record:
        """Create a record with these canonical fields and owner, and return it as the adapter reads it."""
        ...

    def change_behind_our_back(self, record: Record, fields: Mapping[str, FieldValue]) -> Record:
        """Another user edits the record in the CRM (not through revgate); returns it as it now reads."""
        ...

    def later(self, seconds: float) -> None:
        """Move the CRM's clock forward, so what is written next is stamped later."""
        ...

    def unknown_id(self, object_type: ObjectType) -> str:
        """An id of the CRM's own shape that no record of the type has (never had)."""
        ...

    def unknown_owner_id(self) -> str:
        """An id of the CRM's own shape that no user has."""
        ...


def sample(object_type: ObjectType, n: int, **overrides: FieldValue) -> dict[str, FieldValue]:
    """Plausible canonical fields for record number ``n`` of a type (distinct key field per ``n``)."""
    fields: dict[str, FieldValue]
    if object_type == "account":
        fields = {"name": f"Acme {n}", "domain": f"acme{n}.io", PHONE: f"+1415555{n:04d}"}
    else:
        fields = {
            "first_name": "Jane",
            "last_name": f"Doe{n}",
            "email": f"jane{n}@acme.io",
            PHONE: f"+1415555{n:04d}",
        }
        if object_type == "lead":
            fields["company"] = "Acme"
    fields.update(overrides)
    return fields


def other_kind(object_type: ObjectType) -> ObjectType:
    """A type no CRM stores in the same table as ``object_type`` (people vs companies)."""
    return "lead" if object_type == "account" else "account"


class CRMConformance:
    """The CRM port's contract as tests; subclass it per adapter and provide ``arranged``."""

    @pytest.fixture
    def arranged(self) -> Arrangement:
        raise NotImplementedError("the adapter's test class must provide the `arranged` fixture")

    @pytest.fixture(params=OBJECT_TYPES)
    def object_type(self, request: pytest.FixtureRequest) -> ObjectType:
        kind: ObjectType = request.param
        return kind

    # -- get / get_many ------------------------------------------------------------------

    def test_get_reads_a_record_as_created(self, arranged: Arrangement, object_type: ObjectType) -> None:
        owner = arranged.owner("CO1")
        created = arranged.record(object_type, sample(object_type, 1), owner_id=owner.id)

        got = arranged.crm.get(object_type, created.id)

        assert got is not None
        assert got == created
        assert got.object_type == object_type
        assert got.owner_id == owner.id
        assert {name: got.get(name) for name in sample(object_type, 1)} == sample(object_type, 1)
        assert got.version

    def test_get_of_a_missing_id_is_none(self, arranged: Arrangement, object_type: ObjectType) -> None:
        arranged.record(object_type, sample(object_type, 1))

        assert arranged.crm.get(object_type, arranged.unknown_id(object_type)) is None

    def test_get_does_not_find_a_record_of_another_type(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        elsewhere = arranged.record(other_kind(object_type), sample(other_kind(object_type), 1))

        assert arranged.crm.get(object_type, elsewhere.id) is None
        assert arranged.crm.get_many(object_type, [elsewhere.id]) == {}

    def test_get_many_returns_the_existing_records_by_id_and_omits_missing_ones(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        first = arranged.record(object_type, sample(object_type, 1))
        second = arranged.record(object_type, sample(object_type, 2))
        arranged.record(object_type, sample(object_type, 3))

        found = arranged.crm.get_many(
            object_type, [second.id, arranged.unknown_id(object_type), first.id, second.id]
        )

        assert found == {first.id: first, second.id: second}

    def test_get_many_of_no_ids_is_empty(self, arranged: Arrangement, object_type: ObjectType) -> None:
        arranged.record(object_type, sample(object_type, 1))

        assert arranged.crm.get_many(object_type, []) == {}

    # -- iter_records --------------------------------------------------------------------

    def test_iter_records_yields_every_record_of_the_type_once_whatever_the_batch_size(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        created = {arranged.record(object_type, sample(object_type, n)).id for n in range(1, 8)}
        arranged.record(other_kind(object_type), sample(other_kind(object_type), 1))

        orders = {
            size: [r.id for r in arranged.crm.iter_records(object_type, batch_size=size)]
            for size in (1, 2, 3, 7, 1000)
        }

        for size, ids in orders.items():
            assert len(ids) == len(created), f"batch_size={size}"
            assert set(ids) == created, f"batch_size={size}"

    def test_iter_records_yields_records_by_id_in_one_order_across_runs_and_batch_sizes(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        for n in range(1, 8):
            arranged.record(object_type, sample(object_type, n))

        first = [r.id for r in arranged.crm.iter_records(object_type)]
        runs = [[r.id for r in arranged.crm.iter_records(object_type, batch_size=s)] for s in (1, 3, 7, 1000)]

        assert all(run == first for run in runs)
        # "By id": in string order, or in number order where the CRM's ids are numbers.
        assert first in (sorted(first), sorted(first, key=lambda i: (len(i), i)))

    def test_iter_records_yields_records_as_get_reads_them(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        owner = arranged.owner("CO1")
        created = [arranged.record(object_type, sample(object_type, n), owner_id=owner.id) for n in (1, 2)]
        arranged.crm.update(
            object_type,
            created[0].id,
            {PHONE: "+14155550999"},
            expected_version=created[0].version,
            idempotency_key="iter-update",
        )

        listed = {r.id: r for r in arranged.crm.iter_records(object_type, batch_size=1)}

        assert listed == {r.id: arranged.crm.get(object_type, r.id) for r in created}

    def test_iter_records_changed_since_includes_the_boundary_and_new_records_but_not_earlier_changes(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        old = [arranged.record(object_type, sample(object_type, n)) for n in (1, 2, 3)]
        arranged.later(3600)
        at_cursor = arranged.crm.update(
            object_type,
            old[1].id,
            {PHONE: "+14155550111"},
            expected_version=old[1].version,
            idempotency_key="since-1",
        )
        arranged.later(3600)
        after_cursor = arranged.change_behind_our_back(old[2], {PHONE: "+14155550222"})
        created_after = arranged.record(object_type, sample(object_type, 4))

        changed = arranged.crm.iter_records(object_type, changed_since=at_cursor.updated_at, batch_size=1)

        assert sorted(r.id for r in changed) == sorted([at_cursor.id, after_cursor.id, created_after.id])
        later_only = arranged.crm.iter_records(object_type, changed_since=after_cursor.updated_at)
        assert sorted(r.id for r in later_only) == sorted([after_cursor.id, created_after.id])

    def test_iter_records_of_a_type_with_no_records_yields_nothing(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        arranged.record(other_kind(object_type), sample(other_kind(object_type), 1))

        assert list(arranged.crm.iter_records(object_type)) == []

    # -- search --------------------------------------------------------------------------

    def test_search_returns_every_record_whose_field_equals_the_value_and_only_those(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        key = KEY_FIELD[object_type]
        shared = sample(object_type, 1)[key]
        twins = {arranged.record(object_type, sample(object_type, n, **{key: shared})).id for n in (1, 2)}
        arranged.record(object_type, sample(object_type, 3))
        arranged.record(other_kind(object_type), sample(other_kind(object_type), 1))

        found = arranged.crm.search(object_type, key, shared)

        assert sorted(r.id for r in found) == sorted(twins)
        assert all(r == arranged.crm.get(object_type, r.id) for r in found)

    def test_search_with_no_match_is_empty(self, arranged: Arrangement, object_type: ObjectType) -> None:
        key = KEY_FIELD[object_type]
        arranged.record(object_type, sample(object_type, 1))

        assert arranged.crm.search(object_type, key, sample(object_type, 99)[key]) == []

    def test_search_by_another_field_and_by_owner(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        ada, bob = arranged.owner("CO1"), arranged.owner("CO2")
        first = arranged.record(object_type, sample(object_type, 1), owner_id=ada.id)
        second = arranged.record(object_type, sample(object_type, 2), owner_id=bob.id)
        elsewhere = other_kind(object_type)
        arranged.record(elsewhere, sample(elsewhere, 2), owner_id=ada.id)

        assert [r.id for r in arranged.crm.search(object_type, PHONE, sample(object_type, 2)[PHONE])] == [
            second.id
        ]
        assert [r.id for r in arranged.crm.search(object_type, OWNER_ID, ada.id)] == [first.id]

    def test_search_reflects_an_update(self, arranged: Arrangement, object_type: ObjectType) -> None:
        key = KEY_FIELD[object_type]
        record = arranged.record(object_type, sample(object_type, 1))
        new_value = sample(object_type, 2)[key]

        arranged.crm.update(
            object_type, record.id, {key: new_value}, expected_version=record.version, idempotency_key="s-1"
        )

        assert arranged.crm.search(object_type, key, sample(object_type, 1)[key]) == []
        assert [r.id for r in arranged.crm.search(object_type, key, new_value)] == [record.id]

    # -- update --------------------------------------------------------------------------

    def test_update_sets_the_fields_keeps_the_others_and_returns_the_record_as_written(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        record = arranged.record(object_type, sample(object_type, 1))

        written = arranged.crm.update(
            object_type,
            record.id,
            {PHONE: "+14155550100"},
            expected_version=record.version,
            idempotency_key="u-1",
        )

        assert written == arranged.crm.get(object_type, record.id)
        assert written.get(PHONE) == "+14155550100"
        others = {k: v for k, v in sample(object_type, 1).items() if k != PHONE}
        assert {name: written.get(name) for name in others} == others
        assert written.version != record.version

    def test_the_version_changes_on_every_write(self, arranged: Arrangement, object_type: ObjectType) -> None:
        record = arranged.record(object_type, sample(object_type, 1))
        versions = [record.version]

        for n in range(3):
            record = arranged.crm.update(
                object_type,
                record.id,
                {PHONE: f"+1415555020{n}"},
                expected_version=record.version,
                idempotency_key=f"v-{n}",
            )
            versions.append(record.version)

        assert len(set(versions)) == 4
        current = arranged.crm.get(object_type, record.id)
        assert current is not None
        assert current.version == versions[-1]

    def test_update_with_a_stale_version_raises_conflict_and_writes_nothing(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        planned = arranged.record(object_type, sample(object_type, 1))
        arranged.later(60)
        current = arranged.change_behind_our_back(planned, {PHONE: "+14155550300"})

        with pytest.raises(CRMConflictError) as raised:
            arranged.crm.update(
                object_type,
                planned.id,
                {PHONE: "+14155550301"},
                expected_version=planned.version,
                idempotency_key="stale-1",
            )

        assert raised.value.record_id == planned.id
        assert raised.value.expected == planned.version
        assert arranged.crm.get(object_type, planned.id) == current

    def test_a_replayed_update_writes_nothing_and_returns_the_record_as_it_is_now(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        record = arranged.record(object_type, sample(object_type, 1))
        first = arranged.crm.update(
            object_type,
            record.id,
            {PHONE: "+14155550400"},
            expected_version=record.version,
            idempotency_key="replay-1",
        )
        arranged.later(60)
        other = arranged.change_behind_our_back(first, {PHONE: "+14155550401"})

        replay = arranged.crm.update(
            object_type,
            record.id,
            {PHONE: "+14155550400"},
            expected_version=record.version,
            idempotency_key="replay-1",
        )

        assert replay == other
        assert arranged.crm.get(object_type, record.id) == other

    def test_update_sets_changes_and_clears_the_owner(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        ada, bob = arranged.owner("CO1"), arranged.owner("CO2")
        record = arranged.record(object_type, sample(object_type, 1), owner_id=ada.id)

        moved = arranged.crm.update(
            object_type,
            record.id,
            {OWNER_ID: bob.id},
            expected_version=record.version,
            idempotency_key="own-1",
        )
        cleared = arranged.crm.update(
            object_type, record.id, {OWNER_ID: None}, expected_version=moved.version, idempotency_key="own-2"
        )

        assert moved.owner_id == bob.id
        assert cleared.owner_id is None
        assert arranged.crm.get(object_type, record.id) == cleared

    def test_a_field_set_to_none_reads_back_empty(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        record = arranged.record(object_type, sample(object_type, 1))

        written = arranged.crm.update(
            object_type, record.id, {PHONE: None}, expected_version=record.version, idempotency_key="clr-1"
        )

        assert written.get(PHONE) is None
        reread = arranged.crm.get(object_type, record.id)
        assert reread is not None
        assert reread.get(PHONE) is None

    def test_update_of_a_missing_record_raises_not_found(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        elsewhere = arranged.record(other_kind(object_type), sample(other_kind(object_type), 1))

        for record_id in (arranged.unknown_id(object_type), elsewhere.id):
            with pytest.raises(CRMNotFoundError):
                arranged.crm.update(
                    object_type,
                    record_id,
                    {PHONE: "+1"},
                    expected_version=elsewhere.version,
                    idempotency_key=f"nf-{record_id}",
                )
        assert arranged.crm.get(other_kind(object_type), elsewhere.id) == elsewhere

    def test_an_update_the_crm_refuses_writes_none_of_its_fields(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        record = arranged.record(object_type, sample(object_type, 1))

        with pytest.raises(CRMValidationError):
            arranged.crm.update(
                object_type,
                record.id,
                {PHONE: "+14155550500", OWNER_ID: arranged.unknown_owner_id()},
                expected_version=record.version,
                idempotency_key="bad-owner",
            )
        with pytest.raises(CRMValidationError):
            arranged.crm.update(
                object_type,
                record.id,
                {PHONE: "+14155550501", "no_such_field_xyz": "x"},
                expected_version=record.version,
                idempotency_key="bad-field",
            )

        assert arranged.crm.get(object_type, record.id) == record

    # -- merge ---------------------------------------------------------------------------

    def _duplicates(self, arranged: Arrangement, object_type: ObjectType) -> list[Record]:
        key = KEY_FIELD[object_type]
        shared = sample(object_type, 1)[key]
        return [arranged.record(object_type, sample(object_type, n, **{key: shared})) for n in (1, 2, 3)]

    def test_merge_keeps_the_survivor_with_its_values_and_the_plan_and_removes_the_others(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        survivor, *others = self._duplicates(arranged, object_type)
        key = KEY_FIELD[object_type]
        unplanned = {k: v for k, v in survivor.fields.items() if k != PHONE}

        merged = arranged.crm.merge(
            object_type,
            survivor.id,
            [r.id for r in others],
            {PHONE: "+14155550600"},
            expected_versions={r.id: r.version for r in (survivor, *others)},
            idempotency_key="m-1",
        )

        assert merged == arranged.crm.get(object_type, merged.id)
        assert merged.get(PHONE) == "+14155550600"
        assert {name: merged.get(name) for name in unplanned} == unplanned
        assert merged.version != survivor.version
        gone = [r.id for r in others]
        assert all(arranged.crm.get(object_type, rid) is None for rid in gone)
        assert arranged.crm.get_many(object_type, gone) == {}
        assert [r.id for r in arranged.crm.iter_records(object_type)] == [merged.id]
        assert [r.id for r in arranged.crm.search(object_type, key, survivor.fields[key])] == [merged.id]

    def test_merge_keeps_the_notes_of_every_merged_record_on_the_survivor(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        survivor, other = self._duplicates(arranged, object_type)[:2]
        arranged.crm.add_note(object_type, survivor.id, "on the survivor", idempotency_key="n-s")
        arranged.later(60)
        arranged.crm.add_note(object_type, other.id, "on the duplicate", idempotency_key="n-o")

        merged = arranged.crm.merge(
            object_type,
            survivor.id,
            [other.id],
            {},
            expected_versions={survivor.id: survivor.version, other.id: other.version},
            idempotency_key="m-1",
        )

        bodies = sorted(n.body for n in arranged.crm.notes(object_type, merged.id))
        assert bodies == ["on the duplicate", "on the survivor"]

    def test_a_replayed_merge_writes_nothing_and_returns_the_survivor(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        survivor, other = self._duplicates(arranged, object_type)[:2]
        versions = {survivor.id: survivor.version, other.id: other.version}
        first = arranged.crm.merge(
            object_type,
            survivor.id,
            [other.id],
            {PHONE: "+14155550700"},
            expected_versions=versions,
            idempotency_key="m-1",
        )

        replay = arranged.crm.merge(
            object_type,
            survivor.id,
            [other.id],
            {PHONE: "+14155550700"},
            expected_versions=versions,
            idempotency_key="m-1",
        )

        assert replay == first
        assert arranged.crm.get(object_type, first.id) == first

    @pytest.mark.parametrize("changed", ["survivor", "duplicate"])
    def test_merge_of_a_record_changed_in_between_raises_conflict_and_writes_nothing(
        self, arranged: Arrangement, object_type: ObjectType, changed: str
    ) -> None:
        survivor, other = self._duplicates(arranged, object_type)[:2]
        arranged.crm.add_note(object_type, other.id, "on the duplicate", idempotency_key="n-o")
        arranged.later(60)
        moved = arranged.change_behind_our_back(
            survivor if changed == "survivor" else other, {PHONE: "+14155550800"}
        )
        before = arranged.crm.get_many(object_type, [survivor.id, other.id])

        with pytest.raises(CRMConflictError) as raised:
            arranged.crm.merge(
                object_type,
                survivor.id,
                [other.id],
                {PHONE: "+14155550801"},
                expected_versions={survivor.id: survivor.version, other.id: other.version},
                idempotency_key="m-1",
            )

        assert raised.value.record_id == moved.id
        assert raised.value.expected == (survivor if changed == "survivor" else other).version
        assert arranged.crm.get_many(object_type, [survivor.id, other.id]) == before
        assert [n.body for n in arranged.crm.notes(object_type, other.id)] == ["on the duplicate"]
        assert arranged.crm.notes(object_type, survivor.id) == []

    def test_merge_of_a_missing_record_raises_not_found_and_writes_nothing(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        survivor, other = self._duplicates(arranged, object_type)[:2]
        missing = arranged.unknown_id(object_type)

        with pytest.raises(CRMNotFoundError):
            arranged.crm.merge(
                object_type,
                survivor.id,
                [other.id, missing],
                {PHONE: "+14155550900"},
                expected_versions={survivor.id: survivor.version, other.id: other.version, missing: "1"},
                idempotency_key="m-1",
            )

        assert arranged.crm.get_many(object_type, [survivor.id, other.id]) == {
            survivor.id: survivor,
            other.id: other,
        }

    def test_a_merge_the_crm_refuses_writes_nothing(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        survivor, other = self._duplicates(arranged, object_type)[:2]

        with pytest.raises(CRMValidationError):
            arranged.crm.merge(
                object_type,
                survivor.id,
                [other.id],
                {PHONE: "+14155550950", OWNER_ID: arranged.unknown_owner_id()},
                expected_versions={survivor.id: survivor.version, other.id: other.version},
                idempotency_key="m-1",
            )

        assert arranged.crm.get_many(object_type, [survivor.id, other.id]) == {
            survivor.id: survivor,
            other.id: other,
        }

    def test_a_merged_away_record_cannot_be_written(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        survivor, other = self._duplicates(arranged, object_type)[:2]
        arranged.crm.merge(
            object_type,
            survivor.id,
            [other.id],
            {},
            expected_versions={survivor.id: survivor.version, other.id: other.version},
            idempotency_key="m-1",
        )

        with pytest.raises(CRMNotFoundError):
            arranged.crm.update(
                object_type, other.id, {PHONE: "+1"}, expected_version=other.version, idempotency_key="u-1"
            )

    # -- delete --------------------------------------------------------------------------

    def test_a_deleted_record_is_gone_from_every_read(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        key = KEY_FIELD[object_type]
        doomed = arranged.record(object_type, sample(object_type, 1))
        kept = arranged.record(object_type, sample(object_type, 2))

        arranged.crm.delete(object_type, doomed.id, expected_version=doomed.version, idempotency_key="d-1")

        assert arranged.crm.get(object_type, doomed.id) is None
        assert arranged.crm.get_many(object_type, [doomed.id, kept.id]) == {kept.id: kept}
        assert [r.id for r in arranged.crm.iter_records(object_type)] == [kept.id]
        assert arranged.crm.search(object_type, key, doomed.fields[key]) == []
        with pytest.raises(CRMNotFoundError):
            arranged.crm.update(
                object_type, doomed.id, {PHONE: "+1"}, expected_version=doomed.version, idempotency_key="u-1"
            )

    def test_a_replayed_delete_is_a_no_op(self, arranged: Arrangement, object_type: ObjectType) -> None:
        doomed = arranged.record(object_type, sample(object_type, 1))
        arranged.crm.delete(object_type, doomed.id, expected_version=doomed.version, idempotency_key="d-1")

        arranged.crm.delete(object_type, doomed.id, expected_version=doomed.version, idempotency_key="d-1")

        assert arranged.crm.get(object_type, doomed.id) is None

    def test_delete_with_a_stale_version_raises_conflict_and_keeps_the_record(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        planned = arranged.record(object_type, sample(object_type, 1))
        arranged.later(60)
        current = arranged.change_behind_our_back(planned, {PHONE: "+14155551000"})

        with pytest.raises(CRMConflictError):
            arranged.crm.delete(
                object_type, planned.id, expected_version=planned.version, idempotency_key="d-1"
            )

        assert arranged.crm.get(object_type, planned.id) == current

    def test_delete_of_a_missing_record_raises_not_found(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        arranged.record(object_type, sample(object_type, 1))

        with pytest.raises(CRMNotFoundError):
            arranged.crm.delete(
                object_type, arranged.unknown_id(object_type), expected_version="1", idempotency_key="d-1"
            )

    # -- notes ---------------------------------------------------------------------------

    def test_add_note_attaches_a_note_that_notes_lists(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        record = arranged.record(object_type, sample(object_type, 1))
        bystander = arranged.record(object_type, sample(object_type, 2))

        note = arranged.crm.add_note(
            object_type, record.id, "Called, left a voicemail.", idempotency_key="n-1"
        )

        assert (note.object_type, note.record_id, note.body) == (
            object_type,
            record.id,
            "Called, left a voicemail.",
        )
        assert note.id
        assert arranged.crm.notes(object_type, record.id) == [note]
        assert arranged.crm.notes(object_type, bystander.id) == []

    def test_the_same_idempotency_key_twice_adds_one_note(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        record = arranged.record(object_type, sample(object_type, 1))

        first = arranged.crm.add_note(object_type, record.id, "Met at the expo.", idempotency_key="n-1")
        again = arranged.crm.add_note(object_type, record.id, "Met at the expo.", idempotency_key="n-1")

        assert again == first
        assert arranged.crm.notes(object_type, record.id) == [first]

    def test_notes_come_oldest_first(self, arranged: Arrangement, object_type: ObjectType) -> None:
        record = arranged.record(object_type, sample(object_type, 1))
        bodies = ["first", "second", "third"]
        for n, body in enumerate(bodies):
            arranged.crm.add_note(object_type, record.id, body, idempotency_key=f"n-{n}")
            arranged.later(60)

        notes = arranged.crm.notes(object_type, record.id)

        assert [n.body for n in notes] == bodies
        assert [n.created_at for n in notes] == sorted(n.created_at for n in notes)
        assert len({n.id for n in notes}) == 3

    def test_a_note_on_a_missing_record_raises_not_found(
        self, arranged: Arrangement, object_type: ObjectType
    ) -> None:
        arranged.record(object_type, sample(object_type, 1))

        with pytest.raises(CRMNotFoundError):
            arranged.crm.add_note(
                object_type, arranged.unknown_id(object_type), "lost", idempotency_key="n-1"
            )

    # -- owners --------------------------------------------------------------------------

    def test_owners_lists_active_and_inactive_owners_with_the_inactive_flagged(
        self, arranged: Arrangement
    ) -> None:
        ada = arranged.owner("CO1")
        gone = arranged.owner("CO2", active=False)

        listed = {o.id: o for o in arranged.crm.owners()}

        assert listed[ada.id] == ada
        assert listed[gone.id] == gone
        assert (listed[ada.id].active, listed[gone.id].active) == (True, False)

    def test_get_owner_reads_one_owner_active_or_not_and_none_when_unknown(
        self, arranged: Arrangement
    ) -> None:
        ada = arranged.owner("CO1")
        gone = arranged.owner("CO2", active=False)

        assert arranged.crm.get_owner(ada.id) == ada
        assert arranged.crm.get_owner(gone.id) == gone
        assert arranged.crm.get_owner(arranged.unknown_owner_id()) is None
