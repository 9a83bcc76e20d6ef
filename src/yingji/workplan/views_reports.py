"""Bulletins (通报) and the Excel task ledger (台账) pages."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods

from yingji.core import hardening
from yingji.core import workcalendar as wc
from yingji.core.middleware import csp_header
from yingji.workplan import bulletins, ledger
from yingji.workplan.models import Bulletin, Plan
from yingji.workplan.views import BadDate, default_day, parse_day

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, content_type: str, filename: str) -> HttpResponse:
    """A file download; the Chinese file name survives in every browser (RFC 6266)."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def requested_as_of(plan: Plan, data) -> tuple[str, dt.date]:
    """(period, as_of) from the generate form: an explicit date wins, else the
    chosen month or quarter of the plan's year. Raises ValueError in Chinese."""
    period = data.get("period", "")
    if period not in bulletins.PERIODS:
        raise ValueError("请选择月度或季度通报")
    if data.get("as_of"):
        try:
            return period, dt.date.fromisoformat(data["as_of"])
        except ValueError as exc:
            raise ValueError(f"日期格式应为 YYYY-MM-DD:{data['as_of']}") from exc
    field = "month" if period == Bulletin.Period.MONTHLY else "quarter"
    try:
        number = int(data.get(field, ""))
    except ValueError as exc:
        raise ValueError("请选择月份" if field == "month" else "请选择季度") from exc
    return period, bulletins.period_as_of(period, plan.year, number)


@login_required
@require_http_methods(["GET", "POST"])
def bulletin_list(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The plan's bulletins, newest first, and (for supervisors) the form to
    generate one."""
    plan = get_object_or_404(Plan, pk=plan_id)
    may_generate = bulletins.may_generate(request.user)
    if request.method == "POST":
        if not may_generate:
            raise PermissionDenied("只有局领导、督查或管理员可以生成通报")
        try:
            period, as_of = requested_as_of(plan, request.POST)
            bulletin = bulletins.generate(plan, period, as_of, user=request.user)
        except (ValueError, wc.CalendarRangeError) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"已生成{bulletin.label}通报(数据截至{as_of:%Y-%m-%d})")
        return redirect("workplan:bulletins", plan_id=plan.pk)
    day = default_day(plan)
    return render(
        request,
        "workplan/bulletin_list.html",
        {
            "plan": plan,
            "bulletins": plan.bulletins.all(),
            "may_generate": may_generate,
            "months": range(1, 13),
            "quarters": list(enumerate(bulletins.QUARTER_NAMES, start=1)),
            "current_month": day.month,
            "current_quarter": (day.month - 1) // 3 + 1,
            "periods": Bulletin.Period.choices,
            "as_of": day,
        },
    )


@login_required
def bulletin_detail(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    """The bulletin as a standalone printable page."""
    bulletin = get_object_or_404(Bulletin.objects.select_related("plan"), pk=bulletin_id)
    links = {
        "返回通报列表": reverse("workplan:bulletins", args=[bulletin.plan_id]),
        "下载Word": reverse("workplan:bulletin_docx", args=[bulletin.pk]),
    }
    response = HttpResponse(bulletins.render_html(bulletin, links=links))
    response[csp_header()] = hardening.with_script_hashes(
        settings.YINGJI_CSP, [hardening.PRINT_SCRIPT]
    )
    return response


@login_required
def bulletin_docx(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    bulletin = get_object_or_404(Bulletin.objects.select_related("plan"), pk=bulletin_id)
    return download(bulletins.render_docx(bulletin), DOCX, f"{bulletin.data['title']}.docx")


@login_required
def ledger_export(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The task ledger as of ?as_of= (default: today, or the plan's last day);
    a department user gets its own tasks."""
    plan = get_object_or_404(Plan, pk=plan_id)
    try:
        day = parse_day(request, plan)
    except BadDate as exc:
        return HttpResponseBadRequest(str(exc))
    data = ledger.export_ledger(plan, day, user=request.user)
    return download(data, XLSX, f"{plan.title}任务台账({day:%Y-%m-%d}).xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def ledger_import(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Upload a filled-in ledger; show every problem, or how many reports it filed."""
    plan = get_object_or_404(Plan, pk=plan_id)
    ctx = {"plan": plan, "as_of": default_day(plan), "issues": [], "result": None}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            ctx["issues"] = [ledger.LedgerIssue("", None, None, "请选择要导入的台账文件(.xlsx)")]
            status = 400
        elif upload.size > ledger.MAX_BYTES:
            ctx["issues"] = [
                ledger.LedgerIssue(
                    "", None, None, f"文件超过{ledger.MAX_BYTES // 1024 // 1024}MB,请只上传台账"
                )
            ]
            status = 400
        else:
            try:
                ctx["result"] = ledger.import_ledger(
                    plan, upload.read(), request.user, filename=upload.name
                )
            except ledger.LedgerImportError as exc:
                ctx["issues"] = exc.issues
                status = 400
    return render(request, "workplan/ledger_import.html", ctx, status=status)
