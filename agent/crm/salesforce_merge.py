"""Merging Salesforce records through the SOAP ``merge`` call, chained two records at a time.

The ledger entry of a merge records, while ``started``, how many of the merged ids are done
(``result_ref`` = a count into ``merged_ids``), so a retry with the same key continues the
chain. A retry after an attempt whose outcome nobody saw counts a merged record that is now
gone as merged (the call that merged it was applied), checks the versions of those still
there, and merges the rest; the plan travels with the last call, or is re-applied with a
PATCH when nothing is left to merge and the survivor does not hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from simple_salesforce.api import Salesforce

from agent.crm.ledger import WriteLedger
from agent.crm.salesforce_client import PreconditionFailed, SalesforceConnection
from agent.crm.salesforce_fields import READ_ONLY, SOBJECTS, is_id_of
from agent.crm.salesforce_soap import MAX_MERGED_PER_CALL, MergeResult, merge_envelope, parse_merge_result
from agent.errors import (
    CRMConflictError,
    CRMError,
    CRMNotFoundError,
    CRMUnavailableError,
    CRMValidationError,
)
from agent.models import FieldValue, ObjectType, Record

if TYPE_CHECKING:
    from agent.crm.salesforce import SalesforceCRM


class MergeChain:
    """The merge of :class:`~agent.crm.salesforce.SalesforceCRM`."""

    def __init__(self, crm: SalesforceCRM, connection: SalesforceConnection, ledger: WriteLedger) -> None:
        self._crm = crm
        self._connection = connection
        self._ledger = ledger

    def merge(
        self,
        object_type: ObjectType,
        survivor_id: str,
        losers: list[str],
        field_plan: Mapping[str, FieldValue],
        *,
        expected_versions: Mapping[str, str],
        key: str,
    ) -> Record:
        every = [survivor_id, *losers]
        if not losers or len(set(every)) != len(every):
            raise ValueError("merge needs at least one other record, each named once, survivor excluded")
        missing = [rid for rid in every if rid not in expected_versions]
        if missing:
            raise ValueError(f"merge needs an expected version for {', '.join(missing)}")
        plan = self._crm.payload(object_type, field_plan)
        prefix = SOBJECTS[object_type].prefix
        unknown = [rid for rid in every if not is_id_of(prefix, rid)]
        if unknown:
            raise CRMNotFoundError(f"no {SOBJECTS[object_type].name} {', '.join(unknown)}")

        entry = self._ledger.claim(key, "merge", survivor_id)
        if entry is not None and entry.done:
            return self._survivor(object_type, survivor_id)
        done = int(entry.result_ref) if entry is not None and entry.result_ref else 0
        applied = done > 0
        try:
            records = self._crm.get_many(object_type, every)
            survivor = records.get(survivor_id)
            if survivor is None:
                raise CRMNotFoundError(f"no {object_type} {survivor_id} to merge into")
            gone = [rid for rid in losers[done:] if rid not in records]
            if gone and entry is None:
                raise CRMNotFoundError(f"no {object_type} {', '.join(gone)} to merge")
            applied = applied or bool(gone)
            pending = [rid for rid in losers[done:] if rid in records]
            # Our own earlier calls changed the survivor; the others' versions still hold.
            for rid in pending if applied else every:
                if records[rid].version != expected_versions[rid]:
                    raise CRMConflictError(rid, expected_versions[rid], records[rid].version)
            owner = plan.get("OwnerId")
            if owner is not None and not self._crm.active_user(str(owner)):
                raise CRMValidationError(f"{owner} is not an active Salesforce user")
            self._connection.check_headroom()
        except CRMError:
            if not applied:
                self._ledger.release(key)
            raise

        if pending:
            self._chain(object_type, survivor, losers, pending, plan, key=key, applied=applied)
        elif any(survivor.get(name) != value for name, value in field_plan.items()):
            # Everything was merged by an attempt whose last answer was lost before the plan held.
            try:
                self._crm.patch(object_type, survivor_id, plan, unmodified_since=survivor.updated_at)
            except PreconditionFailed:
                now = self._crm.get(object_type, survivor_id)
                raise CRMConflictError(
                    survivor_id, expected_versions[survivor_id], None if now is None else now.version
                ) from None
        self._ledger.finish(key, survivor_id)
        return self._survivor(object_type, survivor_id)

    def _chain(
        self,
        object_type: ObjectType,
        survivor: Record,
        losers: list[str],
        pending: list[str],
        plan: Mapping[str, Any],
        *,
        key: str,
        applied: bool,
    ) -> None:
        sobject = SOBJECTS[object_type]
        # Keep the survivor's empty fields empty, whatever a merge rule would fill them with.
        final: dict[str, Any] = {
            field: None
            for name, field in sobject.fields.items()
            if field not in READ_ONLY and survivor.get(name) is None
        }
        final.update(plan)
        batches = [pending[i : i + MAX_MERGED_PER_CALL] for i in range(0, len(pending), MAX_MERGED_PER_CALL)]
        for n, batch in enumerate(batches):
            values = final if n == len(batches) - 1 else {}
            with self._ledger.sending(key, releasable=not applied):
                result = self._connection.write(self._call(sobject.name, survivor.id, batch, values))
                if not result.success:
                    raise _refused(result)
            applied = True
            self._ledger.progress(key, str(losers.index(batch[-1]) + 1))

    def _call(
        self, sobject: str, master_id: str, batch: list[str], values: Mapping[str, Any]
    ) -> Callable[[Salesforce], MergeResult]:
        """One merge request, as the connection sends it (again after a renewed session)."""

        def send(sf: Salesforce) -> MergeResult:
            return _merged(
                self._connection.soap(
                    sf, lambda session_id: merge_envelope(session_id, sobject, master_id, batch, values)
                )
            )

        return send

    def _survivor(self, object_type: ObjectType, survivor_id: str) -> Record:
        record = self._crm.get(object_type, survivor_id)
        if record is None:
            raise CRMNotFoundError(f"the merge survivor {survivor_id} is gone")
        return record


def _merged(content: bytes) -> MergeResult:
    try:
        return parse_merge_result(content)
    except ValueError as exc:
        raise CRMUnavailableError(
            f"Salesforce's merge answer could not be read ({exc}); it may have run"
        ) from exc


def _refused(result: MergeResult) -> CRMError:
    detail = "; ".join(f"{e.status_code}: {e.message}" for e in result.errors) or "no reason given"
    if any(e.status_code in ("ENTITY_IS_DELETED", "INVALID_ID_FIELD") for e in result.errors):
        return CRMNotFoundError(f"Salesforce refused the merge: {detail}")
    return CRMValidationError(f"Salesforce refused the merge: {detail}")
