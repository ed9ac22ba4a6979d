"""Duplicate checks on the matching engine and the offline enrichment data.

- :func:`fuzzy_duplicates`: people the engine accepts as one (precision first,
  ``min_probability`` 0.995, no chained weak links) become ``merge`` proposals.
- :func:`account_domain_duplicates`: accounts on one registrable domain (from
  ``domain`` or ``website``; free-mail domains never count) become ``merge`` proposals.

Lead-to-account matching is in :mod:`agent.planner.account_matching`.

Merges keep the master the survivorship rule picks (most complete, then oldest, see
:mod:`agent.planner.survivorship`) and carry its field plan and the CRM caveats.
Records in ``reserved`` (claimed by a junk delete or an exact-email merge) are left
out. Checks are pure; reference data may be passed in to skip reloading it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from agent.enrich.domains import DomainParser
from agent.enrich.reference import ReferenceLists, load_reference_lists
from agent.matching import Match
from agent.models import MergePlan, ObjectType, Record
from agent.planner.account_matching import ACCOUNT_MATCH_CHECK, account_domain
from agent.planner.draft import SOURCE, Draft, Evidence, RecordKey, _by_id, _text, key, label, target
from agent.planner.fuzzy import match_people, rule_holds
from agent.planner.record_checks import MERGE_CAVEATS
from agent.planner.survivorship import field_plan, master_order

FUZZY_CHECK = "fuzzy_duplicate"
DOMAIN_CHECK = "duplicate_domain"
MATCH_CHECKS: tuple[str, ...] = (FUZZY_CHECK, DOMAIN_CHECK, ACCOUNT_MATCH_CHECK)


def fuzzy_duplicates(
    leads_or_contacts: Iterable[Record], reserved: set[RecordKey], *, lists: ReferenceLists | None = None
) -> list[Draft]:
    """A ``merge`` per group of people the engine judges one person (each object type on its own).

    On top of the engine: every model pair of a group must pass
    :func:`~agent.planner.fuzzy.rule_holds` (no name disagreeing outright, a contact
    point agreeing) and contacts must share their account (or have none). A group
    failing either is left whole to the model.
    """
    by_type: dict[ObjectType, list[Record]] = defaultdict(list)
    for record in leads_or_contacts:
        if key(record) not in reserved and record.object_type != "account":
            by_type[record.object_type].append(record)
    reference = lists or load_reference_lists()
    drafts: list[Draft] = []
    for object_type, records in sorted(by_type.items()):
        pool = _by_id(records)
        run = match_people(pool, reference)
        for group in run.clusters:
            inside = [m for m in run.matches if m.left in group and m.right in group]
            members = [pool[i] for i in group]
            if not all(rule_holds(m, pool[m.left], pool[m.right]) for m in inside) or not _one_account(
                members
            ):
                continue  # the whole group is left to the model (candidate_pairs): precision first
            weakest = min(inside, key=lambda m: m.score)
            drafts.append(_fuzzy_merge(object_type, members, weakest, pool))
    return drafts


def account_domain_duplicates(
    accounts: Iterable[Record],
    reserved: set[RecordKey],
    *,
    domains: DomainParser | None = None,
    lists: ReferenceLists | None = None,
) -> list[Draft]:
    """A ``merge`` per registrable domain shared by two or more accounts (free-mail excluded)."""
    parser, reference = domains or DomainParser(), lists or load_reference_lists()
    groups: dict[str, list[Record]] = defaultdict(list)
    for account in accounts:
        if key(account) in reserved:
            continue
        domain = account_domain(account, parser, reference)
        if domain is not None:
            groups[domain].append(account)
    drafts: list[Draft] = []
    for domain, group in sorted(groups.items()):
        if len(group) < 2:
            continue
        drafts.append(
            _merge_draft(
                DOMAIN_CHECK,
                "account",
                group,
                why=f"{len(group)} accounts are on the domain {domain}",
                evidence={
                    "rule": "duplicate domain",
                    "source": SOURCE,
                    "match": "registrable domain",
                    "score": 1.0,
                    "domain": domain,
                },
            )
        )
    return drafts


# --- helpers -------------------------------------------------------------------------------


def _fuzzy_merge(
    object_type: ObjectType, group: list[Record], weakest: Match, pool: Sequence[Record]
) -> Draft:
    levels = ", ".join(f"{e.field} {e.level}" for e in weakest.evidence if e.level != "missing")
    return _merge_draft(
        FUZZY_CHECK,
        object_type,
        group,
        why=f"{len(group)} {object_type}s look like one person ({levels})",
        evidence={
            "rule": "fuzzy duplicate",
            "source": SOURCE,
            "match": weakest.rule.replace("_", " "),
            "score": round(weakest.probability, 4),  # 0..1, as the exact-email merge's 1.0
            "match_weight": weakest.score,  # log2 odds, prior included
            "levels": levels,
            "weakest_pair": f"{pool[weakest.left].id}~{pool[weakest.right].id}",
        },
    )


def _merge_draft(
    check: str, object_type: ObjectType, group: Sequence[Record], *, why: str, evidence: Evidence
) -> Draft:
    """Merge ``group`` into its master (see :mod:`agent.planner.survivorship`), with its field plan."""
    ordered = master_order(group)
    master, duplicates = ordered[0], _by_id(ordered[1:])
    plan = field_plan(master, duplicates)
    return Draft(
        check=check,
        kind="merge",
        object_type=object_type,
        targets=tuple(target(r) for r in (master, *duplicates)),
        merge=MergePlan(survivor_id=master.id, field_plan=plan, caveats=list(MERGE_CAVEATS)),
        rationale=(
            f"{why}; keep {label(master)} (the most complete, created "
            f"{master.created_at.date().isoformat()}) and merge {_the_others(duplicates)} into it."
        ),
        evidence={**evidence, "records": len(group), "filled_fields": ", ".join(plan) or "none"},
    )


def _one_account(records: Sequence[Record]) -> bool:
    """Contacts under two different accounts are two people (namesakes), whatever the names say."""
    return len({_text(r.get("account_id")) for r in records} - {""}) <= 1


def _the_others(duplicates: Sequence[Record]) -> str:
    return "the other" if len(duplicates) == 1 else f"the other {len(duplicates)}"
