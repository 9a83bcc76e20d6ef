"""Work-plan use cases: import a plan, file progress, pause, supervise, and read
the plan's state as of any date (board, task list, scores, bulletin data).

Pure logic lives in parser.py, status.py and scoring.py; this module loads the
facts, calls it, and saves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from yingji.core import media, outbox
from yingji.core import workcalendar as wc
from yingji.core.models import Department, Role, SpecialPeriod
from yingji.workplan import scoring
from yingji.workplan.models import (
    Assignment,
    Clause,
    Milestone,
    Pause,
    Plan,
    ProgressReport,
    ReportAttachment,
    Section,
    SupervisionNotice,
    Task,
)
from yingji.workplan.status import (
    BOARD_ORDER,
    Derived,
    MilestoneFact,
    PauseFact,
    ReportFact,
    Status,
    TaskFacts,
    derive,
    late_by,
)

# ---------------------------------------------------------------- time helpers


def local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` in the platform's time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def at_noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))


def today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------- import


class PlanImportError(Exception):
    """The document cannot be imported; `issues` lists (line, message)."""

    def __init__(self, issues: list[tuple[int | None, str]]):
        self.issues = issues
        super().__init__("\n".join(f"第{ln}行:{msg}" if ln else msg for ln, msg in issues))


QUARTER_TITLES = ["第一季度", "第二季度", "第三季度", "第四季度"]


def _special_periods(year: int) -> list[wc.KeyPeriod]:
    return [
        wc.KeyPeriod(p.name, p.start, p.end)
        for p in SpecialPeriod.objects.filter(start__year__lte=year, end__year__gte=year)
    ]


def milestone_plan(
    year: int,
    due: dt.date | None,
    recurrence: str | None,
    key_dates: Iterable[str],
    special: list[wc.KeyPeriod],
) -> tuple[list[tuple[str, str, dt.date]], list[str]]:
    """The milestones a parsed task gets: (kind, title, due), and warnings.

    A recurring task gets one per period; a dated task one at its due date; a task
    with neither is due by the end of the plan year (an annual plan's horizon).
    Key dates (春节, 国庆 …) each get one at the end of that period."""
    out: list[tuple[str, str, dt.date]] = []
    warnings: list[str] = []
    if recurrence == "monthly":
        for m in range(1, 13):
            end = dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
            out.append((Milestone.Kind.RECURRENCE, f"{year}年{m}月", end))
    elif recurrence == "quarterly":
        for q in range(4):
            m = 3 * q + 3
            end = dt.date(year + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)
            out.append((Milestone.Kind.RECURRENCE, f"{year}年{QUARTER_TITLES[q]}", end))
    elif recurrence == "yearly":
        out.append((Milestone.Kind.RECURRENCE, f"{year}年度", dt.date(year, 12, 31)))
    if due is not None:
        out.append((Milestone.Kind.DEADLINE, "完成时限", due))
    known = {p.name: p for p in wc.key_periods(year, special)}
    for name in key_dates:
        period = known.get(wc.canonical_key_name(name))
        if period is None:
            warnings.append(
                f"关键节点“{name}”不在{year}年日历和特殊时段中,未生成节点"
                "(可在管理后台“特殊时段”中补充)"
            )
            continue
        out.append((Milestone.Kind.CUSTOM, f"{name}节点", period.end))
    if not out:
        out.append((Milestone.Kind.DEADLINE, "年底前完成", dt.date(year, 12, 31)))
    return out, warnings


def import_plan_file(
    path: str | Path, *, year: int | None = None, title: str | None = None, user=None
) -> Plan:
    """Parse and import a plan document (text or .docx), all or nothing."""
    path = Path(path)
    # parse_plan_file refuses an oversized file from its size, before reading it
    parsed = _parser().parse_plan_file(path, year=year, title=title, known=_known(), **_limits())
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return _import_parsed(parsed, path.name, sha, title, user)


def import_plan_bytes(
    data: bytes, filename: str, *, year: int | None = None, title: str | None = None, user=None
) -> Plan:
    parsed = _parser().parse_plan(data, year=year, title=title, known=_known(), **_limits())
    return _import_parsed(parsed, filename, hashlib.sha256(data).hexdigest(), title, user)


def _limits() -> dict[str, int]:
    """The plan document limits of the settings (YINGJI_PLAN_MAX_BYTES, the zip ratio)."""
    from yingji.core import inputlimits

    return {
        "max_bytes": inputlimits.setting("YINGJI_PLAN_MAX_BYTES"),
        "max_ratio": inputlimits.setting("YINGJI_ZIP_MAX_RATIO"),
    }


def _parser():
    from yingji.workplan import parser

    return parser


def _known() -> dict[str, str]:
    from yingji.core.departments import known_names

    return known_names()


def _resolve_all(names: Iterable[tuple[int, str]]) -> tuple[dict[str, Department], list]:
    from yingji.core.departments import resolve

    found, issues = {}, []
    for line, name in names:
        if name in found:
            continue
        dept = resolve(name)
        if dept is None:
            issues.append((line, f"未知部门“{name}”:请先在部门登记簿中添加该部门或别名"))
        else:
            found[name] = dept
    return found, issues


@transaction.atomic
def _import_parsed(parsed, source_name: str, sha: str, title: str | None, user) -> Plan:
    if Plan.objects.filter(source_sha256=sha).exists():
        existing = Plan.objects.get(source_sha256=sha)
        raise PlanImportError([(None, f"该文件已导入为“{existing.title}”,不重复导入")])
    names = []
    for section in parsed.sections:
        for task in section.tasks:
            for n in [*task.lead, *task.co]:
                names.append((task.line, n))
            for clause in task.clauses:
                for n in [*clause.lead, *clause.co]:
                    names.append((task.line, n))
    depts, issues = _resolve_all(names)
    special = _special_periods(parsed.year)
    plan_warnings = []
    for section in parsed.sections:
        for task in section.tasks:
            _, warns = milestone_plan(
                parsed.year, _date(task.due), task.recurrence, task.key_dates, special
            )
            plan_warnings.extend((task.line, w) for w in warns)
    if issues:
        raise PlanImportError(issues)

    plan = Plan.objects.create(
        title=title or parsed.title,
        year=parsed.year,
        preamble=parsed.preamble or "",
        goals=list(parsed.goals),
        source_name=source_name,
        source_sha256=sha,
        imported_by=user if getattr(user, "pk", None) else None,
    )
    for section in parsed.sections:
        sec = Section.objects.create(plan=plan, number=section.number, title=section.title)
        for t in section.tasks:
            task = Task.objects.create(
                plan=plan,
                section=sec,
                number=t.number,
                subsection=t.subsection or "",
                text=t.text,
                due=_date(t.due),
                recurrence=t.recurrence or "",
                key_dates=list(t.key_dates),
                collective_owners=list(getattr(t, "collective", [])),
            )
            # A task whose plan names no owners (owners_pending) gets no assignment:
            # it shows 待明确责任单位 until the plan's manager assigns it.
            _assign(task, None, t.lead, t.co, depts)
            for i, c in enumerate(t.clauses, start=1):
                clause = Clause.objects.create(
                    task=task,
                    position=i,
                    text=c.text,
                    collective_owners=list(getattr(c, "collective", [])),
                )
                _assign(task, clause, c.lead, c.co, depts)
            specs, _ = milestone_plan(parsed.year, _date(t.due), t.recurrence, t.key_dates, special)
            Milestone.objects.bulk_create(
                [Milestone(task=task, kind=k, title=title_, due=d) for k, title_, d in specs]
            )
    plan.import_warnings = [*[(w.line, w.message) for w in parsed.warnings], *plan_warnings]
    return plan


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _assign(
    task: Task, clause: Clause | None, lead: list[str], co: list[str], depts: dict[str, Department]
) -> None:
    position = 0
    seen = set()
    for role, names in ((Assignment.Role.LEAD, lead), (Assignment.Role.CO, co)):
        for name in names:
            dept = depts[name]
            if dept.pk in seen:  # the same department written twice (e.g. by alias)
                continue
            seen.add(dept.pk)
            Assignment.objects.create(
                task=task,
                clause=clause,
                department=dept,
                role=role,
                position=position,
                name_as_written=name,
            )
            position += 1


# ---------------------------------------------------------------- scope


def tasks_in_scope(scope, qs=None):
    """Tasks a scope covers: everything for those who see all; a department's own
    tasks (lead or co, of the task or of a clause) otherwise."""
    qs = Task.objects.all() if qs is None else qs
    if scope.sees_all:
        return qs
    return qs.filter(
        pk__in=Assignment.objects.filter(department_id__in=sorted(scope.department_ids)).values(
            "task_id"
        )
    )


def visible_tasks(user, qs=None):
    """Tasks the user may see: everything for leaders, supervisors and
    administrators; a department's own tasks (lead or co) otherwise."""
    from yingji.core.scope import scope_for

    return tasks_in_scope(scope_for(user), qs)


def user_department(user) -> Department | None:
    profile = getattr(user, "profile", None)
    return profile.department if profile else None


def can_report(user, task: Task) -> Department | None:
    """The department the user reports for on this task, or None."""
    dept = user_department(user)
    if dept is not None and task.assignments.filter(department=dept, clause__isnull=True).exists():
        return dept
    if dept is not None and task.assignments.filter(department=dept).exists():
        return dept
    return None


def my_department_rows(user, day_for=None) -> list[TaskRow]:
    """The tasks of the user's department (lead or co) across plans, as of today."""
    dept = user_department(user)
    if dept is None:
        return []
    rows = []
    for plan in Plan.objects.filter(tasks__assignments__department=dept).distinct():
        qs = Task.objects.filter(plan=plan, assignments__department=dept).distinct()
        rows.extend(task_rows(qs, today()))
    return rows


# ---------------------------------------------------------------- owners to be assigned


def can_manage_plans(user) -> bool:
    """Who manages plans: those who may import them (they see every department's
    tasks, as `api.import_plan` checks) and may edit them; leaders, supervisors and
    administrators, not the read-only duty officers."""
    from yingji.core.scope import scope_for

    scope = scope_for(user)
    return scope.sees_all and scope.edits_all


def pending_owner_tasks(plan: Plan):
    """Tasks of `plan` with no lead department (shown as 待明确责任单位): those of a
    plan that named no owners, or whose only owners are collective ones."""
    return Task.objects.filter(plan=plan).exclude(
        pk__in=Assignment.objects.filter(
            task__plan=plan, clause__isnull=True, role=Assignment.Role.LEAD
        ).values("task_id")
    )


def has_lead(task: Task) -> bool:
    return task.assignments.filter(clause__isnull=True, role=Assignment.Role.LEAD).exists()


@transaction.atomic
def assign_owners(
    task: Task, user, lead: list[Department], co: list[Department] | None = None
) -> list[Assignment]:
    """The plan's manager names the lead and co-organising departments of a task
    that has none (待明确责任单位). Each assignment is saved through the ORM, so the
    audit log records it with the user as actor."""
    co = list(co or [])
    if not can_manage_plans(user):
        raise PermissionDenied("只有局领导、督查或管理员可以指定任务的责任单位")
    if has_lead(task):
        raise ValidationError({"lead": "该任务已有牵头单位,不需要再指定"})
    if not lead:
        raise ValidationError({"lead": "请至少选择一个牵头单位"})
    lead_ids = {d.pk for d in lead}
    if any(d.pk in lead_ids for d in co):
        raise ValidationError({"co": "同一单位不能既牵头又配合"})
    from yingji.core import audit

    created = []
    with audit.acting_as(user):  # the request's actor already; a command's too
        for position, (role, dept) in enumerate(
            [(Assignment.Role.LEAD, d) for d in lead] + [(Assignment.Role.CO, d) for d in co]
        ):
            created.append(
                Assignment.objects.create(
                    task=task,
                    clause=None,
                    department=dept,
                    role=role,
                    position=position,
                    name_as_written=dept.name,
                )
            )
    return created


def lead_department(task: Task) -> Department:
    a = (
        task.assignments.filter(clause__isnull=True, role=Assignment.Role.LEAD)
        .order_by("position")
        .select_related("department")
        .first()
    )
    return a.department


# ---------------------------------------------------------------- progress


@transaction.atomic
def file_report(
    task: Task,
    user,
    *,
    percent: int,
    text: str,
    milestone: Milestone | None = None,
    department: Department | None = None,
    files: Iterable = (),
    reported_at: dt.datetime | None = None,
) -> ProgressReport:
    """A department's progress report. The lead's report goes to the office and
    drives the status; a co-organiser's goes to the lead department."""
    dept = department or can_report(user, task)
    if dept is None:
        raise PermissionDenied("您所在部门不是该任务的牵头或配合部门,不能报送进展")
    if not task.assignments.filter(department=dept).exists():
        raise PermissionDenied(f"{dept} 不是该任务的牵头或配合部门")
    errors = {}
    if not isinstance(percent, int) or not 0 <= percent <= 100:
        errors["percent"] = "完成进度须为 0–100 的整数"
    if not (text or "").strip():
        errors["text"] = "请填写进展情况"
    if milestone is not None and milestone.task_id != task.pk:
        errors["milestone"] = "所选节点不属于该任务"
    files = list(files)
    for f in files:  # size cap and type by content (settings.YINGJI_UPLOADS)
        try:
            media.check_upload(f, "attachment", field="files")
        except ValidationError as exc:
            errors.setdefault("files", exc.message_dict["files"][0])
    if errors:
        raise ValidationError(errors)
    when = reported_at or timezone.now()
    is_lead = task.assignments.filter(
        department=dept, role=Assignment.Role.LEAD, clause__isnull=True
    ).exists()
    report = ProgressReport.objects.create(
        task=task,
        department=dept,
        author=user if getattr(user, "pk", None) else None,
        addressed_to=ProgressReport.AddressedTo.OFFICE
        if is_lead
        else ProgressReport.AddressedTo.LEAD,
        reported_at=when,
        percent=percent,
        text=text.strip(),
        milestone=milestone,
    )
    for f in files:
        ReportAttachment.objects.create(report=report, file=f, name=getattr(f, "name", "附件"))
    if is_lead:
        day = local_date(when)
        open_ms = task.milestones.filter(completed_on__isnull=True)
        if percent >= 100:
            for m in open_ms:
                m.completed_on = day
                m.save(update_fields=["completed_on"])
        elif milestone is not None and milestone.completed_on is None:
            milestone.completed_on = day
            milestone.save(update_fields=["completed_on"])
    return report


@transaction.atomic
def add_milestone(task: Task, user, *, title: str, due: dt.date) -> Milestone:
    """A stage the lead department sets for itself (阶段节点); supervised like any other."""
    dept = user_department(user)
    is_lead = (
        dept is not None
        and task.assignments.filter(
            department=dept, role=Assignment.Role.LEAD, clause__isnull=True
        ).exists()
    )
    if not (is_lead or _is_approver(user)):
        raise PermissionDenied("只有牵头处室、督查或局领导可以设置节点")
    errors = {}
    if not (title or "").strip():
        errors["title"] = "请填写节点名称"
    if due is None or due.year not in (task.plan.year, task.plan.year + 1):
        errors["due"] = f"截止日期应在 {task.plan.year} 年内(或次年)"
    if errors:
        raise ValidationError(errors)
    return Milestone.objects.create(
        task=task, kind=Milestone.Kind.CUSTOM, title=title.strip()[:120], due=due
    )


# ---------------------------------------------------------------- pauses


def _is_approver(user) -> bool:
    profile = getattr(user, "profile", None)
    return bool(
        user.is_superuser
        or (profile and profile.role in {Role.LEADER, Role.SUPERVISOR, Role.ADMIN})
    )


@transaction.atomic
def request_pause(task: Task, user, reason: str, at: dt.datetime | None = None) -> Pause:
    if not (reason or "").strip():
        raise ValidationError({"reason": "申请暂缓须说明理由"})
    if (
        user_department(user) is None
        or not task.assignments.filter(
            department=user_department(user), role=Assignment.Role.LEAD
        ).exists()
    ):
        if not _is_approver(user):
            raise PermissionDenied("只有牵头处室可以申请暂缓")
    if task.pauses.filter(state__in=[Pause.State.REQUESTED, Pause.State.APPROVED]).exists():
        raise ValidationError({"reason": "该任务已有待审批或生效中的暂缓"})
    return Pause.objects.create(
        task=task, reason=reason.strip(), requested_by=user, requested_at=at or timezone.now()
    )


@transaction.atomic
def decide_pause(pause: Pause, user, approve: bool, at: dt.datetime | None = None) -> Pause:
    if not _is_approver(user):
        raise PermissionDenied("只有局领导、督查或管理员可以审批暂缓")
    if pause.requested_by_id == user.pk:
        raise PermissionDenied("申请人不能审批自己的暂缓申请")
    if pause.state != Pause.State.REQUESTED:
        raise ValidationError("该申请已处理")
    pause.state = Pause.State.APPROVED if approve else Pause.State.REJECTED
    pause.decided_by, pause.decided_at = user, at or timezone.now()
    pause.save()
    return pause


@transaction.atomic
def lift_pause(pause: Pause, user, at: dt.datetime | None = None) -> Pause:
    if not _is_approver(user):
        raise PermissionDenied("只有局领导、督查或管理员可以恢复任务")
    if pause.state != Pause.State.APPROVED:
        raise ValidationError("只有已批准的暂缓可以恢复")
    pause.state, pause.lifted_at = Pause.State.LIFTED, at or timezone.now()
    pause.save()
    return pause


PAUSE_DECISIONS = {
    "approve": lambda pause, user: decide_pause(pause, user, True),
    "reject": lambda pause, user: decide_pause(pause, user, False),
    "lift": lift_pause,
}


# ---------------------------------------------------------------- reading state


@dataclass
class TaskRow:
    task: Task
    derived: Derived
    lead: list[str] = field(default_factory=list)
    co: list[str] = field(default_factory=list)
    milestones: list[MilestoneFact] = field(default_factory=list)
    notices: int = 0

    @property
    def status(self) -> Status:
        return self.derived.status


def _latest_office_report(cutoff: dt.datetime):
    """The lead's latest report to the office before `cutoff`, per task (a subquery)."""
    return ProgressReport.objects.filter(
        task=OuterRef("pk"), addressed_to=ProgressReport.AddressedTo.OFFICE, reported_at__lt=cutoff
    ).order_by("-reported_at")


def _status_facts(
    ids: list[int], day: dt.date, cutoff: dt.datetime
) -> tuple[dict[int, list[MilestoneFact]], dict[int, list[PauseFact]]]:
    """The milestones and the decided pauses of the tasks `ids` as of `day`: what
    derive() needs beside the latest report (one query each)."""
    milestones: dict[int, list[MilestoneFact]] = defaultdict(list)
    # by due date within each task (the model's ordering would join task and plan)
    for pk, task_id, title, due, completed_on in (
        Milestone.objects.filter(task_id__in=ids)
        .order_by("due", "pk")
        .values_list("id", "task_id", "title", "due", "completed_on")
    ):
        done = completed_on if completed_on and completed_on <= day else None
        milestones[task_id].append(MilestoneFact(pk, title, due, done))
    pauses: dict[int, list[PauseFact]] = defaultdict(list)
    tz = timezone.get_current_timezone()  # once (localtime() looks it up per call)
    for task_id, decided_at, lifted_at, reason in Pause.objects.filter(
        task_id__in=ids, decided_at__lt=cutoff, state__in=[Pause.State.APPROVED, Pause.State.LIFTED]
    ).values_list("task_id", "decided_at", "lifted_at", "reason"):
        lifted = lifted_at if lifted_at and lifted_at < cutoff else None
        pauses[task_id].append(
            PauseFact(
                decided_at.astimezone(tz).date(),
                lifted.astimezone(tz).date() if lifted else None,
                reason,
            )
        )
    return milestones, pauses


def _derive(milestones, last_at, last_percent, pauses, day: dt.date, tz) -> Derived:
    reports = [ReportFact(last_at.astimezone(tz).date(), last_percent)] if last_at else []
    return derive(TaskFacts(milestones, reports, pauses), day, wc.workdays_between)


def task_rows(tasks, day: dt.date) -> list[TaskRow]:
    """Derive every task's status as of `day` with a fixed, small number of queries."""
    cutoff = end_of_day(day)
    latest = _latest_office_report(cutoff)
    tasks = list(
        tasks.select_related("section")
        .annotate(
            last_percent=Subquery(latest.values("percent")[:1]),
            last_at=Subquery(latest.values("reported_at")[:1]),
        )
        .order_by("plan_id", "number")
    )
    ids = [t.pk for t in tasks]
    owners: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for task_id, role, name in (
        Assignment.objects.filter(task_id__in=ids, clause__isnull=True)
        .order_by("position")
        .values_list("task_id", "role", "department__name")
    ):
        owners[task_id][0 if role == Assignment.Role.LEAD else 1].append(name)
    milestones, pauses = _status_facts(ids, day, cutoff)
    notices = defaultdict(int)
    for task_id in SupervisionNotice.objects.filter(
        task_id__in=ids, issued_at__lt=cutoff
    ).values_list("task_id", flat=True):
        notices[task_id] += 1
    rows = []
    tz = timezone.get_current_timezone()
    for t in tasks:
        lead, co = owners[t.pk]
        rows.append(
            TaskRow(
                t,
                _derive(milestones[t.pk], t.last_at, t.last_percent, pauses[t.pk], day, tz),
                lead,
                co,
                milestones[t.pk],
                notices[t.pk],
            )
        )
    return rows


def status_counts(tasks, day: dt.date) -> dict[int, Counter[Status]]:
    """How many of `tasks` stand in each status as of `day`, per plan (plan id →
    counts): task_rows' derivation without the rows (no task instances, owners or
    notices), for the figures that only count (the leader's 任务完成 x/N)."""
    cutoff = end_of_day(day)
    latest = _latest_office_report(cutoff)
    facts = list(
        tasks.annotate(
            last_percent=Subquery(latest.values("percent")[:1]),
            last_at=Subquery(latest.values("reported_at")[:1]),
        )
        .order_by()
        .values_list("pk", "plan_id", "last_at", "last_percent")
    )
    milestones, pauses = _status_facts([f[0] for f in facts], day, cutoff)
    counts: dict[int, Counter[Status]] = defaultdict(Counter)
    tz = timezone.get_current_timezone()
    for pk, plan_id, last_at, percent in facts:
        derived = _derive(milestones[pk], last_at, percent, pauses[pk], day, tz)
        counts[plan_id][derived.status] += 1
    return counts


def workdays_late(a: dt.date, b: dt.date) -> int:
    """Working days from a to b (see status.late_by for dates beyond the calendar)."""
    return late_by(a, b, wc.workdays_between)[0]


def filter_rows(
    rows: list[TaskRow], *, department: str | None = None, status: str | None = None
) -> list[TaskRow]:
    if department:
        rows = [r for r in rows if department in r.lead or department in r.co]
    if status:
        rows = [r for r in rows if r.status == status]
    return rows


def board(
    plan: Plan, day: dt.date, user=None, department: str | None = None, status: str | None = None
) -> dict:
    """The plan board (挂图作战): sections × status, as of `day`."""
    qs = Task.objects.filter(plan=plan)
    if user is not None:
        qs = visible_tasks(user, qs)
    rows = filter_rows(task_rows(qs, day), department=department, status=status)
    sections = []
    by_section = defaultdict(list)
    for r in rows:
        by_section[r.task.section_id].append(r)
    for sec in plan.sections.all():
        cells = {s: [r for r in by_section[sec.pk] if r.status == s] for s in BOARD_ORDER}
        sections.append(
            {
                "section": sec,
                "cells": [(s, cells[s]) for s in BOARD_ORDER],
                "total": len(by_section[sec.pk]),
            }
        )
    totals = {s: sum(1 for r in rows if r.status == s) for s in BOARD_ORDER}
    return {
        "pending_owners": [r for r in rows if not r.lead],
        "plan": plan,
        "as_of": day,
        "sections": sections,
        "rows": rows,
        "totals": [(s, totals[s]) for s in BOARD_ORDER],
        "count": len(rows),
    }


def task_state(task: Task, day: dt.date) -> TaskRow:
    return task_rows(Task.objects.filter(pk=task.pk), day)[0]


def timeline(task: Task, day: dt.date | None = None) -> list[dict]:
    """Everything that happened to a task, oldest first: reports, milestones
    completed, pauses, supervision notices and their answers."""
    cutoff = end_of_day(day) if day else None
    items = []
    reports = task.reports.select_related("department", "author").prefetch_related("attachments")
    for r in reports:
        items.append(
            {
                "at": r.reported_at,
                "kind": "report",
                "report": r,
                "title": f"{r.department} 报送进展 {r.percent}%(报{r.get_addressed_to_display()})",
                "text": r.text,
            }
        )
    for n in task.notices.select_related("department"):
        items.append(
            {
                "at": n.issued_at,
                "kind": "notice",
                "notice": n,
                "title": f"督办单 {n.serial} 下发至 {n.department}",
                "text": n.reason,
            }
        )
        if n.responded_at:
            items.append(
                {
                    "at": n.responded_at,
                    "kind": "notice_response",
                    "notice": n,
                    "title": f"{n.department} 回复督办单 {n.serial}",
                    "text": n.response,
                }
            )
        if n.escalated_at:
            items.append(
                {
                    "at": n.escalated_at,
                    "kind": "escalation",
                    "notice": n,
                    "title": f"督办单 {n.serial} 逾期未回复,已提请局领导督办",
                    "text": "",
                }
            )
    for p in task.pauses.all():
        items.append({"at": p.requested_at, "kind": "pause", "title": "申请暂缓", "text": p.reason})
        if p.decided_at:
            items.append(
                {
                    "at": p.decided_at,
                    "kind": "pause",
                    "title": f"暂缓申请{p.get_state_display() if p.state != Pause.State.LIFTED else '已批准'}",
                    "text": "",
                }
            )
        if p.lifted_at:
            items.append({"at": p.lifted_at, "kind": "pause", "title": "恢复推进", "text": ""})
    if cutoff:
        items = [i for i in items if i["at"] < cutoff]
    return sorted(items, key=lambda i: i["at"])


# ---------------------------------------------------------------- supervision


@dataclass
class SupervisionResult:
    reminders: int = 0
    notices: list[SupervisionNotice] = field(default_factory=list)
    escalations: int = 0


def _leaders():
    User = get_user_model()
    return User.objects.filter(Q(profile__role__in=[Role.LEADER, Role.SUPERVISOR]), is_active=True)


@transaction.atomic
def supervise(
    day: dt.date, now: dt.datetime | None = None, plans: Iterable[Plan] | None = None
) -> SupervisionResult:
    """The daily supervision run for `day` (idempotent: running it twice for the
    same day issues nothing twice).

    - reminder to the lead department N working days before a milestone is due;
    - a supervision notice (督办单) for each milestone overdue by a working day;
    - escalation to the bureau leaders and supervisors when a notice is not
      answered by its reply date.
    """
    now = now or timezone.now()
    result = SupervisionResult()
    plans = list(plans) if plans is not None else list(Plan.objects.filter(year=day.year))
    for plan in plans:
        rows = task_rows(Task.objects.filter(plan=plan), day)
        # the first-named lead of each task (ordered so the lowest position wins)
        leads = {
            a.task_id: a.department
            for a in Assignment.objects.filter(
                task__plan=plan, clause__isnull=True, role=Assignment.Role.LEAD
            )
            .select_related("department")
            .order_by("-position")
        }
        issued = set(
            SupervisionNotice.objects.filter(task__plan=plan).values_list("task_id", "milestone_id")
        )
        for row in rows:
            if row.status in (Status.DONE, Status.PAUSED):
                continue
            lead = leads.get(row.task.pk)
            if lead is None:  # 待明确责任单位: no one to remind or supervise yet
                continue
            for m in row.milestones:
                if m.completed_on is not None:
                    continue
                ahead = workdays_late(day, m.due)
                if 0 < ahead <= plan.reminder_workdays:
                    sent = outbox.notify_department(
                        lead,
                        subject=f"【到期提醒】任务{row.task.number}“{m.title}”将于{m.due:%m月%d日}到期",
                        body=f"{lead}:\n\n{plan.title} 第{row.task.number}项任务\n{row.task.text}\n\n"
                        f"节点“{m.title}”将于 {m.due:%Y-%m-%d} 到期(还有 {ahead} 个工作日),"
                        "请按时完成并在平台报送进展。",
                        dedupe_key=f"workplan:reminder:{m.id}",
                        source=row.task,
                    )
                    result.reminders += len(sent)
            for m in row.derived.overdue:
                if (row.task.pk, m.id) in issued:
                    continue
                result.notices.append(_issue_notice(plan, row, m, lead, day, now))
        for notice in SupervisionNotice.objects.filter(
            task__plan=plan,
            responded_at__isnull=True,
            escalated_at__isnull=True,
            respond_by__lt=day,
            issued_at__lt=end_of_day(day),
        ).select_related("task", "department"):
            notice.escalated_at = now
            notice.save(update_fields=["escalated_at"])
            outbox.notify_users(
                _leaders(),
                subject=f"【督办升级】{notice.serial} 逾期未回复",
                body=f"{notice.department} 未在 {notice.respond_by:%Y-%m-%d} 前回复督办单 {notice.serial}。\n\n"
                f"任务:{notice.task.number}. {notice.task.text}\n\n督办事由:{notice.reason}",
                dedupe_key=f"workplan:escalation:{notice.pk}",
                source=notice,
            )
            result.escalations += 1
    return result


def _issue_notice(
    plan: Plan, row: TaskRow, m: MilestoneFact, lead: Department, day: dt.date, now: dt.datetime
) -> SupervisionNotice:
    count = SupervisionNotice.objects.filter(task__plan__year=plan.year).count()
    serial = f"督办〔{plan.year}〕{count + 1}号"
    while SupervisionNotice.objects.filter(serial=serial).exists():
        count += 1
        serial = f"督办〔{plan.year}〕{count + 1}号"
    late_by = workdays_late(m.due, day)
    respond_by = wc.add_workdays(day, plan.response_workdays)
    notice = SupervisionNotice.objects.create(
        task=row.task,
        milestone_id=m.id,
        department=lead,
        serial=serial,
        issued_at=now,
        reason=f"第{row.task.number}项任务节点“{m.title}”应于 {m.due:%Y-%m-%d} 完成,"
        f"截至 {day:%Y-%m-%d} 已逾期 {late_by} 个工作日。",
        respond_by=respond_by,
    )
    outbox.notify_department(
        lead,
        subject=f"【督办单】{serial}:任务{row.task.number}“{m.title}”已逾期",
        body=f"{lead}:\n\n{notice.reason}\n\n请于 {respond_by:%Y-%m-%d} 前在平台回复整改措施和完成时间。"
        f"逾期未回复将提请局领导督办。\n\n任务内容:{row.task.text}",
        dedupe_key=f"workplan:notice:{notice.pk}",
        source=notice,
    )
    return notice


@transaction.atomic
def respond_notice(
    notice: SupervisionNotice, user, text: str, at: dt.datetime | None = None
) -> SupervisionNotice:
    dept = user_department(user)
    if not (user.is_superuser or (dept is not None and dept.pk == notice.department_id)):
        raise PermissionDenied("只有被督办部门可以回复督办单")
    if not (text or "").strip():
        raise ValidationError({"response": "请填写回复内容"})
    if notice.responded_at:
        raise ValidationError("该督办单已回复")
    notice.response, notice.responded_at = text.strip(), at or timezone.now()
    notice.save(update_fields=["response", "responded_at"])
    return notice


# ---------------------------------------------------------------- scores


def department_scores(plan: Plan, day: dt.date) -> list[scoring.DepartmentScore]:
    rows = task_rows(Task.objects.filter(plan=plan), day)
    start = dt.date(plan.year, 1, 1)
    facts = {}
    lead_of, co_of = defaultdict(list), defaultdict(list)
    for r in rows:
        closed = None
        if r.status in (Status.DONE, Status.PAUSED):
            closed = r.derived.last_report_on or day
        end = max((m.due for m in r.milestones), default=dt.date(plan.year, 12, 31))
        facts[r.task.pk] = scoring.TaskScoreFacts(
            r.task.pk,
            start,
            end,
            [(m.due, m.completed_on) for m in r.milestones],
            r.derived.percent,
            closed,
        )
        for name in r.lead:
            lead_of[name].append(r.task.pk)
        for name in r.co:
            co_of[name].append(r.task.pk)
    dates = defaultdict(list)
    for task_id, dept, at in ProgressReport.objects.filter(
        task__plan=plan, reported_at__lt=end_of_day(day)
    ).values_list("task_id", "department__name", "reported_at"):
        dates[(dept, task_id)].append(local_date(at))
    months = scoring.month_deadlines(start, day, plan.report_by_workday, wc.add_workdays)
    return scoring.score_departments(day, facts, lead_of, co_of, dates, plan.score_weights, months)
