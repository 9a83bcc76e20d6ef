"""The 三防责任人 pages: the register (scoped; gaps named), one object with its
people (edit, replace, remove), the import (strict or partial), the 一键通
progress per district or street, the annual update rounds; and the public
posting (no login) with its .xlsx and .docx per district."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from yingji.core import inputlimits
from yingji.core.models import Region
from yingji.core.viewhelpers import act
from yingji.responsibility import roster, services
from yingji.responsibility.models import RegisterRound, Responsible

PAGE = 100


def _reader(request) -> bool:
    scope, may_edit = services.register_scope(request.user)
    if not (scope.sees_all or scope.region_codes):
        raise PermissionDenied("无权查看三防责任人")
    return may_edit


@login_required
def register(request):
    may_edit = _reader(request)
    people = services.visible_people(request.user).select_related("obj", "obj__region")
    q = request.GET.get("q", "").strip()[:50]
    if q:
        from django.db.models import Q

        people = people.filter(
            Q(name__contains=q) | Q(obj__name__contains=q) | Q(obj__region__name__contains=q)
        )
    kind = request.GET.get("kind", "")
    if kind in roster.OBJECT_KINDS:
        people = people.filter(obj__kind=kind)
    page = Paginator(people.order_by("obj__region_id", "obj__name", "role"), PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "responsibility/register.html",
        {
            "page": page,
            "q": q,
            "kind": kind,
            "kinds": [(k, v[0]) for k, v in roster.OBJECT_KINDS.items()],
            "gaps": services.gaps(request.user, limit=50),
            "may_edit": may_edit,
            "today": services.today(),
        },
    )


@login_required
def object_detail(request, object_id: int):
    may_edit = _reader(request)
    obj = services.visible_objects(request.user).filter(pk=object_id).select_related("region")
    obj = obj.first()
    if obj is None:
        raise Http404
    people = {p.role: p for p in obj.people.all()}
    rows = [
        (role, label, people.get(role), role in roster.required_roles(obj.kind))
        for role, label in roster.ROLE_KINDS.items()
    ]
    editable = (
        may_edit and services.visible_objects(request.user, editing=True).filter(pk=obj.pk).exists()
    )
    from yingji.core.audit import history

    changes = sorted(
        (e for p in people.values() for e in history(p).select_related("content_type")),
        key=lambda e: e.at,
        reverse=True,
    )[:30]
    return render(
        request,
        "responsibility/object_detail.html",
        {"obj": obj, "rows": rows, "editable": editable, "changes": changes},
    )


@login_required
@require_POST
def person_save(request, object_id: int, role: str):
    obj = get_object_or_404(services.visible_objects(request.user, editing=True), pk=object_id)
    if role not in roster.ROLE_KINDS:
        raise Http404
    person = Responsible.objects.filter(obj=obj, role=role).first() or Responsible(
        obj=obj, role=role
    )
    values = {k: request.POST.get(k, "") for k in services.EDITABLE}
    return act(
        request,
        lambda: services.save_person(request.user, person, values),
        success=f"已保存{obj.name}的{roster.ROLE_KINDS[role]}",
        redirect_to=("responsibility:object", obj.pk),
        errors=(ValidationError, PermissionDenied),
    )


@login_required
@require_POST
def person_remove(request, person_id: int):
    person = get_object_or_404(services.visible_people(request.user, editing=True), pk=person_id)
    obj_id = person.obj_id
    return act(
        request,
        lambda: services.remove_person(request.user, person),
        success="已删除",
        redirect_to=("responsibility:object", obj_id),
        errors=(PermissionDenied,),
    )


@login_required
def import_page(request):
    may_edit = _reader(request)
    if not may_edit:
        raise PermissionDenied("无权导入三防责任人")
    result = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择文件")
        elif too_large := inputlimits.upload_too_large(upload):
            messages.error(request, too_large)
        else:
            partial = request.POST.get("mode") == "partial"
            result = services.import_register(
                request.user, upload.name, upload.read(), partial=partial
            )
            if result.written:
                messages.success(request, f"{upload.name}:已导入,{result.summary()}")
            else:
                messages.error(
                    request, f"{upload.name}:有 {len(result.problems)} 处问题,未导入任何一行"
                )
    return render(
        request,
        "responsibility/import.html",
        {"result": result, "columns": roster.COLUMNS, "required": roster.REQUIRED},
    )


@login_required
def progress(request):
    _reader(request)
    by = "street" if request.GET.get("by") == "street" else "district"
    on = services.today()
    year = _year(request, on)
    lines, total = services.progress_table(request.user, year=year, by=by, on=on)
    rounds = RegisterRound.objects.filter(year=year).select_related("district", "confirmed_by")
    scope, may_edit = services.register_scope(request.user)
    if not scope.sees_all:
        rounds = rounds.filter(scope.q(region_field="district__code"))
    return render(
        request,
        "responsibility/progress.html",
        {
            "lines": lines,
            "total": total,
            "by": by,
            "year": year,
            "rounds": rounds,
            "may_open": may_edit and scope.edits_all,
            "districts": Region.objects.filter(level="district").only("code", "name"),
            "today": on,
        },
    )


def _year(request, on: dt.date, latest=None) -> int:
    """The year asked for, else the latest year with records (`latest`, a queryset
    of years) up to this one, else this year."""
    default = on.year
    if latest is not None:
        default = (
            latest.filter(year__lte=on.year)
            .order_by("-year")
            .values_list("year", flat=True)
            .first()
            or on.year
        )
    try:
        year = int(request.GET.get("year") or default)
    except ValueError:
        return default
    return year if 2000 <= year <= 2100 else default


@login_required
@require_POST
def round_open(request):
    district = get_object_or_404(Region, pk=request.POST.get("district"), level="district")
    return act(
        request,
        lambda: services.open_round(
            request.user,
            int(request.POST.get("year", "")),
            district,
            dt.date.fromisoformat(request.POST.get("update_deadline", "")),
            dt.date.fromisoformat(request.POST.get("app_deadline", "")),
        ),
        success=f"已布置{district.name}的年度更新",
        redirect_to="responsibility:progress",
        errors=(ValidationError, PermissionDenied),
        bad_input="年度或日期格式不正确(日期如 2022-03-31)",
    )


@login_required
@require_POST
def round_confirm(request, round_id: int):
    record = get_object_or_404(RegisterRound, pk=round_id)
    return act(
        request,
        lambda: services.confirm_round(request.user, record),
        success=f"已确认{record.district.name}{record.year} 年三防责任人已更新",
        redirect_to="responsibility:progress",
        errors=(PermissionDenied,),
    )


# -------------------------------------------------------------- public


def public(request):
    """The public posting (公示): districts, then one district's list."""
    code = request.GET.get("district", "")
    district = Region.objects.filter(code=code, level="district").first() if code else None
    return render(
        request,
        "responsibility/public.html",
        {
            "districts": services.district_counts(),
            "district": district,
            "rows": services.posting(district.code) if district else [],
        },
    )


def public_file(request, code: str, fmt: str):
    district = get_object_or_404(Region, code=code, level="district")
    if fmt == "xlsx":
        data = services.posting_xlsx(district)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "docx":
        data = services.posting_docx(district)
        kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        raise Http404
    response = HttpResponse(data, content_type=kind)
    filename = f"sanfang-{district.code}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def home(request):
    return redirect("responsibility:register")
