"""Look-back pages (事故整改评估/"回头看"): the list with filters, marking an
accident typical, a case with its report items and timeline and the evaluation
workflow, and the annual summary (.xlsx too)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from yingji.core.models import Department, Region, RegionLevel
from yingji.core.viewhelpers import act, error_text
from yingji.enforcement import lookback
from yingji.enforcement import lookbackrules as rules
from yingji.enforcement.models import LookbackCase, LookbackItem
from yingji.enforcement.services import today
from yingji.enforcement.views import _staff
from yingji.risk.models import Accident, Enterprise

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@login_required
def lookback_list(request):
    """Cases with filters: state, district, overdue, year (of the due date)."""
    _staff(request)
    day = today()
    cases = lookback.visible_cases(request.user).select_related("accident", "district")
    state, district = request.GET.get("state") or "", request.GET.get("district") or ""
    year, overdue = _year(request.GET.get("year")), bool(request.GET.get("overdue"))
    if state:
        cases = cases.filter(state=state)
    if district:
        cases = cases.filter(district_id=district)
    if year:
        cases = cases.filter(due_on__year=year)
    if overdue:
        cases = cases.filter(lookback.overdue_q(day))
    late = set(LookbackCase.objects.filter(lookback.overdue_q(day)).values_list("pk", flat=True))
    rows = [(c, c.pk in late) for c in cases[:500]]
    try:
        may_mark = bool(
            lookback.actor_kinds(request.user, LookbackCase(department=lookback.lead_department()))
        )
    except ValidationError:
        may_mark = False
    return render(
        request,
        "enforcement/lookback_list.html",
        {
            "rows": rows,
            "state": state,
            "district": district,
            "year": year,
            "overdue": overdue,
            "states": rules.STATE_LABELS.items(),
            "may_mark": may_mark,
            "districts": Region.objects.filter(level=RegionLevel.DISTRICT).order_by("code"),
        },
    )


@login_required
@require_POST
def lookback_mark_typical(request):
    """Mark an accident typical (by its code) and open its look-back."""
    code = request.POST.get("code", "").strip()
    accident = Accident.objects.filter(code=code).first()
    if accident is None:
        messages.error(request, f"没有编号为“{code}”的事故")
        return redirect("enforcement:lookbacks")
    return act(
        request,
        lambda: lookback.mark_typical(
            accident, request.user, reason=request.POST.get("reason", "")
        ),
        success=f"已将 {accident.code} 列为典型事故并启动整改评估",
        redirect_to=lambda case: ("enforcement:lookback", case.pk),
        on_error="enforcement:lookbacks",
        errors=(ValidationError,),
    )


def _visible(request, case_id: int) -> LookbackCase:
    case = (
        lookback.visible_cases(request.user)
        .filter(pk=case_id)
        .select_related("accident__enterprise", "department", "district")
        .first()
    )
    if case is None:
        raise Http404
    return case


@login_required
def lookback_detail(request, case_id: int):
    case = _visible(request, case_id)
    kinds = lookback.actor_kinds(request.user, case)
    items = list(case.items.select_related("responsible_department", "enterprise", "hazard"))
    day = today()
    tally = lookback.tally(case)
    return render(
        request,
        "enforcement/lookback_detail.html",
        {
            "case": case,
            "tally": tally,
            "derived": None if tally.empty else rules.derive_conclusion(tally),
            "items": [
                (
                    i,
                    lookback.may_report_progress(request.user, case, i),
                    bool(i.deadline and i.deadline < day and i.status != "done"),
                )
                for i in items
            ],
            "events": case.events.select_related("item"),
            "may_edit": bool(kinds),
            "available": rules.available(case.state, kinds, case.conclusion or None),
            "transitions": rules.TRANSITIONS,
            "rules": rules.CONCLUSION_RULES,
            "conclusions": rules.CONCLUSION_LABELS.items(),
            "today": day,
            "kinds": LookbackItem.Kind.choices,
            "sanctions": LookbackItem.Sanction.choices,
            "statuses": LookbackItem.Status.choices,
            "departments": Department.objects.filter(active=True, merged_into__isnull=True),
            "may_hazard": bool(kinds)
            and case.conclusion == "unqualified"
            and any(i.kind == "measure" and i.status != "done" and not i.hazard_id for i in items),
        },
    )


@login_required
@require_POST
def lookback_report(request, case_id: int):
    case = _visible(request, case_id)
    return act(
        request,
        lambda: lookback.record_report(
            case,
            request.user,
            approved_on=dt.date.fromisoformat(request.POST.get("approved_on", "")),
            approver=request.POST.get("approver", ""),
        ),
        success=lambda _: f"已录入调查报告批复,评估期限 {case.due_on}",
        redirect_to=("enforcement:lookback", case.pk),
        errors=(ValidationError,),
        bad_input="批复日期格式应为 YYYY-MM-DD",
    )


@login_required
@require_POST
def lookback_add_item(request, case_id: int):
    case = _visible(request, case_id)
    post = request.POST
    try:
        dept_id, credit = post.get("responsible_department"), post.get("credit_code", "").strip()
        enterprise = None
        if credit:
            enterprise = Enterprise.objects.filter(credit_code=credit).first()
            if enterprise is None:
                raise ValidationError("没有该统一社会信用代码的企业")
        lookback.add_item(
            case,
            request.user,
            kind=post.get("kind", ""),
            text=post.get("text", ""),
            responsible=post.get("responsible", ""),
            sanction=post.get("sanction", ""),
            responsible_department=get_object_or_404(Department, pk=dept_id) if dept_id else None,
            enterprise=enterprise,
            deadline_workdays=int(post["deadline_workdays"])
            if post.get("deadline_workdays")
            else None,
        )
        messages.success(request, "已录入事项")
    except ValueError:
        messages.error(request, "时限须为工作日天数")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("enforcement:lookback", case.pk)


@login_required
@require_POST
def lookback_progress(request, item_id: int):
    item = get_object_or_404(LookbackItem, pk=item_id)
    case = _visible(request, item.case_id)
    raw = request.POST.get("done_on")
    return act(
        request,
        lambda: lookback.report_progress(
            item,
            request.user,
            status=request.POST.get("status", ""),
            evidence=request.POST.get("evidence", ""),
            done_on=dt.date.fromisoformat(raw) if raw else None,
        ),
        success=lambda _: f"已更新落实情况:{item.get_status_display()}",
        redirect_to=("enforcement:lookback", case.pk),
        errors=(ValidationError,),
        bad_input="落实日期格式应为 YYYY-MM-DD",
    )


@login_required
@require_POST
def lookback_transition(request, case_id: int):
    case = _visible(request, case_id)
    return act(
        request,
        lambda: lookback.transition(
            case,
            request.POST.get("action", ""),
            request.user,
            comment=request.POST.get("comment", ""),
            conclusion=request.POST.get("conclusion") or None,
        ),
        success=lambda _: (
            f"评估已转为“{case.get_state_display()}”"
            + (f",结论:{case.get_conclusion_display()}" if case.conclusion else "")
        ),
        redirect_to=("enforcement:lookback", case.pk),
        errors=(ValidationError,),
    )


@login_required
@require_POST
def lookback_hazards(request, case_id: int):
    case = _visible(request, case_id)
    return act(
        request,
        lambda: lookback.findings_to_hazards(case, request.user),
        success=lambda made: (
            "已转为隐患:" + "、".join(h.code for h in made)
            if made
            else "没有需要转为隐患的整改措施"
        ),
        redirect_to=("enforcement:lookback", case.pk),
        errors=(ValidationError,),
    )


@login_required
def lookback_summary(request):
    """The year's look-back summary by district; ?format=xlsx downloads it."""
    _staff(request)
    year = _year(request.GET.get("year")) or today().year
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(lookback.summary_xlsx(year, request.user), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            True, f"{year}年事故整改评估汇总.xlsx"
        )
        return response
    rows, total = lookback.summary(year, request.user)
    years = sorted(
        {d.year for d in LookbackCase.objects.exclude(due_on=None).values_list("due_on", flat=True)}
        | {year}
    )
    return render(
        request,
        "enforcement/lookback_summary.html",
        {
            "rows": rows,
            "total": total,
            "year": year,
            "years": years,
            "conclusions": list(rules.Conclusion),
        },
    )
