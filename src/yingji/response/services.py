"""Response use cases: duty, incidents, plan activation and action cards,
resources and dispatch, shelters. Loads facts, calls the pure modules
(levels, triggers, cards, dispatch), saves, writes the incident timeline and
sends every message through the outbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yingji.core import audit, outbox, regioncodes, regions
from yingji.core import workcalendar as wc
from yingji.core.models import Department, Profile, Role, SpecialPeriod
from yingji.response import addressees, cards, events, levels, standdown, triggers
from yingji.response.models import (
    ActionCard,
    Activation,
    CardTemplate,
    DeskItem,
    DispatchOrder,
    DutyShift,
    EmergencyPlan,
    HandoverEntry,
    Incident,
    IncidentReport,
    PlanTrigger,
    TimelineEntry,
)

COMMAND_ROLES = frozenset({Role.LEADER, Role.DUTY_OFFICER, Role.ADMIN})
EXERCISE_MARK = "【演练】"


def now() -> dt.datetime:
    return timezone.now()


# ----------------------------------------------------------------- permissions


def _profile(user: Any) -> Profile | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Profile.objects.filter(user=user).select_related("department").first()


def can_command(user: Any) -> bool:
    """Duty officers, leaders and administrators register incidents, activate
    plans, dispatch and run drills."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    p = _profile(user)
    return p is not None and p.role in COMMAND_ROLES


def require_command(user: Any) -> None:
    if not can_command(user):
        raise PermissionDenied("只有值班员、局领导或管理员可以执行此操作")


def _actor_label(user: Any) -> str:
    if user is None:
        return audit.current_actor()[1]
    p = _profile(user)
    return p.full_name if p and p.full_name else user.get_username()


def visible_incidents(user: Any):
    """Incidents a user may see (the one scope rule): everything for leaders,
    supervisors, administrators and duty officers; for district and street staff
    those in their region or with cards for an office in it; for department
    staff those their department has action cards for."""
    from yingji.core.scope import scope_for

    return incidents_in_scope(scope_for(user))


def incidents_in_scope(scope: Any):
    """visible_incidents for a scope already read (the workbench, the search box)."""
    qs = Incident.objects.all()
    if scope.sees_all:
        return qs
    condition = scope.q(region_field="district__code") | scope.q(region_field="street__code")
    # street offices' cards reach incidents elsewhere in an activation's area
    condition |= scope.q(region_field="activations__cards__department__region__code")
    if scope.department_ids:
        condition |= Q(activations__cards__department_id__in=sorted(scope.department_ids))
    return qs.filter(pk__in=Incident.objects.filter(condition).values("pk"))


def visible_activations(user: Any):
    """Activations of the incidents a user may see (the same rule: never an
    activation whose incident is a 404)."""
    from yingji.core.scope import scope_for

    if scope_for(user).sees_all:
        return Activation.objects.all()
    return Activation.objects.filter(incident__in=visible_incidents(user).values("pk"))


def visible_orders(user: Any):
    """Dispatch orders of the incidents a user may see."""
    from yingji.core.scope import scope_for

    if scope_for(user).sees_all:
        return DispatchOrder.objects.all()
    return DispatchOrder.objects.filter(incident__in=visible_incidents(user).values("pk"))


def visible_cards(user: Any):
    """Action cards of the incidents a user may see (their own office's cards are
    among them: an office's card makes its incident visible)."""
    from yingji.core.scope import scope_for

    if scope_for(user).sees_all:
        return ActionCard.objects.all()
    return ActionCard.objects.filter(activation__incident__in=visible_incidents(user).values("pk"))


# ----------------------------------------------------------------- timeline


def log(
    incident: Incident,
    kind: str,
    text: str,
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    data: dict | None = None,
) -> TimelineEntry:
    """Add one line to the incident's timeline (exercise lines are marked in the text)."""
    if incident.is_exercise and not text.startswith(EXERCISE_MARK):
        text = EXERCISE_MARK + text
    return TimelineEntry.objects.create(
        incident=incident,
        at=at or now(),
        kind=kind,
        text=text,
        actor_label=_actor_label(user),
        data=data or {},
    )


# ----------------------------------------------------------------- incidents


@dataclass
class IncidentInput:
    title: str
    incident_type: str
    occurred_at: dt.datetime
    lon: float | None = None
    lat: float | None = None
    crs: str = "wgs84"
    address: str = ""
    summary: str = ""
    deaths: int = 0
    missing: int = 0
    injured: int = 0
    economic_loss: float = 0.0
    evacuated: int = 0
    source: str = Incident.Source.DESK
    source_ref: str = ""
    is_exercise: bool = False


COUNT_FIELDS = {"deaths": "死亡", "missing": "失踪", "injured": "重伤", "evacuated": "紧急转移安置"}


def check_consequences(obj: Any) -> None:
    """ValidationError naming the field for a count that is not a non-negative whole
    number (stored in a 32-bit positive integer) or a loss that is not one."""
    from yingji.core.apiparams import COUNT_MAX

    for name, label in COUNT_FIELDS.items():
        value = getattr(obj, name)
        if not isinstance(value, int) or not 0 <= value <= COUNT_MAX:
            raise ValidationError({name: f"{label}人数须为 0 至 {COUNT_MAX} 之间的整数"})
    loss = obj.economic_loss
    if not isinstance(loss, int | float) or not 0 <= loss < 1e10:  # NaN fails too
        raise ValidationError({"economic_loss": "直接经济损失须为 0 至 9999999999 万元"})


def _consequences(obj: Any) -> levels.Consequences:
    return levels.Consequences(
        deaths=obj.deaths,
        missing=obj.missing,
        injured=obj.injured,
        economic_loss=obj.economic_loss,
        evacuated=obj.evacuated,
    )


@transaction.atomic
def register_incident(
    data: IncidentInput,
    *,
    user: Any = None,
    drill: Any = None,
    check: bool = True,
    at: dt.datetime | None = None,
) -> Incident:
    """Register an incident: its category from its type, district and street from
    its location (the one region lookup), its level from the criteria."""
    if check:
        require_command(user)
    category = levels.category_of(data.incident_type)
    if category is None:
        raise ValidationError(f"未知的事件类型:{data.incident_type}")
    if not data.title.strip():
        raise ValidationError("事件名称不能为空")
    check_consequences(data)
    lon, lat, district, street = data.lon, data.lat, None, None
    if lon is not None and lat is not None:
        try:
            from yingji.core import geo

            lon, lat = geo.to_wgs84(lon, lat, data.crs)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        found = regions.lookup(lon, lat)
        district, street = found["district"], found["street"]
    incident = Incident(
        title=data.title.strip(),
        category=category,
        incident_type=data.incident_type,
        occurred_at=data.occurred_at,
        lon=lon,
        lat=lat,
        address=data.address,
        district=district,
        street=street,
        summary=data.summary,
        deaths=data.deaths,
        missing=data.missing,
        injured=data.injured,
        economic_loss=data.economic_loss,
        evacuated=data.evacuated,
        source=data.source,
        source_ref=data.source_ref,
        is_exercise=data.is_exercise or drill is not None,
        drill=drill,
        reported_by=user if getattr(user, "is_authenticated", False) else None,
    )
    result = levels.compute_level(category, _consequences(incident))
    incident.level, incident.level_reasons = result.level, list(result.reasons)
    incident.save()
    where = "".join(r.name for r in (district, street) if r) or data.address or "位置未定"
    log(
        incident,
        "registered",
        f"接报{incident.get_source_display()}:"
        f"{incident.title}({category}/{data.incident_type},{where}),初判{result.label}"
        + (f",依据:{';'.join(result.reasons)}" if result.reasons else ""),
        user=user,
        at=at,
        data={"level": result.level},
    )
    return incident


@transaction.atomic
def add_report(
    incident: Incident,
    *,
    text: str,
    deaths: int,
    missing: int,
    injured: int,
    economic_loss: float,
    evacuated: int,
    user: Any = None,
    at: dt.datetime | None = None,
) -> IncidentReport:
    """A follow-up report (续报): the numbers replace the incident's and the level
    is re-computed; a changed level lands on the timeline with the plans it calls for."""
    require_command(user)
    check_consequences(
        levels.Consequences(
            deaths=deaths,
            missing=missing,
            injured=injured,
            economic_loss=economic_loss,
            evacuated=evacuated,
        )
    )
    at = at or now()
    report = IncidentReport.objects.create(
        incident=incident,
        at=at,
        author=user,
        text=text,
        deaths=deaths,
        missing=missing,
        injured=injured,
        economic_loss=economic_loss,
        evacuated=evacuated,
    )
    before = incident.level
    for f in ("deaths", "missing", "injured", "economic_loss", "evacuated"):
        setattr(incident, f, getattr(report, f))
    result = levels.compute_level(incident.category, _consequences(incident))
    incident.level, incident.level_reasons = result.level, list(result.reasons)
    incident.save()
    log(
        incident,
        "report",
        f"续报:{text}(死亡{deaths}、失踪{missing}、重伤{injured}、经济损失{economic_loss:g}万元、"
        f"转移安置{evacuated}人)",
        user=user,
        at=at,
    )
    if result.level != before:
        names = (
            "、".join(
                f"{p['plan']}{levels.RESPONSE_LABELS[p['level']]}"
                for p in incident_proposals(incident)
            )
            or "无"
        )
        log(
            incident,
            "level_changed",
            f"事件级别由{levels.LABELS[before]}调整为{result.label}({';'.join(result.reasons) or '未达较大以上标准'});"
            f"建议启动:{names}",
            user=user,
            at=at,
            data={"from": before, "to": result.level},
        )
    return report


def _trigger_rows(plans: Iterable[int] | None = None) -> list[triggers.Trigger]:
    qs = PlanTrigger.objects.filter(plan__status=EmergencyPlan.Status.ACTIVE)
    if plans is not None:
        qs = qs.filter(plan_id__in=list(plans))
    return [
        triggers.Trigger(t.plan_id, t.source, t.hazard, t.min_level, t.response_level) for t in qs
    ]


def proposals(source: str, hazard: str, level: str) -> list[dict]:
    """Plans and response levels an event calls for (JSON-ready, most severe first)."""
    found = triggers.match(triggers.Event(source, hazard, level), _trigger_rows())
    titles = dict(
        EmergencyPlan.objects.filter(pk__in=[p.plan_id for p in found]).values_list("pk", "title")
    )
    return [
        {
            "plan_id": p.plan_id,
            "plan": titles[p.plan_id],
            "level": p.response_level,
            "why": f"{triggers.SOURCE_LABELS.get(source, source)}{p.trigger.hazard}达到{_level_text(source, p.trigger.min_level)}",
        }
        for p in found
    ]


def _level_text(source: str, level: str) -> str:
    return (
        levels.LABELS.get(level, level)
        if source == "incident"
        else triggers.COLOUR_LABELS.get(level, level)
    )


def incident_proposals(incident: Incident) -> list[dict]:
    """Proposals for the incident itself, plus those of the alarm/alert it came
    from (kept on its desk item); plans already active are left out."""
    found = {p["plan_id"]: p for p in proposals("incident", incident.incident_type, incident.level)}
    for item in DeskItem.objects.filter(incident=incident):
        for p in proposals(item.source, item.hazard, item.level):
            if p["plan_id"] not in found or levels.rank(p["level"]) > levels.rank(
                found[p["plan_id"]]["level"]
            ):
                found[p["plan_id"]] = p
    active = set(
        incident.activations.filter(status=Activation.Status.ACTIVE).values_list(
            "plan_id", flat=True
        )
    )
    return sorted(
        (p for p in found.values() if p["plan_id"] not in active),
        key=lambda p: (-levels.rank(p["level"]), p["plan_id"]),
    )


INCIDENT_TRANSITIONS = {
    Incident.Status.REGISTERED: {Incident.Status.RESPONDING, Incident.Status.CLOSED},
    Incident.Status.RESPONDING: {Incident.Status.STOOD_DOWN},
    Incident.Status.STOOD_DOWN: {Incident.Status.RESPONDING, Incident.Status.CLOSED},
    Incident.Status.CLOSED: set(),
}


def _move_incident(incident: Incident, new: str) -> None:
    if incident.status == new:
        return
    if new not in INCIDENT_TRANSITIONS[incident.status]:
        raise ValidationError(
            f"事件状态不能从“{incident.get_status_display()}”变为“{Incident.Status(new).label}”"
        )
    incident.status = new
    incident.save(update_fields=["status"])


@transaction.atomic
def close_incident(
    incident: Incident, *, user: Any = None, at: dt.datetime | None = None
) -> Incident:
    """结案: only once no plan is active."""
    require_command(user)
    if incident.activations.filter(status=Activation.Status.ACTIVE).exists():
        raise ValidationError("仍有预案处于响应状态,请先终止响应")
    _move_incident(incident, Incident.Status.CLOSED)
    log(incident, "closed", "事件结案", user=user, at=at)
    return incident


# ----------------------------------------------------------------- activation


def _check_level(level: str) -> None:
    try:
        levels.rank(level)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _templates_for(plan: EmergencyPlan, above: str | None, upto: str) -> list[CardTemplate]:
    """Card templates of levels more severe than `above` (None: all) up to `upto`:
    a higher response includes every measure of the lower ones."""
    low = levels.rank(above) if above else 0
    high = levels.rank(upto)
    return [
        t
        for t in plan.card_templates.select_related("department")
        if low < levels.rank(t.response_level) <= high
    ]


def _audit_created(objects: list[Any]) -> None:
    """bulk_create sends no signals: record the created cards in the one audit log
    ourselves, in one insert (the same entries audit.record would write)."""
    if not objects or audit._suspended.get():
        return
    from django.contrib.contenttypes.models import ContentType

    from yingji.core.models import AuditEntry

    user, label = audit.current_actor()
    ct = ContentType.objects.get_for_model(type(objects[0]))
    at = now()
    audit.write(
        [
            AuditEntry(
                content_type=ct,
                object_pk=str(o.pk),
                object_repr=str(o)[:200],
                action="create",
                actor=user if (user is not None and getattr(user, "pk", None)) else None,
                actor_label=label[:64],
                at=at,
                before=None,
                after=audit.snapshot(o),
                changed_fields=[],
            )
            for o in objects
        ]
    )


def incident_area(incident: Incident) -> list[str]:
    """The area an activation covers by default: the regions of the alarms and
    alerts on the incident's desk items, and the incident's street (or district)."""
    codes = [
        c
        for item in DeskItem.objects.filter(incident=incident, kind=DeskItem.Kind.PROPOSE)
        for c in item.region_codes
    ]
    own = incident.street_id or incident.district_id
    return addressees.normalise(codes + ([own] if own else []))


def _area_regions(area: list[str], level: str) -> list[Any]:
    """Regions of `level` the area covers (districts: also those holding one of its streets)."""
    from yingji.core.models import Region

    if not area:
        return []
    if level == "district":
        wanted = {d for c in area if (d := regioncodes.district_of(c))}
        rows = Region.objects.filter(level="district").filter(
            Q(code__in=wanted)
            | Q(*[Q(code__startswith=regioncodes.prefix(c)) for c in area], _connector=Q.OR)
        )
        return sorted(rows, key=lambda r: r.code)
    rows = Region.objects.filter(level="street").filter(
        Q(*[Q(code__startswith=regioncodes.prefix(c)) for c in area], _connector=Q.OR)
    )
    return sorted(rows, key=lambda r: r.code)


def area_offices(area: list[str], addressee: str) -> tuple[list[Department], list[str]]:
    """The offices a place-bound card goes to: (departments, names of regions without
    one). Street offices are departments of kind street_office bound to a street
    region (`yingji departments street-offices` creates them); district offices are
    the district governments (see docs/response.md)."""
    from yingji.core.models import DepartmentKind

    if addressee == addressees.AREA_DISTRICTS:
        regions_ = _area_regions(area, "district")
        kinds: tuple[str, ...] = (DepartmentKind.DISTRICT_GOV,)
    else:
        regions_ = _area_regions(area, "street")
        kinds = (DepartmentKind.STREET_OFFICE,)
    by_region: dict[str, list[Department]] = {}
    for d in Department.objects.filter(
        region_id__in=[r.code for r in regions_],
        kind__in=kinds,
        active=True,
        merged_into__isnull=True,
    ).order_by("sort_order", "name"):
        by_region.setdefault(d.region_id, []).append(d)
    offices = [d for r in regions_ for d in by_region.get(r.code, [])]
    return offices, [r.name for r in regions_ if r.code not in by_region]


def _recipients(
    activation: Activation, templates: list[CardTemplate]
) -> tuple[list[tuple[CardTemplate, Department]], list[str]]:
    """(template, department) per card to issue, and the regions left without an office."""
    out, missing, cache = [], [], {}
    for t in templates:
        if t.addressee == addressees.DEPARTMENT:
            out.append((t, t.department))
            continue
        if t.addressee not in cache:
            cache[t.addressee] = area_offices(list(activation.area_codes), t.addressee)
            missing += [n for n in cache[t.addressee][1] if n not in missing]
        out += [(t, d) for d in cache[t.addressee][0]]
    return out, missing


def _issue(
    activation: Activation, templates: list[CardTemplate], at: dt.datetime
) -> list[ActionCard]:
    pairs, missing = _recipients(activation, templates)
    new = ActionCard.objects.bulk_create(
        [
            ActionCard(
                activation=activation,
                template=t,
                department=d,
                level=t.response_level,
                title=t.title,
                text=t.text,
                issued_at=at,
                ack_minutes=t.ack_minutes,
                limit_minutes=t.limit_minutes,
            )
            for t, d in pairs
        ]
    )
    if missing:
        log(
            activation.incident,
            "cards_unaddressed",
            f"以下区域未登记应急办,行动卡未能下发:{'、'.join(missing)}",
            at=at,
            data={"activation": activation.pk, "regions": missing},
        )
    _audit_created(new)
    incident = activation.incident
    mark = EXERCISE_MARK if activation.is_exercise else ""
    # One delivery job for the whole batch keeps a 60-department activation well
    # under a second.
    with outbox.batch():
        for card in new:
            outbox.notify_department(
                card.department,
                subject=f"{mark}【行动卡】{incident.title}:{card.title}",
                body=(
                    f"{mark}{card.department}:\n\n{activation.plan.title}已启动"
                    f"{levels.RESPONSE_LABELS[activation.level]}。\n事件:{incident.title}"
                    f"({incident.address or ''})\n\n任务:{card.title}\n{card.text}\n\n"
                    f"请于 {card.ack_minutes} 分钟内在平台签收,{card.limit_minutes} 分钟内完成并反馈落实情况。"
                ),
                dedupe_key=f"response:card:{card.pk}",
                source=card,
            )
    return new


@transaction.atomic
def activate(
    plan: EmergencyPlan,
    incident: Incident,
    level: str,
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    check: bool = True,
    area_codes: list[str] | None = None,
) -> Activation:
    """One action: activate `plan` for `incident` at `level`; every department's
    action cards are created and queued to it through the outbox. Cards for the
    street or district offices go to those of `area_codes` (default: the
    incident's area, `incident_area`)."""
    if check:
        require_command(user)
    _check_level(level)
    if plan.status != EmergencyPlan.Status.ACTIVE:
        raise ValidationError(f"预案“{plan.title}”不是现行有效状态,不能启动")
    if incident.status == Incident.Status.CLOSED:
        raise ValidationError("事件已结案")
    if incident.activations.filter(plan=plan, status=Activation.Status.ACTIVE).exists():
        raise ValidationError(f"预案“{plan.title}”已对该事件启动,请使用升级或降级")
    at = at or now()
    activation = Activation.objects.create(
        plan=plan,
        incident=incident,
        level=level,
        activated_at=at,
        activated_by=user if getattr(user, "is_authenticated", False) else None,
        is_exercise=incident.is_exercise,
        area_codes=addressees.normalise(
            area_codes if area_codes is not None else incident_area(incident)
        ),
    )
    issued = _issue(activation, _templates_for(plan, None, level), at)
    _move_incident(incident, Incident.Status.RESPONDING)
    payload = {
        "activation_id": activation.pk,
        "plan_title": plan.title,
        "hazard": plan.hazard,
        "level": level,
        "level_label": levels.RESPONSE_LABELS[level],
        "area_codes": list(activation.area_codes),
        "is_exercise": activation.is_exercise,
        "at": at,
    }
    transaction.on_commit(lambda: events.activation_started.send(sender=Activation, **payload))
    depts = len({c.department_id for c in issued})
    log(
        incident,
        "activated",
        f"启动《{plan.title}》{levels.RESPONSE_LABELS[level]},向 {depts} 个单位下发行动卡 {len(issued)} 张",
        user=user,
        at=at,
        data={"activation": activation.pk, "level": level},
    )
    return activation


@transaction.atomic
def change_level(
    activation: Activation,
    new_level: str,
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    check: bool = True,
) -> Activation:
    """Level up issues the cards of the newly included levels; level down cancels
    the open cards of levels above the new one. One action either way."""
    if check:
        require_command(user)
    if activation.status != Activation.Status.ACTIVE:
        raise ValidationError("响应已终止,不能调整级别")
    old = activation.level
    _check_level(new_level)
    if levels.rank(new_level) == levels.rank(old):
        raise ValidationError("响应级别未变化")
    at = at or now()
    up = levels.rank(new_level) > levels.rank(old)
    activation.level = new_level
    activation.save(update_fields=["level"])
    if up:
        issued = _issue(activation, _templates_for(activation.plan, old, new_level), at)
        text = f"《{activation.plan.title}》响应由{levels.RESPONSE_LABELS[old]}提升为{levels.RESPONSE_LABELS[new_level]},新增行动卡 {len(issued)} 张"
    else:
        cancelled = _cancel_cards(
            activation,
            lambda c: levels.rank(c.level) > levels.rank(new_level),
            at,
            f"响应降为{levels.RESPONSE_LABELS[new_level]}",
        )
        text = f"《{activation.plan.title}》响应由{levels.RESPONSE_LABELS[old]}降为{levels.RESPONSE_LABELS[new_level]},撤销行动卡 {cancelled} 张"
    log(
        activation.incident,
        "level_up" if up else "level_down",
        text,
        user=user,
        at=at,
        data={"activation": activation.pk, "from": old, "to": new_level},
    )
    return activation


def _cancel_cards(activation: Activation, which, at: dt.datetime, reason: str) -> int:
    n = 0
    for card in activation.cards.filter(state__in=cards.OPEN_STATES).select_related("department"):
        if not which(card):
            continue
        cards.check_transition(card.state, cards.CANCELLED)
        card.state = cards.CANCELLED
        card.save(update_fields=["state"])
        outbox.notify_department(
            card.department,
            subject=f"【行动卡撤销】{card.title}",
            body=f"{card.department}:{reason},行动卡“{card.title}”撤销。",
            dedupe_key=f"response:card-cancel:{card.pk}",
            source=card,
        )
        n += 1
    return n


@transaction.atomic
def stand_down(
    activation: Activation, *, user: Any = None, at: dt.datetime | None = None, check: bool = True
) -> Activation:
    """终止响应: open cards are cancelled; the incident stands down when no plan
    remains active."""
    if check:
        require_command(user)
    if activation.status != Activation.Status.ACTIVE:
        raise ValidationError("响应已终止")
    at = at or now()
    cancelled = _cancel_cards(activation, lambda c: True, at, "响应终止")
    activation.status = Activation.Status.STOOD_DOWN
    activation.stood_down_at = at
    activation.save(update_fields=["status", "stood_down_at"])
    incident = activation.incident
    log(
        incident,
        "stood_down",
        f"终止《{activation.plan.title}》{levels.RESPONSE_LABELS[activation.level]}"
        f"(撤销未完成行动卡 {cancelled} 张)",
        user=user,
        at=at,
        data={"activation": activation.pk},
    )
    if not incident.activations.filter(status=Activation.Status.ACTIVE).exists():
        _move_incident(incident, Incident.Status.STOOD_DOWN)
        _end_events(incident, at)
    return activation


def _end_events(incident: Incident, at: dt.datetime) -> None:
    """The incident stood down: its monitoring events end, so a reading that comes
    later opens a new event instead of reviving this one."""
    ids = [
        int(ref)
        for ref in DeskItem.objects.filter(incident=incident, source="event").values_list(
            "source_ref", flat=True
        )
        if ref.isdigit()
    ]
    if not ids:
        return
    from yingji.monitoring import folding
    from yingji.monitoring.models import Event

    for event in Event.objects.filter(pk__in=ids, state=Event.State.OPEN):
        folding.close_event(event, "响应终止", at)


# ----------------------------------------------------------------- action cards


def _check_card_user(card: ActionCard, user: Any) -> None:
    if user is not None and user.is_superuser:
        return
    p = _profile(user)
    if (
        p is not None
        and p.role == Role.DISTRICT_STAFF
        and p.region_id
        and p.region_id == card.department.region_id
    ):
        return  # street (or district) staff act for their own office
    if p is None or (p.department_id != card.department_id and p.role not in COMMAND_ROLES):
        raise PermissionDenied(f"只有{card.department}的人员可以处理这张行动卡")


@transaction.atomic
def acknowledge(card: ActionCard, *, user: Any = None, at: dt.datetime | None = None) -> ActionCard:
    """签收 a card (its department's staff, or the command desk on their behalf)."""
    _check_card_user(card, user)
    cards.check_transition(card.state, cards.ACKNOWLEDGED)
    at = at or now()
    card.state, card.acknowledged_at, card.acknowledged_by = cards.ACKNOWLEDGED, at, user
    card.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])
    minutes = (at - card.issued_at).total_seconds() / 60
    log(
        card.activation.incident,
        "card_ack",
        f"{card.department}签收行动卡“{card.title}”(用时 {minutes:.0f} 分钟,时限 {card.ack_minutes} 分钟)",
        user=user,
        at=at,
        data={"card": card.pk},
    )
    return card


@transaction.atomic
def complete(
    card: ActionCard, *, result: str, user: Any = None, at: dt.datetime | None = None
) -> ActionCard:
    """Report a card done with what was done (落实情况)."""
    _check_card_user(card, user)
    if not result.strip():
        raise ValidationError("请填写落实情况")
    cards.check_transition(card.state, cards.COMPLETED)
    at = at or now()
    if card.acknowledged_at is None:
        card.acknowledged_at, card.acknowledged_by = at, user
    card.state, card.completed_at, card.result = cards.COMPLETED, at, result.strip()
    card.save(
        update_fields=["state", "completed_at", "result", "acknowledged_at", "acknowledged_by"]
    )
    minutes = (at - card.issued_at).total_seconds() / 60
    log(
        card.activation.incident,
        "card_done",
        f"{card.department}完成“{card.title}”:{card.result}(用时 {minutes:.0f} 分钟,时限 {card.limit_minutes} 分钟)",
        user=user,
        at=at,
        data={"card": card.pk},
    )
    return card


def _duty_people(at: dt.datetime) -> list[Any]:
    shift = current_shift(at)
    if shift is None:
        User = get_user_model()
        return list(User.objects.filter(profile__role=Role.DUTY_OFFICER, is_active=True))
    return [u for u in (shift.officer, shift.leader) if u is not None]


def _leaders() -> list[Any]:
    User = get_user_model()
    return list(User.objects.filter(profile__role=Role.LEADER, is_active=True))


def escalate_overdue(at: dt.datetime | None = None) -> int:
    """Escalate every open card past a time limit (idempotent per step): step 1
    to the duty officer and leader on shift, step 2 to the bureau leaders.
    Returns the number of escalations made."""
    at = at or now()
    made = 0
    qs = ActionCard.objects.filter(
        state__in=cards.OPEN_STATES, activation__status=Activation.Status.ACTIVE
    ).select_related("department", "activation__incident", "activation__plan")
    for card in qs:
        step = cards.needs_escalation(card.clock(), at)
        if step is None:
            continue
        with transaction.atomic():
            kind = cards.overdue_kind(card.clock(), at)
            what = "未签收" if kind == "ack" else "未完成"
            limit = card.ack_minutes if kind == "ack" else card.limit_minutes
            incident = card.activation.incident
            mark = EXERCISE_MARK if incident.is_exercise else ""
            people = _duty_people(at) if step == 1 else _leaders()
            outbox.notify_users(
                people,
                subject=f"{mark}【行动卡超时】{card.department}“{card.title}”{what}",
                body=f"{mark}事件:{incident.title}\n预案:{card.activation.plan.title}\n"
                f"{card.department}的行动卡“{card.title}”已超过 {limit} 分钟时限{what},请督促落实。",
                dedupe_key=f"response:card-escalate:{card.pk}:{step}",
                source=card,
            )
            card.escalation_level = step
            card.save(update_fields=["escalation_level"])
            log(
                incident,
                "card_overdue",
                f"行动卡“{card.title}”({card.department}){what},超时升级至"
                f"{'值班领导' if step == 1 else '局领导'}",
                at=at,
                data={"card": card.pk, "step": step},
            )
            made += 1
    return made


# ----------------------------------------------------------------- duty


def current_shift(at: dt.datetime | None = None) -> DutyShift | None:
    at = at or now()
    return (
        DutyShift.objects.filter(starts_at__lte=at, ends_at__gt=at)
        .select_related("officer", "leader")
        .first()
    )


def special_periods(year: int) -> list[wc.KeyPeriod]:
    return [
        wc.KeyPeriod(p.name, p.start, p.end)
        for p in SpecialPeriod.objects.filter(Q(start__year=year) | Q(end__year=year))
    ]


def key_period_on(day: dt.date, periods: list[wc.KeyPeriod]) -> str:
    """The name of the holiday or special period `day` falls in ('' if none)."""
    for p in periods:
        if p.start <= day <= p.end:
            return p.name
    return ""


@transaction.atomic
def build_roster(
    start: dt.date,
    days: int,
    officers: list[Any],
    leaders: list[Any],
    joint_departments: list[Department],
    *,
    change_hour: int = 8,
) -> list[DutyShift]:
    """24-hour shifts from `change_hour` each day, officers and leaders in rotation;
    on holidays and special periods (calendar + SpecialPeriod) the joint-duty
    departments are put on duty with them (联合值守). Existing shifts are kept."""
    if not officers:
        raise ValidationError("排班至少需要一名值班员")
    tz = timezone.get_current_timezone()
    out = []
    periods: dict[int, list[wc.KeyPeriod]] = {}
    for i in range(days):
        day = start + dt.timedelta(days=i)
        begin = dt.datetime.combine(day, dt.time(change_hour), tzinfo=tz)
        if DutyShift.objects.filter(starts_at=begin).exists():
            continue
        if day.year not in periods:
            try:
                periods[day.year] = wc.key_periods(day.year, special_periods(day.year))
            except wc.CalendarRangeError:
                periods[day.year] = special_periods(day.year)
        name = key_period_on(day, periods[day.year])
        shift = DutyShift.objects.create(
            starts_at=begin,
            ends_at=begin + dt.timedelta(days=1),
            officer=officers[i % len(officers)],
            leader=leaders[i % len(leaders)] if leaders else None,
            period=name,
        )
        if name:
            shift.departments.set(joint_departments)
        out.append(shift)
    return out


def handover(shift: DutyShift, text: str, *, user: Any = None) -> HandoverEntry:
    require_command(user)
    if not text.strip():
        raise ValidationError("交接内容不能为空")
    return HandoverEntry.objects.create(shift=shift, author=user, at=now(), text=text.strip())


def _peek(
    app_label: str,
    name: str,
    filters: dict[str, Any],
    limit: int,
    related: tuple[str, ...] = (),
    defer: tuple[str, ...] = (),
) -> list[Any]:
    """Rows of another module's model for the desk, or [] while that module (built
    in parallel) has no such model, field or table yet: the desk must not break.
    `related`: what the rows' names read (joined, not a query per row); `defer`:
    columns the desk never shows."""
    from django.apps import apps
    from django.core.exceptions import FieldError
    from django.db import DatabaseError

    try:
        model = apps.get_model(app_label, name)
        with transaction.atomic():
            rows = model.objects.filter(**filters).select_related(*related).defer(*defer)
            return list(rows[:limit])
    except (LookupError, FieldError, DatabaseError):
        return []


_NO_BOUNDARIES = ("district__boundary", "street__boundary")


def duty_desk(at: dt.datetime | None = None, limit: int = 100) -> dict[str, Any]:
    """What needs attention now: new incidents, desk items from alarms and alerts,
    firing alarms and alerts awaiting approval (when those modules exist),
    unacknowledged and overdue action cards."""
    at = at or now()
    open_qs = ActionCard.objects.filter(
        state__in=cards.OPEN_STATES, activation__status=Activation.Status.ACTIVE
    )
    # Timers run on plain tuples (no model instances for a thousand cards); only
    # the rows shown are loaded as objects. Oldest first: the most overdue lead.
    clocks = list(
        open_qs.order_by("issued_at", "pk").values_list(
            "pk",
            "state",
            "issued_at",
            "ack_minutes",
            "limit_minutes",
            "acknowledged_at",
            "completed_at",
            "escalation_level",
        )
    )
    overdue_ids, unack_ids = [], []
    for pk, *fields in clocks:
        if cards.overdue_kind(cards.CardClock(*fields), at):
            overdue_ids.append(pk)
        elif fields[0] == cards.ISSUED:
            unack_ids.append(pk)
    shown = {
        c.pk: c
        for c in ActionCard.objects.filter(
            pk__in=overdue_ids[:limit] + unack_ids[:limit]
        ).select_related("department", "activation__incident")
    }
    overdue = [shown[pk] for pk in overdue_ids[:limit]]
    unack = [shown[pk] for pk in unack_ids[:limit]]
    new_incidents = Incident.objects.filter(status=Incident.Status.REGISTERED)
    open_items = DeskItem.objects.filter(status=DeskItem.Status.OPEN)
    desk = {
        "at": at,
        "counts": {
            "unacknowledged": sum(1 for c in clocks if c[1] == cards.ISSUED),
            "overdue": len(overdue_ids),
            "desk_items": open_items.count(),
            "new_incidents": new_incidents.count(),
        },
        "shift": current_shift(at),
        # The district's and street's names, not their boundaries (a street's
        # GeoJSON is decoded in about 0.4 ms: 200 rows cost more than the page).
        "new_incidents": list(
            new_incidents.select_related("district", "street").defer(*_NO_BOUNDARIES)[:limit]
        ),
        "responding": list(
            Incident.objects.filter(status=Incident.Status.RESPONDING)
            .select_related("district", "street")
            .defer(*_NO_BOUNDARIES)[:limit]
        ),
        "desk_items": list(open_items[:limit]),
        "unacknowledged": unack[:limit],
        "overdue": overdue[:limit],
        "overdue_ids": set(overdue_ids),
        "firing_alarms": [],
        "pending_alerts": [],
    }
    # An alarm is named by its rule and its sensor or area (Alarm.__str__); an
    # area's boundary is never shown here.
    desk["firing_alarms"] = _peek(
        "monitoring",
        "Alarm",
        {"state": "firing"},
        limit,
        related=("rule", "sensor", "area"),
        defer=("area__boundary",),
    )
    desk["pending_alerts"] = _peek(
        "alerts", "Alert", {"state__in": ["review", "approved"]}, limit, defer=("cap_xml",)
    )
    return desk


# ----------------------------------------------------------------- alarms and alerts


def record_desk_item(
    *,
    source: str,
    source_ref: str,
    hazard: str,
    level: str,
    region_codes: list[str],
    title: str,
    exercise: bool = False,
) -> DeskItem:
    """An alarm or alert lands on the duty desk with the plans it proposes
    (one item per source, reference and level: repeats do nothing)."""
    item, _ = DeskItem.objects.get_or_create(
        source=source,
        source_ref=source_ref,
        level=level,
        kind=DeskItem.Kind.PROPOSE,
        defaults={
            "hazard": triggers.hazard_of(hazard),
            "region_codes": region_codes,
            "title": (EXERCISE_MARK if exercise else "") + title,
            "proposals": proposals(source, hazard, level),
            "is_exercise": exercise,
        },
    )
    return item


@transaction.atomic
def record_event_item(
    *,
    event_id: int,
    hazard: str,
    level: str | None,
    region_codes: list[str],
    title: str,
    warning: str = "",
    exercise: bool = False,
) -> DeskItem | None:
    """ONE desk item per monitoring event, updated in place as the event rises, grows
    or its warning is drafted and published: its level is the highest seen, its areas
    and the plans it proposes follow. A handled item (登记事件 or ignored) is left
    alone; the incident registered from it carries the event over."""
    item = (
        DeskItem.objects.select_for_update()
        .filter(source="event", source_ref=str(event_id), kind=DeskItem.Kind.PROPOSE)
        .first()
    )
    if item is None:
        if not level:
            return None
        return DeskItem.objects.create(
            source="event",
            source_ref=str(event_id),
            hazard=triggers.hazard_of(hazard),
            level=level,
            region_codes=region_codes,
            title=(EXERCISE_MARK if exercise else "") + title + (f";{warning}" if warning else ""),
            proposals=proposals("event", hazard, level),
            is_exercise=exercise,
        )
    if item.status != DeskItem.Status.OPEN:
        return item
    if level and triggers.level_rank("alarm", level) > triggers.level_rank("alarm", item.level):
        item.level = level
        item.proposals = proposals("event", hazard, level)
    item.region_codes = sorted(set(item.region_codes) | set(region_codes))
    # The title is "what happened;what was published": a new event title replaces the
    # first part, a published warning the second.
    head, _, tail = item.title.partition(";")
    if title:
        head = (EXERCISE_MARK if exercise else "") + title
    item.title = f"{head};{warning or tail}"[:200] if (warning or tail) else head[:200]
    item.save(update_fields=["level", "proposals", "region_codes", "title"])
    return item


@transaction.atomic
def accept_desk_item(
    item: DeskItem,
    *,
    user: Any = None,
    incident_type: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    title: str | None = None,
    check: bool = True,
    drill: Any = None,
    at: dt.datetime | None = None,
) -> Incident:
    """Register the incident a desk item proposes (location: the given point, or
    the centroid of its first region)."""
    if check:
        require_command(user)
    if item.status != DeskItem.Status.OPEN:
        raise ValidationError("该待办已处理")
    from yingji.core.models import Region

    if lon is None or lat is None:
        region = Region.objects.filter(code__in=item.region_codes).order_by("-level").first()
        if region is not None and region.centroid_lon is not None:
            lon, lat = region.centroid_lon, region.centroid_lat
    hazard_type = incident_type or (item.hazard if levels.category_of(item.hazard) else None)
    if hazard_type is None:
        raise ValidationError(f"“{item.hazard}”不是事件类型,请选择事件类型后登记")
    if drill is None:
        from yingji.response.drills import link_desk_item

        drill = link_desk_item(item)
    incident = register_incident(
        IncidentInput(
            title=title or item.title.replace(EXERCISE_MARK, ""),
            incident_type=hazard_type,
            occurred_at=at or item.created_at or now(),
            lon=lon,
            lat=lat,
            source=Incident.Source.ALARM if item.source == "alarm" else Incident.Source.ALERT,
            source_ref=item.source_ref,
            is_exercise=item.is_exercise,
        ),
        user=user,
        check=False,
        drill=drill,
        at=at,
    )
    item.status, item.incident = DeskItem.Status.ACCEPTED, incident
    item.save(update_fields=["status", "incident"])
    return incident


def dismiss_desk_item(item: DeskItem, *, user: Any = None) -> DeskItem:
    require_command(user)
    item.status = DeskItem.Status.DISMISSED
    item.save(update_fields=["status"])
    return item


# ----------------------------------------------------------------- when the alert ends


def _remaining_levels(incident: Incident, chain_ids: set[int]) -> dict[int, list[str]]:
    """Response levels per plan the incident's other grounds still call for: its
    own level when its consequences met a threshold (a level IV with no grounds
    is the alert's incident, not one of its own), and the alarms and alerts on
    it outside the ended chain."""
    out: dict[int, list[str]] = {}
    grounds = (
        [("incident", incident.incident_type, incident.level)] if incident.level_reasons else []
    )
    grounds += [
        (i.source, i.hazard, i.level)
        for i in DeskItem.objects.filter(incident=incident, kind=DeskItem.Kind.PROPOSE).exclude(
            pk__in=chain_ids
        )
    ]
    for source, hazard, level in grounds:
        for p in proposals(source, hazard, level):
            out.setdefault(p["plan_id"], []).append(p["level"])
    return out


@transaction.atomic
def propose_stand_down(
    *,
    identifier: str,
    msg_type: str,
    event: str,
    level: str | None,
    references: list[str],
    exercise: bool,
) -> bool:
    """A Cancel, or an Update lowering the colour, of an alert that reached the
    duty desk: put one item on the desk proposing to lower or stand down the
    activations it triggered (one per message: repeats do nothing). Returns
    True when the message was handled here (the caller then proposes nothing new)."""
    chain = list(
        DeskItem.objects.filter(
            source="alert", source_ref__in=references, is_exercise=exercise
        ).order_by("created_at", "pk")
    )
    if not chain:
        return False
    if msg_type == "Update" and not standdown.lowers(chain[-1].level, level):
        return False
    if DeskItem.objects.filter(
        source="alert", source_ref=identifier, kind=DeskItem.Kind.STAND_DOWN
    ).exists():
        return True
    proposing = [i for i in chain if i.kind == DeskItem.Kind.PROPOSE]
    plan_ids = {p["plan_id"] for i in proposing for p in i.proposals}
    incidents = {i.incident_id for i in proposing if i.incident_id}
    running = [
        standdown.Running(a.pk, a.incident_id, a.plan_id, a.plan.title, a.level)
        for a in Activation.objects.filter(
            incident_id__in=incidents,
            plan_id__in=plan_ids,
            status=Activation.Status.ACTIVE,
            is_exercise=exercise,
        )
        .select_related("plan")
        .order_by("pk")
    ]
    if not running:
        return True
    chain_ids = {i.pk for i in chain}
    new_colour = proposals("alert", event, level) if msg_type == "Update" and level else []
    found: list[standdown.Action] = []
    for incident in Incident.objects.filter(pk__in={r.incident_id for r in running}).order_by("pk"):
        remaining = _remaining_levels(incident, chain_ids)
        for p in new_colour:
            remaining.setdefault(p["plan_id"], []).append(p["level"])
        found += standdown.actions([r for r in running if r.incident_id == incident.pk], remaining)
    if not found:
        return True
    what = (
        "解除"
        if msg_type == "Cancel"
        else f"降为{triggers.COLOUR_LABELS.get(level or '', '无级别')}"
    )
    original = chain[0]
    title = (
        f"预警{what}:{original.title.replace(EXERCISE_MARK, '').removeprefix('预警发布:')},建议"
        + ";".join(a.text for a in found)
    )
    item = DeskItem.objects.create(
        source="alert",
        source_ref=identifier,
        level=level or "",
        kind=DeskItem.Kind.STAND_DOWN,
        hazard=original.hazard,
        region_codes=original.region_codes,
        title=((EXERCISE_MARK if exercise else "") + title)[:200],
        actions=[a.as_json() for a in found],
        is_exercise=exercise,
        incident_id=found[0].incident_id,
    )
    for incident in Incident.objects.filter(pk__in={a.incident_id for a in found}):
        log(
            incident,
            "stand_down_proposed",
            f"预警{what}({identifier}),值班台建议:"
            + ";".join(a.text for a in found if a.incident_id == incident.pk)
            + ",待值班员确认",
            data={"desk_item": item.pk},
        )
    return True


@transaction.atomic
def confirm_stand_down(
    item: DeskItem, *, user: Any = None, at: dt.datetime | None = None, check: bool = True
) -> list[str]:
    """The duty officer confirms a stand-down proposal in one action: each
    activation is lowered or stood down through the usual path (cards cancelled,
    departments told); activations changed since the proposal are left as they
    are. Returns what was done, in Chinese."""
    if check:
        require_command(user)
    item = DeskItem.objects.select_for_update().get(pk=item.pk)
    if item.kind != DeskItem.Kind.STAND_DOWN:
        raise ValidationError("该待办不是降级或终止响应建议")
    if item.status != DeskItem.Status.OPEN:
        raise ValidationError("该待办已处理")
    at = at or now()
    done = []
    for a in item.actions:
        act = (
            Activation.objects.select_for_update()
            .select_related("plan", "incident")
            .filter(pk=a["activation_id"])
            .first()
        )
        if act is None or act.status != Activation.Status.ACTIVE:
            done.append(f"《{a['plan']}》响应已终止,未再处理")
        elif a["to"] is None:
            stand_down(act, user=user, at=at, check=False)
            done.append(a["text"])
        elif levels.rank(a["to"]) < levels.rank(act.level):
            change_level(act, a["to"], user=user, at=at, check=False)
            done.append(a["text"])
        else:
            done.append(f"《{a['plan']}》现为{levels.RESPONSE_LABELS[act.level]},未调整")
    item.status = DeskItem.Status.CONFIRMED
    item.save(update_fields=["status"])
    return done
