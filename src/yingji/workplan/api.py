"""Work-plan API (/api/v1/workplan/): plans, board, tasks, reports, pauses,
supervision notices. Everything the pages do, for other systems."""

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from yingji.core import inputlimits
from yingji.core.apiparams import Year
from yingji.core.scope import scope_for
from yingji.workplan import services
from yingji.workplan.api_reports import router as reports_router
from yingji.workplan.models import Pause, Plan, SupervisionNotice, Task
from yingji.workplan.views import default_day

router = Router(tags=["workplan"])


class WorkPlanOut(Schema):
    id: int
    title: str
    year: int
    goals: list[str]
    tasks: int


class MilestoneOut(Schema):
    id: int
    title: str
    due: dt.date
    completed_on: dt.date | None


class TaskOut(Schema):
    id: int
    plan_id: int
    number: int
    section: str
    text: str
    lead: list[str]  # empty: 待明确责任单位 (no lead department yet)
    co: list[str]
    collective: list[str]  # collective owners as written ("各区政府"), no departments
    status: str
    status_label: str
    reason: str
    percent: int
    last_report_on: dt.date | None
    notices: int


class BoardSectionOut(Schema):
    number: int
    title: str
    tasks: list[TaskOut]


class BoardOut(Schema):
    plan_id: int
    as_of: dt.date
    totals: dict[str, int]
    sections: list[BoardSectionOut]


class ProgressReportIn(Schema):
    percent: int
    text: str
    milestone_id: int | None = None


class ReportOut(Schema):
    id: int
    task_id: int
    department: str
    addressed_to: str
    reported_at: dt.datetime
    percent: int
    text: str
    milestone_id: int | None


class TaskDetailOut(TaskOut):
    milestones: list[MilestoneOut]
    reports: list[ReportOut]


class MilestoneIn(Schema):
    title: str
    due: dt.date


class PauseIn(Schema):
    reason: str


class PauseOut(Schema):
    id: int
    task_id: int
    reason: str
    state: str


class NoticeOut(Schema):
    id: int
    serial: str
    task_id: int
    department: str
    issued_at: dt.datetime
    reason: str
    respond_by: dt.date
    responded_at: dt.datetime | None
    response: str
    escalated_at: dt.datetime | None


class RespondIn(Schema):
    response: str


class SuperviseIn(Schema):
    as_of: dt.date


class SuperviseOut(Schema):
    reminders: int
    notices: list[str]
    escalations: int


def _task_out(row: services.TaskRow) -> dict:
    d = row.derived
    return {
        "id": row.task.pk,
        "plan_id": row.task.plan_id,
        "number": row.task.number,
        "section": row.task.section.title,
        "text": row.task.text,
        "lead": row.lead,
        "co": row.co,
        "collective": list(row.task.collective_owners),
        "status": d.status.value,
        "status_label": d.label,
        "reason": d.reason,
        "percent": d.percent,
        "last_report_on": d.last_report_on,
        "notices": row.notices,
    }


def _report_out(r) -> dict:
    return {
        "id": r.pk,
        "task_id": r.task_id,
        "department": r.department.name,
        "addressed_to": r.addressed_to,
        "reported_at": r.reported_at,
        "percent": r.percent,
        "text": r.text,
        "milestone_id": r.milestone_id,
    }


def _notice_out(n) -> dict:
    return {
        "id": n.pk,
        "serial": n.serial,
        "task_id": n.task_id,
        "department": n.department.name,
        "issued_at": n.issued_at,
        "reason": n.reason,
        "respond_by": n.respond_by,
        "responded_at": n.responded_at,
        "response": n.response,
        "escalated_at": n.escalated_at,
    }


def _visible_task(request, task_id: int) -> Task:
    task = get_object_or_404(Task, pk=task_id)
    if not services.visible_tasks(request.user, Task.objects.filter(pk=task_id)).exists():
        raise HttpError(404, "任务不存在或无权查看")
    return task


@router.get("/plans", response=list[WorkPlanOut])
def list_plans(request):
    return [
        {"id": p.pk, "title": p.title, "year": p.year, "goals": p.goals, "tasks": p.tasks.count()}
        for p in Plan.objects.all()
    ]


@router.post("/plans/import", response={201: WorkPlanOut})
def import_plan(request, file: UploadedFile = File(...), year: Year | None = None):
    """Import a plan document (text or .docx). Administrators and supervisors only."""
    if not scope_for(request.user).sees_all:
        raise HttpError(403, "只有管理员或督查可以导入工作要点")
    if too_large := inputlimits.upload_too_large(file, "YINGJI_PLAN_MAX_BYTES"):
        raise HttpError(422, too_large)  # from its size, before it is read
    try:
        plan = services.import_plan_bytes(file.read(), file.name, year=year, user=request.user)
    except services.PlanImportError as exc:
        raise HttpError(422, str(exc)) from exc
    except Exception as exc:  # the parser's document errors carry line numbers
        if type(exc).__name__ == "PlanDocumentError":
            raise HttpError(422, str(exc)) from exc
        raise
    return Status(
        201,
        {
            "id": plan.pk,
            "title": plan.title,
            "year": plan.year,
            "goals": plan.goals,
            "tasks": plan.tasks.count(),
        },
    )


@router.get("/plans/{plan_id}/board", response=BoardOut)
def plan_board(
    request,
    plan_id: int,
    as_of: dt.date | None = None,
    department: str | None = None,
    status: str | None = None,
):
    plan = get_object_or_404(Plan, pk=plan_id)
    day = as_of or default_day(plan)
    b = services.board(plan, day, user=request.user, department=department, status=status)
    return {
        "plan_id": plan.pk,
        "as_of": day,
        "totals": {s.value: n for s, n in b["totals"]},
        "sections": [
            {
                "number": s["section"].number,
                "title": s["section"].title,
                "tasks": [_task_out(r) for _, rows in s["cells"] for r in rows],
            }
            for s in b["sections"]
        ],
    }


@router.get("/plans/{plan_id}/tasks", response=list[TaskOut])
def plan_tasks(
    request,
    plan_id: int,
    as_of: dt.date | None = None,
    department: str | None = None,
    status: str | None = None,
):
    plan = get_object_or_404(Plan, pk=plan_id)
    day = as_of or default_day(plan)
    b = services.board(plan, day, user=request.user, department=department, status=status)
    return [_task_out(r) for r in b["rows"]]


@router.get("/mine", response=list[TaskOut])
def my_tasks(request):
    return [_task_out(r) for r in services.my_department_rows(request.user)]


@router.get("/tasks/{task_id}", response=TaskDetailOut)
def task_detail(request, task_id: int, as_of: dt.date | None = None):
    task = _visible_task(request, task_id)
    day = as_of or default_day()  # a task: today unless asked (see default_day)
    row = services.task_state(task, day)
    reports = task.reports.filter(reported_at__lt=services.end_of_day(day)).select_related(
        "department"
    )
    return {
        **_task_out(row),
        "milestones": [
            {"id": m.id, "title": m.title, "due": m.due, "completed_on": m.completed_on}
            for m in row.milestones
        ],
        "reports": [_report_out(r) for r in reports],
    }


@router.post("/tasks/{task_id}/reports", response={201: ReportOut})
def create_report(request, task_id: int, payload: ProgressReportIn):
    task = _visible_task(request, task_id)
    milestone = None
    if payload.milestone_id is not None:
        milestone = task.milestones.filter(pk=payload.milestone_id).first()
        if milestone is None:
            raise HttpError(422, "milestone_id:所选节点不属于该任务")
    report = services.file_report(
        task, request.user, percent=payload.percent, text=payload.text, milestone=milestone
    )
    return Status(201, _report_out(report))


@router.post("/tasks/{task_id}/milestones", response={201: MilestoneOut})
def add_milestone(request, task_id: int, payload: MilestoneIn):
    task = _visible_task(request, task_id)
    m = services.add_milestone(task, request.user, title=payload.title, due=payload.due)
    return Status(201, {"id": m.pk, "title": m.title, "due": m.due, "completed_on": None})


@router.post("/tasks/{task_id}/pauses", response={201: PauseOut})
def request_pause(request, task_id: int, payload: PauseIn):
    task = _visible_task(request, task_id)
    p = services.request_pause(task, request.user, payload.reason)
    return Status(201, {"id": p.pk, "task_id": p.task_id, "reason": p.reason, "state": p.state})


@router.post("/pauses/{pause_id}/{decision}", response=PauseOut)
def decide_pause(request, pause_id: int, decision: str):
    pause = get_object_or_404(Pause, pk=pause_id)
    if decision not in services.PAUSE_DECISIONS:
        raise HttpError(404, "decision 应为 approve、reject 或 lift")
    services.PAUSE_DECISIONS[decision](pause, request.user)
    return {"id": pause.pk, "task_id": pause.task_id, "reason": pause.reason, "state": pause.state}


@router.get("/plans/{plan_id}/notices", response=list[NoticeOut])
def list_notices(request, plan_id: int, open_only: bool = False):
    qs = SupervisionNotice.objects.filter(task__plan_id=plan_id).select_related("department")
    scope = scope_for(request.user)
    if not scope.sees_all:
        qs = qs.filter(department_id__in=scope.department_ids)
    if open_only:
        qs = qs.filter(responded_at__isnull=True)
    return [_notice_out(n) for n in qs]


@router.post("/notices/{notice_id}/respond", response=NoticeOut)
def respond_notice(request, notice_id: int, payload: RespondIn):
    notice = get_object_or_404(SupervisionNotice.objects.select_related("department"), pk=notice_id)
    services.respond_notice(notice, request.user, payload.response)
    return _notice_out(notice)


@router.post("/plans/{plan_id}/supervise", response=SuperviseOut)
def run_supervision(request, plan_id: int, payload: SuperviseIn):
    """Run the supervision pass for a date (reminders, notices, escalations)."""
    if not scope_for(request.user).sees_all:
        raise HttpError(403, "只有督查、局领导或管理员可以发起督办")
    plan = get_object_or_404(Plan, pk=plan_id)
    result = services.supervise(payload.as_of, plans=[plan])
    return {
        "reminders": result.reminders,
        "notices": [n.serial for n in result.notices],
        "escalations": result.escalations,
    }


router.add_router("", reports_router)
