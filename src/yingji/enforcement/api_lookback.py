"""Look-back API (/api/v1/enforcement/lookbacks…): cases with their items and
timeline, marking an accident typical, the report, items and their progress,
the evaluation's moves, failed measures → hazards, the annual summary."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from yingji.core.apiparams import Year, one_of
from yingji.core.models import Department
from yingji.enforcement import lookback
from yingji.enforcement import lookbackrules as rules
from yingji.enforcement.models import LookbackCase, LookbackItem
from yingji.enforcement.services import today
from yingji.risk.models import Accident, Enterprise

router = Router(tags=["enforcement"])


class ItemOut(Schema):
    id: int
    kind: str
    text: str
    sanction: str
    responsible: str
    responsible_department: str | None
    enterprise: str | None
    deadline: dt.date | None
    status: str
    done_on: dt.date | None
    evidence: str
    overdue: bool
    hazard_code: str | None


class EventOut(Schema):
    on: dt.date
    action: str
    from_state: str
    to_state: str
    actor: str
    comment: str


class LookbackOut(Schema):
    id: int
    accident_code: str
    accident_level: str
    occurred_at: dt.datetime
    district: str | None
    reason: str
    typical: bool
    typical_reason: str
    department: str
    report_approved_on: dt.date | None
    due_on: dt.date | None
    state: str
    state_label: str
    derived_conclusion: str
    conclusion: str
    override_reason: str
    evaluated_on: dt.date | None
    closed_on: dt.date | None
    overdue: bool
    available: list[str]


class LookbackDetailOut(LookbackOut):
    items: list[ItemOut]
    events: list[EventOut]


class TypicalIn(Schema):
    accident_code: str
    reason: str


class LookbackReportIn(Schema):
    approved_on: dt.date
    approver: str = ""


class ItemIn(Schema):
    kind: str = one_of(LookbackItem.Kind.values)
    text: str
    responsible: str
    sanction: str = ""
    responsible_department_id: int | None = None
    enterprise_credit_code: str | None = None
    deadline_workdays: int | None = None


class ProgressIn(Schema):
    status: str = one_of(LookbackItem.Status.values)
    evidence: str = ""
    done_on: dt.date | None = None


class LookbackTransitionIn(Schema):
    action: str = one_of(rules.BY_ACTION)
    comment: str = ""
    conclusion: str | None = None
    on: dt.date | None = None


class SummaryOut(Schema):
    key: str
    label: str
    due: int
    evaluated: int
    conclusions: dict[str, int]
    accountability: int
    accountability_done: int
    accountability_share: float | None
    measures: int
    measures_done: int
    measures_share: float | None


def _out(c: LookbackCase, user, detail: bool = False) -> dict:
    day = today()
    late = LookbackCase.objects.filter(lookback.overdue_q(day), pk=c.pk).exists()
    out = {
        "id": c.pk,
        "accident_code": c.accident.code,
        "accident_level": c.accident.level,
        "occurred_at": c.accident.occurred_at,
        "district": c.district_id,
        "reason": c.reason,
        "typical": c.typical,
        "typical_reason": c.typical_reason,
        "department": c.department.name,
        "report_approved_on": c.report_approved_on,
        "due_on": c.due_on,
        "state": c.state,
        "state_label": c.get_state_display(),
        "derived_conclusion": c.derived_conclusion,
        "conclusion": c.conclusion,
        "override_reason": c.override_reason,
        "evaluated_on": c.evaluated_on,
        "closed_on": c.closed_on,
        "overdue": late,
        "available": [
            t.action
            for t in rules.available(c.state, lookback.actor_kinds(user, c), c.conclusion or None)
        ],
    }
    if detail:
        out["items"] = [
            {
                "id": i.pk,
                "kind": i.kind,
                "text": i.text,
                "sanction": i.sanction,
                "responsible": i.responsible,
                "responsible_department": i.responsible_department.name
                if i.responsible_department
                else None,
                "enterprise": i.enterprise.name if i.enterprise else None,
                "deadline": i.deadline,
                "status": i.status,
                "done_on": i.done_on,
                "evidence": i.evidence,
                "overdue": bool(i.deadline and i.deadline < day and i.status != "done"),
                "hazard_code": i.hazard.code if i.hazard_id else None,
            }
            for i in c.items.select_related("responsible_department", "enterprise", "hazard")
        ]
        out["events"] = [
            {
                "on": e.on,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "actor": e.actor_label,
                "comment": e.comment,
            }
            for e in c.events.all()
        ]
    return out


def _case(request, case_id: int) -> LookbackCase:
    case = (
        lookback.visible_cases(request.user)
        .filter(pk=case_id)
        .select_related("accident", "department")
        .first()
    )
    if case is None:
        raise HttpError(404, "评估不存在或无权查看")
    return case


@router.get("/lookbacks", response=list[LookbackOut])
def list_lookbacks(
    request,
    state: str | None = None,
    district: str | None = None,
    year: Year | None = None,
    overdue: bool = False,
):
    """Look-back cases the user sees; `year` is the year the evaluation is due."""
    qs = lookback.visible_cases(request.user).select_related("accident", "department")
    if state:
        qs = qs.filter(state=state)
    if district:
        qs = qs.filter(district_id=district)
    if year:
        qs = qs.filter(due_on__year=year)
    if overdue:
        qs = qs.filter(lookback.overdue_q(today()))
    return [_out(c, request.user) for c in qs[:500]]


@router.post("/lookbacks", response={201: LookbackDetailOut})
def mark_typical(request, payload: TypicalIn):
    """Mark an accident typical (典型事故) and open its look-back."""
    accident = get_object_or_404(Accident, code=payload.accident_code)
    case = lookback.mark_typical(accident, request.user, reason=payload.reason)
    return Status(201, _out(case, request.user, True))


@router.get("/lookbacks/summary", response=list[SummaryOut])
def lookback_summary(request, year: Year):
    """Cases due in `year` by district and in total (last row)."""
    rows, total = lookback.summary(year, request.user)
    return [{**{k: getattr(r, k) for k in SummaryOut.model_fields}} for r in [*rows, total]]


@router.get("/lookbacks/{case_id}", response=LookbackDetailOut)
def lookback_detail(request, case_id: int):
    return _out(_case(request, case_id), request.user, True)


@router.put("/lookbacks/{case_id}/report", response=LookbackDetailOut)
def record_report(request, case_id: int, payload: LookbackReportIn):
    case = lookback.record_report(
        _case(request, case_id),
        request.user,
        approved_on=payload.approved_on,
        approver=payload.approver,
    )
    return _out(case, request.user, True)


@router.post("/lookbacks/{case_id}/items", response={201: LookbackDetailOut})
def add_item(request, case_id: int, payload: ItemIn):
    case = _case(request, case_id)
    lookback.add_item(
        case,
        request.user,
        kind=payload.kind,
        text=payload.text,
        responsible=payload.responsible,
        sanction=payload.sanction,
        responsible_department=get_object_or_404(Department, pk=payload.responsible_department_id)
        if payload.responsible_department_id
        else None,
        enterprise=get_object_or_404(Enterprise, credit_code=payload.enterprise_credit_code)
        if payload.enterprise_credit_code
        else None,
        deadline_workdays=payload.deadline_workdays,
    )
    return Status(201, _out(case, request.user, True))


@router.post("/lookbacks/items/{item_id}/progress", response=LookbackDetailOut)
def report_progress(request, item_id: int, payload: ProgressIn):
    item = get_object_or_404(LookbackItem, pk=item_id)
    case = _case(request, item.case_id)
    lookback.report_progress(
        item,
        request.user,
        status=payload.status,
        evidence=payload.evidence,
        done_on=payload.done_on,
    )
    return _out(case, request.user, True)


@router.post("/lookbacks/{case_id}/transitions", response=LookbackDetailOut)
def lookback_transition(request, case_id: int, payload: LookbackTransitionIn):
    """Move the evaluation (actions and who: lookbackrules.TRANSITIONS)."""
    case = _case(request, case_id)
    lookback.transition(
        case,
        payload.action,
        request.user,
        comment=payload.comment,
        conclusion=payload.conclusion,
        on=payload.on,
    )
    return _out(case, request.user, True)


@router.post("/lookbacks/{case_id}/hazards", response=LookbackDetailOut)
def findings_to_hazards(request, case_id: int):
    """A failed evaluation's unfinished measures → hazards in the risk register."""
    case = _case(request, case_id)
    lookback.findings_to_hazards(case, request.user)
    return _out(case, request.user, True)
