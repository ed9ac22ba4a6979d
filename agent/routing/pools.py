"""Weighted round-robin whose state lives in the database, so concurrent routings stay fair.

Smooth weighted round-robin: at each pick every member who can take the lead gains
their weight in credit, the member with the most credit is picked and pays the total
weight of those who could. Over any run of picks with the same members available,
each member's share stays within one lead of their weight's share, and picks are
spread out (weights 3:1 give a a b a, not a a a b). A member who is unavailable
neither gains nor pays, so they come back without a burst of catch-up leads.

One pick is one transaction that first locks the pool's row (an upsert counting the
pick, which holds the row lock on PostgreSQL until commit; SQLite's ``BEGIN IMMEDIATE``
takes the write lock): two routings at once take turns, and neither reads the other's
half-done state. The statements are plain SQL (no ORM unit of work): a pick is three
or four statements whatever the pool's size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from agent.store.database import Database
from agent.store.rows import RoutingPoolMemberRow, RoutingPoolRow


@dataclass(frozen=True)
class Candidate:
    owner_id: str
    weight: int


@dataclass(frozen=True)
class Pick:
    owner_id: str
    credits: dict[str, float]
    """Every available member's credit just before the pick (the explanation's pool state)."""
    assigned: dict[str, int]
    """Every member's total of picks, after this one."""


_POOLS = cast(Table, RoutingPoolRow.__table__)
_MEMBERS = cast(Table, RoutingPoolMemberRow.__table__)


def _lock_statement(insert: Callable[..., Any]) -> Executable:
    """Create the pool's row or count one more pick on it: either way, its row lock is ours."""
    statement = insert(_POOLS).values(pool=bindparam("pool"), picks=1, updated_at=bindparam("now"))
    return cast(
        Executable,
        statement.on_conflict_do_update(
            index_elements=[_POOLS.c.pool],
            set_={"picks": _POOLS.c.picks + 1, "updated_at": statement.excluded.updated_at},
        ),
    )


# Built once: a pick is on the hot path of every routing, and a prepared statement
# costs SQLAlchemy a fraction of building and compiling one each time.
_LOCK = {"postgresql": _lock_statement(pg_insert), "sqlite": _lock_statement(sqlite_insert)}
_READ = select(
    _MEMBERS.c.owner_id, _MEMBERS.c.current, _MEMBERS.c.assigned, _MEMBERS.c.last_assigned_at
).where(_MEMBERS.c.pool == bindparam("pool"))
_ADD = insert(_MEMBERS)
_WRITE = (
    update(_MEMBERS)
    .where(_MEMBERS.c.pool == bindparam("p"), _MEMBERS.c.owner_id == bindparam("o"))
    .values(current=bindparam("c"), assigned=bindparam("a"), last_assigned_at=bindparam("at"))
)

Members = dict[str, tuple[float, int, datetime | None]]
"""Owner id -> (credit, picks so far, last picked at), as stored."""


class PoolLedger:
    """Picks the next member of a pool among those available, transactionally."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._lock = _LOCK["postgresql" if database.dialect == "postgresql" else "sqlite"]

    def pick(
        self, pool: str, available: Sequence[Candidate], now: datetime, *, dry_run: bool = False
    ) -> Pick:
        """The member to give the next lead (``available``: in the configuration's order, non-empty).

        ``dry_run``: the same answer, with nothing written.
        """
        if not available:
            raise ValueError("no member to pick from")
        if dry_run:
            with self._db.reading() as session:
                return _choose(available, _members(session, pool))
        with self._db.transaction() as session:
            # The upsert holds the pool row's lock until commit (on SQLite the transaction
            # already holds the write lock): the member rows read next are the last
            # committed state, and no other pick changes them meanwhile.
            session.execute(self._lock, {"pool": pool, "now": now})
            members = _members(session, pool)
            pick = _choose(available, members)
            _write(session, pool, available, members, pick, now)
            return pick

    def state(self, pool: str) -> dict[str, tuple[float, int]]:
        """Owner id -> (credit, picks so far) for each member the pool has picked among."""
        with self._db.reading() as session:
            return {owner: (credit, picks) for owner, (credit, picks, _at) in _members(session, pool).items()}


def _members(session: Session, pool: str) -> Members:
    return {
        owner: (current, assigned, at)
        for owner, current, assigned, at in session.execute(_READ, {"pool": pool})
    }


def _write(
    session: Session, pool: str, available: Sequence[Candidate], members: Members, pick: Pick, now: datetime
) -> None:
    total = sum(c.weight for c in available)
    known: list[dict[str, object]] = []
    new: list[dict[str, object]] = []
    for candidate in available:
        owner = candidate.owner_id
        current = pick.credits[owner] + candidate.weight - (total if owner == pick.owner_id else 0)
        at = now if owner == pick.owner_id else (members[owner][2] if owner in members else None)
        if owner in members:
            known.append({"p": pool, "o": owner, "c": current, "a": pick.assigned[owner], "at": at})
        else:
            new.append(
                {
                    "pool": pool,
                    "owner_id": owner,
                    "current": current,
                    "assigned": pick.assigned[owner],
                    "last_assigned_at": at,
                }
            )
    if new:
        session.execute(_ADD, new)
    if known:
        session.execute(_WRITE, known)


def _choose(available: Sequence[Candidate], members: Members) -> Pick:
    """The smooth weighted round-robin step over the members' stored credits (pure)."""
    before = {c.owner_id: members[c.owner_id][0] if c.owner_id in members else 0.0 for c in available}
    chosen = max(available, key=lambda c: before[c.owner_id] + c.weight)  # the first in order on a tie
    assigned = {owner: picks for owner, (_c, picks, _at) in members.items()}
    for candidate in available:
        assigned.setdefault(candidate.owner_id, 0)
    assigned[chosen.owner_id] += 1
    return Pick(chosen.owner_id, before, assigned)
