"""Enforcement pages: plans (seed, draws, monthly schedule), a draw and its
verification, inspections (record findings, publish), penalty cases, the
dishonesty list, statistics; and the public page (一公开), which needs no login."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from yingji.core.models import Department
from yingji.core.scope import scope_for
from yingji.core.viewhelpers import act, error_text
from yingji.enforcement import casefsm, lookback, services
from yingji.enforcement.models import (
    JOINT_PUNISHMENTS,
    DishonestyListing,
    Draw,
    ExemptionRule,
    Inspection,
    InspectionPlan,
    Inspector,
    Matter,
    PenaltyCase,
    Publication,
)
from yingji.risk.models import Enterprise


def _staff(request) -> None:
    scope = scope_for(request.user)
    if not (scope.sees_all or scope.department_ids or scope.region_codes):
        raise PermissionDenied("无权查看执法检查")


@login_required
def plan_list(request):
    """The plans; a form to create one (year, proportions per category, deadlines)."""
    _staff(request)
    if request.method == "POST":
        return act(
            request,
            lambda: services.create_plan(
                request.user,
                year=int(request.POST.get("year", "")),
                title=request.POST.get("title", ""),
                department=get_object_or_404(Department, pk=request.POST.get("department")),
                proportions=services.parse_proportions(request.POST.get("proportions", "")),
                default_proportion=float(request.POST.get("default_proportion") or 0.05),
                key_date_count=int(request.POST.get("key_date_count") or 3),
                publication_workdays=int(request.POST.get("publication_workdays") or 20),
                max_per_inspector=int(request.POST["max_per_inspector"])
                if request.POST.get("max_per_inspector")
                else None,
            ),
            success=None,
            redirect_to=lambda plan: ("enforcement:plan", plan.pk),
            on_error="enforcement:plans",
            errors=(ValidationError,),
            bad_input="年度、比例或天数须为数字",
        )
    plans = [
        {"plan": p, **services.plan_counts(p)}
        for p in InspectionPlan.objects.select_related("department")
    ]
    scope = scope_for(request.user)
    departments = [
        d for d in Department.objects.filter(active=True) if scope.can_edit_department(d.pk)
    ]
    return render(
        request,
        "enforcement/plan_list.html",
        {
            "plans": plans,
            "departments": departments,
            "this_year": services.today().year,
            "categories": services.CATEGORY_LABELS.items(),
        },
    )


@login_required
def registers(request):
    """The registers: inspectors (certificates, districts, conflicts), matters with
    their checklists, the exemption list."""
    _staff(request)
    today = services.today()
    return render(
        request,
        "enforcement/registers.html",
        {
            "inspectors": Inspector.objects.select_related("department").prefetch_related(
                "districts", "conflicts__enterprise"
            ),
            "matters": Matter.objects.filter(active=True),
            "rules": ExemptionRule.objects.filter(active=True),
            "today": today,
            "soon": today + dt.timedelta(days=90),
            "labels": services.CATEGORY_LABELS,
        },
    )


@login_required
def plan_detail(request, plan_id: int):
    _staff(request)
    plan = get_object_or_404(InspectionPlan.objects.select_related("department"), pk=plan_id)
    month = request.GET.get("month")
    inspections = (
        services.visible_inspections(request.user)
        .filter(plan=plan)
        .select_related("enterprise", "district")
        .prefetch_related("inspectors")
    )
    if month and month.isdigit():
        inspections = inspections.filter(window_start__month=int(month))
    return render(
        request,
        "enforcement/plan_detail.html",
        {
            "plan": plan,
            "draws": plan.draws.all(),
            "schedule": services.monthly_schedule(plan),
            "annual_done": plan.draws.filter(
                kind=Draw.Kind.ANNUAL, status=Draw.Status.DONE
            ).exists(),
            "inspections": inspections[:300],
            "month": month,
            "can_edit": scope_for(request.user).can_edit_department(plan.department_id),
            "counts": services.plan_counts(plan),
        },
    )


@login_required
@require_POST
def plan_action(request, plan_id: int, action: str):
    """Announce the seed source, record its value, draw the year or the key dates."""
    plan = get_object_or_404(InspectionPlan, pk=plan_id)
    try:
        if action == "seed-source":
            services.announce_seed_source(plan, request.POST.get("source", ""), request.user)
            messages.success(request, "已公布随机种子来源")
        elif action == "seed":
            services.fix_seed(plan, request.POST.get("value", ""), request.user)
            messages.success(request, f"随机种子已确定:{plan.seed}")
        elif action == "draw":
            record = services.draw_annual(plan, request.user)
            messages.success(request, f"年度抽取完成:{record.inspections.count()} 户")
        elif action == "key-dates":
            records = services.draw_key_dates(plan, request.user)
            messages.success(request, f"关键节点明查暗访抽取完成:{len(records)} 个节点")
        else:
            raise Http404
    except services.DrawRefused as exc:
        messages.error(request, error_text(exc))
        return redirect("enforcement:draw", exc.draw.pk)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect("enforcement:plan", plan.pk)


@login_required
def draw_detail(request, draw_id: int):
    _staff(request)
    record = get_object_or_404(Draw.objects.select_related("plan"), pk=draw_id)
    inspections = record.inspections.select_related("enterprise", "district").prefetch_related(
        "inspectors"
    )
    return render(
        request,
        "enforcement/draw_detail.html",
        {
            "draw": record,
            "inspections": inspections,
            # The whole draw is public; an inspection's record only within one's scope.
            "visible": set(
                services.visible_inspections(request.user)
                .filter(draw=record)
                .values_list("pk", flat=True)
            ),
            "params": record.inputs["parameters"],
            "plan_seed": record.inputs.get("plan_seed", {}),
            "n_entities": len(record.inputs["entities"]),
            "n_inspectors": len(record.inputs["inspectors"]),
        },
    )


@login_required
@require_POST
def draw_verify(request, draw_id: int):
    """Re-run the draw now; htmx swaps in the verdict."""
    _staff(request)
    record = get_object_or_404(Draw, pk=draw_id)
    check = services.verify_draw(record, user=request.user)
    if request.htmx:
        return render(request, "enforcement/_verification.html", {"check": check, "draw": record})
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("enforcement:draw", record.pk)


def public_draw_check(request, draw_id: int):
    """For anyone, once a draw's inputs are public: the platform re-runs the draw from
    exactly the published inputs and compares the result digest. Reads only."""
    from yingji.enforcement import draw as drawing

    record = get_object_or_404(Draw.objects.select_related("plan"), pk=draw_id)
    if not services.inputs_public(record):
        raise PermissionDenied("检查时段结束后公开抽取输入,届时可复核")
    problems = drawing.provenance_problems(record.inputs)
    digest = drawing.rerun(record.inputs).digest()
    return render(
        request,
        "enforcement/public_check.html",
        {
            "draw": record,
            "digest": digest,
            "problems": problems,
            "ok": digest == record.result_sha256 and not problems,
            "inputs_sha256": drawing.sha256_json(record.inputs),
        },
    )


def public_verifier(request):
    """The draw's own code as one file (standard-library Python only), so anyone can
    re-run a published draw on their own computer without the platform."""
    from yingji.enforcement import draw as drawing

    source = Path(drawing.__file__).read_text(encoding="utf-8")
    response = HttpResponse(source, content_type="text/x-python; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="yingji-draw-verifier.py"'
    return response


def draw_inputs(request, draw_id: int):
    """The inputs document as a download (public once the draw's windows ended)."""
    record = get_object_or_404(Draw, pk=draw_id)
    if not services.inputs_public(record) and not request.user.is_authenticated:
        raise PermissionDenied("检查时段结束后公开")
    response = HttpResponse(
        json.dumps(record.inputs, ensure_ascii=False, indent=1),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="draw-{record.pk}-inputs.json"'
    return response


def _visible_inspection(request, inspection_id: int) -> Inspection:
    inspection = (
        services.visible_inspections(request.user)
        .filter(pk=inspection_id)
        .select_related("enterprise", "plan", "district", "draw")
        .first()
    )
    if inspection is None:
        raise Http404
    return inspection


@login_required
def inspection_detail(request, inspection_id: int):
    inspection = _visible_inspection(request, inspection_id)
    return render(
        request,
        "enforcement/inspection_detail.html",
        {
            "inspection": inspection,
            "checklist": services.checklist_for(inspection.category),
            "findings": inspection.findings.select_related("hazard", "exemption"),
            "cases": inspection.cases.all(),
            "publication": Publication.objects.filter(inspection=inspection).first(),
            "may_record": (
                inspection.state == Inspection.State.PLANNED
                and services.may_inspect(request.user, inspection)
            ),
            "may_publish": scope_for(request.user).can_edit_department(inspection.department_id),
            "today": services.today(),
        },
    )


@login_required
@require_POST
def inspection_record(request, inspection_id: int):
    """The checklist form: each ticked item with a description is a finding."""
    inspection = _visible_inspection(request, inspection_id)
    findings = []
    for item in services.checklist_for(inspection.category):
        code = item["code"]
        if request.POST.get(f"problem_{code}"):
            findings.append(
                services.FindingInput(
                    code,
                    request.POST.get(f"description_{code}", "").strip() or item["text"],
                    major=bool(request.POST.get(f"major_{code}")),
                    corrected=bool(request.POST.get(f"corrected_{code}")),
                    harm=bool(request.POST.get(f"harm_{code}")),
                )
            )
    return act(
        request,
        lambda: services.record_inspection(
            inspection,
            request.user,
            inspected_on=dt.date.fromisoformat(request.POST.get("inspected_on", "")),
            summary=request.POST.get("summary", ""),
            findings=findings,
        ),
        success=lambda _: f"已录入检查结果:{inspection.get_outcome_display()}",
        redirect_to=("enforcement:inspection", inspection.pk),
        errors=(ValidationError,),
        bad_input="检查日期格式应为 YYYY-MM-DD",
    )


@login_required
@require_POST
def inspection_publish(request, inspection_id: int):
    inspection = _visible_inspection(request, inspection_id)
    return act(
        request,
        lambda: services.publish(inspection, request.user),
        success="检查结果已公示",
        redirect_to=("enforcement:inspection", inspection.pk),
        errors=(ValidationError,),
    )


@login_required
def case_list(request):
    _staff(request)
    state = request.GET.get("state") or ""
    cases = services.visible_cases(request.user).select_related("enterprise", "department")
    if state:
        cases = cases.filter(state=state)
    return render(
        request,
        "enforcement/case_list.html",
        {"cases": cases[:500], "state": state, "states": casefsm.STATE_LABELS.items()},
    )


def _visible_case(request, case_id: int) -> PenaltyCase:
    case = (
        services.visible_cases(request.user)
        .filter(pk=case_id)
        .select_related("enterprise", "department", "inspection")
        .first()
    )
    if case is None:
        raise Http404
    return case


@login_required
def case_detail(request, case_id: int):
    case = _visible_case(request, case_id)
    kinds = services.case_actor_kinds(request.user, case)
    return render(
        request,
        "enforcement/case_detail.html",
        {
            "case": case,
            "events": case.events.all(),
            "findings": case.findings.all(),
            "available": casefsm.available(case.state, kinds),
            "transitions": casefsm.TRANSITIONS,
            "actor_labels": casefsm.ACTOR_LABELS,
            "today": services.today(),
        },
    )


@login_required
@require_POST
def case_transition(request, case_id: int):
    case = _visible_case(request, case_id)
    raw_amount = request.POST.get("amount", "").strip()
    return act(
        request,
        lambda: services.transition_case(
            case,
            request.POST.get("action", ""),
            request.user,
            comment=request.POST.get("comment", ""),
            amount=Decimal(raw_amount) if raw_amount else None,
            on=dt.date.fromisoformat(request.POST["on"]) if request.POST.get("on") else None,
        ),
        success=lambda _: f"案件已转为“{case.get_state_display()}”",
        redirect_to=("enforcement:case", case.pk),
        errors=(ValidationError,),
        bad_input="金额或日期格式不正确",
    )


def _case_by_number(number: str) -> PenaltyCase:
    case = PenaltyCase.objects.filter(number=number).first()
    if case is None:
        raise ValidationError(f"没有案号为“{number}”的案件")
    return case


@login_required
def dishonesty(request):
    _staff(request)
    if request.method == "POST":
        try:
            enterprise = Enterprise.objects.filter(
                credit_code=request.POST.get("credit_code", "").strip()
            ).first()
            if enterprise is None:
                raise ValidationError("没有该统一社会信用代码的企业")
            number = request.POST.get("case_number", "").strip()
            services.list_dishonest(
                enterprise,
                request.user,
                basis=request.POST.get("basis", ""),
                decided_by=get_object_or_404(Department, pk=request.POST.get("decided_by")),
                listed_on=dt.date.fromisoformat(request.POST.get("listed_on", "")),
                period_months=int(request.POST.get("period_months") or 36),
                case=_case_by_number(number) if number else None,
                joint_punishments=request.POST.getlist("joint_punishments"),
            )
            messages.success(request, f"已将 {enterprise.name} 列入严重失信主体名单")
        except ValueError:
            messages.error(request, "日期或期限格式不正确")
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        return redirect("enforcement:dishonesty")
    return render(
        request,
        "enforcement/dishonesty.html",
        {
            "listings": DishonestyListing.objects.select_related(
                "enterprise", "decided_by", "case"
            ),
            "today": services.today(),
            "joint": JOINT_PUNISHMENTS.items(),
            "may_decide": scope_for(request.user).edits_all,
            "departments": Department.objects.filter(active=True),
        },
    )


@login_required
@require_POST
def dishonesty_remove(request, listing_id: int):
    listing = get_object_or_404(DishonestyListing, pk=listing_id)
    return act(
        request,
        lambda: services.remove_early(
            listing,
            request.user,
            reason=request.POST.get("reason", ""),
            on=dt.date.fromisoformat(request.POST.get("on", "")),
        ),
        success="已提前移出名单",
        redirect_to="enforcement:dishonesty",
        errors=(ValidationError,),
        bad_input="日期格式不正确",
    )


@login_required
def statistics(request):
    _staff(request)
    year = int(request.GET.get("year") or services.today().year)
    by = request.GET.get("by") or "district"
    try:
        rows = services.statistics(year, by, request.user)
    except ValidationError as exc:
        raise Http404(error_text(exc)) from exc
    late = services.late_publications(services.today()).filter(
        pk__in=services.visible_inspections(request.user).values("pk")
    )
    return render(
        request,
        "enforcement/statistics.html",
        {
            "rows": rows,
            "total": services.totals(rows),
            "year": year,
            "by": by,
            "late": late,
            "years": sorted(set(InspectionPlan.objects.values_list("year", flat=True))) or [year],
        },
    )


def public(request):
    """一公开: published results, the dishonesty list and the draws' seeds. No login."""
    year = request.GET.get("year")
    pubs = Publication.objects.all()
    if year and year.isdigit():
        pubs = pubs.filter(inspected_on__year=int(year))
    draws = Draw.objects.select_related("plan").order_by("-drawn_at")[:50]
    return render(
        request,
        "enforcement/public.html",
        {
            "publications": pubs[:500],
            "listings": services.current_listings(services.today()),
            "draws": [(d, services.inputs_public(d)) for d in draws],
            "year": year,
            "lookbacks": lookback.published_cases(),
        },
    )
