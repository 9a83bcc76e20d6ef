"""Synthetic work-plan data for the benchmarks, built fast with bulk_create and
the audit log suspended (generated data, not anybody's changes).

`build(spec)` creates, in the configured database:

- the seed's bureau departments (23) and a `supervisor` account that sees everything;
- `spec.plans` plans of 2022, each with 7 sections and `spec.tasks_per_plan` tasks
  (one lead and 0–3 co-organising departments each, four quarterly milestones,
  most completed on time, some late, a few never);
- `spec.reports` progress reports spread over all tasks and over 2022, the lead's
  percentage rising through the year; about 40 % from co-organisers;
- per plan one approved pause and a few supervision notices.

Deterministic for a given spec (random.Random(spec.seed)).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from yingji.core import audit
from yingji.core.models import Department, DepartmentKind, Profile, Role
from yingji.workplan.models import (
    Assignment,
    Milestone,
    Pause,
    Plan,
    ProgressReport,
    Section,
    SupervisionNotice,
    Task,
)

YEAR = 2022
# The bureau departments and units named in the 2022 seed plan.
DEPARTMENTS = [
    "机关党委",
    "办公室",
    "新闻处",
    "人事处",
    "机关纪委",
    "综合处",
    "科技和统计处",
    "减灾处",
    "指挥处",
    "法规处",
    "三防处",
    "救援预案处",
    "防火处",
    "基础处",
    "危化处",
    "执法处",
    "科技处",
    "火灾处",
    "火灾管理处",
    "三防指挥中心",
    "地震局",
    "指挥中心",
    "地震监测中心",
]
SECTION_TITLES = [
    "强化政治引领,高站位推进应急管理事业改革发展",
    "强化责任落实,成体系拧紧安全防范责任链条",
    "强化风险防范,全周期加强城市本质安全",
    "强化专项整治,贯到底守牢安全生产根基",
    "强化灾害防治,立体式夯实防灾减灾基础",
    "强化应急准备,高标准保持应急救援状态",
    "强化宣传教育,全覆盖筑牢人民安全防线",
]
_VERBS = ["推进", "完善", "深化", "组织开展", "健全", "加强", "落实", "统筹推动"]
_OBJECTS = [
    "安全风险隐患排查治理",
    "应急预案数字化管理",
    "基层应急管理能力建设",
    "危险化学品安全风险集中治理",
    "森林防灭火规范化管理",
    "自然灾害综合风险普查",
    "安全生产专项整治",
    "应急指挥平台建设",
    "防灾减灾科普宣传",
    "执法队伍建设",
]
QUARTERS = ["第一季度", "第二季度", "第三季度", "第四季度"]
QUARTER_ENDS = [
    dt.date(YEAR, 3, 31),
    dt.date(YEAR, 6, 30),
    dt.date(YEAR, 9, 30),
    dt.date(YEAR, 12, 31),
]
BATCH = 5000


@dataclass(frozen=True)
class Spec:
    """The size of the data set."""

    plans: int = 20
    tasks_per_plan: int = 100
    reports: int = 50_000
    notices_per_plan: int = 4
    seed: int = 2022


def _aware(day: dt.date, seconds: int) -> dt.datetime:
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time.min) + dt.timedelta(seconds=seconds)
    )


def _task_text(rng: random.Random, number: int) -> str:
    a, b = rng.sample(_OBJECTS, 2)
    return (
        f"{rng.choice(_VERBS)}{a},{rng.choice(_VERBS)}{b},"
        f"按季度报送进展并形成第{number}项任务的工作台账。"
    )


@transaction.atomic
def build(spec: Spec) -> dict[str, int]:
    """Create the data set; returns the row counts per model."""
    rng = random.Random(spec.seed)
    with audit.suspended():
        existing = {d.name: d for d in Department.objects.filter(name__in=DEPARTMENTS)}
        Department.objects.bulk_create(
            [
                Department(name=n, kind=DepartmentKind.BUREAU_DEPT, sort_order=i)
                for i, n in enumerate(DEPARTMENTS)
                if n not in existing
            ]
        )
        depts = list(Department.objects.filter(name__in=DEPARTMENTS).order_by("sort_order"))

        user_model = get_user_model()
        supervisor = user_model(username="supervisor")
        supervisor.set_unusable_password()  # the benchmark logs in with force_login
        supervisor.save()
        Profile.objects.create(user=supervisor, role=Role.SUPERVISOR, full_name="督查员(基准测试)")

        plans = Plan.objects.bulk_create(
            [
                Plan(
                    title=f"基准测试工作要点 {i + 1:02d}",
                    year=YEAR,
                    source_sha256=hashlib.sha256(f"bench:{spec.seed}:{i}".encode()).hexdigest(),
                    source_name="synthetic",
                )
                for i in range(spec.plans)
            ]
        )
        sections = Section.objects.bulk_create(
            [
                Section(plan=p, number=n + 1, title=f"{'一二三四五六七'[n]}、{t}")
                for p in plans
                for n, t in enumerate(SECTION_TITLES)
            ]
        )
        by_plan = {}
        for s in sections:
            by_plan.setdefault(s.plan_id, []).append(s)

        tasks = []
        for p in plans:
            secs = by_plan[p.pk]
            for n in range(spec.tasks_per_plan):
                sec = secs[n * len(secs) // spec.tasks_per_plan]
                tasks.append(
                    Task(
                        plan=p,
                        section=sec,
                        number=n + 1,
                        text=_task_text(rng, n + 1),
                        recurrence="quarterly",
                    )
                )
        tasks = Task.objects.bulk_create(tasks, batch_size=BATCH)

        assignments, milestones, owners = [], [], {}
        for t in tasks:
            chosen = rng.sample(depts, 1 + rng.choice([0, 1, 1, 2, 3]))
            owners[t.pk] = chosen
            for pos, d in enumerate(chosen):
                assignments.append(
                    Assignment(
                        task=t,
                        department=d,
                        position=pos,
                        name_as_written=d.name,
                        role=Assignment.Role.LEAD if pos == 0 else Assignment.Role.CO,
                    )
                )
            for q, due in enumerate(QUARTER_ENDS):
                roll = rng.random()
                if roll < 0.85:
                    done = due - dt.timedelta(days=rng.randint(0, 20))
                elif roll < 0.95:
                    done = due + dt.timedelta(days=rng.randint(5, 30))
                else:
                    done = None
                if done is not None and done.year != YEAR:
                    done = None
                milestones.append(
                    Milestone(
                        task=t,
                        kind=Milestone.Kind.RECURRENCE,
                        title=f"{YEAR}年{QUARTERS[q]}",
                        due=due,
                        completed_on=done,
                    )
                )
        Assignment.objects.bulk_create(assignments, batch_size=BATCH)
        milestones = Milestone.objects.bulk_create(milestones, batch_size=BATCH)

        reports = []
        for _ in range(spec.reports):
            t = rng.choice(tasks)
            day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
            is_lead = rng.random() < 0.6 or len(owners[t.pk]) == 1
            dept = owners[t.pk][0] if is_lead else rng.choice(owners[t.pk][1:])
            percent = min(100, max(0, day.timetuple().tm_yday * 100 // 365 + rng.randint(-8, 3)))
            reports.append(
                ProgressReport(
                    task=t,
                    department=dept,
                    percent=percent,
                    addressed_to=(
                        ProgressReport.AddressedTo.OFFICE
                        if is_lead
                        else ProgressReport.AddressedTo.LEAD
                    ),
                    reported_at=_aware(day, rng.randint(8 * 3600, 18 * 3600)),
                    text=f"{day.month}月进展:按计划推进,已完成{percent}%。",
                )
            )
            if len(reports) >= BATCH:
                ProgressReport.objects.bulk_create(reports)
                reports = []
        ProgressReport.objects.bulk_create(reports)

        tasks_of_plan = {}
        for t in tasks:
            tasks_of_plan.setdefault(t.plan_id, []).append(t)
        first_ms = {}
        for m in milestones:
            first_ms.setdefault(m.task_id, m)
        pauses, notices, serial = [], [], 0
        for p in plans:
            paused = rng.choice(tasks_of_plan[p.pk])
            asked = _aware(dt.date(YEAR, 4, 11), 10 * 3600)
            pauses.append(
                Pause(
                    task=paused,
                    reason="受疫情防控影响申请暂缓",
                    requested_by=supervisor,
                    requested_at=asked,
                    state=Pause.State.APPROVED,
                    decided_by=supervisor,
                    decided_at=asked + dt.timedelta(days=1),
                )
            )
            for t in rng.sample(tasks_of_plan[p.pk], spec.notices_per_plan):
                serial += 1
                m = first_ms[t.pk]
                notices.append(
                    SupervisionNotice(
                        task=t,
                        milestone=m,
                        department=owners[t.pk][0],
                        serial=f"督办〔{YEAR}〕基准{serial}号",
                        issued_at=_aware(m.due + dt.timedelta(days=2), 9 * 3600),
                        reason=f"节点“{m.title}”已逾期",
                        respond_by=m.due + dt.timedelta(days=7),
                    )
                )
        Pause.objects.bulk_create(pauses)
        SupervisionNotice.objects.bulk_create(notices)

    return {
        "departments": len(depts),
        "plans": len(plans),
        "sections": len(sections),
        "tasks": len(tasks),
        "assignments": len(assignments),
        "milestones": len(milestones),
        "reports": spec.reports,
        "pauses": len(pauses),
        "notices": len(notices),
    }
