"""Risk API (/api/v1/risk/): enterprises, risk points and assessments, hazards
and their workflow, accidents, the double-decrease dashboard, reports and the
Excel ledgers. Everything the pages do, for other systems (other modules open
hazards through services.create_hazard or POST /hazards)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from yingji.core import inputlimits, media
from yingji.core.apiparams import CRS, Page, People, Quarter, Year, one_of
from yingji.core.scope import scope_for
from yingji.risk import grading, hazardflow, ledger, queries, reports, services, stats
from yingji.risk.categories import ACCIDENT_TYPES, HAZARD_CATEGORIES
from yingji.risk.models import Enterprise, Hazard, RiskAssessment, RiskPoint

router = Router(tags=["risk"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class EnterpriseOut(Schema):
    id: int
    credit_code: str
    name: str
    address: str
    district: str | None
    street: str | None
    lon: float | None
    lat: float | None
    industry_code: str
    key_categories: list[str]
    has_major_hazard_installation: bool
    supervising_department: str | None
    supervision_overridden: bool
    grade: str


class EnterpriseIn(Schema):
    credit_code: str
    name: str
    industry_code: str
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    crs: str = one_of(CRS, "wgs84")
    key_categories: list[str] = []
    has_major_hazard_installation: bool = False
    supervising_department: str | None = None  # a department name overrides the table


class RiskPointOut(Schema):
    id: int
    code: str
    name: str
    enterprise_id: int | None
    site_name: str
    district: str | None
    grade: str
    assessed_on: dt.date | None
    control_measures: str
    responsible_person: str


class AssessmentIn(Schema):
    method: str = one_of(RiskAssessment.Method.values)
    likelihood: float
    consequence: float
    exposure: float | None = None
    assessed_on: dt.date | None = None
    assessor: str = ""


class AssessmentOut(Schema):
    id: int
    method: str
    likelihood: float
    exposure: float | None
    consequence: float
    score: float
    grade: str
    assessed_on: dt.date


class HazardOut(Schema):
    id: int
    code: str
    enterprise_id: int
    enterprise: str
    level: str
    source: str
    category: str
    description: str
    state: str
    state_label: str
    found_on: dt.date
    deadline: dt.date | None
    district: str | None
    street: str | None
    industry_code: str
    department: str | None
    listed: bool
    overdue: bool
    origin_type: str | None
    origin_id: str


class HazardIn(Schema):
    credit_code: str
    description: str
    source: str = one_of(Hazard.Source.values)
    level: str = one_of(Hazard.Level.values, "general")
    category: str = one_of(HAZARD_CATEGORIES, "other")
    location: str = ""
    found_on: dt.date | None = None
    deadline: dt.date | None = None
    code: str | None = None


class HazardTransitionIn(Schema):
    action: str = one_of(hazardflow.BY_ACTION)
    comment: str = ""
    deadline: dt.date | None = None
    on: dt.date | None = None


class RectificationPlanIn(Schema):
    goals: str = ""
    measures: str = ""
    funds: str = ""
    deadline: dt.date | None = None
    responsible_person: str = ""
    contingency_plan: str = ""


class AccidentIn(Schema):
    code: str = Field(min_length=1, max_length=40)
    occurred_at: dt.datetime
    accident_type: str = one_of(ACCIDENT_TYPES)
    deaths: People = 0
    missing: People = 0
    serious_injuries: People = 0
    direct_loss: Decimal = Field(Decimal(0), ge=0, lt=10**10)
    credit_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = one_of(CRS, "wgs84")
    industry_code: str = ""
    place: str = ""
    description: str = ""


class AccidentOut(Schema):
    id: int
    code: str
    occurred_at: dt.datetime
    district: str | None
    street: str | None
    enterprise_id: int | None
    industry_code: str
    accident_type: str
    deaths: int
    missing: int
    serious_injuries: int
    direct_loss: Decimal
    level: str
    level_label: str


class PageOut(Schema):
    page: int
    has_next: bool


def _enterprise(e: Enterprise) -> dict:
    return {
        **{
            f: getattr(e, f)
            for f in (
                "id",
                "credit_code",
                "name",
                "address",
                "lon",
                "lat",
                "industry_code",
                "key_categories",
                "has_major_hazard_installation",
                "supervision_overridden",
                "grade",
            )
        },
        "district": e.district_id,
        "street": e.street_id,
        "supervising_department": e.supervising_department.name
        if e.supervising_department
        else None,
    }


def _hazard(h, today: dt.date) -> dict:
    return {
        "id": h.pk,
        "code": h.code,
        "enterprise_id": h.enterprise_id,
        "enterprise": h.enterprise.name,
        "level": h.level,
        "source": h.source,
        "category": h.category,
        "description": h.description,
        "state": h.state,
        "state_label": hazardflow.STATE_LABELS[hazardflow.State(h.state)],
        "found_on": h.found_on,
        "deadline": h.deadline,
        "district": h.district_id,
        "street": h.street_id,
        "industry_code": h.industry_code,
        "department": h.department.name if h.department else None,
        "listed": h.listed,
        "overdue": bool(
            h.deadline and h.deadline < today and h.state in hazardflow.DEADLINE_STATES
        ),
        "origin_type": h.origin_type.model if h.origin_type_id else None,
        "origin_id": h.origin_id,
    }


def _accident(a) -> dict:
    return {
        **{
            f: getattr(a, f)
            for f in (
                "id",
                "code",
                "occurred_at",
                "enterprise_id",
                "industry_code",
                "accident_type",
                "deaths",
                "missing",
                "serious_injuries",
                "direct_loss",
                "level",
            )
        },
        "district": a.district_id,
        "street": a.street_id,
        "level_label": a.get_level_display(),
    }


def _params(request) -> dict:
    return request.GET.dict()


def _can_write(request) -> None:
    scope = scope_for(request.user)
    if not scope.edits_all and not scope.department_ids:
        raise PermissionDenied("无权录入")


# ---------------------------------------------------------------- enterprises


@router.get("/enterprises", response=list[EnterpriseOut])
def list_enterprises(request, page: Page = 1):
    """Filters: district, street, industry (section letter or code prefix), grade,
    category, major_hazard, department, q. 50 a page."""
    qs = queries.enterprises(request.user, _params(request)).select_related(
        "supervising_department"
    )
    return [_enterprise(e) for e in queries.paginate(qs, page).rows]


@router.get("/enterprises/{enterprise_id}", response=EnterpriseOut)
def get_enterprise(request, enterprise_id: int):
    return _enterprise(get_object_or_404(queries.enterprises(request.user, {}), pk=enterprise_id))


@router.post("/enterprises", response={201: EnterpriseOut})
def save_enterprise(request, payload: EnterpriseIn):
    """Create or update by credit code; district, street and supervising department are derived."""
    _can_write(request)
    data = payload.dict()
    override = data.pop("supervising_department")
    extra = {}
    if override:
        from yingji.core.departments import resolve

        dept = resolve(override)
        if dept is None:
            raise ValidationError({"supervising_department": f"未知部门“{override}”"})
        extra = {"supervision_overridden": True, "supervising_department": dept}
    from yingji.risk.categories import KEY_CATEGORIES

    unknown = [c for c in data["key_categories"] if c not in KEY_CATEGORIES]
    if unknown:
        raise ValidationError({"key_categories": f"未知的重点行业领域:{'、'.join(unknown)}"})
    e = services.save_enterprise(**data, **extra, user=request.user)
    return Status(201, _enterprise(e))


# ---------------------------------------------------------------- risk points


@router.get("/risk-points", response=list[RiskPointOut])
def list_risk_points(request, page: Page = 1):
    qs = queries.risk_points(request.user, _params(request))
    return [
        {
            **{
                f: getattr(p, f)
                for f in (
                    "id",
                    "code",
                    "name",
                    "enterprise_id",
                    "site_name",
                    "grade",
                    "assessed_on",
                    "control_measures",
                    "responsible_person",
                )
            },
            "district": p.district_id,
        }
        for p in queries.paginate(qs, page).rows
    ]


@router.get("/risk-points/{point_id}/assessments", response=list[AssessmentOut])
def list_assessments(request, point_id: int):
    point = get_object_or_404(queries.risk_points(request.user, {}), pk=point_id)
    return list(point.assessments.all())


@router.post("/risk-points/{point_id}/assessments", response={201: AssessmentOut})
def assess(request, point_id: int, payload: AssessmentIn):
    point: RiskPoint = get_object_or_404(queries.risk_points(request.user, {}), pk=point_id)
    scope = scope_for(request.user)
    owner = point.enterprise.supervising_department_id if point.enterprise else None
    if not (
        scope.can_edit_department(owner)
        or scope.covers_region(point.street_id or point.district_id)
    ):
        raise PermissionDenied("无权评估该风险点")
    return Status(201, services.assess(point, **payload.dict()))


@router.get("/grading-scales")
def grading_scales(request):
    """The LEC and LS scales and bands in use (data/grading.json)."""
    return grading.load_scales()


# ---------------------------------------------------------------- hazards


@router.get("/hazards", response={200: dict})
def list_hazards(request, page: Page = 1):
    """Filters: district, street, industry, state (or "open"), level, source, category,
    department, enterprise, overdue=1 (with as_of), listed=1, q. 50 a page."""
    today = services.today()
    qs = queries.hazards(request.user, _params(request), today).select_related(
        "enterprise", "department", "origin_type"
    )
    result = queries.paginate(qs, page)
    return {
        "page": result.page,
        "has_next": result.has_next,
        "results": [_hazard(h, today) for h in result.rows],
    }


@router.get("/hazards/{hazard_id}", response=HazardOut)
def get_hazard(request, hazard_id: int):
    h = get_object_or_404(
        services.visible_hazards(request.user).select_related("enterprise", "department"),
        pk=hazard_id,
    )
    return _hazard(h, services.today())


@router.post("/hazards", response={201: HazardOut})
def create_hazard(request, payload: HazardIn):
    enterprise = (
        queries.enterprises(request.user, {})
        .filter(credit_code=payload.credit_code.strip().upper())
        .first()
    )
    if enterprise is None:
        raise ValidationError(
            {"credit_code": "未找到该统一社会信用代码对应的企业(或不在您的管辖范围)"}
        )
    data = payload.dict()
    data.pop("credit_code")
    h = services.create_hazard(enterprise, user=request.user, **data)
    return Status(201, _hazard(h, services.today()))


@router.get("/hazards/{hazard_id}/transitions")
def hazard_moves(request, hazard_id: int):
    """The moves the current user may make now, with what still blocks each."""
    h = get_object_or_404(services.visible_hazards(request.user), pk=hazard_id)
    facts = dataclasses.replace(services.facts(h), has_deadline=True)  # assign defaults one
    return [
        {
            "action": t.action,
            "label": t.label,
            "to": t.target.value,
            "needs_comment": t.needs_comment,
            "blocked_by": hazardflow.guard_problems(t, facts),
        }
        for t in hazardflow.available(facts, services.actor_kinds(request.user, h))
    ]


@router.post("/hazards/{hazard_id}/transitions", response=HazardOut)
def hazard_transition(request, hazard_id: int, payload: HazardTransitionIn):
    h = get_object_or_404(services.visible_hazards(request.user), pk=hazard_id)
    h = services.transition(
        h,
        payload.action,
        request.user,
        comment=payload.comment,
        deadline=payload.deadline,
        on=payload.on,
    )
    return _hazard(h, services.today())


@router.put("/hazards/{hazard_id}/plan")
def hazard_plan(request, hazard_id: int, payload: RectificationPlanIn):
    h = get_object_or_404(services.visible_hazards(request.user), pk=hazard_id)
    plan = services.save_plan(h, request.user, **payload.dict())
    return {
        **payload.dict(),
        "deadline": plan.deadline,
        "missing": hazardflow.plan_missing(plan.__dict__),
    }


@router.post("/hazards/{hazard_id}/listing", response=HazardOut)
def hazard_listing(request, hazard_id: int):
    """挂牌督办 a major hazard."""
    h = get_object_or_404(services.visible_hazards(request.user), pk=hazard_id)
    h = services.list_for_supervision(h, request.user)
    return _hazard(h, services.today())


@router.post("/hazards/{hazard_id}/evidence", response={201: dict})
def hazard_evidence(
    request,
    hazard_id: int,
    file: UploadedFile = File(...),  # noqa: B008
    kind: str = Form("found"),
    note: str = Form(""),
):  # noqa: B008
    """Attach a photo or document (隐患照片 found, 整改佐证 rectified, 验收材料 acceptance)."""
    from yingji.risk.models import HazardEvidence

    h = get_object_or_404(services.visible_hazards(request.user), pk=hazard_id)
    if not services.actor_kinds(request.user, h):
        raise PermissionDenied("无权上传该隐患的材料")
    if kind not in HazardEvidence.Kind.values:
        raise ValidationError({"kind": f"未知的材料类别:{kind}(可选 found、rectified、acceptance)"})
    media.check_upload(file, "evidence")  # size cap and type by content (settings)
    e = HazardEvidence.objects.create(
        hazard=h, kind=kind, file=file, note=note[:200], uploaded_by=request.user
    )
    return Status(201, {"id": e.pk, "kind": e.kind, "url": e.file.url, "note": e.note})


@router.get("/hazards/{hazard_id}/events")
def hazard_events(request, hazard_id: int):
    h = get_object_or_404(services.visible_hazards(request.user), pk=hazard_id)
    return list(h.events.values("action", "from_state", "to_state", "actor_label", "on", "comment"))


# ---------------------------------------------------------------- accidents


@router.get("/accidents", response=list[AccidentOut])
def list_accidents(request, page: Page = 1):
    """Filters: district, industry, level, year. 50 a page."""
    return [
        _accident(a)
        for a in queries.paginate(queries.accidents(request.user, _params(request)), page).rows
    ]


@router.post("/accidents", response={201: AccidentOut})
def save_accident(request, payload: AccidentIn):
    """Create or update by code; the level is computed from the casualties and loss.
    Only accidents in the user's region (403 naming another district's one)."""
    if not services.may_record_accidents(request.user):
        raise PermissionDenied("无权录入事故:仅限区/街道人员或局领导、督查、管理员")
    data = payload.dict()
    credit = data.pop("credit_code")
    enterprise = (
        services.visible_enterprises(request.user)
        .filter(credit_code=credit.strip().upper())
        .first()
        if credit
        else None
    )
    if credit and enterprise is None:
        raise ValidationError({"credit_code": f"未找到企业“{credit}”(或不在您的管辖范围)"})
    from yingji.risk.categories import ACCIDENT_TYPES

    if data["accident_type"] not in ACCIDENT_TYPES:
        raise ValidationError({"accident_type": f"未知的事故类别:{data['accident_type']}"})
    accident = services.save_accident(enterprise=enterprise, user=request.user, **data)
    return Status(201, _accident(accident))


# ---------------------------------------------------------------- figures and reports


@router.get("/dashboard")
def dashboard(request, as_of: dt.date | None = None):
    """Grades, hazard states, overdue, and the double decrease (this year to date
    vs the same period last year, by district, industry section and month)."""
    user = request.user
    return stats.overview(
        as_of or services.today(),
        hazards=services.visible_hazards(user),
        enterprises=services.visible_enterprises(user),
        accidents=services.visible_accidents(user),
    )


def _quarterly(year: int, quarter: int, user) -> dict:
    try:
        return reports.quarterly_data(year, quarter, user=user)
    except ValueError as exc:  # a quarter that has not begun
        raise ValidationError({"quarter": str(exc)}) from None


@router.get("/reports/quarterly")
def quarterly(request, year: Year, quarter: Quarter):
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": "季度须为 1-4"})
    data = _quarterly(year, quarter, request.user)
    data["paragraphs"] = reports.narrative(data)
    return data


@router.get("/reports/quarterly.docx")
def quarterly_docx(request, year: Year, quarter: Quarter) -> HttpResponse:
    if quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": "季度须为 1-4"})
    body = reports.quarterly_docx(_quarterly(year, quarter, request.user))
    response = HttpResponse(body, content_type=DOCX)
    response["Content-Disposition"] = f'attachment; filename="risk-{year}Q{quarter}.docx"'
    return response


@router.get("/reports/consultation")
def consultation(request, start: dt.date, end: dt.date):
    if end < start:
        raise ValidationError({"end": "结束日期不能早于开始日期"})
    data = reports.consultation_data(start, end, user=request.user)
    data["major_hazards"] = [_hazard(h, services.today()) for h in data["major_hazards"]]
    data["last_year_accidents"] = [_accident(a) for a in data["last_year_accidents"]]
    data["recent_accidents"] = [_accident(a) for a in data["recent_accidents"]]
    return data


# ---------------------------------------------------------------- ledgers


@router.post("/ledgers/{kind}", response={200: dict, 422: dict})
def import_ledger(
    request,
    kind: str,
    file: UploadedFile = File(...),  # noqa: B008
    valid_only: bool = Form(False),
):  # noqa: B008
    """Validate and import an .xlsx ledger; 422 with the row-by-row report when
    nothing was written."""
    if kind not in ledger.COLUMNS:
        raise ValidationError({"kind": f"未知的台账类别:{kind}"})
    _can_write(request)
    if too_large := inputlimits.upload_too_large(file):
        raise ValidationError({"file": too_large})
    report = ledger.import_ledger(
        kind, file.read(), filename=file.name, user=request.user, valid_only=valid_only
    )
    body = {
        "summary": report.summary(),
        "written": report.written,
        "total": report.total,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "errors": [e.as_dict() for e in report.errors],
    }
    return Status(200 if report.written else 422, body)


@router.get("/ledgers/{kind}/export")
def export_ledger(request, kind: str) -> HttpResponse:
    params = _params(request)
    querysets = {
        "enterprises": lambda: queries.enterprises(request.user, params),
        "risk_points": lambda: queries.risk_points(request.user, params),
        "hazards": lambda: queries.hazards(request.user, params, services.today()),
    }
    if kind not in querysets:
        raise ValidationError({"kind": f"未知的台账类别:{kind}"})
    response = HttpResponse(ledger.export_ledger(kind, querysets[kind]()), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{kind}.xlsx"'
    return response
