"""A realistic year of activity on a work plan, for the demo (`yingji demo`).

`load_demo(run)` is this module's `yingji demo` step (registered in apps.py):
the shipped 2022 plan, imported once, and its simulated year.

`simulate_year(plan)` plays the plan's year day by day through the real services,
so everything the demo shows was produced the way a bureau would produce it:

- each lead department sets its own stage milestones (阶段节点) in January for its
  long-running tasks, files a start-up report, then a monthly progress report in
  the first working days of each month (to the office), and completes its
  milestones (quarterly instances, key dates, stage nodes) mostly on time, with
  the percentage rising towards the day the task is finished;
- co-organising departments file their monthly reports to the lead department;
- about seven tasks run late: a milestone is missed, the daily supervision run
  (`services.supervise`, called at 09:00 of every working day) issues a real
  supervision notice (督办单), most notices are answered within the reply time,
  one is answered only after it escalated and one never is;
- one task affected by epidemic control is paused at its lead's request, approved
  by the `leader` account, and stays paused;
- a few tasks are still open at the end of the year (and one late task never
  catches up).

Every change is attributed to the acting department's demo account through
`audit.acting_as`. Notifications the supervision run queues for past dates are
history, not mail to send: they are marked sent at the simulated time instead of
being delivered.

Deterministic: the same plan and seed give the same year (random.Random(seed)).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from yingji.core import audit, outbox
from yingji.core import workcalendar as wc
from yingji.core.demos import DemoRun
from yingji.core.models import Department, Notification, Profile, Role
from yingji.workplan import services
from yingji.workplan.models import (
    Assignment,
    Milestone,
    Pause,
    Plan,
    ProgressReport,
    SupervisionNotice,
    Task,
)

SUPERVISION_LABEL = "督办程序"

# How many tasks of each kind the year has (capped by what the plan offers).
LATE_TASKS = 7
LATE_NEVER_CAUGHT_UP = 2
OPEN_AT_YEAR_END = 3
FINISHED_EARLY = 8
SLOW_STARTERS = 2
STAGE_NODE_SHARE = 0.75  # share of long-running tasks whose lead sets stage nodes

QUARTER_WORDS = {
    "第一季度": "一季度",
    "第二季度": "二季度",
    "第三季度": "三季度",
    "第四季度": "四季度",
}

_ACTIVITIES = [
    "召开专题会议研究部署",
    "印发工作通知,明确责任分工和完成时限",
    "赴各区开展督导调研",
    "组织相关处室会商推进",
    "梳理问题清单并逐项督促整改",
    "收集汇总各区各部门落实情况",
    "开展业务培训和经验交流",
    "对照任务清单开展自查",
]
_RESULTS = [
    "各项工作按计划推进",
    "已形成阶段性工作成果",
    "发现的问题已督促整改",
    "进展情况已向分管局领导汇报",
    "下一步将持续跟踪问效",
]
_CAUSES = [
    "涉及部门较多、协调周期较长",
    "受疫情防控工作影响,部分现场工作推迟",
    "前期调研时间超出预期",
    "需待上级部门文件印发后方可推进",
]
_MEASURES = [
    "召开专题会议研究整改措施",
    "明确专人负责并倒排工期",
    "加强与相关部门沟通协调",
]


@dataclass
class SimulationSummary:
    """What a simulated year produced (for the demo command's output and tests)."""

    reports: int = 0
    lead_reports: int = 0
    co_reports: int = 0
    milestones_added: int = 0
    milestones_completed: int = 0
    milestones_completed_late: int = 0
    notices: int = 0
    responses: int = 0
    escalations: int = 0
    pauses: int = 0
    notifications: int = 0
    late_tasks: list[int] = field(default_factory=list)
    open_tasks: list[int] = field(default_factory=list)
    paused_tasks: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """The summary in Chinese, one fact a line."""
        return [
            f"进展报告 {self.reports} 份(牵头处室 {self.lead_reports},配合处室 {self.co_reports})",
            f"阶段节点 {self.milestones_added} 个;完成节点 {self.milestones_completed} 个"
            f"(其中逾期完成 {self.milestones_completed_late} 个)",
            f"督办单 {self.notices} 份,已回复 {self.responses} 份,逾期未回复升级 {self.escalations} 份",
            f"暂缓 {self.pauses} 项;通知 {self.notifications} 条(历史记录,已标记为已发送)",
            "滞后任务:" + "、".join(str(n) for n in self.late_tasks),
            "年底仍在推进:" + "、".join(str(n) for n in self.open_tasks),
            "暂缓任务:" + "、".join(str(n) for n in self.paused_tasks),
        ]


# ---------------------------------------------------------------- who acts


@dataclass
class _Actors:
    by_department: dict[int, object]
    leader: object
    admin: object | None

    @classmethod
    def load(cls) -> _Actors:
        user_model = get_user_model()
        by_department: dict[int, object] = {}
        # Department staff first: the supervisor account belongs to 办公室 too, but
        # the office's own reports are filed by its staff.
        profiles = (
            Profile.objects.filter(department__isnull=False, user__is_active=True)
            .select_related("user")
            .order_by("user__username")
        )
        for preferred in (True, False):
            for p in profiles:
                if (p.role == Role.DEPT_STAFF) == preferred:
                    by_department.setdefault(p.department_id, p.user)
        leader = (
            user_model.objects.filter(username="leader", is_active=True).first()
            or user_model.objects.filter(profile__role=Role.LEADER, is_active=True).first()
        )
        admin = user_model.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        approver = leader or admin
        if approver is None:
            raise RuntimeError("没有可审批暂缓的局领导或管理员账号:请先运行 yingji demo_users")
        return cls(by_department, approver, admin)

    def user_for(self, dept: Department):
        return self.by_department.get(dept.pk)

    @contextlib.contextmanager
    def acting(self, dept: Department) -> Iterator[object]:
        """Act as the department's demo account (or, without one, as the department)."""
        user = self.user_for(dept)
        with audit.acting_as(user, None if user else f"{dept.name}(演示)"):
            yield user


# ---------------------------------------------------------------- texts


def fragments(text: str) -> list[str]:
    """Short phrases of a task's own text, to build progress texts from."""
    out = []
    for sentence in re.split(r"[。;;!?]", text):
        sentence = re.sub(r"^[\s,,、]+|[\s,,、]+$", "", sentence)
        if len(sentence) < 6:
            continue
        if len(sentence) > 34:
            parts = [p for p in re.split(r"[,,:]", sentence) if len(p) >= 6]
            sentence = parts[0] if parts else sentence[:34]
            sentence = sentence if len(sentence) <= 34 else sentence[:34]
        out.append(sentence)
    return out or [text[:30]]


def _milestone_phrase(title: str) -> str:
    for long, short in QUARTER_WORDS.items():
        if long in title:
            return short
    return title


# ---------------------------------------------------------------- the script


@dataclass
class _Script:
    task: Task
    lead: Department
    co: list[Department]
    kind: str = "normal"  # normal, early, open, late, late_open, paused
    start: dt.date | None = None
    finish: dt.date | None = None  # the 100 % report; None: not finished this year
    target: dt.date | None = None  # when the percentage would reach 100
    milestones: list[Milestone] = field(default_factory=list)
    stage_ids: set[int] = field(default_factory=set)
    done_on: dict[int, dt.date | None] = field(default_factory=dict)
    late_ids: set[int] = field(default_factory=set)
    reply: str = "prompt"  # prompt, after_escalation, never
    pause_on: dt.date | None = None
    frags: list[str] = field(default_factory=list)

    def percent(self, day: dt.date) -> int:
        """Reported progress: a straight line from the start to the target, in
        steps of 5, kept between 5 and 95 until the task is finished."""
        span = (self.target - self.start).days + 20
        raw = 100 * ((day - self.start).days + 20) / span
        return int(max(5, min(95, 5 * round(raw / 5))))

    def frag(self, i: int) -> str:
        return self.frags[i % len(self.frags)]


class _Calendar:
    """The year's working days, for picking dates."""

    def __init__(self, year: int):
        self.year = year
        day, self.days = dt.date(year, 1, 1), []
        while day.year == year:
            if wc.is_workday(day):
                self.days.append(day)
            day += dt.timedelta(days=1)

    def between(self, a: dt.date, b: dt.date) -> list[dt.date]:
        return [d for d in self.days if a <= d <= b]

    def pick(self, rng: random.Random, a: dt.date, b: dt.date) -> dt.date:
        days = self.between(a, b)
        return rng.choice(days) if days else self.on_or_before(b)

    def on_or_before(self, day: dt.date) -> dt.date:
        earlier = [d for d in self.days if d <= day]
        return earlier[-1] if earlier else self.days[0]

    def nth_of_month(self, year: int, month: int, n: int) -> dt.date | None:
        if year != self.year:
            return None
        days = [d for d in self.days if d.month == month]
        return days[n - 1] if len(days) >= n else None


def _lead_and_co(task: Task) -> tuple[Department, list[Department]]:
    assignments = sorted(
        task.assignments.all(),
        key=lambda a: (a.clause_id is not None, a.clause_id or 0, a.position),
    )
    lead = next(
        (
            a.department
            for a in assignments
            if a.role == Assignment.Role.LEAD and a.clause_id is None
        ),
        None,
    )
    if lead is None:
        lead = next(a.department for a in assignments if a.role == Assignment.Role.LEAD)
    co, seen = [], {lead.pk}
    for a in assignments:
        if a.department_id not in seen:
            seen.add(a.department_id)
            co.append(a.department)
    return lead, co


def _year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)


def _plan_scripts(plan: Plan, rng: random.Random, cal: _Calendar, actors: _Actors) -> list[_Script]:
    """Decide each task's year, and let leads set their stage nodes."""
    year = plan.year
    tasks = list(
        plan.tasks.prefetch_related("assignments__department", "milestones").order_by("number")
    )
    scripts = []
    for task in tasks:
        lead, co = _lead_and_co(task)
        s = _Script(task, lead, co, frags=fragments(task.text))
        s.milestones = sorted(task.milestones.all(), key=lambda m: (m.due, m.pk))
        scripts.append(s)

    def annual_only(s: _Script) -> bool:
        return len(s.milestones) == 1 and s.milestones[0].due == _year_end(year)

    # One task held up by epidemic control; failing that, any task with one deadline.
    paused = next((s for s in scripts if "疫情" in s.task.text and annual_only(s)), None)
    if paused is None:
        candidates = [s for s in scripts if annual_only(s)]
        paused = rng.choice(candidates) if candidates else None
    if paused is not None:
        paused.kind = "paused"
    free = [s for s in scripts if s.kind == "normal" and annual_only(s)]
    for s in rng.sample(free, min(FINISHED_EARLY, len(free))):
        s.kind = "early"

    # Leads of long-running tasks break them into stage nodes in January.
    for s in scripts:
        if s.kind != "normal" or not annual_only(s) or rng.random() > STAGE_NODE_SHARE:
            continue
        nodes = [("印发工作方案", _month_end(year, rng.choice([3, 4])))]
        if rng.random() < 0.6:
            due = rng.choice([dt.date(year, 6, 30), dt.date(year, 9, 30)])
            nodes.append(("完成上半年任务" if due.month == 6 else "完成前三季度任务", due))
        with actors.acting(s.lead) as user:
            for title, due in nodes:
                m = services.add_milestone(
                    s.task, user or actors.leader, title=f"阶段节点:{title}", due=due
                )
                s.milestones.append(m)
                s.stage_ids.add(m.pk)
        s.milestones.sort(key=lambda m: (m.due, m.pk))

    def final_due(s: _Script) -> dt.date:
        return max(m.due for m in s.milestones)

    def missable(s: _Script) -> list[Milestone]:
        last = final_due(s)
        return [
            m
            for m in s.milestones
            if dt.date(year, 3, 15) <= m.due <= dt.date(year, 9, 30) and m.due < last
        ]

    late = [s for s in scripts if s.kind == "normal" and missable(s)]
    late = rng.sample(late, min(LATE_TASKS, len(late)))
    # The tasks that never catch up are those that slipped earliest: they are
    # still late on the mid-year board and on the year-end one.
    late.sort(key=lambda s: missable(s)[0].due)
    for i, s in enumerate(late):
        s.kind = "late_open" if i < LATE_NEVER_CAUGHT_UP else "late"
        missed = missable(s)[0] if s.kind == "late_open" else rng.choice(missable(s))
        s.late_ids.add(missed.pk)
        if s.kind == "late_open":  # never catches up: everything from there on slips
            s.late_ids |= {m.pk for m in missable(s) if m.due >= missed.due}
    # One late department never answers, one answers only after the escalation.
    replies = ["never", "after_escalation"]
    for s in rng.sample(late, len(late)):
        s.reply = replies.pop() if replies else "prompt"

    rest = [s for s in scripts if s.kind == "normal"]
    for s in rng.sample(rest, min(OPEN_AT_YEAR_END, len(rest))):
        s.kind = "open"
    slow = [s for s in scripts if s.kind in ("normal", "open") and annual_only(s)]
    slow_starters = {s.task.pk for s in rng.sample(slow, min(SLOW_STARTERS, len(slow)))}

    for s in scripts:
        _schedule_task(s, rng, cal, year, s.task.pk in slow_starters)
    return scripts


def _schedule_task(
    s: _Script, rng: random.Random, cal: _Calendar, year: int, slow_start: bool
) -> None:
    """Dates for one task: start, milestone completions, finish, pause."""
    first_due = min(m.due for m in s.milestones)
    last_due = max(m.due for m in s.milestones)
    if slow_start:
        s.start = cal.pick(rng, dt.date(year, 7, 1), dt.date(year, 7, 29))
    elif rng.random() < 0.8:
        s.start = cal.pick(rng, dt.date(year, 1, 5), dt.date(year, 1, 28))
    else:
        s.start = cal.pick(rng, dt.date(year, 2, 7), dt.date(year, 2, 25))
    if s.start > first_due - dt.timedelta(days=14):
        s.start = (
            cal.days[0]
            if first_due - dt.timedelta(days=14) < cal.days[0]
            else cal.on_or_before(first_due - dt.timedelta(days=14))
        )

    if s.kind == "early":
        s.finish = cal.pick(rng, dt.date(year, 5, 1), dt.date(year, 9, 30))
    elif s.kind in ("normal", "late"):
        if any(
            m.kind == Milestone.Kind.CUSTOM and m.pk not in s.stage_ids and m.due == last_due
            for m in s.milestones
        ):
            s.finish = last_due  # a key date: the work is done on the day itself
        else:
            s.finish = cal.pick(rng, last_due - dt.timedelta(days=40), last_due)
    elif s.kind == "paused":
        s.pause_on = cal.pick(rng, dt.date(year, 4, 6), dt.date(year, 4, 20))

    for m in s.milestones:
        if m.due == last_due:
            continue  # completed by the finishing report (or not at all)
        if m.pk in s.late_ids:
            s.done_on[m.pk] = (
                None if s.kind == "late_open" else wc.add_workdays(m.due, rng.randint(12, 40))
            )
        elif m.kind == Milestone.Kind.CUSTOM and m.pk not in s.stage_ids:
            s.done_on[m.pk] = m.due  # key dates (春节, 国庆 …): done during the period
        else:
            s.done_on[m.pk] = wc.add_workdays(cal.on_or_before(m.due), -rng.randint(0, 6))
        if s.done_on[m.pk] is not None and s.done_on[m.pk] < s.start:
            s.done_on[m.pk] = s.start
        if s.pause_on and m.due >= s.pause_on:
            s.done_on[m.pk] = None
    if s.finish is not None:
        latest = max((d for d in s.done_on.values() if d), default=s.start)
        if s.finish <= latest:
            s.finish = min(wc.add_workdays(latest, rng.randint(3, 10)), last_due)
        s.finish = max(s.finish, s.start + dt.timedelta(days=1))

    if s.finish is not None:
        s.target = s.finish
    elif s.kind == "paused":
        s.target = s.pause_on + dt.timedelta(days=200)
    elif s.kind == "late_open":
        s.target = _year_end(year) + dt.timedelta(days=150)
    else:  # open: most of the way there by the end of the year
        s.target = _year_end(year) + dt.timedelta(days=rng.randint(40, 90))


# ---------------------------------------------------------------- events


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    run: Callable[[], None] = field(compare=False)


class _Simulation:
    def __init__(self, plan: Plan, seed: int, until: dt.date | None):
        self.plan = plan
        self.year = plan.year
        self.end = until or _year_end(plan.year)
        self.rng = random.Random(seed)
        self.cal = _Calendar(plan.year)
        self.actors = _Actors.load()
        self.summary = SimulationSummary()
        self.events: dict[dt.date, list[_Event]] = defaultdict(list)
        self.seq = 0
        self.scripts: dict[int, _Script] = {}

    # -- scheduling

    def at(self, day: dt.date, hour: int, minute: int, run: Callable[[], None]) -> None:
        if day > self.end or day.year != self.year:
            return
        self.seq += 1
        when = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        self.events[day].append(_Event(when, self.seq, run))

    def schedule(self) -> None:
        scripts = _plan_scripts(self.plan, self.rng, self.cal, self.actors)
        self.summary.milestones_added = sum(len(s.stage_ids) for s in scripts)
        for s in scripts:
            self.scripts[s.task.pk] = s
            self._schedule_reports(s)

    def _schedule_reports(self, s: _Script) -> None:
        rng = self.rng
        stop = s.finish or s.pause_on or _year_end(self.year)
        milestone_days = {}
        for m in s.milestones:
            done = s.done_on.get(m.pk)
            if done is not None:
                milestone_days[done] = m
                late = m.pk in s.late_ids
                self.at(done, 16, rng.randint(0, 29), functools.partial(self._complete, s, m, late))
        if s.finish is not None:
            self.at(s.finish, 16, 40, functools.partial(self._finish, s))
        if s.kind == "paused":
            self.at(s.pause_on, 10, 5, functools.partial(self._request_pause, s))
        self.at(s.start, 15, rng.randint(0, 59), functools.partial(self._start, s))
        # Monthly reports, in the first working days of the next month.
        for month in range(s.start.month, 13):
            n = rng.randint(1, 5) if rng.random() < 0.9 else rng.randint(6, 8)
            day = self.cal.nth_of_month(self.year, month + 1, n) if month < 12 else None
            if day is None or day >= stop or day <= s.start:
                continue
            if day not in milestone_days:
                self.at(
                    day, 15, rng.randint(0, 59), functools.partial(self._monthly, s, month, day)
                )
            for i, dept in enumerate(s.co):
                if rng.random() < 0.85:
                    co_day = self.cal.on_or_before(day - dt.timedelta(days=rng.randint(0, 2)))
                    if co_day > s.start:
                        self.at(
                            co_day,
                            10,
                            min(59, 5 * i + rng.randint(0, 9)),
                            functools.partial(self._co_report, s, dept, month, co_day),
                        )
        if s.finish is None and s.kind in ("open", "late_open"):
            day = self.cal.pick(rng, dt.date(self.year, 12, 20), dt.date(self.year, 12, 29))
            self.at(day, 17, 0, functools.partial(self._year_summary, s, day))

    # -- actions

    def _file(
        self,
        s: _Script,
        dept: Department,
        when: dt.datetime,
        percent: int,
        text: str,
        milestone: Milestone | None = None,
    ) -> None:
        with self.actors.acting(dept) as user:
            services.file_report(
                s.task,
                user,
                percent=percent,
                text=text,
                milestone=milestone,
                department=dept,
                reported_at=when,
            )
        self.summary.reports += 1
        if dept.pk == s.lead.pk:
            self.summary.lead_reports += 1
        else:
            self.summary.co_reports += 1

    def _start(self, s: _Script, when: dt.datetime) -> None:
        text = (
            f"已召开专题会议研究部署“{s.frag(0)}”工作,制定工作方案,"
            "明确责任分工和时间节点,各项工作已启动。"
        )
        self._file(s, s.lead, when, s.percent(when.date()), text)

    def _monthly(self, s: _Script, month: int, day: dt.date, when: dt.datetime) -> None:
        rng = self.rng
        text = f"{month}月,围绕“{s.frag(month)}”,{rng.choice(_ACTIVITIES)},{rng.choice(_RESULTS)}。"
        self._file(s, s.lead, when, s.percent(day), text)

    def _co_report(
        self, s: _Script, dept: Department, month: int, day: dt.date, when: dt.datetime
    ) -> None:
        text = (
            f"{month}月,配合{s.lead.name}做好“{s.frag(month + 1)}”相关工作,"
            "已按分工完成本处室承担事项,相关材料已报牵头处室。"
        )
        self._file(s, dept, when, s.percent(day), text)

    def _complete(self, s: _Script, m: Milestone, late: bool, when: dt.datetime) -> None:
        m.refresh_from_db(fields=["completed_on"])
        if m.completed_on is not None:
            return
        phrase = _milestone_phrase(m.title)
        if late:
            text = f"经督办整改,节点“{m.title}”已完成:{s.frag(1)},相关材料已报办公室。"
        elif m.pk in s.stage_ids:
            text = f"已完成{phrase.removeprefix('阶段节点:')}:{s.frag(1)},按计划转入下一阶段。"
        elif m.kind == Milestone.Kind.RECURRENCE:
            text = f"已完成{phrase}“{s.frag(1)}”工作,形成{phrase}工作小结。"
        else:
            period = m.title.removesuffix("节点")
            text = f"{period}期间,{s.frag(1)},已按要求完成节点任务,未发现重大问题。"
        self._file(s, s.lead, when, s.percent(when.date()), text, milestone=m)
        self.summary.milestones_completed += 1
        if late or m.due < when.date():
            self.summary.milestones_completed_late += 1

    def _finish(self, s: _Script, when: dt.datetime) -> None:
        open_count = s.task.milestones.filter(completed_on__isnull=True).count()
        text = f"“{s.task.short}”各项工作已全部完成,已形成年度工作总结报局领导。"
        self._file(s, s.lead, when, 100, text)
        self.summary.milestones_completed += open_count

    def _year_summary(self, s: _Script, day: dt.date, when: dt.datetime) -> None:
        text = (
            f"年度工作小结:围绕“{s.frag(2)}”已完成大部分工作,"
            f"剩余工作将于{self.year + 1}年继续推进。"
        )
        self._file(s, s.lead, when, s.percent(day), text)

    def _request_pause(self, s: _Script, when: dt.datetime) -> None:
        reason = (
            f"受新冠肺炎疫情防控形势影响,按照疫情防控要求暂停举办大型聚集性活动,"
            f"“{s.frag(0)}”相关工作无法按计划推进,申请暂缓,待疫情形势好转后恢复推进。"
        )
        with self.actors.acting(s.lead) as user:
            pause = services.request_pause(
                s.task, user or self.actors.admin or self.actors.leader, reason, at=when
            )
        decide_on = wc.add_workdays(when.date(), 1)
        self.at(decide_on, 15, 10, functools.partial(self._approve, pause))

    def _approve(self, pause: Pause, when: dt.datetime) -> None:
        with audit.acting_as(self.actors.leader):
            services.decide_pause(pause, self.actors.leader, True, at=when)
        self.summary.pauses += 1

    def _respond(self, notice: SupervisionNotice, s: _Script, when: dt.datetime) -> None:
        rng = self.rng
        milestone = notice.milestone
        promise = wc.add_workdays(when.date(), rng.randint(5, 15))
        text = (
            f"已收到督办单{notice.serial}。节点“{milestone.title if milestone else ''}”滞后的主要原因是"
            f"{rng.choice(_CAUSES)}。我处已{rng.choice(_MEASURES)},"
            f"预计于{promise.month}月{promise.day}日前完成。"
        )
        user = self.actors.user_for(s.lead) or self.actors.admin
        if user is None:  # nobody may answer for this department
            return
        notice.refresh_from_db()
        with self.actors.acting(s.lead):
            services.respond_notice(notice, user, text, at=when)
        self.summary.responses += 1

    # -- the daily run

    def supervise(self, day: dt.date) -> None:
        now = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
        last = Notification.objects.aggregate(m=Max("pk"))["m"] or 0
        with audit.acting_as(None, SUPERVISION_LABEL), outbox.held():
            result = services.supervise(day, now=now, plans=[self.plan])
        # History, not mail: marked sent when it was queued, never delivered.
        self.summary.notifications += Notification.objects.filter(
            pk__gt=last, status=Notification.Status.QUEUED
        ).update(status=Notification.Status.SENT, created_at=now, sent_at=now)
        self.summary.notices += len(result.notices)
        self.summary.escalations += result.escalations
        for notice in result.notices:
            s = self.scripts.get(notice.task_id)
            if s is None or s.reply == "never":
                continue
            if s.reply == "after_escalation":
                reply_on = wc.add_workdays(notice.respond_by, 2)
            else:
                reply_on = min(wc.add_workdays(day, self.rng.randint(0, 2)), notice.respond_by)
            self.at(
                reply_on,
                11 if reply_on > day else 14,
                self.rng.randint(0, 59),
                functools.partial(self._respond, notice, s),
            )

    def run(self) -> SimulationSummary:
        started = time.perf_counter()
        self.schedule()
        day = dt.date(self.year, 1, 1)
        while day <= self.end:
            if wc.is_workday(day):
                self.supervise(day)
            # Events can schedule more events on the same day (a reply at 14:00 to
            # a notice issued at 09:00), so take them one at a time.
            while self.events[day]:
                event = min(self.events[day])
                self.events[day].remove(event)
                event.run(event.at)
            day += dt.timedelta(days=1)
        for s in self.scripts.values():
            if s.kind in ("late", "late_open"):
                self.summary.late_tasks.append(s.task.number)
            if s.kind in ("open", "late_open"):
                self.summary.open_tasks.append(s.task.number)
            if s.kind == "paused":
                self.summary.paused_tasks.append(s.task.number)
        for values in (self.summary.late_tasks, self.summary.open_tasks, self.summary.paused_tasks):
            values.sort()
        self.summary.seconds = time.perf_counter() - started
        return self.summary


def simulate_year(plan: Plan, seed: int = 2022, until: dt.date | None = None) -> SimulationSummary:
    """Play a realistic year of activity on `plan` (see the module docstring), up
    to and including `until` (default: 31 December of the plan's year).

    All or nothing: one transaction. Meant for a plan without reports yet; the
    demo command only calls it then."""
    with transaction.atomic():
        return _Simulation(plan, seed, until).run()


# ------------------------------------------------------------ `yingji demo`

DEMO_YEAR = 2022
SEED_PLAN = Path(__file__).resolve().parent / "data" / "guangzhou_2022_plan.txt"


def load_demo(run: DemoRun) -> None:
    """The `yingji demo` step of this module (core/demos.py): import the shipped
    2022 plan (once), simulate its year (once, when the plan has no reports) and
    offer the plan board's address. Prints its own lines."""
    plan = _seed_plan(run)
    _simulate_once(run, plan)
    run.links.append(("挂图作战", reverse("workplan:board", args=[plan.pk])))


def _seed_plan(run: DemoRun) -> Plan:
    if not SEED_PLAN.is_file():
        raise CommandError(f"找不到随包发布的工作要点文件:{SEED_PLAN}")
    sha = hashlib.sha256(SEED_PLAN.read_bytes()).hexdigest()
    plan = Plan.objects.filter(source_sha256=sha).first()
    if plan is not None:
        run.stdout.write(f"· 工作要点:已导入“{plan.title}”,{plan.tasks.count()} 个任务")
        return plan
    admin = get_user_model().objects.filter(username="admin").first()
    title = f"{settings.YINGJI_BUREAU_NAME}{DEMO_YEAR}年工作要点"
    with audit.acting_as(admin, None if admin else "演示数据"):
        run.step(
            "工作要点", "plan", "import", str(SEED_PLAN), "--year", str(DEMO_YEAR), "--title", title
        )
    plan = Plan.objects.get(source_sha256=sha)
    if admin is not None and plan.imported_by_id is None:
        # The import command has no --user; the demo's import is the admin's.
        with audit.acting_as(admin):
            plan.imported_by = admin
            plan.save(update_fields=["imported_by"])
    return plan


def _simulate_once(run: DemoRun, plan: Plan) -> None:
    if ProgressReport.objects.filter(task__plan=plan).exists():
        run.stdout.write("· 模拟进展:已有进展记录,不再生成")
        return
    run.stdout.write(f"· 模拟进展:生成 {plan.year} 年全年的进展、督办和暂缓记录 …")
    summary = simulate_year(plan, seed=run.seed)
    for line in summary.lines():
        run.stdout.write(f"    {line}")
    run.stdout.write(f"    用时 {summary.seconds:.1f} 秒")
