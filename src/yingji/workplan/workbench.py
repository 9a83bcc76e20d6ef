"""The work plan's part of the workbench (core/workbench.py): what waits for a
user, and the leader's figure of the plan's progress. Registered from
WorkplanConfig.ready.

Who waits for what follows the services' rules (workplan/services.py):

- 待报送进展 / 滞后任务 (workplan.report): the open tasks (not done, not paused)
  of the user's department, lead or co-organiser. A lead reports to the office,
  a co-organiser to its lead (file_report). An item is due when the
  department has not filed the monthly report of the current window
  (scoring.report_window: by the N-th working day of the next month), when a
  task it leads is late (overdue milestone, status 滞后), or when the next
  milestone of a task it leads falls due within DUE_SOON_DAYS.
- 待回复督办单 (workplan.notice): supervision notices to the user's department
  not yet answered (respond_notice: only the department answers), due by their
  reply date.
- 待审批暂缓 (workplan.pause): pauses requested, for those who approve
  (decide_pause: leaders, supervisors, administrators; never one's own).
- 督办升级 (workplan.escalated): notices escalated for want of an answer, for
  the leaders and supervisors they were escalated to (supervise).

Leaders, supervisors and administrators own no tasks (as the navigation's
本部门任务): their workbench holds approvals and escalations, not reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from yingji.core import workbench
from yingji.core.workbench import OVERDUE, SOON, Context, Figure, Item

# Roles that own no tasks (they follow the plan board), and those who approve pauses.
NO_TASK_ROLES = frozenset({"leader", "supervisor", "admin"})
APPROVER_ROLES = frozenset({"leader", "supervisor", "admin"})
ESCALATION_ROLES = frozenset({"leader", "supervisor"})


def _now(ctx: Context) -> dt.datetime:
    """Now in the platform's time zone: deadlines are local dates."""
    from django.utils import timezone

    return timezone.localtime(ctx.now)


def _department_id(ctx: Context) -> int | None:
    if ctx.role in NO_TASK_ROLES:
        return None
    return ctx.department_id


def _add_workdays(day: dt.date, n: int) -> dt.date:
    """Working days from the calendar; past its years, Monday to Friday."""
    from yingji.core import workcalendar as wc

    try:
        return wc.add_workdays(day, n)
    except wc.CalendarRangeError:
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        while n > 0:
            day += dt.timedelta(days=1)
            n -= day.weekday() < 5
        return day


def _task_title(year: int, number: int, short: str) -> str:
    return f"{year}年第{number}项:{short}"


def _task_urls(anchor: str):
    """task pk -> its page at `anchor` (reversed once per source, not once per item)."""
    url = workbench.url_for("workplan:task")
    return lambda pk: f"{url(pk)}#{anchor}"


# ---------------------------------------------------------------- tasks to report


def report_items(ctx: Context) -> list[Item]:
    from django.db.models import Exists, OuterRef, Subquery

    from yingji.workplan import scoring, services
    from yingji.workplan.models import Assignment, Milestone, ProgressReport, Task
    from yingji.workplan.status import Status

    dept = _department_id(ctx)
    if dept is None:
        return []
    now = _now(ctx)
    today = now.date()
    mine = Assignment.objects.filter(department_id=dept)
    milestones = Milestone.objects.filter(task=OuterRef("pk"))
    tasks = (
        Task.objects.filter(pk__in=mine.values("task_id"))
        # a task whose milestones are all completed is done (status.derive): not read
        .filter(Exists(milestones.filter(completed_on__isnull=True)) | ~Exists(milestones))
        .select_related("plan")
        .defer("plan__preamble", "plan__goals", "plan__score_weights")
        .annotate(
            # the department leads the task itself (not only a clause): it reports
            # to the office; otherwise to the lead (services.file_report)
            dept_leads=Exists(
                mine.filter(task=OuterRef("pk"), role=Assignment.Role.LEAD, clause__isnull=True)
            ),
            dept_last=Subquery(
                ProgressReport.objects.filter(task=OuterRef("pk"), department_id=dept)
                .order_by("-reported_at")
                .values("reported_at")[:1]
            ),
        )
    )
    rows = [
        r for r in services.task_rows(tasks, today) if r.status not in (Status.DONE, Status.PAUSED)
    ]
    windows: dict[int, tuple[dt.date, dt.date]] = {}
    task_url = _task_urls("report-form")
    items = []
    for r in rows:
        task, plan, is_lead = r.task, r.task.plan, r.task.dept_leads
        if plan.report_by_workday not in windows:
            windows[plan.report_by_workday] = scoring.report_window(
                today, plan.report_by_workday, _add_workdays
            )
        after, due = windows[plan.report_by_workday]
        filed = task.dept_last
        reported = filed is not None and services.local_date(filed) > after
        to = "报办公室" if is_lead else f"报牵头处室({'、'.join(r.lead) or '—'})"
        pending = "" if reported else f"本期进展未报送({to},{due:%m月%d日}前)"
        title = _task_title(plan.year, task.number, task.short)
        url = task_url(task.pk)
        nxt = r.derived.next_milestone
        if is_lead and r.status == Status.LATE:
            items.append(
                Item(
                    "滞后任务",
                    title,
                    url,
                    action="报送进展",
                    deadline=r.derived.overdue[0].due,
                    urgency=OVERDUE,
                    detail=" · ".join(p for p in (r.derived.reason, pending) if p),
                )
            )
        elif not reported:
            items.append(
                Item(
                    "待报送进展",
                    title,
                    url,
                    action="报送进展",
                    deadline=due,
                    urgency=workbench.by_deadline(due, now),
                    detail=pending + ("" if is_lead else " · 配合任务"),
                )
            )
        elif is_lead and nxt is not None and workbench.by_deadline(nxt.due, now) <= SOON:
            items.append(
                Item(
                    "节点将到期" if nxt.due >= today else "滞后任务",
                    title,
                    url,
                    action="报送进展",
                    deadline=nxt.due,
                    urgency=workbench.by_deadline(nxt.due, now),
                    detail=f"节点“{nxt.title}”应于 {nxt.due:%Y-%m-%d} 完成({to})",
                )
            )
    items.sort(key=workbench.sort_key)
    return items[: ctx.limit]


# ---------------------------------------------------------------- supervision notices


def _notices_to_answer(ctx: Context):
    from yingji.workplan.models import Assignment, SupervisionNotice

    dept = _department_id(ctx)
    if dept is None:
        return None
    return SupervisionNotice.objects.filter(
        department_id=dept,
        responded_at__isnull=True,
        # the task page must open for the department (it still owns the task)
        task_id__in=Assignment.objects.filter(department_id=dept).values("task_id"),
    )


def notice_items(ctx: Context) -> Iterable[Item]:
    from yingji.workplan.models import short_text

    qs = _notices_to_answer(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    rows = qs.order_by("respond_by", "pk").values(
        "serial",
        "reason",
        "respond_by",
        "escalated_at",
        "task_id",
        "task__number",
        "task__text",
        "task__plan__year",
    )[: ctx.limit]
    task_url = _task_urls("notices")
    return [
        Item(
            "待回复督办单",
            f"{n['serial']} "
            + _task_title(n["task__plan__year"], n["task__number"], short_text(n["task__text"])),
            task_url(n["task_id"]),
            action="回复",
            deadline=n["respond_by"],
            urgency=workbench.by_deadline(n["respond_by"], now),
            detail=n["reason"] + (" · 逾期未回复,已提请局领导督办" if n["escalated_at"] else ""),
        )
        for n in rows
    ]


def notice_count(ctx: Context) -> int:
    qs = _notices_to_answer(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- pauses to approve


def _pauses_to_decide(ctx: Context):
    from yingji.workplan.models import Pause

    if not (getattr(ctx.user, "is_superuser", False) or ctx.role in APPROVER_ROLES):
        return None
    # decide_pause: the requester never approves their own request
    return Pause.objects.filter(state=Pause.State.REQUESTED).exclude(requested_by=ctx.user)


def pause_items(ctx: Context) -> Iterable[Item]:
    qs = _pauses_to_decide(ctx)
    if qs is None:
        return []
    from yingji.workplan.models import short_text

    rows = qs.order_by("requested_at", "pk").values(
        "reason",
        "requested_at",
        "task_id",
        "task__number",
        "task__text",
        "task__plan__year",
        "requested_by__username",
        "requested_by__profile__full_name",
    )
    task_url = _task_urls("pauses")
    out = []
    for p in rows[: ctx.limit]:
        who = p["requested_by__profile__full_name"] or p["requested_by__username"] or "—"
        short = short_text(p["task__text"])
        out.append(
            Item(
                "待审批暂缓",
                _task_title(p["task__plan__year"], p["task__number"], short),
                task_url(p["task_id"]),
                action="审批",
                detail=f"{who} {_local_day(p['requested_at']):%Y-%m-%d} 申请暂缓:{p['reason']}",
            )
        )
    return out


def _local_day(value: dt.datetime) -> dt.date:
    from django.utils import timezone

    return timezone.localtime(value).date()


def pause_count(ctx: Context) -> int:
    qs = _pauses_to_decide(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- escalations


def _escalated(ctx: Context):
    from yingji.workplan.models import SupervisionNotice

    if ctx.role not in ESCALATION_ROLES:
        return None
    return SupervisionNotice.objects.filter(escalated_at__isnull=False, responded_at__isnull=True)


def escalated_items(ctx: Context) -> Iterable[Item]:
    from yingji.workplan.models import short_text

    qs = _escalated(ctx)
    if qs is None:
        return []
    now = _now(ctx)
    rows = qs.order_by("respond_by", "pk").values(
        "serial",
        "respond_by",
        "task_id",
        "task__number",
        "task__text",
        "task__plan__year",
        "department__name",
    )[: ctx.limit]
    task_url = _task_urls("notices")
    return [
        Item(
            "督办升级",
            f"{n['serial']} "
            + _task_title(n["task__plan__year"], n["task__number"], short_text(n["task__text"])),
            task_url(n["task_id"]),
            action="查看",
            deadline=n["respond_by"],
            urgency=workbench.by_deadline(n["respond_by"], now),
            detail=f"{n['department__name']} 未在 {n['respond_by']:%Y-%m-%d} 前回复督办单",
        )
        for n in rows
    ]


def escalated_count(ctx: Context) -> int:
    qs = _escalated(ctx)
    return 0 if qs is None else qs.count()


# ---------------------------------------------------------------- the leader's figure


def figures(ctx: Context) -> Iterable[Figure]:
    """工作要点任务完成 x/N, 滞后 n: this year's plans (else the latest one) as
    the board shows them today."""
    from collections import Counter

    from django.urls import reverse

    from yingji.workplan import services
    from yingji.workplan.models import Plan, Task
    from yingji.workplan.status import Status

    today = _now(ctx).date()
    plans = list(Plan.objects.filter(year=today.year).order_by("pk").only("year")) or list(
        Plan.objects.order_by("-year", "-pk").only("year")[:1]
    )
    by_plan = services.status_counts(Task.objects.filter(plan__in=plans), today)
    for plan in plans:
        counts = by_plan.get(plan.pk, Counter())
        late, paused = counts[Status.LATE], counts[Status.PAUSED]
        detail = f"{plan.year}年工作要点 · 滞后 {late} 项" + (
            f" · 暂缓 {paused} 项" if paused else ""
        )
        yield Figure(
            "任务完成",
            f"{counts[Status.DONE]}/{counts.total()}",
            detail=detail,
            url=reverse("workplan:board", args=[plan.pk]),
            tone="bad" if late else "good",
        )


def register() -> None:
    workbench.register(
        "workplan.report", "待报送进展", group="supervision", items=report_items, order=10
    )
    workbench.register(
        "workplan.notice",
        "待回复督办单",
        group="supervision",
        items=notice_items,
        count=notice_count,
        order=11,
    )
    workbench.register(
        "workplan.pause",
        "待审批暂缓",
        group="supervision",
        items=pause_items,
        count=pause_count,
        order=12,
    )
    workbench.register(
        "workplan.escalated",
        "督办升级",
        group="supervision",
        items=escalated_items,
        count=escalated_count,
        order=13,
    )
    workbench.register_figures("workplan", figures, order=10)
