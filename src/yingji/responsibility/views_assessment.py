"""Pages of the annual assessment (the year's ranking per group, one sheet with
its scoring steps and evidence, the 约谈 records, the .docx/.xlsx result) and of
the 述职 review (sessions, the reviewers' score sheets, one column on a phone)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from yingji.core.models import Department, DepartmentKind
from yingji.core.viewhelpers import act
from yingji.responsibility import assessment as svc
from yingji.responsibility import scoring
from yingji.responsibility.models import (
    Indicator,
    IndicatorSet,
    Interview,
    Reviewer,
    ReviewSession,
    Sheet,
)


def _opener(request) -> bool:
    if not svc.may_open(request.user):
        raise PermissionDenied("无权查看年度考核")
    return svc.is_assessor(request.user)


@login_required
def home(request):
    assessor = _opener(request)
    latest = IndicatorSet.objects.order_by("-year").first()
    if not assessor:
        sheet = svc.visible_sheets(request.user).order_by("-indicator_set__year").first()
        if sheet is not None:
            return redirect("responsibility:assessment_sheet", sheet.pk)
    elif latest is not None:
        return redirect("responsibility:assessment_year", latest.year)
    return render(
        request,
        "responsibility/assessment_home.html",
        {"assessor": assessor, "year": svc.today().year - 1},
    )


def _set(year: int) -> IndicatorSet:
    return get_object_or_404(IndicatorSet, year=year)


@login_required
def year_page(request, year: int):
    assessor = _opener(request)
    if not assessor:
        sheet = svc.visible_sheets(request.user).filter(indicator_set__year=year).first()
        if sheet is None:
            raise Http404
        return redirect("responsibility:assessment_sheet", sheet.pk)
    iset = _set(year)
    groups = svc.ranking(iset)
    indicators = list(iset.indicators.all())
    for i in indicators:
        i.feed_label = (
            svc.FEEDS[i.feed][0] if i.feed in svc.FEEDS else ("评分" if not i.feed else i.feed)
        )
    return render(
        request,
        "responsibility/assessment_year.html",
        {
            "iset": iset,
            "groups": [(scoring.GROUPS[g], rows) for g, rows in groups.items()],
            "years": IndicatorSet.objects.values_list("year", flat=True),
        },
    )


@login_required
def indicators(request, year: int):
    _opener(request)
    iset = _set(year)
    rows = list(iset.indicators.all())
    for i in rows:
        i.feed_label = svc.FEEDS[i.feed][0] if i.feed in svc.FEEDS else "按佐证材料评分"
    return render(
        request, "responsibility/assessment_indicators.html", {"iset": iset, "indicators": rows}
    )


@login_required
@require_POST
def compute(request, year: int):
    svc._require_assessor(request.user)

    def run():
        iset = svc.ensure_set(year, request.user)
        svc.open_sheets(iset, request.user)
        return svc.compute(iset, request.user)

    return act(
        request,
        run,
        success=lambda n: f"已按平台数据计算 {n} 项得分",
        redirect_to=("responsibility:assessment_year", year),
        on_error="responsibility:assessment",
    )


@login_required
@require_POST
def propose(request, year: int):
    iset = _set(year)
    return act(
        request,
        lambda: svc.propose_interviews(request.user, iset),
        success=lambda made: f"已提出 {len(made)} 个拟约谈单位",
        redirect_to=("responsibility:assessment_year", year),
    )


@login_required
def export(request, year: int, fmt: str):
    if not svc.is_assessor(request.user):
        raise PermissionDenied("只有考核人员可以导出全年结果")
    iset = _set(year)
    if fmt == "xlsx":
        data, ctype = (
            svc.result_xlsx(iset),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    elif fmt == "docx":
        data, ctype = (
            svc.result_docx(iset),
            ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        )
    else:
        raise Http404
    response = HttpResponse(data, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="assessment-{year}.{fmt}"'
    return response


def _sheet(request, sheet_id: int) -> Sheet:
    return get_object_or_404(
        svc.visible_sheets(request.user).select_related("department", "indicator_set"),
        pk=sheet_id,
    )


@login_required
def sheet(request, sheet_id: int):
    s = _sheet(request, sheet_id)
    assessor = svc.is_assessor(request.user)
    view = svc.sheet_view(s)
    evidence = {}
    for e in s.evidence.all():
        evidence.setdefault(e.indicator_id, []).append(e)
    for row in view["rows"]:
        row.files = evidence.get(row.indicator_id, [])
    return render(
        request,
        "responsibility/assessment_sheet.html",
        {
            "sheet": s,
            "assessor": assessor,
            "may_check": assessor and s.first_by_id != request.user.pk,
            "interview": Interview.objects.filter(sheet=s).first(),
            "kinds": scoring.KINDS,
            "step": {"open": "first", "scored": "check", "differ": "reconcile"}.get(
                s.state, "first"
            ),
            **view,
        },
    )


@login_required
@require_POST
def sheet_step(request, sheet_id: int, step: str):
    s = _sheet(request, sheet_id)
    codes = [i.code for i in Indicator.objects.filter(indicator_set=s.indicator_set, group=s.group)]
    values = {c: request.POST.get(f"v_{c}") for c in codes if f"v_{c}" in request.POST}
    notes = {c: request.POST.get(f"n_{c}", "") for c in codes}
    if step == "first":
        fn, ok = lambda: svc.score_first(request.user, s, values, notes), "初评已提交,待复核"
    elif step == "check":

        def fn():
            return svc.check(request.user, s, values)

        def ok(diff):
            if diff:
                return f"复核完成,{len(diff)} 项差异超过阈值,须协调:" + "、".join(diff)
            return "复核一致,评分已确认"

    elif step == "reconcile":
        reasons = {c: request.POST.get(f"r_{c}", "") for c in codes}
        fn, ok = lambda: svc.reconcile(request.user, s, values, reasons), "差异已协调,评分已确认"
    else:
        raise Http404
    return act(request, fn, success=ok, redirect_to=("responsibility:assessment_sheet", s.pk))


@login_required
@require_POST
def evidence(request, sheet_id: int):
    s = _sheet(request, sheet_id)
    ind = get_object_or_404(Indicator, pk=request.POST.get("indicator") or 0)
    upload = request.FILES.get("file")
    if upload is None:
        from django.contrib import messages

        messages.error(request, "请选择要上传的文件")
        return redirect("responsibility:assessment_sheet", s.pk)
    return act(
        request,
        lambda: svc.upload_evidence(request.user, s, ind, upload, request.POST.get("note", "")),
        success=f"已上传“{ind.code} {ind.name}”的佐证材料",
        redirect_to=("responsibility:assessment_sheet", s.pk),
    )


@login_required
def interview(request, iv_id: int):
    iv = get_object_or_404(
        Interview.objects.select_related("sheet__department", "sheet__indicator_set"), pk=iv_id
    )
    if not svc.visible_sheets(request.user).filter(pk=iv.sheet_id).exists():
        raise Http404
    if request.method == "POST":
        if request.POST.get("step") == "close":

            def fn():
                return svc.close_interview(
                    request.user,
                    iv,
                    rectification=request.POST.get("rectification", ""),
                    closed_on=request.POST.get("closed_on", ""),
                )

            ok = "整改完成,约谈已销号"
        else:

            def fn():
                return svc.hold_interview(
                    request.user,
                    iv,
                    held_on=request.POST.get("held_on", ""),
                    attendees=request.POST.get("attendees", ""),
                    problems=request.POST.get("problems", ""),
                    deadline=request.POST.get("deadline", ""),
                )

            ok = "约谈记录已保存"
        return act(
            request, fn, success=ok, redirect_to=("responsibility:assessment_interview", iv.pk)
        )
    return render(
        request,
        "responsibility/assessment_interview.html",
        {"iv": iv, "assessor": svc.is_assessor(request.user)},
    )


# ------------------------------------------------------------------ 述职 review


@login_required
def reviews(request):
    if not svc.may_review(request.user):
        raise PermissionDenied("无权查看述职评议")
    assessor = svc.is_assessor(request.user)
    if request.method == "POST":
        dept = get_object_or_404(
            Department, pk=request.POST.get("department") or 0, kind=DepartmentKind.DISTRICT_GOV
        )
        return act(
            request,
            lambda: svc.create_session(
                request.user,
                department=dept,
                year=int(request.POST.get("year") or 0),
                speaker=request.POST.get("speaker", ""),
                held_on=request.POST.get("held_on", ""),
                method=request.POST.get("method", "trimmed"),
                trim=int(request.POST.get("trim") or 1),
            ),
            success="已新建述职评议",
            redirect_to=lambda s: ("responsibility:review", s.pk),
            on_error="responsibility:reviews",
            bad_input="年度或去掉个数须为整数",
        )
    mine = list(Reviewer.objects.filter(user=request.user).select_related("session__department"))
    return render(
        request,
        "responsibility/assessment_reviews.html",
        {
            "sessions": svc.visible_sessions(request.user),
            "assessor": assessor,
            "mine": mine,
            "districts": svc.units("district"),
            "methods": scoring.METHODS,
            "year": svc.today().year,
        },
    )


def _session(request, session_id: int) -> ReviewSession:
    return get_object_or_404(svc.visible_sessions(request.user), pk=session_id)


@login_required
def review(request, session_id: int):
    session = _session(request, session_id)
    assessor = svc.is_assessor(request.user)
    return render(
        request,
        "responsibility/assessment_review.html",
        {
            "session": session,
            "assessor": assessor,
            "reviewers": session.reviewers.all(),
            "kinds": Reviewer.Kind.choices,
            "method_label": scoring.METHODS[session.method],
            "items": svc.REVIEW_ITEMS,
        },
    )


@login_required
@require_POST
def review_step(request, session_id: int, step: str):
    session = _session(request, session_id)
    if step == "reviewer":

        def fn():
            return svc.add_reviewer(
                request.user,
                session,
                name=request.POST.get("name", ""),
                kind=request.POST.get("kind", ""),
                affiliation=request.POST.get("affiliation", ""),
            )

        ok = "已添加评议人"
    elif step == "close":
        fn, ok = lambda: svc.close_session(request.user, session), "评议结果已汇总"
    elif step == "send":
        fn, ok = lambda: svc.send_result(request.user, session), "评议结果已送达该区"
    else:
        raise Http404
    return act(request, fn, success=ok, redirect_to=("responsibility:review", session.pk))


@login_required
def review_score(request, reviewer_id: int):
    reviewer = get_object_or_404(
        Reviewer.objects.select_related("session__department"), pk=reviewer_id
    )
    if not svc.may_score(request.user, reviewer):
        raise Http404
    if request.method == "POST":
        items = {k: request.POST.get(k) for k, _, _ in svc.REVIEW_ITEMS}
        return act(
            request,
            lambda: svc.submit_review(
                request.user, reviewer, items, request.POST.get("comment", "")
            ),
            success=f"{reviewer.name}的评分已提交",
            redirect_to=("responsibility:review_score", reviewer.pk),
        )
    items = [(k, label, top, (reviewer.items or {}).get(k)) for k, label, top in svc.REVIEW_ITEMS]
    return render(
        request,
        "responsibility/assessment_score.html",
        {"reviewer": reviewer, "session": reviewer.session, "items": items},
    )
