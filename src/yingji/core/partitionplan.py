"""Time partitions, planned (pure: no Django, no database).

A time-partitioned table (PostgreSQL declarative partitioning, RANGE on an
integer milliseconds column) has one partition per UTC day or month, named
`<table>_pYYYYMMDD` / `<table>_pYYYYMM`, and a DEFAULT partition that takes any row
no range covers, so nothing is ever refused. This module decides:

- `window`: the ranges that should exist around now (from the retention cut, so a
  replay or import of any day still kept lands in its own partition, to `ahead`
  periods past now);
- `covering`: the ranges missing for a span of rows about to be written;
- `retention`: which partitions lie wholly before the cut (dropped) and where rows
  are deleted one by one (DEFAULT; with `exact`, the partition straddling the cut).

core/partitioning.py reads the catalogue and runs the statements.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DAY = "day"
MONTH = "month"
PERIODS = (DAY, MONTH)
UTC = dt.UTC


class PlanError(ValueError):
    pass


@dataclass(frozen=True)
class Spec:
    """One time-partitioned table: its name, the partition key (milliseconds since
    the epoch), the width of a partition, how long rows are kept (None: forever)
    and how many periods ahead of now partitions are created."""

    table: str
    column: str
    period: str = DAY
    retention_days: int | None = None
    ahead: int = 7

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise PlanError(f"分区表 {self.table}:周期应为 day 或 month,而不是「{self.period}」")
        if self.ahead < 0:
            raise PlanError(f"分区表 {self.table}:提前创建的分区数不能为负({self.ahead})")
        if self.retention_days is not None and self.retention_days < 1:
            raise PlanError(f"分区表 {self.table}:保留天数至少 1 天({self.retention_days})")

    @property
    def default(self) -> str:
        return f"{self.table}_default"


@dataclass(frozen=True, order=True)
class Range:
    lo: int  # inclusive, ms
    hi: int  # exclusive, ms
    name: str = field(compare=False, default="")

    def overlaps(self, lo: int, hi: int) -> bool:
        return self.lo < hi and lo < self.hi


@dataclass(frozen=True)
class Existing:
    """A partition that exists: its name and bounds (None, None for DEFAULT or a
    bound this module cannot read)."""

    name: str
    lo: int | None
    hi: int | None

    @property
    def is_range(self) -> bool:
        return self.lo is not None and self.hi is not None


@dataclass
class RetentionPlan:
    cut_ms: int
    drop: list[Existing] = field(default_factory=list)  # wholly before the cut
    trim: list[str] = field(default_factory=list)  # DEFAULT (and, exact, the straddler)


def ms(d: dt.datetime | dt.date) -> int:
    if not isinstance(d, dt.datetime):
        d = dt.datetime(d.year, d.month, d.day, tzinfo=UTC)
    return int(d.timestamp() * 1000)


def _start(ts_ms: int, period: str) -> dt.date:
    d = dt.datetime.fromtimestamp(ts_ms / 1000, UTC).date()
    return d if period == DAY else d.replace(day=1)


def _next(d: dt.date, period: str) -> dt.date:
    if period == DAY:
        return d + dt.timedelta(days=1)
    return dt.date(d.year + d.month // 12, d.month % 12 + 1, 1)


def name_for(table: str, d: dt.date, period: str) -> str:
    return f"{table}_p{d:%Y%m%d}" if period == DAY else f"{table}_p{d:%Y%m}"


def ranges(spec: Spec, lo_ms: int, hi_ms: int) -> list[Range]:
    """The aligned partitions covering [lo_ms, hi_ms] (both ends included)."""
    if hi_ms < lo_ms:
        return []
    out = []
    d = _start(lo_ms, spec.period)
    while ms(d) <= hi_ms:
        n = _next(d, spec.period)
        out.append(Range(ms(d), ms(n), name_for(spec.table, d, spec.period)))
        d = n
    return out


def cut_ms(spec: Spec, now_ms: int) -> int | None:
    """Rows with the key below this are past retention (None: kept forever)."""
    if spec.retention_days is None:
        return None
    return now_ms - spec.retention_days * 86_400_000


def _missing(wanted: Iterable[Range], existing: Sequence[Existing]) -> list[Range]:
    have = [e for e in existing if e.is_range]
    return [r for r in wanted if not any(r.overlaps(e.lo, e.hi) for e in have)]  # type: ignore[arg-type]


def window(
    spec: Spec, existing: Sequence[Existing], now_ms: int, ahead: int | None = None
) -> list[Range]:
    """The partitions to create now: from the retention cut's period (or now's, if
    rows are kept forever) to `ahead` periods past now's, those not there yet. A
    range overlapping a partition made by hand is left alone, not refused."""
    ahead = spec.ahead if ahead is None else ahead
    if ahead < 0:
        raise PlanError(f"--ahead 不能为负({ahead})")
    cut = cut_ms(spec, now_ms)
    first = now_ms if cut is None else cut
    last = _start(now_ms, spec.period)
    for _ in range(ahead):
        last = _next(last, spec.period)
    return _missing(ranges(spec, first, ms(last)), existing)


def covering(
    spec: Spec, existing: Sequence[Existing], lo_ms: int, hi_ms: int, now_ms: int
) -> list[Range]:
    """The partitions missing for rows with keys in [lo_ms, hi_ms] about to be
    written. Rows past retention are not given partitions (they go to DEFAULT and
    the next retention run deletes them there)."""
    cut = cut_ms(spec, now_ms)
    if cut is not None:
        lo_ms = max(lo_ms, cut)
    return _missing(ranges(spec, lo_ms, hi_ms), existing)


def retention(
    spec: Spec, existing: Sequence[Existing], now_ms: int, *, exact: bool = False
) -> RetentionPlan | None:
    """What retention does to a partitioned table (None: rows kept forever):
    partitions ending at or before the cut are dropped whole, and in DEFAULT the
    rows before the cut are deleted. The partition straddling the cut is kept
    whole until it too ends before the cut (rows are kept their retention and at
    most one period more: a nightly run with the cut mid-day would otherwise
    delete most of a day row by row, every night); `exact` deletes its rows before
    the cut as well."""
    cut = cut_ms(spec, now_ms)
    if cut is None:
        return None
    plan = RetentionPlan(cut)
    for e in sorted(existing, key=lambda e: (e.lo is None, e.lo or 0)):
        if not e.is_range:
            plan.trim.append(e.name)
        elif e.hi <= cut:  # type: ignore[operator]
            plan.drop.append(e)
        elif exact and e.lo < cut:  # type: ignore[operator]
            plan.trim.append(e.name)
    return plan


_BOUND = re.compile(r"FOR VALUES FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


def parse_bound(name: str, expr: str | None) -> Existing:
    """A partition from the catalogue's `pg_get_expr(relpartbound)`: "DEFAULT",
    "FOR VALUES FROM ('1') TO ('2')" (anything else: bounds unknown, never dropped)."""
    m = _BOUND.fullmatch((expr or "").strip())
    if m is None:
        return Existing(name, None, None)
    return Existing(name, int(m.group(1)), int(m.group(2)))


def describe(r: Range | Existing) -> str:
    """「2026-12-04 00:00 – 2026-12-05 00:00 UTC」 for a listing."""
    if r.lo is None or r.hi is None:
        return "默认分区(其余全部)"

    def at(v: int) -> str:
        return dt.datetime.fromtimestamp(v / 1000, UTC).strftime("%Y-%m-%d %H:%M")

    return f"{at(r.lo)} – {at(r.hi)} UTC"
