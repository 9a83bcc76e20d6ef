"""The one working-day calendar (pure; no Django).

Statutory holidays and adjusted working days come from `chinese-calendar`, which
covers the years its release knows (2004–2026 in 1.11.0), plus a supplement file
for years announced after that release (the State Council publishes next year's
放假调休安排 each November): see `load_supplement`. Beyond the years known, the
answer would be a guess, so every function raises `CalendarRangeError` instead.
Key dates (春节, 清明, 端午, 七一, 中秋, 国庆 …) are the statutory holiday periods of
that year plus fixed-date anniversaries; special periods (党的二十大, 特别防护期)
are data the caller passes in.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import chinese_calendar as cc


class CalendarRangeError(ValueError):
    """The calendar has no holiday data for the year asked about."""


class SupplementError(ValueError):
    """A supplement file that cannot be read (names file, line and field)."""


# The supplement: holidays (date → Chinese holiday name) and adjusted working days
# of years chinese-calendar does not know yet. A year in the supplement is taken
# as complete (the State Council announces a whole year at once).
_EXTRA_HOLIDAYS: dict[dt.date, str] = {}
_EXTRA_WORKDAYS: set[dt.date] = set()


def covered_years() -> range:
    years = sorted(
        {d.year for d in cc.holidays}
        | {d.year for d in cc.workdays}
        | {d.year for d in _EXTRA_HOLIDAYS}
        | {d.year for d in _EXTRA_WORKDAYS}
    )
    return range(years[0], years[-1] + 1)


def _workday_ordinals() -> list[int]:
    """Every working day of the covered years, as sorted ordinals. Built once from
    chinese-calendar's tables (and the supplement): its own is_workday() scans the
    whole holiday table on every call (about 20 µs), which made counting working
    days the slowest part of the board."""
    day, last = dt.date(_COVERED.start, 1, 1), dt.date(_COVERED.stop - 1, 12, 31)
    out = []
    while day <= last:
        if _is_workday_raw(day):
            out.append(day.toordinal())
        day += dt.timedelta(days=1)
    return out


def _is_workday_raw(day: dt.date) -> bool:
    if day in _EXTRA_WORKDAYS or day in cc.workdays:
        return True
    return day.weekday() < 5 and day not in cc.holidays and day not in _EXTRA_HOLIDAYS


def _rebuild() -> None:
    global _COVERED, _WORKDAYS, _WORKDAY_SET
    _COVERED = covered_years()
    _WORKDAYS = _workday_ordinals()
    _WORKDAY_SET = frozenset(_WORKDAYS)


_COVERED: range
_WORKDAYS: list[int]
_WORKDAY_SET: frozenset[int]
_rebuild()

SUPPLEMENT_KINDS = {
    "holiday": "holiday",
    "放假": "holiday",
    "workday": "workday",
    "上班": "workday",
}


def read_supplement(path: str | Path) -> tuple[dict[dt.date, str], set[dt.date]]:
    """Parse a supplement CSV: columns date (YYYY-MM-DD), kind (holiday/放假 or
    workday/上班), name (the holiday, e.g. 春节; for a workday the holiday it is
    swapped for, optional). Lines starting with # are comments. Every problem is
    reported with file, line and field; nothing is taken from a bad file."""
    path = Path(path)
    holidays: dict[dt.date, str] = {}
    workdays: set[dt.date] = set()
    problems = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [
            (n, r)
            for n, r in enumerate(csv.reader(fh), start=1)
            if r and not r[0].lstrip().startswith("#")
        ]
    if rows and rows[0][1][:2] == ["date", "kind"]:
        rows = rows[1:]
    for n, row in rows:
        cells = [c.strip() for c in row] + ["", "", ""]
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            problems.append(f"{path.name}:{n}: date「{cells[0]}」不是 YYYY-MM-DD 日期")
            continue
        kind = SUPPLEMENT_KINDS.get(cells[1])
        if kind is None:
            problems.append(
                f"{path.name}:{n}: kind「{cells[1]}」应为 holiday(放假)或 workday(上班)"
            )
        elif kind == "holiday":
            if not cells[2]:
                problems.append(f"{path.name}:{n}: name 缺失:放假日须写明节日(如 春节)")
            holidays[day] = canonical_key_name(cells[2])
        else:
            workdays.add(day)
    both = sorted(set(holidays) & workdays)
    problems += [f"{path.name}: {d} 同时写为放假和上班" for d in both]
    if problems:
        raise SupplementError("\n".join(problems))
    return holidays, workdays


def load_supplement(path: str | Path | None) -> int:
    """Add the years of a supplement file (YINGJI_HOLIDAYS_FILE) to the calendar,
    replacing any loaded before (no file: none); the years chinese-calendar knows
    are never overridden. Returns the days taken."""
    holidays, workdays = read_supplement(path) if path and Path(path).exists() else ({}, set())
    known = {d.year for d in cc.holidays} | {d.year for d in cc.workdays}
    holidays = {d: n for d, n in holidays.items() if d.year not in known}
    workdays = {d for d in workdays if d.year not in known}
    if holidays == _EXTRA_HOLIDAYS and workdays == _EXTRA_WORKDAYS:
        return len(holidays) + len(workdays)  # unchanged (the usual start-up: no rebuild)
    _EXTRA_HOLIDAYS.clear()
    _EXTRA_HOLIDAYS.update(holidays)
    _EXTRA_WORKDAYS.clear()
    _EXTRA_WORKDAYS.update(workdays)
    _rebuild()
    return len(holidays) + len(workdays)


def _check(day: dt.date) -> None:
    if day.year not in _COVERED:
        raise CalendarRangeError(
            f"工作日历没有 {day.year} 年的节假日数据(已知 {_COVERED.start}–{_COVERED.stop - 1} 年),"
            "请升级 chinesecalendar,或在 YINGJI_HOLIDAYS_FILE 指定的文件中补充该年的放假调休安排,"
            "不能按猜测计算工作日"
        )


def is_workday(day: dt.date) -> bool:
    _check(day)
    return day.toordinal() in _WORKDAY_SET


def add_workdays(day: dt.date, n: int) -> dt.date:
    """The date n working days after `day` (before, for negative n). n=0 gives
    `day` itself if it is a working day, else the next working day."""
    step = 1 if n >= 0 else -1
    current = day
    if n == 0:
        while not is_workday(current):
            current += dt.timedelta(days=1)
        return current
    remaining = abs(n)
    while remaining:
        current += dt.timedelta(days=step)
        if is_workday(current):
            remaining -= 1
    return current


def workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: how many working days `end` is after `start`.
    Negative when end is before start."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    _check(lo)
    _check(hi)
    count = bisect.bisect_right(_WORKDAYS, hi.toordinal()) - bisect.bisect_right(
        _WORKDAYS, lo.toordinal()
    )
    return sign * count


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the month's end (31 Jan + 1 → 28/29
    Feb; 29 Feb + 12 → 28 Feb). Calendar months, not working days."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, dom)
        except ValueError:
            continue
    raise ValueError(day)


def last_workday_on_or_before(day: dt.date) -> dt.date:
    current = day
    while not is_workday(current):
        current -= dt.timedelta(days=1)
    return current


# chinese-calendar's holiday names → the Chinese names the bureau uses.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午",
    "Mid-autumn Festival": "中秋",
    "National Day": "国庆",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
# How documents write the key dates → the names above.
KEY_DATE_ALIASES = {
    "元旦节": "元旦",
    "春节假期": "春节",
    "清明节": "清明",
    "五一": "劳动节",
    "五一劳动节": "劳动节",
    "劳动节假期": "劳动节",
    "端午节": "端午",
    "中秋节": "中秋",
    "国庆节": "国庆",
    "十一": "国庆",
    "国庆假期": "国庆",
    "建党节": "七一",
    "七一建党节": "七一",
}


def canonical_key_name(name: str) -> str:
    """The calendar's name for a key date as a document writes it (清明节 → 清明)."""
    name = name.strip().strip('“”"')
    return KEY_DATE_ALIASES.get(name, name)


# Fixed-date key days that are not statutory holidays.
FIXED_KEY_DATES = {"七一": (7, 1), "5.12防灾减灾日": (5, 12)}


@dataclass(frozen=True)
class KeyPeriod:
    name: str
    start: dt.date
    end: dt.date

    def as_dict(self) -> dict:
        return {"name": self.name, "start": self.start.isoformat(), "end": self.end.isoformat()}


def key_periods(year: int, special: list[KeyPeriod] | None = None) -> list[KeyPeriod]:
    """Key periods of a year: each statutory holiday (its whole break), fixed key
    days, and the given special periods, in date order."""
    _check(dt.date(year, 1, 1))
    supplemented = any(d.year == year for d in _EXTRA_HOLIDAYS)
    spans: dict[str, list[dt.date]] = {}
    day = dt.date(year, 1, 1)
    while day.year == year:
        if supplemented:  # a year chinese-calendar does not know: the supplement's
            if day in _EXTRA_HOLIDAYS:
                spans.setdefault(_EXTRA_HOLIDAYS[day], []).append(day)
            day += dt.timedelta(days=1)
            continue
        on_holiday, name = cc.get_holiday_detail(day)
        if on_holiday and name:
            zh = HOLIDAY_NAMES.get(name, name)
            spans.setdefault(zh, []).append(day)
        day += dt.timedelta(days=1)
    periods = []
    for name, days in spans.items():
        # A name can have several runs in one year (元旦 on 1 Jan and again on
        # 31 Dec for the next year's break): each contiguous run is one period.
        run_start = prev = days[0]
        for d in days[1:] + [None]:
            if d is not None and (d - prev).days == 1:
                prev = d
                continue
            periods.append(KeyPeriod(name, run_start, prev))
            if d is not None:
                run_start = prev = d
    for name, (month, dom) in FIXED_KEY_DATES.items():
        d = dt.date(year, month, dom)
        periods.append(KeyPeriod(name, d, d))
    periods.extend(p for p in (special or []) if p.start.year == year or p.end.year == year)
    return sorted(periods, key=lambda p: (p.start, p.name))


def key_period(year: int, name: str, special: list[KeyPeriod] | None = None) -> KeyPeriod:
    wanted = canonical_key_name(name)
    for period in key_periods(year, special):
        if period.name == wanted:
            return period
    raise KeyError(f"{year} 年没有名为“{name}”的关键时段")
