"""Merging HubSpot records: a chain of two-record merges, resumable, then the field plan.

HubSpot's ``POST /crm/v3/objects/{contacts|companies}/merge`` takes two ids
(``primaryObjectId``, ``objectIdToMerge``) and creates a *new* record with a new id;
both old ids then redirect to it (a GET of either answers the new record). The
primary's values win where it has one; where it has none, the other record's value
is copied over. So merging a survivor with ``n`` others takes ``n`` merges in a row,
each into the record the previous one produced, and then one PATCH.

The PATCH sets the field plan and clears every mapped field (and the owner) the
survivor had empty and the plan does not name: HubSpot copied those from the
duplicates, and the port promises the survivor keeps its own values. (A field the
survivor had set is never touched by the merge: the primary wins.)

Nothing is written until every record was read and matched its expected version
and the plan's owner was checked, so a conflict, a missing record or a refused plan
writes nothing. Once the first merge went through, the merge cannot be undone: a
failure after it (a 5xx, a crash) leaves the ledger entry ``started`` and the next
call with the same key *resumes*: it follows the survivor's id to the record the
chain has produced so far, merges the ids that do not redirect to it yet, and
applies whatever of the plan is not applied. A resumed merge does not re-check the
versions (they were checked before the chain began) and sets the plan only: it does
not know which fields the survivor had empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from agent.crm.hubspot_mapping import PROPERTIES, READ_ONLY, check_writable, hubspot_type, to_properties
from agent.crm.hubspot_transport import HubSpotTransport
from agent.crm.ledger import WriteLedger
from agent.errors import CRMConflictError, CRMError, CRMNotFoundError
from agent.models import OWNER_FIELD, FieldValue, ObjectType, Record

if TYPE_CHECKING:
    from agent.crm.hubspot import HubSpotCRM


class HubSpotMerge:
    """The merge of :class:`~agent.crm.hubspot.HubSpotCRM` (see the module docstring)."""

    def __init__(self, crm: HubSpotCRM, transport: HubSpotTransport, ledger: WriteLedger) -> None:
        self._crm = crm
        self._transport = transport
        self._ledger = ledger

    def run(
        self,
        object_type: ObjectType,
        survivor_id: str,
        merged_ids: Sequence[str],
        field_plan: Mapping[str, FieldValue],
        *,
        expected_versions: Mapping[str, str],
        idempotency_key: str,
    ) -> Record:
        """Merge ``merged_ids`` into ``survivor_id``, set ``field_plan``; the merged record (a new id)."""
        others = list(merged_ids)
        every = [survivor_id, *others]
        if not others or len(set(every)) != len(every):
            raise ValueError("merge needs at least one other record, each named once, survivor excluded")
        unversioned = [rid for rid in every if rid not in expected_versions]
        if unversioned:
            raise ValueError(f"merge needs an expected version for {', '.join(unversioned)}")
        check_writable(object_type, field_plan)
        key = idempotency_key
        entry = self._ledger.claim(key, "merge", survivor_id)
        if entry is not None and entry.done:
            return self._crm.existing(object_type, entry.result_ref or survivor_id)
        current, pending, merged_any = survivor_id, others, False
        try:
            if entry is not None:
                current, pending = self._resume(object_type, survivor_id, others)
            merged_any = (current, pending) != (survivor_id, others)
            wanted = dict(field_plan)
            if not merged_any:  # a fresh merge, or one whose first request never went through
                survivor = self._check(object_type, every, expected_versions)
                self._crm.check_owner(field_plan)
                wanted = {**_emptied(object_type, survivor, field_plan), **field_plan}
        except CRMError:
            if not merged_any:
                self._ledger.release(key)
            raise
        source = hubspot_type(object_type)
        for other in pending:
            current = self._step(key, source, current, other, first=not merged_any)
            merged_any = True
        merged = self._crm.existing(object_type, current)
        changes = {name: value for name, value in wanted.items() if merged.get(name) != value}
        if changes:
            properties = to_properties(object_type, changes)
            self._transport.update(source, current, properties)  # a failure keeps the key started
            merged = self._crm.existing(object_type, current)
        self._ledger.finish(key, current)
        return merged

    def _check(self, object_type: ObjectType, ids: list[str], expected: Mapping[str, str]) -> Record:
        """Every record exists and is at its expected version; the survivor (``ids[0]``)."""
        found = self._crm.get_many(object_type, ids)  # one batch read (merged-away ids are left out)
        for rid in ids:
            record = found.get(rid)
            if record is None:
                raise CRMNotFoundError(f"no {object_type} {rid} in HubSpot")
            if record.version != expected[rid]:
                raise CRMConflictError(rid, expected[rid], record.version)
        return found[ids[0]]

    def _resume(self, object_type: ObjectType, survivor_id: str, others: list[str]) -> tuple[str, list[str]]:
        """Where an unfinished chain got to: the record it produced so far, and the ids still to merge."""
        source = hubspot_type(object_type)
        names = list(PROPERTIES[object_type].values())
        head = self._transport.get(source, survivor_id, names)
        if head is None:
            raise CRMNotFoundError(f"{object_type} {survivor_id} of an unfinished merge is gone from HubSpot")
        pending: list[str] = []
        for other in others:
            found = self._transport.get(source, other, names)
            if found is None:
                raise CRMNotFoundError(f"{object_type} {other} of an unfinished merge is gone from HubSpot")
            if found.id == other:
                pending.append(other)
            elif found.id != head.id:
                raise CRMConflictError(other, f"merged into {head.id}", f"merged into {found.id}")
        return head.id, pending

    def _step(self, key: str, source: str, primary: str, other: str, *, first: bool) -> str:
        """One two-record merge; the id of the record it made, recorded as the chain's progress."""
        if first:  # a refusal frees the key: nothing was written
            made = self._crm.send_write(key, lambda: self._transport.merge(source, primary, other))
        else:  # a refusal keeps it started: the earlier merges stand, a retry resumes
            made = self._transport.merge(source, primary, other)
        self._ledger.progress(key, made.id)
        return made.id


def _emptied(
    object_type: ObjectType, survivor: Record, plan: Mapping[str, FieldValue]
) -> dict[str, FieldValue]:
    """``None`` for each writable field (and the owner) the survivor has empty and the plan leaves alone."""
    names = [*PROPERTIES[object_type], OWNER_FIELD]
    return {
        name: None
        for name in names
        if name not in plan and name not in READ_ONLY and survivor.get(name) is None
    }
