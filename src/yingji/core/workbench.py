"""The workbench (工作台) registry: what waits for one user, across every module.

Each module registers its sources from its AppConfig.ready (like the map's layers
and the navigation), so the home page names no module and no module imports
another:

    from yingji.core import workbench

    workbench.register(
        "risk.rectify", "待整改隐患", group="risk",
        items=hazards_to_rectify,          # (Context) -> iterable of Item
        count=count_hazards_to_rectify,    # (Context) -> int; optional
    )

A source yields `Item`s: what (kind, title), where to act (url, action), when
(deadline) and how urgent (urgency). The home page merges every source's items
and shows the most urgent first; the navigation shows one badge per group (the
group keys are nav.py's). A source sees only what the user's scope covers: the
Context carries the scope, read once per request.

Sorting: urgency first (URGENT: an alarm or a card now; OVERDUE: past its
deadline; SOON: due within DUE_SOON_DAYS; NORMAL), then the deadline, earliest
first (items with none last), then the title. `by_deadline` gives a source the
urgency a deadline implies, so every module counts "overdue" the same way.

Pure: no Django import at module level (the sources import their models when
called); tested without a database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

URGENT = 0  # act now: an alarm, an unacknowledged card, a red warning to approve
OVERDUE = 1  # past its deadline
SOON = 2  # due within DUE_SOON_DAYS
NORMAL = 3

URGENCY_LABELS = {URGENT: "紧急", OVERDUE: "已逾期", SOON: "即将到期", NORMAL: "待办"}
DUE_SOON_DAYS = 3

# A source yields at most this many items for one user (the page shows the most
# urgent; the count in the badge and the heading is the full one).
PER_SOURCE_LIMIT = 200
# The home page lists the most urgent this many (rendering 300 took 60-80 ms
# of Django templates on a quiet 2-core machine, 100 about a third of it); the
# rest are counted per group, each count linking to its module.
PAGE_ITEMS = 100


@dataclass(slots=True)
class Item:
    """One thing waiting for the user (collect() sets group and source in place:
    dataclasses.replace per item cost 6 ms of a 500-item page)."""

    kind: str  # what it is, in Chinese: 待签收行动卡
    title: str
    url: str
    action: str = "处理"  # the button's text: 签收, 审核, 填报
    deadline: dt.date | dt.datetime | None = None
    urgency: int = NORMAL
    detail: str = ""  # one line under the title: the area, the department
    level: str = ""  # a warning colour (red/orange/yellow/blue) where one applies
    group: str = ""  # set by the registry from the source
    source: str = ""  # set by the registry

    @property
    def urgency_label(self) -> str:
        return URGENCY_LABELS.get(self.urgency, "待办")

    @property
    def is_timed(self) -> bool:
        return isinstance(self.deadline, dt.datetime)

    @property
    def overdue(self) -> bool:
        return self.urgency == OVERDUE


@dataclass
class Context:
    """What a source needs to know about the request: who, their scope, and now
    (an aware datetime in the platform's time zone, so `today` and "overdue" are
    the local day's, not UTC's)."""

    user: Any
    scope: Any  # core.scope.Scope
    now: dt.datetime
    profile: Any = None
    limit: int = PER_SOURCE_LIMIT
    cache: dict[str, Any] = field(default_factory=dict)  # shared between sources

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def role(self) -> str | None:
        return getattr(self.profile, "role", None)

    @property
    def department_id(self) -> int | None:
        return getattr(self.profile, "department_id", None)


Items = Callable[[Context], Iterable[Item]]
Count = Callable[[Context], int]


@dataclass(frozen=True)
class Source:
    key: str
    kind: str
    group: str
    items: Items
    count: Count | None = None
    order: int = 100


@dataclass(frozen=True)
class Figure:
    """One of the figures a leader asks for first (events open, warnings in force …)."""

    title: str
    value: str
    detail: str = ""
    url: str = ""
    tone: str = ""  # "bad" when the figure calls for attention, "good" when it is on track


Figures = Callable[[Context], Iterable[Figure]]

_sources: dict[str, Source] = {}
_figures: dict[str, tuple[int, Figures]] = {}


def register(
    key: str,
    kind: str,
    *,
    group: str,
    items: Items,
    count: Count | None = None,
    order: int = 100,
) -> Source:
    """Add (or replace, when ready() runs twice) the source `key`."""
    if not key or not key.isascii():
        raise ValueError(f"工作台来源 key 须为 ASCII:{key!r}")
    source = Source(key, kind, group, items, count, order)
    _sources[key] = source
    return source


def register_figures(key: str, figures: Figures, *, order: int = 100) -> None:
    """Add a leader's figures (shown to roles that see the whole city)."""
    _figures[key] = (order, figures)


def sources() -> list[Source]:
    return sorted(_sources.values(), key=lambda s: (s.order, s.key))


def by_deadline(deadline: dt.date | dt.datetime | None, now: dt.datetime) -> int:
    """The urgency a deadline implies: OVERDUE past it, SOON within
    DUE_SOON_DAYS, NORMAL otherwise or without one."""
    if deadline is None:
        return NORMAL
    if isinstance(deadline, dt.datetime):
        if deadline.tzinfo is not None and now.tzinfo is not None:
            # the day it falls on where the user is: a deadline read from the
            # database is in UTC, and 20:00 UTC is already tomorrow in Guangzhou
            deadline = deadline.astimezone(now.tzinfo)
        if deadline < now:
            return OVERDUE
        due = deadline.date()
    else:
        due = deadline
    today = now.date()
    if due < today:
        return OVERDUE
    if (due - today).days <= DUE_SOON_DAYS:
        return SOON
    return NORMAL


def url_for(name: str, marker: int = 987654321) -> Callable[[Any], str]:
    """pk -> the URL of the view `name` (one argument), reversed once rather than
    once per item: a source lists hundreds, and reverse() costs more than the
    rest of an item."""
    from django.urls import reverse

    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


def _deadline_key(deadline: dt.date | dt.datetime | None, tz: dt.tzinfo) -> dt.datetime:
    if deadline is None:
        return _FAR
    if isinstance(deadline, dt.datetime):
        return deadline if deadline.tzinfo else deadline.replace(tzinfo=tz)
    # A date's deadline is the end of that day where the user is (items due
    # today sort after timed items due this morning).
    return dt.datetime.combine(deadline, dt.time.max, tzinfo=tz)


def sort_key(item: Item, tz: dt.tzinfo = dt.UTC) -> tuple:
    return (item.urgency, _deadline_key(item.deadline, tz), item.title)


@dataclass
class Collected:
    """The workbench of one user: the items, most urgent first, and the counts."""

    items: list[Item]
    counts: dict[str, int]  # per source key
    errors: list[str]  # sources that failed (named; the page still shows the rest)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_group(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for key, n in self.counts.items():
            src = _sources.get(key)
            if src is not None and n:
                out[src.group] = out.get(src.group, 0) + n
        return out


def collect(ctx: Context, *, only: Iterable[str] | None = None) -> Collected:
    """Every source's items for `ctx`, merged and sorted. A source that raises is
    named in `errors` and left out: one module's bug never empties the
    workbench."""
    wanted = set(only) if only is not None else None
    items: list[Item] = []
    counts: dict[str, int] = {}
    errors: list[str] = []
    for src in sources():
        if wanted is not None and src.key not in wanted:
            continue
        try:
            got = list(src.items(ctx))
        except Exception as exc:  # noqa: BLE001 - named on the page and logged
            log.exception("workbench source %s failed", src.key)
            errors.append(f"{src.kind}:{type(exc).__name__}: {exc}")
            continue
        got = got[: ctx.limit]
        n = len(got)
        if src.count is not None and n >= ctx.limit:
            n = src.count(ctx)
        counts[src.key] = n
        for i in got:
            i.group, i.source = src.group, src.key
        items.extend(got)
    tz = ctx.now.tzinfo or dt.UTC
    items.sort(key=lambda i: sort_key(i, tz))
    return Collected(items, counts, errors)


def count(ctx: Context) -> Collected:
    """Counts only (the navigation's badges): a source's `count` where it has
    one, else the length of its items."""
    counts: dict[str, int] = {}
    errors: list[str] = []
    for src in sources():
        try:
            if src.count is not None:
                counts[src.key] = int(src.count(ctx))
            else:
                counts[src.key] = sum(1 for _ in src.items(ctx))
        except Exception as exc:  # noqa: BLE001
            log.exception("workbench count %s failed", src.key)
            errors.append(f"{src.kind}:{type(exc).__name__}: {exc}")
    return Collected([], counts, errors)


def figures(ctx: Context) -> tuple[list[Figure], list[str]]:
    out: list[Figure] = []
    errors: list[str] = []
    for _order, fn in sorted(_figures.values(), key=lambda p: p[0]):
        try:
            out.extend(fn(ctx))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
    return out, errors
