"""Operational pages of the work plan: list, board (挂图作战), task list, task page,
my department's tasks. Every page takes ?as_of=YYYY-MM-DD to show the plan as it
stood on that date."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from yingji.core import pagecache
from yingji.core.models import AuditEntry, Department
from yingji.core.viewhelpers import act
from yingji.workplan import services
from yingji.workplan.models import (
    OWNERS_PENDING,
    Assignment,
    Milestone,
    Pause,
    Plan,
    ProgressReport,
    SupervisionNotice,
    Task,
)
from yingji.workplan.status import BOARD_ORDER, LABELS


def default_day(plan: Plan | None = None) -> dt.date:
    """The day a plan's pages show when ?as_of= does not say: today for this
    year's plan (or a later one), the year end for a past year's plan — its board
    then shows how the year closed, not "已逾期 1,164 个工作日" counted to today.
    The page shows the date and lets it be changed (the filters' 截至日期).
    A task's own page (where reports are filed) defaults to today whatever its
    plan's year — a report filed now must show on it; the board's chips link to
    it with the board's date."""
    today = services.today()
    if plan is not None and plan.year < today.year:
        return dt.date(plan.year, 12, 31)
    return today


def parse_day(request, plan: Plan | None = None) -> dt.date:
    raw = request.GET.get("as_of")
    if not raw:
        return default_day(plan)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise BadDate(f"日期格式应为 YYYY-MM-DD:{raw}") from exc


class BadDate(ValueError):
    """?as_of= is not a date (answered with 400 and the expected format)."""


def _filters(request):
    return {
        "department": request.GET.get("department") or None,
        "status": request.GET.get("status") or None,
    }


def _status_choices():
    return [(s.value, LABELS[s]) for s in BOARD_ORDER]


@login_required
def plan_list(request):
    plans = []
    for plan in Plan.objects.all():
        day = default_day(plan)
        b = services.board(plan, day, user=request.user)
        plans.append({"plan": plan, "as_of": day, "totals": b["totals"], "count": b["count"]})
    return render(request, "workplan/plan_list.html", {"plans": plans})


def _plan_page(request, plan_id: int, template: str):
    plan = get_object_or_404(Plan, pk=plan_id)
    try:
        day = parse_day(request, plan)
    except BadDate as exc:
        return HttpResponseBadRequest(str(exc))
    f = _filters(request)
    data = services.board(plan, day, user=request.user, **f)
    ctx = {
        **data,
        "can_manage": services.can_manage_plans(request.user),
        "owners_pending_label": OWNERS_PENDING,
        "past_plan": plan.year < services.today().year,
        "today": services.today(),
        "filters": f,
        "status_choices": _status_choices(),
        "departments": Department.objects.filter(assignments__task__plan=plan)
        .distinct()
        .order_by("sort_order", "name"),
    }
    if request.htmx:
        return render(request, template.replace(".html", "_body.html"), ctx)
    return render(request, template, ctx)


@login_required
@pagecache.per_user("workplan")
def board(request, plan_id: int):
    return _plan_page(request, plan_id, "workplan/board.html")


@login_required
def task_list(request, plan_id: int):
    return _plan_page(request, plan_id, "workplan/task_list.html")


@login_required
def my_tasks(request):
    return render(
        request,
        "workplan/my_tasks.html",
        {
            "rows": services.my_department_rows(request.user),
            "department": services.user_department(request.user),
        },
    )


def _audit_entries(task: Task):
    ct = ContentType.objects.get_for_model
    q = Q(content_type=ct(Task), object_pk=str(task.pk))
    for model, ids in (
        (ProgressReport, task.reports.values_list("pk", flat=True)),
        (Milestone, task.milestones.values_list("pk", flat=True)),
        (Pause, task.pauses.values_list("pk", flat=True)),
        (SupervisionNotice, task.notices.values_list("pk", flat=True)),
        (Assignment, task.assignments.values_list("pk", flat=True)),
    ):
        q |= Q(content_type=ct(model), object_pk__in=[str(i) for i in ids])
    return AuditEntry.objects.filter(q).select_related("content_type")[:100]


@login_required
def task_detail(request, task_id: int):
    task = get_object_or_404(Task.objects.select_related("plan", "section"), pk=task_id)
    if not services.visible_tasks(request.user, Task.objects.filter(pk=task.pk)).exists():
        raise Http404
    try:
        day = parse_day(request)  # today unless asked (see default_day)
    except BadDate as exc:
        return HttpResponseBadRequest(str(exc))
    row = services.task_state(task, day)
    reporter = services.can_report(request.user, task)
    return render(
        request,
        "workplan/task_detail.html",
        {
            "task": task,
            "row": row,
            "as_of": day,
            "assignments": task.assignments.select_related("department", "clause"),
            "clauses": task.clauses.prefetch_related("assignments__department"),
            "milestones": task.milestones.all(),
            "open_milestones": task.milestones.filter(completed_on__isnull=True),
            "timeline": services.timeline(task, day),
            "reporter": reporter,
            "pending_pauses": task.pauses.filter(state=Pause.State.REQUESTED),
            "active_pause": task.pauses.filter(state=Pause.State.APPROVED).first(),
            "notices": task.notices.select_related("department"),
            "audit_entries": _audit_entries(task),
            "user_department": services.user_department(request.user),
            "is_lead": bool(reporter) and reporter.name in row.lead,
            "owners_pending_label": OWNERS_PENDING,
            "can_assign_owners": not row.lead and services.can_manage_plans(request.user),
        },
    )


def _departments():
    return Department.objects.filter(active=True, merged_into__isnull=True).order_by(
        "sort_order", "name"
    )


@login_required
@require_http_methods(["GET", "POST"])
def assign_owners(request, task_id: int):
    """指定责任单位: the plan's manager names the lead and co-organising departments
    of a task the plan left without (待明确责任单位)."""
    task = get_object_or_404(Task.objects.select_related("plan", "section"), pk=task_id)
    if not services.can_manage_plans(request.user):
        raise PermissionDenied("只有局领导、督查或管理员可以指定任务的责任单位")
    departments = _departments()
    errors: list[str] = []
    chosen_lead: list[str] = []
    chosen_co: list[str] = []
    status = 200
    if request.method == "POST":
        chosen_lead = request.POST.getlist("lead")
        chosen_co = request.POST.getlist("co")
        by_pk = {str(d.pk): d for d in departments}
        unknown = [v for v in chosen_lead + chosen_co if v not in by_pk]
        if unknown:
            errors.append("所选单位不存在或已停用")
        else:
            try:
                services.assign_owners(
                    task,
                    request.user,
                    [by_pk[v] for v in chosen_lead],
                    [by_pk[v] for v in chosen_co],
                )
            except ValidationError as exc:
                errors += [m for msgs in exc.message_dict.values() for m in msgs]
            else:
                messages.success(request, f"已为第{task.number}项任务指定责任单位")
                return redirect("workplan:task", task_id=task.pk)
        status = 400
    return render(
        request,
        "workplan/assign_owners.html",
        {
            "task": task,
            "departments": departments,
            "errors": errors,
            "chosen_lead": chosen_lead,
            "chosen_co": chosen_co,
            "already": services.has_lead(task),
            "owners_pending_label": OWNERS_PENDING,
        },
        status=status,
    )


# What the task page's actions turn into an error message (a service's refusal or an invalid form).
_TASK_ERRORS = (PermissionDenied, ValidationError)


@login_required
@require_POST
def report_create(request, task_id: int):
    task = get_object_or_404(Task, pk=task_id)
    milestone = None
    if request.POST.get("milestone"):
        milestone = task.milestones.filter(pk=request.POST["milestone"]).first()
    try:
        percent = int(request.POST.get("percent", ""))
    except ValueError:
        messages.error(request, "完成进度须为 0–100 的整数")
        return redirect("workplan:task", task_id=task.pk)
    try:
        services.file_report(
            task,
            request.user,
            percent=percent,
            text=request.POST.get("text", ""),
            milestone=milestone,
            files=request.FILES.getlist("files"),
        )
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, "进展已报送")
    return redirect("workplan:task", task_id=task.pk)


@login_required
@require_POST
def milestone_create(request, task_id: int):
    task = get_object_or_404(Task.objects.select_related("plan"), pk=task_id)
    try:
        due = dt.date.fromisoformat(request.POST.get("due", ""))
    except ValueError:
        messages.error(request, "截止日期格式应为 YYYY-MM-DD")
        return redirect("workplan:task", task_id=task.pk)
    return act(
        request,
        lambda: services.add_milestone(
            task, request.user, title=request.POST.get("title", ""), due=due
        ),
        success=lambda m: f"已设置节点“{m.title}”",
        errors=_TASK_ERRORS,
        sep="; ",
        redirect_to=("workplan:task", task.pk),
    )


@login_required
@require_POST
def pause_request(request, task_id: int):
    task = get_object_or_404(Task, pk=task_id)
    return act(
        request,
        lambda: services.request_pause(task, request.user, request.POST.get("reason", "")),
        success="暂缓申请已提交,待局领导或督查审批",
        errors=_TASK_ERRORS,
        sep="; ",
        redirect_to=("workplan:task", task.pk),
    )


@login_required
@require_POST
def pause_decide(request, pause_id: int, decision: str):
    pause = get_object_or_404(Pause, pk=pause_id)
    if decision not in services.PAUSE_DECISIONS:
        raise Http404
    return act(
        request,
        lambda: services.PAUSE_DECISIONS[decision](pause, request.user),
        success="已处理",
        errors=_TASK_ERRORS,
        sep="; ",
        redirect_to=("workplan:task", pause.task_id),
    )


@login_required
@require_POST
def notice_respond(request, notice_id: int):
    notice = get_object_or_404(SupervisionNotice, pk=notice_id)
    return act(
        request,
        lambda: services.respond_notice(notice, request.user, request.POST.get("response", "")),
        success=f"已回复督办单 {notice.serial}",
        errors=_TASK_ERRORS,
        sep="; ",
        redirect_to=("workplan:task", notice.task_id),
    )
