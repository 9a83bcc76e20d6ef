"""Time partitions on PostgreSQL: the catalogue read, partitions created, rows moved
out of DEFAULT, old partitions dropped (the plans: core/partitionplan.py).

Apps register their time-partitioned tables (`register`, from AppConfig.ready);
every function here is a no-op where the table is not partitioned (SQLite, or a
PostgreSQL table left as it was), so callers need no vendor test of their own.

Locks: creating a partition takes an ACCESS EXCLUSIVE lock on the parent until the
transaction ends. The periodic job (`maintain`, hourly) creates the whole window
(from the retention cut to `ahead` periods past now) in its own short
transactions, so an import or replay of any day still kept finds its partition
there and `ensure_covering` is a catalogue read, not DDL, inside the long import
transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, connection, transaction

from yingji.core import partitionplan as plan
from yingji.core.partitionplan import Existing, Range, Spec

_SPECS: dict[str, Spec] = {}
log = logging.getLogger(__name__)
# The periodic job's and retention's DDL waits this long for its lock, then gives
# up until the next run: a waiting ACCESS EXCLUSIVE request would queue every
# reader and writer of the table behind it for as long as it waits.
LOCK_TIMEOUT_MS = 3000


def register(spec: Spec) -> None:
    _SPECS[spec.table] = spec


def specs() -> list[Spec]:
    return list(_SPECS.values())


def spec(table: str) -> Spec:
    try:
        return _SPECS[table]
    except KeyError:
        raise plan.PlanError(f"未登记的分区表「{table}」") from None


def now_ms() -> int:
    return int(time.time() * 1000)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def enabled(table: str) -> bool:
    """Is `table` a partitioned table here (PostgreSQL, converted)?"""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND n.nspname = ANY(current_schemas(false))",
            [table],
        )
        row = cur.fetchone()
    return row is not None and row[0] == "p"


def existing(table: str) -> list[Existing]:
    """The partitions of `table` with their bounds, DEFAULT among them."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass "
            "ORDER BY c.relname",
            [table],
        )
        return [plan.parse_bound(name, expr) for name, expr in cur.fetchall()]


def default_of(parts: Iterable[Existing]) -> str | None:
    return next((e.name for e in parts if not e.is_range), None)


@dataclass
class Created:
    name: str
    moved: int = 0  # rows moved in from DEFAULT


def create(
    s: Spec,
    ranges: Iterable[Range],
    parts: list[Existing] | None = None,
    *,
    lock_timeout_ms: int | None = None,
) -> list[Created]:
    """Create partitions. Where DEFAULT already holds rows of a range, the new
    partition is built beside it, the rows moved into it (DELETE … RETURNING into
    it, one statement) and then attached: in one transaction (a savepoint inside
    the caller's), so no row is ever in neither or both.

    `lock_timeout_ms` (the periodic job): a partition whose lock is not had in
    that time is skipped, logged, and made at a later run, rather than the wait
    queueing every writer of the table behind it (a long import holds the table)."""
    parts = existing(s.table) if parts is None else parts
    default = default_of(parts)
    done = []
    for r in ranges:
        try:
            done.append(_create_one(s, r, default, lock_timeout_ms))
        except DatabaseError as exc:
            # Another process made it first (two queue consumers both run the
            # hourly job; an import beside it): fine when it is there now.
            if any(e.is_range and r.overlaps(e.lo, e.hi) for e in existing(s.table)):
                continue
            if lock_timeout_ms is not None and _lock_timed_out(exc):
                log.warning("partition %s not created: %s busy, next run", r.name, s.table)
                continue
            raise
    return done


def _lock_timed_out(exc: BaseException) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"  # lock_not_available


def _set_lock_timeout(cur, ms: int | None) -> None:
    if ms is not None:
        cur.execute(f"SET LOCAL lock_timeout = {int(ms)}")


def _create_one(s: Spec, r: Range, default: str | None, timeout_ms: int | None) -> Created:
    col, table, name = _q(s.column), _q(s.table), _q(r.name)
    bounds = f"FOR VALUES FROM ({int(r.lo)}) TO ({int(r.hi)})"
    with connection.cursor() as cur:
        if default is None or not _held(cur, default, col, r):
            try:
                with transaction.atomic():
                    _set_lock_timeout(cur, timeout_ms)
                    cur.execute(f"CREATE TABLE {name} PARTITION OF {table} {bounds}")
                return Created(r.name)
            except IntegrityError:  # a row of the range reached DEFAULT meanwhile
                if default is None:
                    raise
        with transaction.atomic():
            _set_lock_timeout(cur, timeout_ms)
            cur.execute(f"CREATE TABLE {name} (LIKE {table})")
            cur.execute(
                f"WITH moved AS (DELETE FROM {_q(default)} "
                f"WHERE {col} >= %s AND {col} < %s RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved",
                [r.lo, r.hi],
            )
            moved = cur.rowcount
            cur.execute(f"ALTER TABLE {table} ATTACH PARTITION {name} {bounds}")
        return Created(r.name, moved)


def _held(cur, default: str, col: str, r: Range) -> bool:
    cur.execute(
        f"SELECT EXISTS (SELECT 1 FROM {_q(default)} WHERE {col} >= %s AND {col} < %s)",
        [r.lo, r.hi],
    )
    return cur.fetchone()[0]


def ensure_covering(table: str, min_ms: int, max_ms: int) -> list[Created]:
    """Before a bulk write of rows with keys in [min_ms, max_ms] (a replay, an
    import of past days): create the partitions they need (rows already waiting in
    DEFAULT for those ranges are moved in), so they do not pile up in DEFAULT. Rows
    past retention get none (DEFAULT takes them; retention deletes them there)."""
    if not enabled(table):
        return []
    s = spec(table)
    parts = existing(table)
    return create(s, plan.covering(s, parts, min_ms, max_ms, now_ms()), parts)


class Coverage:
    """What a streaming writer (an open COPY, during which the connection can run
    nothing else) knows of a table's partitions: `covers` is answered from memory;
    only when it says no does the writer end its COPY and call `ensure`."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.on = enabled(table)
        self.spec = spec(table) if self.on else None
        self.parts = existing(table) if self.on else []

    def covers(self, min_ms: int, max_ms: int) -> bool:
        if self.spec is None:
            return True
        return not plan.covering(self.spec, self.parts, min_ms, max_ms, now_ms())

    def ensure(self, min_ms: int, max_ms: int) -> list[Created]:
        if self.spec is None:
            return []
        self.parts = existing(self.table)
        made = create(
            self.spec, plan.covering(self.spec, self.parts, min_ms, max_ms, now_ms()), self.parts
        )
        if made:
            self.parts = existing(self.table)
        return made


@dataclass
class Report:
    table: str
    partitions: list[Existing] = field(default_factory=list)
    create: list[Range] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    retention: plan.RetentionPlan | None = None


def maintain(
    ahead: int | None = None, dry_run: bool = False, at_ms: int | None = None
) -> list[Report]:
    """Every registered partitioned table: create the window's missing partitions
    (each in its own transaction), say what retention would drop. The hourly job
    and `yingji partitions` both run this."""
    at_ms = now_ms() if at_ms is None else at_ms
    reports = []
    for s in specs():
        if not enabled(s.table):
            continue
        parts = existing(s.table)
        rep = Report(s.table, parts, plan.window(s, parts, at_ms, ahead))
        if not dry_run and rep.create:
            rep.created = create(s, rep.create, parts, lock_timeout_ms=LOCK_TIMEOUT_MS)
            rep.partitions = existing(s.table)
        rep.retention = plan.retention(s, rep.partitions, at_ms)
        reports.append(rep)
    return reports


@dataclass
class Retained:
    dropped: list[str] = field(default_factory=list)
    deleted: int = 0
    busy: list[str] = field(default_factory=list)  # not had in LOCK_TIMEOUT_MS: next run


def retain(table: str, at_ms: int | None = None, *, exact: bool = False) -> Retained | None:
    """Retention on a partitioned table: partitions wholly past the cut are dropped
    (DROP TABLE: no row-by-row delete, no dead tuples, no vacuum), the rows before
    the cut deleted only in DEFAULT (and, `exact`, in the partition straddling
    the cut; otherwise it goes whole at a later run). None where the table is not
    partitioned (the caller deletes as before)."""
    if not enabled(table):
        return None
    s = spec(table)
    p = plan.retention(s, existing(table), now_ms() if at_ms is None else at_ms, exact=exact)
    if p is None:
        return Retained()
    out = Retained()
    with connection.cursor() as cur:
        for e in p.drop:  # one by one: a busy one waits for the next run
            try:
                with transaction.atomic():
                    _set_lock_timeout(cur, LOCK_TIMEOUT_MS)
                    # Deferred foreign-key checks of rows written earlier in this
                    # transaction would refuse the DROP ("pending trigger
                    # events"): run them now (Django's are INITIALLY DEFERRED).
                    cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                    cur.execute(f"DROP TABLE IF EXISTS {_q(e.name)}")
                    cur.execute("SET CONSTRAINTS ALL DEFERRED")
                out.dropped.append(e.name)
            except DatabaseError as exc:
                if not _lock_timed_out(exc):
                    raise
                log.warning("partition %s not dropped: %s busy, next run", e.name, table)
                out.busy.append(e.name)
        with transaction.atomic():
            for name in p.trim:
                cur.execute(f"DELETE FROM {_q(name)} WHERE {_q(s.column)} < %s", [p.cut_ms])
                out.deleted += cur.rowcount
    return out


def estimate_rows(names: Iterable[str]) -> dict[str, int | None]:
    """The planner's row estimates (pg_class.reltuples; None before the first
    ANALYZE): a listing must not count a day of readings row by row."""
    names = list(names)
    if not names:
        return {}
    with connection.cursor() as cur:
        cur.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [names])
        got = {n: (int(t) if t >= 0 else None) for n, t in cur.fetchall()}
    return {n: got.get(n) for n in names}
