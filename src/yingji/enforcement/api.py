"""Enforcement API (/api/v1/enforcement/): plans and their seed, draws and their
verification, inspections, penalty cases, the dishonesty list, publications
(public, no login) and statistics. Everything the pages do, for other systems."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from yingji.core.apiparams import Year, one_of
from yingji.core.models import Department
from yingji.core.scope import scope_for
from yingji.enforcement import casefsm, services
from yingji.enforcement.models import (
    DishonestyListing,
    Draw,
    Inspection,
    InspectionPlan,
    Inspector,
    Matter,
    PenaltyCase,
    Publication,
)
from yingji.risk.models import Enterprise

router = Router(tags=["enforcement"])


Share = Annotated[float, Field(ge=0, le=1)]


class InspectionPlanIn(Schema):
    year: Year
    title: str = Field(min_length=1, max_length=200)
    department_id: int
    proportions: dict[str, Share] = {}
    default_proportion: Share = 0.05
    inspectors_per_entity: int = Field(2, ge=2, le=10)
    max_per_inspector: int | None = Field(None, ge=1, le=10_000)
    key_date_count: int = Field(3, ge=0, le=366)
    publication_workdays: int = Field(20, ge=1, le=250)


class DrawOut(Schema):
    id: int
    plan_id: int
    kind: str
    label: str
    seed: str
    algorithm: str
    status: str
    explanation: str
    inputs_sha256: str
    result_sha256: str
    drawn_at: dt.datetime
    inspections: int
    verified_at: dt.datetime | None
    verified_ok: bool | None


class MonthOut(Schema):
    month: int
    double_random: int
    unannounced: int
    done: int


class InspectionPlanOut(Schema):
    id: int
    year: int
    title: str
    department: str
    proportions: dict[str, float]
    default_proportion: float
    seed_source: str
    seed_salt_sha256: str
    seed_announced_at: dt.datetime | None
    seed_value: str
    seed: str
    seed_fixed_at: dt.datetime | None
    publication_workdays: int
    max_per_inspector: int | None


class InspectionPlanDetailOut(InspectionPlanOut):
    draws: list[DrawOut]
    schedule: list[MonthOut]


class SeedSourceIn(Schema):
    source: str


class SeedValueIn(Schema):
    value: str


class VerificationOut(Schema):
    draw_id: int
    ok: bool
    inputs_ok: bool
    result_sha256: str
    message: str


class FindingOut(Schema):
    id: int
    checklist_code: str
    description: str
    major: bool
    hazard_code: str | None
    exempt: bool
    exemption_clause: str
    exemption_note: str


class InspectionOut(Schema):
    id: int
    plan_id: int
    draw_id: int
    kind: str
    enterprise: str
    credit_code: str
    category: str
    district: str | None
    window_label: str
    window_start: dt.date
    window_end: dt.date
    inspectors: list[str]
    state: str
    inspected_on: dt.date | None
    outcome: str
    publish_by: dt.date | None
    published: bool
    findings: list[FindingOut]


class FindingIn(Schema):
    checklist_code: str
    description: str
    major: bool = False
    corrected: bool = False
    harm: bool = False


class RecordIn(Schema):
    inspected_on: dt.date
    summary: str = ""
    findings: list[FindingIn] = []


class CaseOut(Schema):
    id: int
    number: str
    enterprise: str
    inspection_id: int | None
    department: str
    state: str
    state_label: str
    opened_on: dt.date
    proposed_amount: Decimal | None
    amount: Decimal | None
    decided_on: dt.date | None
    closed_on: dt.date | None
    outcome: str
    available: list[str]


class CaseTransitionIn(Schema):
    action: str = one_of(casefsm.BY_ACTION)
    comment: str = ""
    amount: Decimal | None = None
    on: dt.date | None = None


class ListingIn(Schema):
    credit_code: str
    basis: str
    decided_by_id: int
    listed_on: dt.date
    period_months: int = 36
    case_id: int | None = None
    joint_punishments: list[str] = []


class ListingOut(Schema):
    id: int
    enterprise: str
    credit_code: str
    basis: str
    decided_by: str
    listed_on: dt.date
    expires_on: dt.date
    removed_on: dt.date | None
    removal_reason: str
    joint_punishments: list[str]


class RemovalIn(Schema):
    reason: str
    on: dt.date


class PublicationOut(Schema):
    enterprise_name: str
    credit_code: str
    matter: str
    inspected_on: dt.date
    result: str
    published_at: dt.datetime
    late_workdays: int


class StatOut(Schema):
    key: str
    label: str
    inspections: int
    done: int
    findings: int
    exempt: int
    cases: int
    penalised: int
    penalty_rate: float | None
    amount: Decimal


def _staff(request) -> None:
    scope = scope_for(request.user)
    if not (scope.sees_all or scope.department_ids or scope.region_codes):
        raise HttpError(403, "无权查看执法检查")


def _draw_out(d: Draw) -> dict:
    return {
        "id": d.pk,
        "plan_id": d.plan_id,
        "kind": d.kind,
        "label": d.label,
        "seed": d.seed,
        "algorithm": d.algorithm,
        "status": d.status,
        "explanation": d.explanation,
        "inputs_sha256": d.inputs_sha256,
        "result_sha256": d.result_sha256,
        "drawn_at": d.drawn_at,
        "inspections": d.inspections.count(),
        "verified_at": d.verified_at,
        "verified_ok": d.verified_ok,
    }


def _plan_out(p: InspectionPlan) -> dict:
    return {
        "id": p.pk,
        "year": p.year,
        "title": p.title,
        "department": p.department.name,
        "proportions": p.proportions,
        "default_proportion": p.default_proportion,
        "seed_source": p.seed_source,
        "seed_announced_at": p.seed_announced_at,
        "seed_salt_sha256": p.seed_salt_sha256,
        "seed_value": p.seed_value,
        "seed": p.seed,
        "seed_fixed_at": p.seed_fixed_at,
        "publication_workdays": p.publication_workdays,
        "max_per_inspector": p.max_per_inspector,
    }


def _inspection_out(i: Inspection) -> dict:
    return {
        "id": i.pk,
        "plan_id": i.plan_id,
        "draw_id": i.draw_id,
        "kind": i.kind,
        "enterprise": i.enterprise.name,
        "credit_code": i.enterprise.credit_code,
        "category": i.category,
        "district": i.district_id,
        "window_label": i.window_label,
        "window_start": i.window_start,
        "window_end": i.window_end,
        "inspectors": [x.name for x in i.inspectors.all()],
        "state": i.state,
        "inspected_on": i.inspected_on,
        "outcome": i.outcome,
        "publish_by": i.publish_by,
        "published": Publication.objects.filter(inspection=i).exists(),
        "findings": [
            {
                "id": f.pk,
                "checklist_code": f.checklist_code,
                "description": f.description,
                "major": f.major,
                "hazard_code": f.hazard.code if f.hazard_id else None,
                "exempt": f.exemption_id is not None,
                "exemption_clause": f.exemption_clause,
                "exemption_note": f.exemption_note,
            }
            for f in i.findings.select_related("hazard")
        ],
    }


def _case_out(c: PenaltyCase, user) -> dict:
    kinds = services.case_actor_kinds(user, c)
    return {
        "id": c.pk,
        "number": c.number,
        "enterprise": c.enterprise.name,
        "inspection_id": c.inspection_id,
        "department": c.department.name,
        "state": c.state,
        "state_label": c.get_state_display(),
        "opened_on": c.opened_on,
        "proposed_amount": c.proposed_amount,
        "amount": c.amount,
        "decided_on": c.decided_on,
        "closed_on": c.closed_on,
        "outcome": c.outcome,
        "available": [t.action for t in casefsm.available(c.state, kinds)],
    }


def _listing_out(x: DishonestyListing) -> dict:
    return {
        "id": x.pk,
        "enterprise": x.enterprise.name,
        "credit_code": x.enterprise.credit_code,
        "basis": x.basis,
        "decided_by": x.decided_by.name,
        "listed_on": x.listed_on,
        "expires_on": x.expires_on,
        "removed_on": x.removed_on,
        "removal_reason": x.removal_reason,
        "joint_punishments": x.joint_punishments,
    }


# ---------------------------------------------------------------- plans and draws


@router.get("/plans", response=list[InspectionPlanOut])
def list_plans(request):
    _staff(request)
    return [_plan_out(p) for p in InspectionPlan.objects.select_related("department")]


@router.post("/plans", response={201: InspectionPlanOut})
def create_plan(request, payload: InspectionPlanIn):
    """Create an annual supervision-inspection plan (its department's staff or leaders)."""
    department = get_object_or_404(Department, pk=payload.department_id)
    plan = services.create_plan(
        request.user,
        year=payload.year,
        title=payload.title,
        department=department,
        proportions=payload.proportions,
        default_proportion=payload.default_proportion,
        inspectors_per_entity=payload.inspectors_per_entity,
        key_date_count=payload.key_date_count,
        publication_workdays=payload.publication_workdays,
        max_per_inspector=payload.max_per_inspector,
    )
    return Status(201, _plan_out(plan))


@router.get("/plans/{plan_id}", response=InspectionPlanDetailOut)
def plan_detail(request, plan_id: int):
    _staff(request)
    plan = get_object_or_404(InspectionPlan, pk=plan_id)
    return {
        **_plan_out(plan),
        "draws": [_draw_out(d) for d in plan.draws.all()],
        "schedule": services.monthly_schedule(plan),
    }


@router.post("/plans/{plan_id}/seed-source", response=InspectionPlanOut)
def announce_seed_source(request, plan_id: int, payload: SeedSourceIn):
    """Publish which future public value will be the seed."""
    plan = get_object_or_404(InspectionPlan, pk=plan_id)
    return _plan_out(services.announce_seed_source(plan, payload.source, request.user))


@router.post("/plans/{plan_id}/seed", response=InspectionPlanOut)
def fix_seed(request, plan_id: int, payload: SeedValueIn):
    """Record the public value once known; the seed is its SHA-256."""
    plan = get_object_or_404(InspectionPlan, pk=plan_id)
    return _plan_out(services.fix_seed(plan, payload.value, request.user))


@router.post("/plans/{plan_id}/draw", response={201: DrawOut})
def draw_annual(request, plan_id: int):
    """The annual draw. 422 with the explanation when the constraints cannot be met
    (the failed attempt is kept in the draw log)."""
    plan = get_object_or_404(InspectionPlan, pk=plan_id)
    return Status(201, _draw_out(services.draw_annual(plan, request.user)))


@router.post("/plans/{plan_id}/key-date-draws", response={201: list[DrawOut]})
def draw_key_dates(request, plan_id: int):
    """Unannounced visits on each key date not yet drawn."""
    plan = get_object_or_404(InspectionPlan, pk=plan_id)
    return Status(201, [_draw_out(d) for d in services.draw_key_dates(plan, request.user)])


@router.get("/draws/{draw_id}", response=DrawOut, auth=None)
def draw_detail(request, draw_id: int):
    """A draw's log entry (public: algorithm and digests; its seed too once the
    inputs are public, since seed and registers give the result)."""
    record = get_object_or_404(Draw, pk=draw_id)
    out = _draw_out(record)
    if not request.user.is_authenticated and not services.inputs_public(record):
        out["seed"] = ""
    return out


@router.get("/draws/{draw_id}/inputs", auth=None)
def draw_inputs(request, draw_id: int):
    """The published inputs (register snapshot, parameters, seed): re-run them with
    `python -m yingji.enforcement.draw verify`. Public once the draw's inspection
    windows have ended (so unannounced visits stay unannounced); staff any time."""
    record = get_object_or_404(Draw, pk=draw_id)
    if not services.inputs_public(record) and not request.user.is_authenticated:
        raise HttpError(403, "检查时段结束后公开;工作人员请登录后下载")
    return record.inputs


@router.post("/draws/{draw_id}/verify", response=VerificationOut)
def verify_draw(request, draw_id: int):
    """Re-run the draw from its recorded inputs and compare with its recorded result."""
    _staff(request)
    record = get_object_or_404(Draw, pk=draw_id)
    check = services.verify_draw(record, user=request.user)
    return {
        "draw_id": record.pk,
        "ok": check.ok,
        "inputs_ok": check.inputs_ok,
        "result_sha256": check.result_sha256,
        "message": check.message,
    }


class InspectorOut(Schema):
    id: int
    name: str
    certificate_number: str
    certificate_valid_from: dt.date
    certificate_valid_to: dt.date
    department: str
    districts: list[str]
    conflicts: list[str]
    active: bool


@router.get("/inspectors", response=list[InspectorOut])
def list_inspectors(request):
    """The inspector register (执法人员名录) with declared conflicts (credit codes)."""
    _staff(request)
    return [
        {
            "id": i.pk,
            "name": i.name,
            "certificate_number": i.certificate_number,
            "certificate_valid_from": i.certificate_valid_from,
            "certificate_valid_to": i.certificate_valid_to,
            "department": i.department.name,
            "districts": [r.code for r in i.districts.all()],
            "conflicts": [c.enterprise.credit_code for c in i.conflicts.all()],
            "active": i.active,
        }
        for i in Inspector.objects.select_related("department").prefetch_related(
            "districts", "conflicts__enterprise"
        )
    ]


@router.get("/matters", auth=None)
def list_matters(request):
    """The list of inspectable matters (检查事项清单) with checklists: public."""
    return [
        {
            "code": m.code,
            "name": m.name,
            "category": m.category,
            "basis": m.basis,
            "checklist": m.checklist,
        }
        for m in Matter.objects.filter(active=True)
    ]


# ---------------------------------------------------------------- inspections


@router.get("/inspections", response=list[InspectionOut])
def list_inspections(
    request, plan_id: int | None = None, state: str | None = None, month: int | None = None
):
    qs = (
        services.visible_inspections(request.user)
        .select_related("enterprise")
        .prefetch_related("inspectors")
    )
    if plan_id:
        qs = qs.filter(plan_id=plan_id)
    if state:
        qs = qs.filter(state=state)
    if month:
        qs = qs.filter(window_start__month=month)
    return [_inspection_out(i) for i in qs[:500]]


def _inspection(request, inspection_id: int) -> Inspection:
    qs = services.visible_inspections(request.user).filter(pk=inspection_id)
    inspection = qs.select_related("enterprise", "plan").first()
    if inspection is None:
        raise HttpError(404, "检查记录不存在或无权查看")
    return inspection


@router.get("/inspections/{inspection_id}", response=InspectionOut)
def inspection_detail(request, inspection_id: int):
    return _inspection_out(_inspection(request, inspection_id))


@router.post("/inspections/{inspection_id}/record", response=InspectionOut)
def record_inspection(request, inspection_id: int, payload: RecordIn):
    """Record the result: findings become hazards (source 执法检查), exemptions are
    applied, the rest go into a penalty case."""
    inspection = _inspection(request, inspection_id)
    services.record_inspection(
        inspection,
        request.user,
        inspected_on=payload.inspected_on,
        summary=payload.summary,
        findings=[services.FindingInput(**f.dict()) for f in payload.findings],
    )
    return _inspection_out(inspection)


@router.post("/inspections/{inspection_id}/publish", response={201: PublicationOut})
def publish(request, inspection_id: int):
    inspection = _inspection(request, inspection_id)
    return Status(201, services.publish(inspection, request.user))


# ---------------------------------------------------------------- cases


@router.get("/cases", response=list[CaseOut])
def list_cases(request, state: str | None = None):
    qs = services.visible_cases(request.user).select_related("enterprise", "department")
    if state:
        qs = qs.filter(state=state)
    return [_case_out(c, request.user) for c in qs[:500]]


@router.get("/cases/{case_id}", response=CaseOut)
def case_detail(request, case_id: int):
    case = services.visible_cases(request.user).filter(pk=case_id).first()
    if case is None:
        raise HttpError(404, "案件不存在或无权查看")
    return _case_out(case, request.user)


@router.post("/cases/{case_id}/transitions", response=CaseOut)
def case_transition(request, case_id: int, payload: CaseTransitionIn):
    """Move a case (actions and who may make them: casefsm.TRANSITIONS)."""
    case = services.visible_cases(request.user).filter(pk=case_id).first()
    if case is None:
        raise HttpError(404, "案件不存在或无权查看")
    services.transition_case(
        case,
        payload.action,
        request.user,
        comment=payload.comment,
        amount=payload.amount,
        on=payload.on,
    )
    return _case_out(case, request.user)


# ---------------------------------------------------------------- dishonesty list


@router.get("/dishonesty", response=list[ListingOut], auth=None)
def list_dishonesty(request, on: dt.date | None = None):
    """Entities on the serious-dishonesty list on a date (public)."""
    day = on or services.today()
    return [_listing_out(x) for x in services.current_listings(day).select_related("decided_by")]


@router.post("/dishonesty", response={201: ListingOut})
def add_listing(request, payload: ListingIn):
    enterprise = get_object_or_404(Enterprise, credit_code=payload.credit_code)
    case = get_object_or_404(PenaltyCase, pk=payload.case_id) if payload.case_id else None
    listing = services.list_dishonest(
        enterprise,
        request.user,
        basis=payload.basis,
        decided_by=get_object_or_404(Department, pk=payload.decided_by_id),
        listed_on=payload.listed_on,
        period_months=payload.period_months,
        case=case,
        joint_punishments=payload.joint_punishments,
    )
    return Status(201, _listing_out(listing))


@router.post("/dishonesty/{listing_id}/remove", response=ListingOut)
def remove_listing(request, listing_id: int, payload: RemovalIn):
    listing = get_object_or_404(DishonestyListing, pk=listing_id)
    return _listing_out(
        services.remove_early(listing, request.user, reason=payload.reason, on=payload.on)
    )


# ---------------------------------------------------------------- public and statistics


@router.get("/publications", response=list[PublicationOut], auth=None)
def publications(request, year: Year | None = None):
    """Published inspection results (一公开): public, no login."""
    qs = Publication.objects.all()
    if year:
        qs = qs.filter(inspected_on__year=year)
    return list(qs[:1000])


@router.get("/statistics", response=list[StatOut])
def statistics(request, year: Year, by: str = "district"):
    """Inspections, findings, exemptions, cases, penalty rate (seed 35) and amounts."""
    _staff(request)
    rows = services.statistics(year, by, request.user)
    return [
        {
            **{
                k: getattr(r, k)
                for k in (
                    "key",
                    "label",
                    "inspections",
                    "done",
                    "findings",
                    "exempt",
                    "cases",
                    "penalised",
                    "amount",
                )
            },
            "penalty_rate": r.penalty_rate,
        }
        for r in [*rows, services.totals(rows)]
    ]


# The accident look-back (事故整改评估/回头看) lives in api_lookback.py.
from yingji.enforcement.api_lookback import router as _lookback_router  # noqa: E402

router.add_router("", _lookback_router)
