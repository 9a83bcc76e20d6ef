"""Department scores for bulletins (pure; no Django).

Three measures, each in [0, 1], combined with configurable weights (Plan.score_weights):

- on_time: of the milestones a department leads that fell due by the date, the
  share completed on or before their due date.
- completeness: for each task it leads, reported progress against the progress
  expected by now (straight line from the plan's start to the task's last due
  date), capped at 1, averaged.
- punctuality: for each full month before the date whose report deadline (the
  N-th working day of the next month) has passed, and each task the department
  leads or co-organises that was open in that month, whether the department
  filed a report after the previous month's deadline and by this one.

A measure with nothing to measure yet is None and its weight is left out, so
early in the year a department is judged only on what could already be judged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MEASURES = ("on_time", "completeness", "punctuality")


@dataclass(frozen=True)
class TaskScoreFacts:
    task_id: int
    start: dt.date
    end: dt.date  # last due date of the task
    milestones: Sequence[tuple[dt.date, dt.date | None]]  # (due, completed_on)
    percent: int  # lead's latest reported percent as of the date
    closed_on: dt.date | None  # done or paused from this date (no reports expected after)


@dataclass
class DepartmentScore:
    department: str
    led: int = 0
    co: int = 0
    on_time: float | None = None
    completeness: float | None = None
    punctuality: float | None = None
    score: float | None = None
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "department": self.department,
            "led": self.led,
            "co": self.co,
            "on_time": self.on_time,
            "completeness": self.completeness,
            "punctuality": self.punctuality,
            "score": self.score,
            "detail": self.detail,
        }


def _next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _previous_month(month: dt.date) -> dt.date:
    return dt.date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def report_deadline(
    month: dt.date, report_by_workday: int, add_workdays: Callable[[dt.date, int], dt.date]
) -> dt.date:
    """The deadline of the monthly report for the month starting `month`: the N-th
    working day of the next month (the (N-1)th after its first working day)."""
    return add_workdays(add_workdays(_next_month(month), 0), report_by_workday - 1)


def month_deadlines(
    start: dt.date,
    day: dt.date,
    report_by_workday: int,
    add_workdays: Callable[[dt.date, int], dt.date],
) -> list[tuple[dt.date, dt.date, dt.date]]:
    """(month_start, month_end, report_deadline) for full months from `start`
    whose report deadline is on or before `day`."""
    out = []
    month = dt.date(start.year, start.month, 1)
    while True:
        nxt = _next_month(month)
        deadline = report_deadline(month, report_by_workday, add_workdays)
        if deadline > day:
            break
        out.append((month, nxt - dt.timedelta(days=1), deadline))
        month = nxt
    return out


def report_window(
    day: dt.date, report_by_workday: int, add_workdays: Callable[[dt.date, int], dt.date]
) -> tuple[dt.date, dt.date]:
    """(after, due): the monthly report owed on `day` is one filed after `after`
    and by `due`, the window punctuality counts it in (score_departments): up to
    the N-th working day of a month the window is the previous month's, after it
    the current month's."""
    month = dt.date(day.year, day.month, 1)
    last_due = report_deadline(_previous_month(month), report_by_workday, add_workdays)
    if day <= last_due:
        earlier = _previous_month(_previous_month(month))
        return report_deadline(earlier, report_by_workday, add_workdays), last_due
    return last_due, report_deadline(month, report_by_workday, add_workdays)


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def score_departments(
    day: dt.date,
    tasks: Mapping[int, TaskScoreFacts],
    lead_of: Mapping[str, Iterable[int]],
    co_of: Mapping[str, Iterable[int]],
    report_dates: Mapping[tuple[str, int], Sequence[dt.date]],
    weights: Mapping[str, float],
    months: Sequence[tuple[dt.date, dt.date, dt.date]],
) -> list[DepartmentScore]:
    """Score every department named in lead_of/co_of as of `day`, best first.

    report_dates maps (department, task_id) to the dates that department filed
    reports on that task (any date; only those up to `day` are used)."""
    names = sorted(set(lead_of) | set(co_of))
    scores = []
    for name in names:
        led = sorted(set(lead_of.get(name, ())))
        co = sorted(set(co_of.get(name, ())) - set(led))
        s = DepartmentScore(name, led=len(led), co=len(co))

        due = [(d, c) for t in led for d, c in tasks[t].milestones if d < day]
        on_time = sum(1 for d, c in due if c is not None and c <= d and c <= day)
        s.on_time = _ratio(on_time, len(due))

        ratios = []
        for t in led:
            f = tasks[t]
            span = (f.end - f.start).days
            elapsed = (min(day, f.end) - f.start).days
            if span <= 0 or elapsed <= 0:
                continue
            expected = 100 * elapsed / span
            ratios.append(min(1.0, f.percent / expected))
        s.completeness = sum(ratios) / len(ratios) if ratios else None

        expected_reports = filed = 0
        for t in led + co:
            f = tasks[t]
            dates = [d for d in report_dates.get((name, t), ()) if d <= day]
            window_open = None
            for m_start, m_end, deadline in months:
                # Windows do not overlap: a month's report is one filed after the
                # previous month's deadline and by this month's deadline.
                lo, window_open = window_open, deadline
                if f.closed_on is not None and f.closed_on <= m_start:
                    continue
                if m_end < f.start:
                    continue
                expected_reports += 1
                if any((lo is None or d > lo) and d <= deadline for d in dates):
                    filed += 1
        s.punctuality = _ratio(filed, expected_reports)
        s.detail = {
            "milestones_due": len(due),
            "milestones_on_time": on_time,
            "reports_expected": expected_reports,
            "reports_on_time": filed,
        }

        parts = [(weights.get(k, 0.0), getattr(s, k)) for k in MEASURES]
        total_w = sum(w for w, v in parts if v is not None and w > 0)
        if total_w > 0:
            s.score = round(
                100 * sum(w * v for w, v in parts if v is not None and w > 0) / total_w, 1
            )
        scores.append(s)
    scores.sort(key=lambda s: (s.score is None, -(s.score or 0), s.department))
    return scores
