"""Bulletins, department scores and the Excel ledger over the API
(/api/v1/workplan/): the same use cases as the pages in views_reports.py."""

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from yingji.core import workcalendar as wc
from yingji.workplan import bulletins, ledger, services
from yingji.workplan.models import Bulletin, Plan
from yingji.workplan.scoring import MEASURES
from yingji.workplan.views import default_day
from yingji.workplan.views_reports import DOCX, XLSX, download

router = Router(tags=["bulletins and ledger"])


class BulletinOut(Schema):
    id: int
    plan_id: int
    period: str
    label: str
    as_of: dt.date
    generated_at: dt.datetime


class BulletinDetailOut(BulletinOut):
    data: dict


class BulletinIn(Schema):
    period: Literal["monthly", "quarterly"]
    as_of: dt.date


class ScoreOut(Schema):
    department: str
    led: int
    co: int
    on_time: float | None
    completeness: float | None
    punctuality: float | None
    score: float | None
    detail: dict


class ScoresOut(Schema):
    plan_id: int
    as_of: dt.date
    weights: dict[str, float]
    scores: list[ScoreOut]


class LedgerIssueOut(Schema):
    sheet: str
    row: int | None
    column: str | None
    message: str
    text: str


class LedgerImportOut(Schema):
    rows: int
    created: int
    unchanged: int
    report_ids: list[int]


class LedgerErrorOut(Schema):
    detail: str
    errors: list[LedgerIssueOut]


def _bulletin_out(b: Bulletin, with_data: bool = False) -> dict:
    out = {
        "id": b.pk,
        "plan_id": b.plan_id,
        "period": b.period,
        "label": b.label,
        "as_of": b.as_of,
        "generated_at": b.generated_at,
    }
    if with_data:
        out["data"] = b.data
    return out


@router.get("/plans/{plan_id}/bulletins", response=list[BulletinOut])
def list_bulletins(request, plan_id: int):
    """The plan's bulletins, newest data first."""
    plan = get_object_or_404(Plan, pk=plan_id)
    return [_bulletin_out(b) for b in plan.bulletins.all()]


@router.post("/plans/{plan_id}/bulletins", response={201: BulletinDetailOut})
def create_bulletin(request, plan_id: int, payload: BulletinIn):
    """Generate (or regenerate) the bulletin for a period and data date.
    Leaders, supervisors and administrators only."""
    plan = get_object_or_404(Plan, pk=plan_id)
    if not bulletins.may_generate(request.user):
        raise HttpError(403, "只有局领导、督查或管理员可以生成通报")
    try:
        b = bulletins.generate(plan, payload.period, payload.as_of, user=request.user)
    except wc.CalendarRangeError as exc:
        raise HttpError(400, str(exc)) from exc
    return Status(201, _bulletin_out(b, with_data=True))


@router.get("/bulletins/{bulletin_id}", response=BulletinDetailOut)
def get_bulletin(request, bulletin_id: int):
    """One bulletin with everything it says (`data`)."""
    return _bulletin_out(get_object_or_404(Bulletin, pk=bulletin_id), with_data=True)


@router.get("/bulletins/{bulletin_id}/docx")
def get_bulletin_docx(request, bulletin_id: int) -> HttpResponse:
    """The bulletin as a Word document."""
    b = get_object_or_404(Bulletin.objects.select_related("plan"), pk=bulletin_id)
    return download(bulletins.render_docx(b), DOCX, f"{b.data['title']}.docx")


@router.get("/plans/{plan_id}/scores", response=ScoresOut)
def get_scores(request, plan_id: int, as_of: dt.date | None = None):
    """Department scores as of a date (default: today, or the plan's last day)."""
    plan = get_object_or_404(Plan, pk=plan_id)
    day = as_of or default_day(plan)
    try:
        scores = services.department_scores(plan, day)
    except wc.CalendarRangeError as exc:
        raise HttpError(400, str(exc)) from exc
    return {
        "plan_id": plan.pk,
        "as_of": day,
        "weights": {k: plan.score_weights.get(k, 0) for k in MEASURES},
        "scores": [s.as_dict() for s in scores],
    }


@router.get("/plans/{plan_id}/ledger.xlsx")
def get_ledger(request, plan_id: int, as_of: dt.date | None = None) -> HttpResponse:
    """The task ledger as .xlsx; a department user gets its own tasks."""
    plan = get_object_or_404(Plan, pk=plan_id)
    day = as_of or default_day(plan)
    data = ledger.export_ledger(plan, day, user=request.user)
    return download(data, XLSX, f"{plan.title}任务台账({day:%Y-%m-%d}).xlsx")


@router.post("/plans/{plan_id}/ledger", response={200: LedgerImportOut, 400: LedgerErrorOut})
def post_ledger(request, plan_id: int, file: UploadedFile = File(...)):  # noqa: B008
    """Import a filled-in ledger, all or nothing. 400 lists every problem by
    sheet, row and column."""
    plan = get_object_or_404(Plan, pk=plan_id)
    if file.size > ledger.MAX_BYTES:
        issue = ledger.LedgerIssue(
            "", None, None, f"文件超过{ledger.MAX_BYTES // 1024 // 1024}MB,请只上传台账"
        )
        return Status(400, {"detail": str(issue), "errors": [issue.as_dict()]})
    try:
        result = ledger.import_ledger(
            plan, file.read(), request.user, filename=file.name or "台账.xlsx"
        )
    except ledger.LedgerImportError as exc:
        return Status(
            400,
            {
                "detail": f"台账未导入:共发现{len(exc.issues)}处问题",
                "errors": [i.as_dict() for i in exc.issues],
            },
        )
    return {
        "rows": result.rows,
        "created": result.created,
        "unchanged": result.unchanged,
        "report_ids": [r.pk for r in result.reports],
    }
