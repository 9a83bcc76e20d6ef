"""Risk pages (Chinese UI, htmx): enterprises, risk points, hazards with their
workflow, accidents, the double-decrease dashboard, reports and ledgers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from yingji.core import inputlimits, links, media, pagecache
from yingji.core.models import Region
from yingji.core.scope import scope_for
from yingji.core.viewhelpers import act, error_text
from yingji.risk import grading, hazardflow, imports, ledger, queries, reports, services, stats
from yingji.risk.categories import ACCIDENT_TYPES, HAZARD_CATEGORIES, KEY_CATEGORIES
from yingji.risk.models import (
    Grade,
    Hazard,
    HazardEvidence,
    Recheck,
    RectificationPlan,
    RiskAssessment,
)
from yingji.risk.supervision import SECTIONS

EVENT_LABELS = {"report": "上报", "import": "台账导入", "list": "挂牌督办"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _common() -> dict:
    return {
        "districts": Region.objects.filter(level="district").only("code", "name").order_by("code"),
        "sections": [(k, v[2]) for k, v in SECTIONS.items()],
        "grades": Grade.choices,
        "states": [(s.value, s.label) for s in hazardflow.State],
        "levels": Hazard.Level.choices,
        "sources": Hazard.Source.choices,
        "hazard_categories": list(HAZARD_CATEGORIES.items()),
        "key_categories": list(KEY_CATEGORIES.items()),
        "accident_types": list(ACCIDENT_TYPES.items()),
    }


def _day(request) -> dt.date:
    try:
        return (
            dt.date.fromisoformat(request.GET["as_of"])
            if request.GET.get("as_of")
            else services.today()
        )
    except ValueError:
        raise ValidationError("日期格式应为 YYYY-MM-DD") from None


def _list(request, template: str, qs_func, extra: dict | None = None, links_for: str | None = None):
    """A filtered, paged list; `links_for` (a model label) adds the link columns
    other modules register on it (core/links.py) as `link_columns` and `row.links`."""
    try:
        qs = qs_func()
    except ValidationError as exc:
        return HttpResponseBadRequest(error_text(exc))
    page = queries.paginate(qs, request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    ctx = {
        **_common(),
        "page": page,
        "filters": request.GET,
        "query": params.urlencode(),
        **(extra or {}),
    }
    if links_for:
        ctx["link_columns"] = links.attach(links_for, page.rows)
    if request.htmx:
        return render(request, template.replace(".html", "_body.html"), ctx)
    return render(request, template, ctx)


# ---------------------------------------------------------------- dashboard


@login_required
def dashboard(request):
    try:
        day = _day(request)
    except ValidationError as exc:
        return HttpResponseBadRequest(error_text(exc))
    user = request.user
    data = stats.overview(
        day,
        hazards=services.visible_hazards(user),
        enterprises=services.visible_enterprises(user),
        accidents=services.visible_accidents(user),
    )
    return render(request, "risk/dashboard.html", {**data, "today": services.today()})


# ---------------------------------------------------------------- enterprises


@login_required
def enterprise_list(request):
    return _list(
        request,
        "risk/enterprise_list.html",
        lambda: (
            queries.enterprises(request.user, request.GET)
            .select_related("district", "street", "supervising_department")
            .defer(*queries.NO_BOUNDARY)
        ),
    )


@login_required
def enterprise_detail(request, pk: int):
    e = get_object_or_404(
        queries.enterprises(request.user, {})
        .select_related("district", "street", "supervising_department")
        .defer(*queries.NO_BOUNDARY),
        pk=pk,
    )
    return render(
        request,
        "risk/enterprise_detail.html",
        {
            **_common(),
            "e": e,
            "categories": [KEY_CATEGORIES.get(c, c) for c in e.key_categories or []],
            "points": e.risk_points.order_by("code"),
            "hazards": e.hazards.order_by("-found_on")[:100],
            "accidents": e.accidents.all()[:50],
        },
    )


# ---------------------------------------------------------------- risk points


@login_required
def point_list(request):
    return _list(
        request, "risk/point_list.html", lambda: queries.risk_points(request.user, request.GET)
    )


@login_required
def point_detail(request, pk: int):
    p = get_object_or_404(queries.risk_points(request.user, {}), pk=pk)
    return render(
        request,
        "risk/point_detail.html",
        {
            "p": p,
            "assessments": p.assessments.all(),
            "methods": RiskAssessment.Method.choices,
            "scales": grading.load_scales(),
        },
    )


@login_required
@require_POST
def point_assess(request, pk: int):
    p = get_object_or_404(queries.risk_points(request.user, {}), pk=pk)
    scope = scope_for(request.user)
    owner = p.enterprise.supervising_department_id if p.enterprise else None
    if not (scope.can_edit_department(owner) or scope.covers_region(p.street_id or p.district_id)):
        messages.error(request, "无权评估该风险点")
        return redirect("risk:point", pk=pk)
    f = request.POST
    return act(
        request,
        lambda: services.assess(
            p,
            method=f.get("method", ""),
            likelihood=float(f.get("likelihood") or 0),
            exposure=float(f["exposure"]) if f.get("exposure") else None,
            consequence=float(f.get("consequence") or 0),
            assessed_on=dt.date.fromisoformat(f.get("assessed_on") or str(services.today())),
            assessor=f.get("assessor", ""),
        ),
        success="已记录评估,风险等级已更新",
        redirect_to=("risk:point", pk),
        errors=(ValidationError, ValueError),
    )


# ---------------------------------------------------------------- hazards


@login_required
@pagecache.per_user("risk")
def hazard_list(request):
    today = services.today()
    return _list(
        request,
        "risk/hazard_list.html",
        lambda: (
            queries.hazards(request.user, request.GET, today)
            .select_related("enterprise", "district", "department")
            .defer("district__boundary")
        ),
        {"today": today},
    )


def _actor_labels(kinds) -> str:
    """Who may make a move, in words: '监管部门、局领导/督查'."""
    return "、".join(hazardflow.ACTOR_LABELS[k] for k in sorted(kinds))


@login_required
def hazard_detail(request, pk: int):
    h = get_object_or_404(
        services.visible_hazards(request.user)
        .select_related("enterprise", "district", "street", "department", "listed_by")
        .defer(*queries.NO_BOUNDARY),
        pk=pk,
    )
    kinds = services.actor_kinds(request.user, h)
    # The assign form carries a deadline (and the service defaults one): not a blocker here.
    facts = dataclasses.replace(services.facts(h), has_deadline=True)
    moves = [
        {"t": t, "problems": hazardflow.guard_problems(t, facts)}
        for t in hazardflow.available(facts, kinds)
    ]
    plan = RectificationPlan.objects.filter(hazard=h).first()
    return render(
        request,
        "risk/hazard_detail.html",
        {
            "h": h,
            "moves": moves,
            "kinds": kinds,
            "plan": plan,
            "plan_missing": hazardflow.plan_missing(plan.__dict__ if plan else {}),
            "can_list": h.level == "major"
            and not h.listed
            and bool(kinds & {hazardflow.DEPARTMENT, hazardflow.LEADERSHIP})
            and h.state != "closed",
            "events": [
                {
                    "on": e.on,
                    "actor": e.actor_label,
                    "comment": e.comment,
                    "action": EVENT_LABELS.get(e.action) or hazardflow.BY_ACTION[e.action].label
                    if e.action in hazardflow.BY_ACTION or e.action in EVENT_LABELS
                    else e.action,
                    "to": hazardflow.STATE_LABELS.get(e.to_state, "") if e.to_state else "",
                }
                for e in h.events.all()
            ],
            "evidence": h.evidence.all(),
            "rechecks": h.rechecks.all(),
            "overdue": h.deadline
            and h.deadline < services.today()
            and h.state in hazardflow.DEADLINE_STATES,
            "evidence_kinds": HazardEvidence.Kind.choices,
            "transitions": [
                {
                    "label": t.label,
                    "source": t.source.label,
                    "target": t.target.label,
                    "general": _actor_labels(t.actors[hazardflow.GENERAL]),
                    "major": _actor_labels(t.actors[hazardflow.MAJOR]),
                }
                for t in hazardflow.TRANSITIONS
            ],
        },
    )


@login_required
def hazard_new(request):
    scope = scope_for(request.user)
    if request.method == "POST":
        f = request.POST
        enterprise = (
            queries.enterprises(request.user, {})
            .filter(credit_code=(f.get("credit_code") or "").strip().upper())
            .first()
        )
        if enterprise is None:
            messages.error(request, "未找到该统一社会信用代码对应的企业(或不在您的管辖范围)")
        else:
            try:
                h = services.create_hazard(
                    enterprise,
                    description=f.get("description", ""),
                    source=f.get("source", ""),
                    level=f.get("level", "general"),
                    category=f.get("category", "other"),
                    found_on=dt.date.fromisoformat(f.get("found_on") or str(services.today())),
                    location=f.get("location", ""),
                    user=request.user,
                )
                messages.success(request, f"已上报隐患 {h.code}")
                return redirect("risk:hazard", pk=h.pk)
            except (ValidationError, ValueError) as exc:
                messages.error(request, error_text(exc))
    return render(
        request,
        "risk/hazard_new.html",
        {
            **_common(),
            "scope": scope,
            "form": request.POST,
            "initial_code": request.POST.get("credit_code") or request.GET.get("credit_code", ""),
        },
    )


@login_required
@require_POST
def hazard_transition(request, pk: int, action: str):
    h = get_object_or_404(services.visible_hazards(request.user), pk=pk)
    deadline = request.POST.get("deadline")
    move = hazardflow.BY_ACTION.get(action)
    return act(
        request,
        lambda: services.transition(
            h,
            action,
            request.user,
            comment=request.POST.get("comment", ""),
            deadline=dt.date.fromisoformat(deadline) if deadline else None,
        ),
        success=f"已{move.label if move else action}",
        redirect_to=("risk:hazard", pk),
    )


@login_required
@require_POST
def hazard_plan(request, pk: int):
    h = get_object_or_404(services.visible_hazards(request.user), pk=pk)
    f = request.POST
    return act(
        request,
        lambda: services.save_plan(
            h,
            request.user,
            goals=f.get("goals", ""),
            measures=f.get("measures", ""),
            funds=f.get("funds", ""),
            responsible_person=f.get("responsible_person", ""),
            contingency_plan=f.get("contingency_plan", ""),
            deadline=dt.date.fromisoformat(f["deadline"]) if f.get("deadline") else None,
        ),
        success="整改方案已保存",
        redirect_to=("risk:hazard", pk),
    )


@login_required
@require_POST
def hazard_list_for_supervision(request, pk: int):
    h = get_object_or_404(services.visible_hazards(request.user), pk=pk)
    return act(
        request,
        lambda: services.list_for_supervision(h, request.user),
        success="已挂牌督办",
        redirect_to=("risk:hazard", pk),
        errors=(PermissionDenied, ValidationError),
    )


@login_required
@require_POST
def hazard_evidence(request, pk: int):
    h = get_object_or_404(services.visible_hazards(request.user), pk=pk)
    upload = request.FILES.get("file")
    problem = None
    if upload is not None:
        try:
            media.check_upload(upload, "evidence")
        except ValidationError as exc:
            problem = exc.message_dict["file"][0]
    if not services.actor_kinds(request.user, h):
        messages.error(request, "无权上传该隐患的材料")
    elif upload is None:
        messages.error(request, "请选择文件")
    elif problem:
        messages.error(request, problem)
    else:
        kind = request.POST.get("kind") or HazardEvidence.Kind.FOUND
        if kind not in HazardEvidence.Kind.values:
            kind = HazardEvidence.Kind.FOUND
        HazardEvidence.objects.create(
            hazard=h,
            kind=kind,
            file=upload,
            note=request.POST.get("note", "")[:200],
            uploaded_by=request.user,
        )
        messages.success(request, "材料已上传")
    return redirect("risk:hazard", pk=pk)


@login_required
@require_POST
def recheck_record(request, pk: int):
    r = get_object_or_404(Recheck.objects.select_related("hazard"), pk=pk)
    if not services.visible_hazards(request.user).filter(pk=r.hazard_id).exists():
        raise Http404
    return act(
        request,
        lambda: services.record_recheck(
            r,
            request.user,
            passed=request.POST.get("passed") == "1",
            note=request.POST.get("note", ""),
        ),
        success="回头看结果已记录",
        redirect_to=("risk:hazard", r.hazard_id),
        errors=(PermissionDenied, ValidationError),
    )


# ---------------------------------------------------------------- accidents


@login_required
def accident_list(request):
    return _list(
        request,
        "risk/accident_list.html",
        lambda: queries.accidents(request.user, request.GET),
        {"may_record": services.may_record_accidents(request.user)},
        links_for="risk.accident",
    )


@login_required
def accident_new(request):
    if not services.may_record_accidents(request.user):
        raise PermissionDenied("无权录入事故")
    if request.method == "POST":
        f = request.POST
        try:
            occurred = dt.datetime.fromisoformat(f.get("occurred_at", ""))
            credit = (f.get("credit_code") or "").strip().upper()
            enterprise = (
                services.visible_enterprises(request.user).filter(credit_code=credit).first()
                if credit
                else None
            )
            if credit and enterprise is None:
                raise ValidationError(f"未找到企业“{credit}”(或不在您的管辖范围)")
            a = services.save_accident(
                code=f.get("code") or f"SG{occurred:%Y%m%d%H%M}-{timezone.now():%S%f}",
                occurred_at=timezone.make_aware(occurred)
                if timezone.is_naive(occurred)
                else occurred,
                accident_type=f.get("accident_type", "other"),
                deaths=int(f.get("deaths") or 0),
                missing=int(f.get("missing") or 0),
                serious_injuries=int(f.get("serious_injuries") or 0),
                direct_loss=Decimal(f.get("direct_loss") or 0),
                enterprise=enterprise,
                lon=float(f["lon"]) if f.get("lon") else None,
                lat=float(f["lat"]) if f.get("lat") else None,
                industry_code=f.get("industry_code", ""),
                place=f.get("place", ""),
                description=f.get("description", ""),
                user=request.user,
            )
            messages.success(request, f"已录入事故 {a.code}({a.get_level_display()})")
            return redirect("risk:accidents")
        except (ValidationError, PermissionDenied, ValueError, InvalidOperation) as exc:
            messages.error(request, "录入失败:" + error_text(exc))
    return render(request, "risk/accident_new.html", {**_common(), "form": request.POST})


# ---------------------------------------------------------------- reports


@login_required
def quarterly(request):
    today = services.today()
    try:
        year = int(request.GET.get("year") or today.year)
        quarter = int(request.GET.get("quarter") or ((today.month - 1) // 3 + 1))
        if quarter not in (1, 2, 3, 4):
            raise ValueError
    except ValueError:
        return HttpResponseBadRequest("年度或季度无效(季度为1-4)")
    try:
        data = reports.quarterly_data(year, quarter, user=request.user)
    except ValueError as exc:  # a quarter that has not begun
        return HttpResponseBadRequest(str(exc))
    if request.GET.get("format") == "docx":
        response = HttpResponse(reports.quarterly_docx(data), content_type=DOCX)
        response["Content-Disposition"] = f'attachment; filename="risk-{year}Q{quarter}.docx"'
        return response
    return HttpResponse(reports.quarterly_html(data))


@login_required
def consultation(request):
    today = services.today()
    try:
        start = dt.date.fromisoformat(request.GET.get("start") or str(today))
        end = dt.date.fromisoformat(request.GET.get("end") or str(today + dt.timedelta(days=7)))
    except ValueError:
        return HttpResponseBadRequest("日期格式应为 YYYY-MM-DD")
    if end < start:
        return HttpResponseBadRequest("结束日期不能早于开始日期")
    return HttpResponse(
        reports.consultation_html(reports.consultation_data(start, end, user=request.user))
    )


# ---------------------------------------------------------------- ledgers


def _may_import(user) -> bool:
    scope = scope_for(user)
    return scope.edits_all or bool(scope.department_ids)


@login_required
def ledgers(request):
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        upload = request.FILES.get("file")
        if kind not in ledger.COLUMNS or upload is None:
            messages.error(request, "请选择台账类别和文件")
        elif not _may_import(request.user):
            messages.error(request, "无权导入台账")
        elif too_large := inputlimits.upload_too_large(upload):
            messages.error(request, too_large)
        else:
            # A background job does the import; its page shows the progress.
            record = imports.start(
                kind,
                upload.read(),
                filename=upload.name,
                user=request.user,
                valid_only=bool(request.POST.get("valid_only")),
            )
            return redirect("risk:ledger_import", pk=record.pk)
    return render(
        request,
        "risk/ledgers.html",
        {
            "kinds": list(ledger.SHEET_TITLES.items()),
            "imports": imports.visible_imports(request.user)[:20],
        },
    )


@login_required
def ledger_import(request, pk: int):
    """One import: its progress while it runs (the fragment polls itself), then its report."""
    record = get_object_or_404(imports.visible_imports(request.user), pk=pk)
    if not _may_import(request.user):
        raise PermissionDenied("无权查看台账导入")
    ctx = {
        "record": record,
        "progress": imports.progress(record),
        "report": imports.report(record),
        "kinds": list(ledger.SHEET_TITLES.items()),
    }
    if request.htmx:
        return render(request, "risk/_import_progress.html", ctx)
    return render(request, "risk/ledger_import.html", ctx)


@login_required
def ledger_export(request, kind: str):
    today = services.today()
    if kind == "enterprises":
        qs = queries.enterprises(request.user, request.GET)
    elif kind == "risk_points":
        qs = queries.risk_points(request.user, request.GET)
    elif kind == "hazards":
        qs = queries.hazards(request.user, request.GET, today)
    else:
        raise Http404
    response = HttpResponse(ledger.export_ledger(kind, qs), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{kind}-{today}.xlsx"'
    return response


@login_required
def ledger_template(request, kind: str):
    if kind not in ledger.COLUMNS:
        raise Http404
    response = HttpResponse(ledger.template(kind), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
    return response
