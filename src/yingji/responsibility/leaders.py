"""Leaders' duty lists and 巡查 (seed 12): the leaders of each district and of the
city, their 职责清单 and annual 工作清单, the items' completion, the 巡查 records
with the problems found turned into hazards of the risk register, and the
fulfilment per leader and per district for the 述职 and the assessment.

Scope: 综合处 (the seed's lead for items 12–14 and 17) and the city-wide roles see
and keep every leader; a district or street account sees and keeps the leaders
of its region; a leader with a platform account sees their own lists and
records their own 巡查 and completions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from yingji.core import audit
from yingji.core.scope import scope_for
from yingji.responsibility import duties
from yingji.responsibility.models import DutyItem, DutyList, Leader, Patrol
from yingji.responsibility.services import lead_ids, today


def is_lead(user: Any) -> bool:
    """综合处 staff, leaders, supervisors, administrators: the whole system."""
    scope = scope_for(user)
    return scope.edits_all or bool(scope.department_ids & lead_ids())


def visible_leaders(user: Any, *, editing: bool = False) -> QuerySet[Leader]:
    scope = scope_for(user)
    if is_lead(user) or (scope.sees_all and not editing):
        return Leader.objects.all()
    condition = Q(pk__isnull=True)
    if getattr(user, "is_authenticated", False):
        condition |= Q(user=user)
    area = scope.editing() if editing else scope
    if area.region_codes:
        condition |= area.q(region_field="region__code")
    return Leader.objects.filter(condition)


def _editable(user: Any, leader: Leader) -> None:
    if not visible_leaders(user, editing=True).filter(pk=leader.pk).exists():
        raise PermissionDenied("无权修改该领导干部的清单和巡查记录")


def add_item(user: Any, duty_list: DutyList, text: str, due: dt.date | None) -> DutyItem:
    _editable(user, duty_list.leader)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "事项内容不能为空"})
    if due and due.year != duty_list.year:
        raise ValidationError({"due": f"完成时限应在 {duty_list.year} 年内"})
    with audit.acting_as(user):
        return DutyItem.objects.create(duty_list=duty_list, text=text[:500], due=due)


def complete_item(user: Any, item: DutyItem, done_on: dt.date, note: str = "") -> DutyItem:
    _editable(user, item.duty_list.leader)
    if done_on > today():
        raise ValidationError({"done_on": "完成日期不能晚于今天"})
    with audit.acting_as(user):
        item.done_on, item.note = done_on, (note or "").strip()[:500]
        item.save(update_fields=["done_on", "note"])
    return item


def record_patrol(
    user: Any,
    leader: Leader,
    *,
    on: dt.date,
    place: str,
    region: Any,
    summary: str = "",
    problems: list[tuple[Any, str]] = (),
) -> tuple[Patrol, list[Any]]:
    """A 巡查 record; each (enterprise, description) problem opens a hazard in the
    risk register (source 监管检查, origin this patrol) in the same transaction."""
    from yingji.risk import services as risk

    _editable(user, leader)
    if on > today():
        raise ValidationError({"on": "巡查日期不能晚于今天"})
    if not (place or "").strip():
        raise ValidationError({"place": "巡查地点不能为空"})
    with transaction.atomic(), audit.acting_as(user):
        patrol = Patrol.objects.create(
            leader=leader, on=on, place=place.strip()[:200], region=region, summary=summary or ""
        )
        hazards = [
            risk.create_hazard(
                enterprise,
                description=f"{leader.name}({leader.post})巡查发现:{text}",
                source="regulator_inspection",
                found_on=on,
                location=place,
                origin=patrol,
                user=user,
            )
            for enterprise, text in problems
            if (text or "").strip()
        ]
    return patrol, hazards


def fulfilment_of(leader: Leader, year: int, on: dt.date | None = None) -> duties.Fulfilment:
    on = on or today()
    items = DutyItem.objects.filter(
        duty_list__leader=leader, duty_list__year=year, duty_list__kind=DutyList.Kind.WORK
    ).values_list("due", "done_on")
    required = sum(
        DutyList.objects.filter(leader=leader, year=year).values_list("patrols_required", flat=True)
    )
    patrols = Patrol.objects.filter(leader=leader, on__year=year, on__lte=on).count()
    return duties.fulfilment(items, patrols, duties.patrols_required_by(required, year, on), on)


def summary(user: Any, year: int, on: dt.date | None = None) -> list[dict[str, Any]]:
    """Per district (and the city), the leaders the user sees with their
    fulfilment, and the district's total: what the 述职 reads."""
    on = on or today()
    leaders = visible_leaders(user).filter(active=True).select_related("region")
    by_area: dict[str, dict[str, Any]] = {}
    for leader in leaders.order_by("region_id", "side", "name"):
        code = leader.region_id[:6]
        area = by_area.setdefault(
            code, {"code": code, "name": None, "leaders": [], "total": duties.Fulfilment()}
        )
        if len(leader.region_id) <= 6:
            area["name"] = leader.region.name
        f = fulfilment_of(leader, year, on)
        area["leaders"].append((leader, f))
        area["total"].add(f)
    if by_area:
        from yingji.core.models import Region

        names = dict(Region.objects.filter(code__in=by_area).values_list("code", "name"))
        for code, area in by_area.items():
            area["name"] = area["name"] or names.get(code, code)
    return list(by_area.values())
