"""The offline planner: deterministic hygiene rules, no network, no model.

It proposes; the policy decides. It happily proposes a ``delete`` for a junk lead
even though the shipped policies forbid deletes: refusing is the policy's job.

Conflict rules, because the executor compare-and-sets on record versions:

- a record in a ``merge`` or ``delete`` proposal gets no other proposal in the plan;
- a junk lead is only ever proposed for ``delete`` (never merged or normalised);
- otherwise a record may get several proposals only when they change disjoint fields,
  which holds by construction: ``normalize_field`` touches email, phone and names,
  ``assign_owner`` owner_id, ``update_lead_status`` status, ``enrich_data`` from the
  lead's account only fills company and a blank industry, ``add_note`` no field.

Chunked runs (see :class:`~agent.planner.base.SnapshotReader`): the fuzzy duplicate
check runs first, on batches of likely duplicates, and each chunk is then planned
with every other check, leaving the records of those merges alone (``snapshot.reserved``).

A planner built with ``checks`` proposes only what those checks find (the
scheduled enrichment run uses :data:`ENRICHMENT_CHECKS`). The conflict rules
still see every record: a junk lead or a merge candidate is reserved for its
delete or merge even when that check is left out, so a restricted run never
touches a record the full run would remove. The ``job_title`` check (the title
keyword table, ``enrich_data``) is only ever run when named: the Claude planner
adds it to the unrestricted plan itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime

from agent.enrich import OfflineProvider, RecordNormaliser
from agent.enrich.reference import load_reference_lists
from agent.models import ProposedAction
from agent.planner import checks, field_checks, match_checks, owner_checks, quality_checks
from agent.planner.account_matching import ACCOUNT_MATCH_CHECK, AccountDirectory, lead_account_matches
from agent.planner.base import CRMSnapshot, snapshot_from
from agent.planner.batch_pool import BatchPool, PoolStats
from agent.planner.match_checks import FUZZY_CHECK
from agent.planner.record_checks import shared_email_ids
from agent.planner.titles import TITLE_CHECK, title_enrichments

__all__ = ["ENRICHMENT_CHECKS", "KNOWN_CHECKS", "CRMSnapshot", "OfflinePlanner", "snapshot_from"]

KNOWN_CHECKS: frozenset[str] = frozenset({*checks.CHECK_ORDER, TITLE_CHECK})
"""Every check name ``OfflinePlanner(checks=...)`` accepts."""
ENRICHMENT_CHECKS: frozenset[str] = frozenset({"normalize_fields", ACCOUNT_MATCH_CHECK, TITLE_CHECK})
"""Formats, the company from the lead's account, and the title keyword table: changes that
fill in or tidy data, never move or remove it."""

PARALLEL_FROM = 10_000
"""People in the first two batches of likely duplicates from which workers are worth starting."""


class OfflinePlanner:
    """Rule-based planner; same snapshot and same ids in, same actions out."""

    name = "offline"

    def __init__(
        self,
        *,
        new_id: Callable[[], str],
        now: Callable[[], datetime],
        high_value_field: str = "annual_revenue",
        high_value_min: float = 1_000_000,
        stale_after_days: int = 90,
        checks: frozenset[str] | None = None,
        workers: int = 0,
        parallel_from: int = PARALLEL_FROM,
    ) -> None:
        """``checks``: propose only what these checks find (``None``: every check but ``job_title``).
        ``workers``: processes matching batches of likely duplicates besides the run's own (0: none),
        started when the first two batches hold ``parallel_from`` people or more."""
        if checks is not None and (unknown := checks - KNOWN_CHECKS):
            raise ValueError(f"unknown checks: {', '.join(sorted(unknown))}")
        self._new_id = new_id
        self._now = now
        self.high_value_field = high_value_field
        self.high_value_min = high_value_min
        self.stale_after_days = stale_after_days
        self.checks = checks
        self.workers = workers
        self.parallel_from = parallel_from
        self.pool_stats = PoolStats()

    def restricted_to(self, checks: frozenset[str]) -> OfflinePlanner:
        """The same planner (ids, clock, thresholds) proposing only what ``checks`` find."""
        return OfflinePlanner(
            new_id=self._new_id,
            now=self._now,
            high_value_field=self.high_value_field,
            high_value_min=self.high_value_min,
            stale_after_days=self.stale_after_days,
            checks=checks,
            workers=self.workers,
            parallel_from=self.parallel_from,
        )

    def plan(self, snapshot: CRMSnapshot) -> list[ProposedAction]:
        """Every proposal for the snapshot, sorted by check (see ``checks.CHECK_ORDER``) then record id.

        Ids are drawn from ``new_id`` in that order (title enrichments, when asked
        for, last), so the output is fully determined by the snapshot, the checks
        and the id sequence. A snapshot of likely duplicates (``duplicates == "only"``)
        gets only the fuzzy duplicate check.
        """
        if snapshot.duplicates == "only":
            drafts = duplicate_batch_drafts(snapshot) if self._wants(FUZZY_CHECK) else []
            return self._actions(snapshot, drafts, set())
        return self._actions(snapshot, *self._drafts(snapshot))

    def _actions(
        self, snapshot: CRMSnapshot, drafts: list[checks.Draft], reserved: set[checks.RecordKey]
    ) -> list[ProposedAction]:
        people = [*snapshot.leads, *snapshot.contacts]
        drafts = _one_per_record(drafts)
        if self.checks is not None:
            drafts = [draft for draft in drafts if draft.check in self.checks]
        drafts.sort(key=checks.Draft.sort_key)
        if self.checks is not None and TITLE_CHECK in self.checks and snapshot.duplicates != "only":
            titles, _ = title_enrichments(people, reserved)
            drafts.extend(titles)
        return [draft.to_action(self._new_id(), self.name) for draft in drafts]

    def _drafts(self, snapshot: CRMSnapshot) -> tuple[list[checks.Draft], set[checks.RecordKey]]:
        """Every check's drafts on a chunk or a whole snapshot, and the records merges and deletes took."""
        junk = checks.junk_leads(snapshot.leads)
        merges = checks.duplicate_emails(lead for lead in snapshot.leads if lead.id not in junk)
        reserved: set[checks.RecordKey] = {("lead", lead_id) for lead_id in junk} | snapshot.reserved
        reserved |= {(d.object_type, t.record_id) for d in merges for t in d.targets}
        normaliser = RecordNormaliser.sharing(OfflineProvider.build(snapshot.accounts))
        domain_merges = match_checks.account_domain_duplicates(
            snapshot.accounts, reserved, domains=normaliser.domains, lists=normaliser.lists
        )
        reserved |= {(d.object_type, t.record_id) for d in domain_merges for t in d.targets}
        people = [*snapshot.leads, *snapshot.contacts]
        fuzzy: list[checks.Draft] = []
        if snapshot.duplicates == "inline":
            # Reserved even when the check is left out: a restricted run leaves alone
            # what the full run would merge.
            fuzzy = match_checks.fuzzy_duplicates(people, reserved, lists=normaliser.lists)
            reserved |= {(d.object_type, t.record_id) for d in fuzzy for t in d.targets}
        account_matches: list[checks.Draft] = []
        if snapshot.leads and self._wants(ACCOUNT_MATCH_CHECK):
            directory = snapshot.account_directory or AccountDirectory(
                snapshot.accounts, domains=normaliser.domains, lists=normaliser.lists
            )
            account_matches = lead_account_matches(snapshot.leads, directory, reserved)
        everything = [*people, *snapshot.accounts]
        now = self._now()
        stale = checks.stale_leads(snapshot.leads, reserved, now=now, stale_after_days=self.stale_after_days)
        status_taken = {(d.object_type, t.record_id) for d in stale for t in d.targets}
        live_accounts = [a for a in snapshot.accounts if ("account", a.id) not in reserved]
        noted = snapshot.noted  # notes already on the records are not proposed again
        drafts = [
            *checks.normalize_fields(everything, reserved, normaliser),
            *quality_checks.invalid_picklists(everything, reserved, status_taken=status_taken, noted=noted),
            *checks.invalid_emails(people, reserved, normaliser.lists, noted=noted),
            *quality_checks.missing_required(everything, reserved, noted=noted),
            *account_matches,
            *field_checks.ambiguous_places(everything, reserved, normaliser, noted=noted),
            *checks.unowned_leads(snapshot.leads, snapshot.owners, reserved),
            *owner_checks.unowned_records(snapshot.contacts, snapshot.accounts, snapshot.owners, reserved),
            *stale,
            *quality_checks.lifecycle_inconsistencies(
                snapshot.leads, reserved, now=now, stale_after_days=self.stale_after_days, noted=noted
            ),
            *quality_checks.stale_records(
                snapshot.contacts, snapshot.accounts, reserved, now=now, noted=noted
            ),
            *merges,
            *fuzzy,
            *domain_merges,
            *checks.inactive_owners(
                live_accounts, snapshot.owners, field=self.high_value_field, minimum=self.high_value_min
            ),
            *owner_checks.inactive_owner_records(
                snapshot.leads, snapshot.contacts, snapshot.accounts, snapshot.owners, reserved
            ),
            *checks.junk_deletes(snapshot.leads, junk),
        ]
        return drafts, reserved

    def plan_batches(
        self, batches: Iterable[CRMSnapshot]
    ) -> Iterator[tuple[CRMSnapshot, list[ProposedAction]]]:
        """``(batch, plan(batch))`` for each batch of likely duplicates, in order, the matching
        done on ``workers`` processes besides this one (:class:`~agent.planner.batch_pool.BatchPool`)."""
        if self._wants(FUZZY_CHECK):
            pool = BatchPool(
                duplicate_batch_drafts,
                workers=self.workers,
                stats=self.pool_stats,
                size=_people_count,
                min_size=self.parallel_from,
            )
        else:
            pool = BatchPool(_no_drafts, workers=0)
        for batch, drafts in pool.map(batches):
            yield batch, self._actions(batch, drafts, set())

    def _wants(self, check: str) -> bool:
        return self.checks is None or check in self.checks


def duplicate_batch_drafts(snapshot: CRMSnapshot) -> list[checks.Draft]:
    """Fuzzy merges among a batch of likely duplicates; junk and exact-email duplicates stay out
    (the chunks propose their delete and merge). Pure, so a worker process can run it."""
    if snapshot.duplicates != "only":
        raise ValueError("not a batch of likely duplicates")
    junk = checks.junk_leads(snapshot.leads)
    shared = shared_email_ids(lead for lead in snapshot.leads if lead.id not in junk)
    reserved: set[checks.RecordKey] = {("lead", lead_id) for lead_id in {*junk, *shared}}
    people = [*snapshot.leads, *snapshot.contacts]
    return match_checks.fuzzy_duplicates(people, reserved, lists=load_reference_lists())


def _no_drafts(snapshot: CRMSnapshot) -> list[checks.Draft]:
    return []


def _people_count(snapshot: CRMSnapshot) -> int:
    return len(snapshot.leads) + len(snapshot.contacts)


def _one_per_record(drafts: list[checks.Draft]) -> list[checks.Draft]:
    """Fold the single-record drafts of one kind on one record into the first one.

    Several checks may tidy different fields of a record (formats, picklist
    values) or note different things about it. As separate actions the second
    write would find the record changed by the first and go stale, and a bulk
    bundle would list the record twice. Notes are joined into one note.
    """
    first: dict[tuple[str, checks.RecordKey], int] = {}
    out: list[checks.Draft] = []
    for draft in drafts:
        if draft.kind in ("merge", "delete") or len(draft.targets) != 1:
            out.append(draft)
            continue
        slot = (draft.kind, (draft.object_type, draft.targets[0].record_id))
        if slot not in first:
            first[slot] = len(out)
            out.append(draft)
            continue
        kept = out[first[slot]]
        target, extra = kept.targets[0], draft.targets[0]
        notes = [n for n in (target.note, extra.note) if n]
        merged = target.model_copy(
            update={
                "changes": {**target.changes, **extra.changes},
                "note": "\n\n".join(notes) if notes else None,
            }
        )
        out[first[slot]] = replace(
            kept,
            targets=(merged,),
            rationale=f"{kept.rationale} {draft.rationale}",
            evidence={**draft.evidence, **kept.evidence, "also": draft.check},
        )
    return out
