"""Time hints in a task's wording → due date, recurrence and key dates (pure; no Django).

Rules, on the calendar of the plan year (an explicit "2023年…" names its own year):

due (when several hints occur the earliest date wins: it is the first one the
department will be held to)
  年底前 / 年底 / 年末 / 年内 (not after a count: "三年内" is a duration) → 12-31
  明年底 / 次年底 …                                           → 12-31 of the next year
  上半年 → 06-30          下半年 → 12-31
  N月底前 / N月底 / N月末 → the last day of month N
  N月前                   → the last day of month N-1: "before June" is read
                            literally, since "N月底前" exists for "by the end of N"
  N月D日前                → that day (the deadline day itself counts)
  汛期前 / 汛前           → the day before the flood season starts
                            (`FLOOD_SEASON_START`, a parameter)
recurrence
  每月 / 每个月 / 按月 → monthly;  每季 / 每季度 / 按季度 / 季度…会 → quarterly;
  每年 / 按年度 → yearly.  Several: the shortest period wins (it sets the rhythm).
key dates
  Holidays and events (春节、清明、端午、七一、中秋、国庆、党的二十大 …) named as
  time nodes: a list of them followed by 等关键节点 / 期间 / 前后 / 前 / 后 … .
  A mention that is not a time ("“七一”重要讲话", "党的二十大精神") is not one.
  The names are kept as written, in order, each once.
No hint → None (due, recurrence) and [] (key dates).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field

# Guangdong's flood season (汛期) nominally opens on 1 April. The provincial flood
# control headquarters (广东省防总) declares the actual day each year (4 April in
# 2024), so callers may pass the declared date instead.
FLOOD_SEASON_START: tuple[int, int] = (4, 1)

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"[0-9]{1,2}|[一二三四五六七八九十]{1,3}"
_YEAR = r"(?:(?P<year>[12][0-9]{3})年)?"
_COUNT_BEFORE = r"(?<![0-9一二三四五六七八九十两几多数百千])"

# (kind, a character every match contains, pattern): the character is a cheap
# test that skips patterns which cannot match, most of them for most tasks.
_DUE_PATTERNS: list[tuple[str, str, re.Pattern[str]]] = [
    (
        "day",
        "前",
        re.compile(_YEAR + rf"(?<![0-9])(?P<month>{_NUM})月份?(?P<day>{_NUM})[日号]前(?!后)"),
    ),
    ("month_end", "月", re.compile(_YEAR + rf"(?<![0-9])(?P<month>{_NUM})月份?[底末]")),
    ("before_month", "月", re.compile(_YEAR + rf"(?<![0-9])(?P<month>{_NUM})月份?前(?!后)")),
    ("year_end", "年", re.compile(r"(?P<year>[12][0-9]{3})年(?:底|末|内)")),
    ("year_end", "年", re.compile(_COUNT_BEFORE + r"(?P<rel>[今本当明次])?年(?:底|末|内)")),
    ("first_half", "半", re.compile(_YEAR + "上半年")),
    ("second_half", "半", re.compile(_YEAR + "下半年")),
    ("flood", "汛", re.compile("(?:汛期|汛)前(?!后)")),  # 汛期前后 is "around", not "before"
]

_RECURRENCES: list[tuple[str, re.Pattern[str]]] = [  # shortest period first
    ("monthly", re.compile("每个?月|按月")),
    ("quarterly", re.compile("每个?季|按季|季度[^,\uff0c。;\uff1b]{0,12}?会")),
    ("yearly", re.compile("每一?年|按年度")),
]

_KEY_NAME = (
    r"元旦|春节|元宵节?|清明节?|五一|劳动节|端午节?|七一|八一|中秋节?|国庆节?|重阳节?"
    r"|党的[一二三四五六七八九十]+大|全国两会|两会"
)
_KEY_RUN = re.compile(
    rf"“?(?:{_KEY_NAME})”?(?:[、,\uff0c和及与]?“?(?:{_KEY_NAME})”?)*"
    r"(?=等?(?:召开)?(?:关键|重要|重点|敏感)?(?:时间)?"
    r"(?:节点|节日|节假日|假日|假期|期间|前后|时段|时期|前|后))"
)
_KEY_NAME_RE = re.compile(_KEY_NAME)


@dataclass(frozen=True)
class TimeHints:
    """What a task's wording says about when it is due."""

    due: dt.date | None = None
    recurrence: str | None = None
    key_dates: list[str] = field(default_factory=list)


def cn_numeral(number: int) -> str:
    """1..99 → Chinese numerals (12 → 十二), for headings and messages."""
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    tens, units = divmod(number, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[units] if units else "")


def cn_number(text: str) -> int | None:
    """Arabic or Chinese numerals up to 99 ("12", "十二", "二十三") → int, else None."""
    if text.isascii():
        return int(text) if text.isdigit() else None
    if text in _CN_DIGITS:
        return _CN_DIGITS[text]
    tens, sep, units = text.partition("十")
    if not sep or (tens and tens not in _CN_DIGITS) or (units and units not in _CN_DIGITS):
        return None
    return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(units, 0)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _due_date(
    kind: str, match: re.Match[str], year: int, flood_season_start: tuple[int, int]
) -> dt.date | None:
    groups = match.groupdict()
    if groups.get("year"):
        year = int(groups["year"])
    elif groups.get("rel") in ("明", "次"):
        year += 1
    month = cn_number(groups["month"]) if groups.get("month") else None
    if month is not None and not 1 <= month <= 12:
        return None
    if kind == "day":
        day = cn_number(groups["day"])
        try:
            return dt.date(year, month, day) if month and day else None
        except ValueError:  # 2月30日: not a date, so not a hint
            return None
    if kind == "month_end":
        return _month_end(year, month) if month else None
    if kind == "before_month":
        return dt.date(year, month, 1) - dt.timedelta(days=1) if month else None
    if kind == "first_half":
        return dt.date(year, 6, 30)
    if kind == "flood":
        return dt.date(year, *flood_season_start) - dt.timedelta(days=1)
    return dt.date(year, 12, 31)  # year_end, second_half


def read_time_hints(
    text: str, year: int, *, flood_season_start: tuple[int, int] = FLOOD_SEASON_START
) -> TimeHints:
    """Due date, recurrence and key dates that `text` states, on `year`'s calendar."""
    dues = [
        due
        for kind, marker, pattern in _DUE_PATTERNS
        if marker in text
        for match in pattern.finditer(text)
        if (due := _due_date(kind, match, year, flood_season_start)) is not None
    ]
    recurrence = next((name for name, pattern in _RECURRENCES if pattern.search(text)), None)
    key_dates: list[str] = []
    for run in _KEY_RUN.finditer(text):
        for name in _KEY_NAME_RE.findall(run.group()):
            if name not in key_dates:
                key_dates.append(name)
    return TimeHints(min(dues, default=None), recurrence, key_dates)


# A deadline column (完成时限) holds a bare date more often than a phrase:
# "2022年6月", "6月30日", "2022.6.30", "2022-06-30", "2022年" or "2022年度".
_DATE_CELL = re.compile(
    rf"(?:(?P<year>[12][0-9]{{3}})\s*[年.\uff0e/\-]\s*)?(?<![0-9])(?P<month>{_NUM})\s*"
    rf"(?:月份?|[.\uff0e/\-])\s*(?:(?P<day>{_NUM})\s*[日号]?)?"
)
_YEAR_CELL = re.compile(r"(?P<year>[12][0-9]{3})\s*年度?(?:全年)?")


def read_deadline(
    text: str, year: int, *, flood_season_start: tuple[int, int] = FLOOD_SEASON_START
) -> TimeHints:
    """Time hints of a deadline cell (完成时限 / 时间节点): the phrases
    `read_time_hints` knows, else a bare date — "6月" or "2022年6月" is the last day of
    that month, "6月30日", "2022.6.30" or "2022-06-30" that day, "2022年" or
    "2022年度" the last day of that year. Words such as 长期坚持 or 持续推进 give no
    due date. When several dates are written the earliest wins."""
    hints = read_time_hints(text, year, flood_season_start=flood_season_start)
    if hints.due is not None:
        return hints
    dues = []
    for match in _DATE_CELL.finditer(text):
        written_year = int(match.group("year")) if match.group("year") else year
        month = cn_number(match.group("month"))
        day = cn_number(match.group("day")) if match.group("day") else None
        if month is None or not 1 <= month <= 12:
            continue
        if day is None:
            dues.append(_month_end(written_year, month))
            continue
        try:
            dues.append(dt.date(written_year, month, day))
        except ValueError:
            continue
    if not dues:
        dues = [dt.date(int(m.group("year")), 12, 31) for m in _YEAR_CELL.finditer(text)]
    return TimeHints(min(dues, default=None), hints.recurrence, hints.key_dates)
