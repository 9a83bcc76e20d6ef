"""Response API (/api/v1/response/): incidents, follow-up reports, proposals,
activations and action cards, the duty desk, plans, nearest resources,
dispatch, shelters and drill reports. Everything the pages do, for other
systems (session auth; PermissionDenied → 403, ValidationError → 422)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from ninja import Body, Router, Schema, Status
from ninja.errors import HttpError

from yingji.core.apiparams import CRS, Days, People, Wan, one_of
from yingji.core.scope import scope_for
from yingji.response import cards, dispatch, drills, levels, plans, resources, services
from yingji.response.models import (
    ActionCard,
    Activation,
    DeskItem,
    Drill,
    EmergencyPlan,
    Incident,
    RescueTeam,
)

router = Router(tags=["response"])


def _sees(request) -> None:
    if scope_for(request.user) == scope_for(None):
        raise PermissionDenied("无权查看")


def _guard(fn, *args, **kwargs):
    """Machine errors (state transitions) are 422 like validation errors."""
    try:
        return fn(*args, **kwargs)
    except (cards.TransitionError, dispatch.OrderTransitionError) as exc:
        raise ValidationError(str(exc)) from exc


INCIDENT_TYPES = [t for types in levels.load_types().values() for t in types]
RESPONSE_LEVELS = list(levels.RESPONSE_LABELS)


class IncidentIn(Schema):
    title: str
    incident_type: str = one_of(INCIDENT_TYPES)
    occurred_at: dt.datetime | None = None
    lon: float | None = None
    lat: float | None = None
    crs: str = one_of(CRS, "wgs84")
    address: str = ""
    summary: str = ""
    deaths: People = 0
    missing: People = 0
    injured: People = 0
    economic_loss: Wan = 0
    evacuated: People = 0
    is_exercise: bool = False


class IncidentOut(Schema):
    id: int
    title: str
    category: str
    incident_type: str
    occurred_at: dt.datetime
    lon: float | None
    lat: float | None
    district: str | None
    street: str | None
    level: str
    level_label: str
    level_reasons: list[str]
    status: str
    is_exercise: bool
    deaths: int
    missing: int
    injured: int
    economic_loss: float
    evacuated: int


class TimelineOut(Schema):
    at: dt.datetime
    kind: str
    text: str
    actor: str


class ProposalOut(Schema):
    plan_id: int
    plan: str
    level: str
    why: str


class IncidentDetail(IncidentOut):
    timeline: list[TimelineOut]
    proposals: list[ProposalOut]


class IncidentReportIn(Schema):
    text: str
    deaths: People = 0
    missing: People = 0
    injured: People = 0
    economic_loss: Wan = 0
    evacuated: People = 0


class ActivateIn(Schema):
    plan_id: int
    level: str = one_of(RESPONSE_LEVELS)
    area_codes: list[str] | None = None  # default: the incident's area


class LevelIn(Schema):
    level: str = one_of(RESPONSE_LEVELS)


class CardOut(Schema):
    id: int
    activation_id: int
    incident_id: int
    department: str
    level: str
    title: str
    state: str
    issued_at: dt.datetime
    ack_minutes: int
    limit_minutes: int
    acknowledged_at: dt.datetime | None
    completed_at: dt.datetime | None
    overdue: str | None
    escalation_level: int


class ActivationOut(Schema):
    id: int
    plan_id: int
    plan: str
    incident_id: int
    level: str
    status: str
    activated_at: dt.datetime
    area_codes: list[str]
    cards: list[CardOut]


class CompleteIn(Schema):
    result: str


class ResourceOut(Schema):
    kind: str
    id: int
    name: str
    distance_km: float
    lon: float
    lat: float


class DispatchIn(Schema):
    team_id: int
    task: str = ""


class DispatchOut(Schema):
    id: int
    incident_id: int
    team: str
    state: str
    distance_km: float
    ordered_at: dt.datetime


class StateIn(Schema):
    state: str = one_of(dispatch.ORDER_LABELS)


class SheltersIn(Schema):
    evacuees: int


class PlacementOut(Schema):
    shelter_id: int
    shelter: str
    people: int
    distance_km: float


class SheltersOut(Schema):
    allocations: list[PlacementOut]
    unplaced: int


class EmergencyPlanOut(Schema):
    id: int
    title: str
    kind: str
    status: str
    version: str
    owner: str | None
    review_due: dt.date | None


def _incident_out(i: Incident) -> dict[str, Any]:
    return {
        "id": i.pk,
        "title": i.title,
        "category": i.category,
        "incident_type": i.incident_type,
        "occurred_at": i.occurred_at,
        "lon": i.lon,
        "lat": i.lat,
        "district": i.district.name if i.district else None,
        "street": i.street.name if i.street else None,
        "level": i.level,
        "level_label": i.get_level_display(),
        "level_reasons": i.level_reasons,
        "status": i.status,
        "is_exercise": i.is_exercise,
        "deaths": i.deaths,
        "missing": i.missing,
        "injured": i.injured,
        "economic_loss": i.economic_loss,
        "evacuated": i.evacuated,
    }


def _detail(i: Incident) -> dict[str, Any]:
    return {
        **_incident_out(i),
        "timeline": [
            {"at": t.at, "kind": t.kind, "text": t.text, "actor": t.actor_label}
            for t in i.timeline.all()
        ],
        "proposals": services.incident_proposals(i),
    }


def _card_out(c: ActionCard, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": c.pk,
        "activation_id": c.activation_id,
        "incident_id": c.activation.incident_id,
        "department": c.department.name,
        "level": c.level,
        "title": c.title,
        "state": c.state,
        "issued_at": c.issued_at,
        "ack_minutes": c.ack_minutes,
        "limit_minutes": c.limit_minutes,
        "acknowledged_at": c.acknowledged_at,
        "completed_at": c.completed_at,
        "overdue": cards.overdue_kind(c.clock(), now),
        "escalation_level": c.escalation_level,
    }


def _activation_out(a: Activation) -> dict[str, Any]:
    now = services.now()
    return {
        "id": a.pk,
        "plan_id": a.plan_id,
        "plan": a.plan.title,
        "incident_id": a.incident_id,
        "level": a.level,
        "status": a.status,
        "activated_at": a.activated_at,
        "area_codes": list(a.area_codes),
        "cards": [_card_out(c, now) for c in a.cards.select_related("department", "activation")],
    }


@router.get("/incidents", response=list[IncidentOut])
def list_incidents(request, status: str | None = None, exercise: bool | None = None):
    """Incidents, newest first (optionally by status, or exercises only / real only)."""
    _sees(request)
    qs = services.visible_incidents(request.user).select_related("district", "street")
    if status:
        qs = qs.filter(status=status)
    if exercise is not None:
        qs = qs.filter(is_exercise=exercise)
    return [_incident_out(i) for i in qs[:500]]


@router.post("/incidents", response={201: IncidentDetail})
def create_incident(request, payload: IncidentIn):
    """Register an incident; its level is computed, never given."""
    data = payload.dict()
    data["occurred_at"] = data["occurred_at"] or services.now()
    incident = services.register_incident(
        services.IncidentInput(**data, source=Incident.Source.API), user=request.user
    )
    return Status(201, _detail(incident))


@router.get("/incidents/{incident_id}", response=IncidentDetail)
def get_incident(request, incident_id: int):
    _sees(request)
    return _detail(
        get_object_or_404(
            services.visible_incidents(request.user).select_related("district", "street"),
            pk=incident_id,
        )
    )


@router.post("/incidents/{incident_id}/reports", response={201: IncidentDetail})
def create_report(request, incident_id: int, payload: IncidentReportIn):
    """A follow-up report (续报); the level is re-computed."""
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    services.add_report(incident, user=request.user, **payload.dict())
    incident.refresh_from_db()
    return Status(201, _detail(incident))


@router.post("/incidents/{incident_id}/activations", response={201: ActivationOut})
def activate(request, incident_id: int, payload: ActivateIn):
    """Activate a plan at a response level: cards go to the departments."""
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    plan = get_object_or_404(EmergencyPlan, pk=payload.plan_id)
    return Status(
        201,
        _activation_out(
            services.activate(
                plan, incident, payload.level, user=request.user, area_codes=payload.area_codes
            )
        ),
    )


@router.get("/activations/{activation_id}", response=ActivationOut)
def get_activation(request, activation_id: int):
    _sees(request)
    return _activation_out(
        get_object_or_404(
            services.visible_activations(request.user).select_related("plan"), pk=activation_id
        )
    )


@router.post("/activations/{activation_id}/level", response=ActivationOut)
def change_level(request, activation_id: int, payload: LevelIn):
    """Level up or down (one action)."""
    act = get_object_or_404(
        services.visible_activations(request.user).select_related("plan", "incident"),
        pk=activation_id,
    )
    return _activation_out(services.change_level(act, payload.level, user=request.user))


@router.post("/activations/{activation_id}/stand-down", response=ActivationOut)
def stand_down(request, activation_id: int):
    act = get_object_or_404(
        services.visible_activations(request.user).select_related("plan", "incident"),
        pk=activation_id,
    )
    return _activation_out(services.stand_down(act, user=request.user))


@router.get("/cards", response=list[CardOut])
def list_cards(request, state: str | None = None, mine: bool = False):
    """Action cards (open ones by default order of issue); `mine` = my department's."""
    _sees(request)
    qs = services.visible_cards(request.user).select_related("department", "activation")
    if state:
        qs = qs.filter(state=state)
    if mine:
        p = services._profile(request.user)
        qs = qs.filter(department_id=p.department_id if p else None)
    now = services.now()
    return [_card_out(c, now) for c in qs.order_by("-issued_at")[:500]]


@router.post("/cards/{card_id}/ack", response=CardOut)
def acknowledge(request, card_id: int):
    card = get_object_or_404(
        services.visible_cards(request.user).select_related("department", "activation"),
        pk=card_id,
    )
    return _card_out(_guard(services.acknowledge, card, user=request.user), services.now())


@router.post("/cards/{card_id}/complete", response=CardOut)
def complete(request, card_id: int, payload: CompleteIn):
    card = get_object_or_404(
        services.visible_cards(request.user).select_related("department", "activation"),
        pk=card_id,
    )
    return _card_out(
        _guard(services.complete, card, result=payload.result, user=request.user), services.now()
    )


@router.post("/desk/{item_id}/stand-down")
def confirm_stand_down(request, item_id: int):
    """Confirm a desk item's proposal to lower or stand down (after a CAP Cancel or lowering Update)."""
    item = get_object_or_404(DeskItem, pk=item_id)
    return {"done": services.confirm_stand_down(item, user=request.user)}


@router.get("/desk")
def desk(request):
    """Counts and items of the duty desk (duty officers and those who see everything)."""
    if not scope_for(request.user).sees_all:
        raise PermissionDenied("值班台仅值班员、局领导、督查和管理员可查看")
    d = services.duty_desk()
    now = services.now()
    return {
        "shift": {
            "officer": str(d["shift"].officer),
            "leader": str(d["shift"].leader or ""),
            "period": d["shift"].period,
        }
        if d["shift"]
        else None,
        "new_incidents": [_incident_out(i) for i in d["new_incidents"]],
        "responding": [_incident_out(i) for i in d["responding"]],
        "desk_items": [
            {
                "id": i.pk,
                "source": i.source,
                "title": i.title,
                "hazard": i.hazard,
                "level": i.level,
                "kind": i.kind,
                "proposals": i.proposals,
                "actions": i.actions,
                "exercise": i.is_exercise,
            }
            for i in d["desk_items"]
        ],
        "unacknowledged": [_card_out(c, now) for c in d["unacknowledged"]],
        "overdue": [_card_out(c, now) for c in d["overdue"]],
        "firing_alarms": len(d["firing_alarms"]),
        "pending_alerts": len(d["pending_alerts"]),
    }


@router.get("/plans", response=list[EmergencyPlanOut])
def list_plans(request):
    _sees(request)
    return [
        {
            "id": p.pk,
            "title": p.title,
            "kind": p.kind,
            "status": p.status,
            "version": p.version,
            "owner": p.owner.name if p.owner else None,
            "review_due": p.review_due,
        }
        for p in EmergencyPlan.objects.select_related("owner")
    ]


@router.get("/plans/{plan_id}")
def get_plan(request, plan_id: int):
    """The plan's structured form (triggers, organisation, action cards …)."""
    _sees(request)
    plan = get_object_or_404(EmergencyPlan, pk=plan_id)
    return {"id": plan.pk, "status": plan.status, **plans.structure_of(plan)}


@router.post("/plans", response={201: EmergencyPlanOut})
def create_plan(request, payload: dict[str, Any] = Body(...)):
    """A plan from its structured form, saved as a draft (all or nothing)."""
    services.require_command(request.user)
    plan = plans.save_structure(payload)
    return Status(
        201,
        {
            "id": plan.pk,
            "title": plan.title,
            "kind": plan.kind,
            "status": plan.status,
            "version": plan.version,
            "owner": plan.owner.name if plan.owner else None,
            "review_due": plan.review_due,
        },
    )


@router.get("/resources/nearest", response=list[ResourceOut])
def nearest(
    request, lon: float, lat: float, capability: str = "", k: int = 10, kind: str | None = None
):
    """The k nearest available resources with a capability (comma-separated: all required)."""
    _sees(request)
    if kind is not None and kind not in resources.KIND_CODES:
        raise HttpError(422, f"kind 应为 {', '.join(resources.KIND_CODES)} 之一")
    caps = [c.strip() for c in capability.split(",") if c.strip()]
    return [
        {k2: r[k2] for k2 in ("kind", "id", "name", "distance_km", "lon", "lat")}
        for r in resources.nearest_resources(lon, lat, caps, k=min(max(k, 1), 100), kind=kind)
    ]


@router.post("/incidents/{incident_id}/dispatches", response={201: DispatchOut})
def create_dispatch(request, incident_id: int, payload: DispatchIn):
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    team = get_object_or_404(RescueTeam, pk=payload.team_id)
    o = resources.dispatch_team(incident, team, task=payload.task, user=request.user)
    return Status(
        201,
        {
            "id": o.pk,
            "incident_id": o.incident_id,
            "team": team.name,
            "state": o.state,
            "distance_km": o.distance_km,
            "ordered_at": o.ordered_at,
        },
    )


@router.post("/dispatches/{order_id}/state", response=DispatchOut)
def advance_dispatch(request, order_id: int, payload: StateIn):
    order = get_object_or_404(
        services.visible_orders(request.user).select_related("team", "incident"), pk=order_id
    )
    o = _guard(resources.advance_order, order, payload.state, user=request.user)
    return {
        "id": o.pk,
        "incident_id": o.incident_id,
        "team": o.team.name,
        "state": o.state,
        "distance_km": o.distance_km,
        "ordered_at": o.ordered_at,
    }


@router.post("/incidents/{incident_id}/shelters", response={201: SheltersOut})
def allocate(request, incident_id: int, payload: SheltersIn):
    """Place evacuees in the nearest shelters with free capacity."""
    incident = get_object_or_404(services.visible_incidents(request.user), pk=incident_id)
    result = resources.allocate_shelters(incident, payload.evacuees, user=request.user)
    return Status(
        201,
        {
            "unplaced": result["unplaced"],
            "allocations": [
                {
                    "shelter_id": a.shelter_id,
                    "shelter": a.shelter.name,
                    "people": a.people,
                    "distance_km": a.distance_km,
                }
                for a in result["allocations"]
            ],
        },
    )


@router.get("/drills/{drill_id}/report")
def drill_report(request, drill_id: int):
    """Every action card's response times against the plan's limits."""
    _sees(request)
    drill = get_object_or_404(Drill, pk=drill_id)
    if not drills.can_see_scenario(drill, request.user) and drill.status != Drill.Status.FINISHED:
        raise PermissionDenied("双盲演练结束前不公开评估")
    rep = drills.report(drill)
    s = rep["score"]
    return {
        "drill": drill.title,
        "blind": drill.blind,
        "status": drill.status,
        "decision_minutes": rep["decision_minutes"],
        "total": s.total,
        "acknowledged_on_time": s.acknowledged_on_time,
        "completed_on_time": s.completed_on_time,
        "not_completed": s.not_completed,
        "mean_ack_minutes": s.mean_ack_minutes,
        "mean_completion_minutes": s.mean_completion_minutes,
        "cards": [c.__dict__ for c in s.cards],
    }


class DrillIn(Schema):
    title: str
    plan_id: int | None = None
    blind: bool = True
    scheduled_at: dt.datetime | None = None
    scenario: list[dict[str, Any]]


class DrillOut(Schema):
    id: int
    title: str
    blind: bool
    status: str
    scheduled_at: dt.datetime
    injected: list[int]


def _drill_out(d: Drill) -> dict[str, Any]:
    return {
        "id": d.pk,
        "title": d.title,
        "blind": d.blind,
        "status": d.status,
        "scheduled_at": d.scheduled_at,
        "injected": d.injected,
    }


@router.post("/drills", response={201: DrillOut})
def create_drill(request, payload: DrillIn):
    """Schedule a drill; blind drills notify nobody in advance."""
    plan = get_object_or_404(EmergencyPlan, pk=payload.plan_id) if payload.plan_id else None
    drill = drills.create_drill(
        title=payload.title,
        plan=plan,
        scenario=payload.scenario,
        scheduled_at=payload.scheduled_at or services.now(),
        blind=payload.blind,
        user=request.user,
    )
    return Status(201, _drill_out(drill))


@router.post("/drills/{drill_id}/advance", response=DrillOut)
def advance_drill(request, drill_id: int):
    """Inject the steps that are due now (the periodic job does the same every minute)."""
    services.require_command(request.user)
    drill = get_object_or_404(Drill, pk=drill_id)
    drills.advance(drill)
    drill.refresh_from_db()
    return _drill_out(drill)


@router.post("/drills/{drill_id}/finish", response=DrillOut)
def finish_drill(request, drill_id: int):
    drill = get_object_or_404(Drill, pk=drill_id)
    return _drill_out(drills.finish(drill, user=request.user))


class ShiftOut(Schema):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    officer: str
    leader: str | None
    period: str
    departments: list[str]


@router.get("/roster", response=list[ShiftOut])
def roster(request, start: dt.date | None = None, days: Days = 7):
    """Duty shifts from `start` (default today) for `days` days."""
    _sees(request)
    from django.utils import timezone

    from yingji.response.models import DutyShift

    start = start or timezone.localdate()
    qs = DutyShift.objects.filter(
        starts_at__date__gte=start,
        starts_at__date__lt=start + dt.timedelta(days=min(max(days, 1), 92)),
    )
    return [
        {
            "id": s.pk,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "officer": str(s.officer),
            "leader": str(s.leader) if s.leader else None,
            "period": s.period,
            "departments": [d.name for d in s.departments.all()],
        }
        for s in qs.select_related("officer", "leader").prefetch_related("departments")
    ]
