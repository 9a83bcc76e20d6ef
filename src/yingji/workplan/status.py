"""Task status, derived (pure; no Django).

A task's status is never typed in: it follows from its milestones, the lead
department's progress reports and approved pauses, as they stood on a given
date. The same facts and date always give the same status and reason, which is
what lets the board and bulletins of any past month be reproduced.

Rules, in order:
1. 暂缓 (paused): an approved pause covers the date.
2. 已完成 (done): every milestone is completed (a task without milestones: the
   lead reported 100 %).
3. 滞后 (late): a milestone's due date has passed (by at least one working day)
   and it is not completed.
4. 未启动 (not started): no report from the lead and no milestone completed.
5. 推进中 (in progress): otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    LATE = "late"
    PAUSED = "paused"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    Status.NOT_STARTED: "未启动",
    Status.IN_PROGRESS: "推进中",
    Status.DONE: "已完成",
    Status.LATE: "滞后",
    Status.PAUSED: "暂缓",
}
BOARD_ORDER = [Status.NOT_STARTED, Status.IN_PROGRESS, Status.LATE, Status.DONE, Status.PAUSED]


@dataclass(frozen=True)
class MilestoneFact:
    id: int
    title: str
    due: dt.date
    completed_on: dt.date | None = None

    def completed_by(self, day: dt.date) -> bool:
        return self.completed_on is not None and self.completed_on <= day


@dataclass(frozen=True)
class ReportFact:
    on: dt.date
    percent: int


@dataclass(frozen=True)
class PauseFact:
    start: dt.date
    end: dt.date | None
    reason: str

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass
class TaskFacts:
    milestones: Sequence[MilestoneFact] = ()
    lead_reports: Sequence[ReportFact] = ()  # the lead department's reports
    pauses: Sequence[PauseFact] = ()


@dataclass
class Derived:
    status: Status
    reason: str
    percent: int
    last_report_on: dt.date | None = None
    overdue: list[MilestoneFact] = field(default_factory=list)
    next_milestone: MilestoneFact | None = None

    @property
    def label(self) -> str:
        return LABELS[self.status]


def latest_report(reports: Sequence[ReportFact], day: dt.date) -> ReportFact | None:
    seen = [r for r in reports if r.on <= day]
    return max(seen, key=lambda r: r.on) if seen else None


def late_by(
    due: dt.date, day: dt.date, workdays_between: Callable[[dt.date, dt.date], int]
) -> tuple[int, str]:
    """How late `day` is after `due`, and the unit said to the user. Beyond the
    working-day calendar's data (its function raises ValueError) the count falls
    back to calendar days and the text says so, instead of guessing working days."""
    try:
        return workdays_between(due, day), "个工作日"
    except ValueError:
        return (day - due).days, "天(工作日历无该年数据,按自然日计)"


def derive(
    facts: TaskFacts, day: dt.date, workdays_between: Callable[[dt.date, dt.date], int]
) -> Derived:
    """Status of a task as it stood at the end of `day`."""
    report = latest_report(facts.lead_reports, day)
    percent = report.percent if report else 0
    last_on = report.on if report else None
    open_ms = sorted((m for m in facts.milestones if not m.completed_by(day)), key=lambda m: m.due)
    next_ms = open_ms[0] if open_ms else None

    for pause in facts.pauses:
        if pause.covers(day):
            return Derived(
                Status.PAUSED,
                f"{pause.start:%Y-%m-%d} 起经批准暂缓:{pause.reason}",
                percent,
                last_on,
                [],
                next_ms,
            )

    # A 100 % report completes the open milestones (services.file_report), so
    # "done" is simply: nothing left open.
    if (facts.milestones and not open_ms) or (not facts.milestones and percent >= 100):
        if report and percent >= 100:
            reason = f"牵头处室 {report.on:%Y-%m-%d} 报告已完成"
        else:
            done_on = max(m.completed_on for m in facts.milestones if m.completed_on)
            reason = f"全部节点已于 {done_on:%Y-%m-%d} 前完成"
        return Derived(Status.DONE, reason, 100, last_on)

    overdue = [m for m in open_ms if m.due < day and late_by(m.due, day, workdays_between)[0] >= 1]
    if overdue:
        worst = overdue[0]
        n, unit = late_by(worst.due, day, workdays_between)
        extra = f"等 {len(overdue)} 个节点" if len(overdue) > 1 else ""
        return Derived(
            Status.LATE,
            f"节点“{worst.title}”应于 {worst.due:%Y-%m-%d} 完成,已逾期 {n} {unit}{extra}",
            percent,
            last_on,
            overdue,
            next_ms,
        )

    completed_any = any(m.completed_by(day) for m in facts.milestones)
    if report is None and not completed_any:
        hint = f",首个节点“{next_ms.title}”{next_ms.due:%Y-%m-%d}" if next_ms else ""
        return Derived(Status.NOT_STARTED, f"牵头处室尚未报送进展{hint}", 0, None, [], next_ms)

    parts = []
    if report:
        parts.append(f"最新进度 {percent}%({report.on:%Y-%m-%d})")
    if next_ms:
        parts.append(f"下一节点“{next_ms.title}”{next_ms.due:%Y-%m-%d}")
    return Derived(Status.IN_PROGRESS, ",".join(parts) or "推进中", percent, last_on, [], next_ms)
