"""Resources and dispatch: the nearest teams, warehouses, shelters, helipads and
hospitals to an incident, dispatch orders to teams and their states, and shelter
allocation (the pure rules are in dispatch.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from yingji.core import outbox
from yingji.response import dispatch
from yingji.response.models import (
    DispatchOrder,
    Helipad,
    Hospital,
    Incident,
    RescueTeam,
    Shelter,
    ShelterAllocation,
    Warehouse,
)
from yingji.response.services import EXERCISE_MARK, log, now, require_command

KIND_CODES = {"team": 1, "warehouse": 2, "hospital": 3, "helipad": 4}
KIND_LABELS = {
    "team": "救援队伍",
    "warehouse": "物资仓库",
    "hospital": "医院",
    "helipad": "直升机停机坪",
}
_SPAN = 10**9


def build_index() -> tuple[dispatch.ResourceIndex, dict[int, tuple[str, Any]]]:
    """Every dispatchable resource in one pure index; ids encode kind and pk.
    Warehouses offer their stock categories and item names, hospitals 医疗救治,
    helipads 直升机起降."""
    ids, lons, lats, caps, avail, objs = [], [], [], [], [], {}

    def add(kind: str, obj: Any, capabilities: list[str], available: bool = True) -> None:
        key = KIND_CODES[kind] * _SPAN + obj.pk
        ids.append(key)
        lons.append(obj.lon)
        lats.append(obj.lat)
        caps.append(capabilities)
        avail.append(available)
        objs[key] = (kind, obj)

    for t in RescueTeam.objects.all():
        add("team", t, list(t.capabilities), t.available)
    for w in Warehouse.objects.prefetch_related("stock"):
        add(
            "warehouse",
            w,
            sorted(
                {s.category for s in w.stock.all() if s.category and s.quantity > 0}
                | {s.name for s in w.stock.all() if s.quantity > 0}
            ),
        )
    for h in Hospital.objects.all():
        add("hospital", h, ["医疗救治"])
    for h in Helipad.objects.all():
        add("helipad", h, ["直升机起降"])
    return dispatch.ResourceIndex(ids, lons, lats, caps, available=avail), objs


def nearest_resources(
    lon: float, lat: float, capabilities: list[str], k: int = 10, kind: str | None = None
) -> list[dict]:
    """The k nearest resources with all the capabilities (optionally one kind)."""
    index, objs = build_index()
    if kind:
        keep = (index.ids // _SPAN) == KIND_CODES[kind]
        index.available &= keep
    busy = set(
        DispatchOrder.objects.filter(state__in=dispatch.ACTIVE_ORDER_STATES).values_list(
            "team_id", flat=True
        )
    )
    exclude = [KIND_CODES["team"] * _SPAN + pk for pk in busy]
    out = []
    for hit in index.nearest(lon, lat, capabilities, k, exclude=exclude):
        kind_name, obj = objs[hit.id]
        out.append(
            {
                "kind": kind_name,
                "kind_label": KIND_LABELS[kind_name],
                "id": obj.pk,
                "name": obj.name,
                "distance_km": hit.distance_km,
                "lon": obj.lon,
                "lat": obj.lat,
                "object": obj,
            }
        )
    return out


def _require_open(incident: Incident) -> None:
    if incident.status == Incident.Status.CLOSED:
        raise ValidationError("事件已结案")


@transaction.atomic
def dispatch_team(
    incident: Incident,
    team: RescueTeam,
    *,
    task: str = "",
    user: Any = None,
    at: dt.datetime | None = None,
    check: bool = True,
) -> DispatchOrder:
    """Order a team to the incident (one active order per team)."""
    if check:
        require_command(user)
    _require_open(incident)
    if DispatchOrder.objects.filter(team=team, state__in=dispatch.ACTIVE_ORDER_STATES).exists():
        raise ValidationError(f"{team.name}正在执行其他调度任务")
    at = at or now()
    distance = 0.0
    if incident.lon is not None:
        import numpy as np

        distance = round(
            float(
                dispatch.haversine_km(
                    incident.lon, incident.lat, np.array([team.lon]), np.array([team.lat])
                )[0]
            ),
            2,
        )
    order = DispatchOrder.objects.create(
        incident=incident, team=team, task=task, ordered_at=at, distance_km=distance
    )
    log(
        incident,
        "dispatch",
        f"调派{team.name}({team.members}人,距 {distance:g} 公里){':' + task if task else ''}",
        user=user,
        at=at,
        data={"order": order.pk},
    )
    if team.department is not None:
        outbox.notify_department(
            team.department,
            subject=f"{EXERCISE_MARK if incident.is_exercise else ''}【调度指令】{team.name}赴{incident.title}",
            body=f"{team.name}:请立即赶赴{incident.address or incident.title}。{task}",
            dedupe_key=f"response:dispatch:{order.pk}",
            source=order,
        )
    return order


_ORDER_FIELDS = {
    dispatch.EN_ROUTE: "en_route_at",
    dispatch.ON_SCENE: "on_scene_at",
    dispatch.RETURNED: "returned_at",
}


@transaction.atomic
def advance_order(
    order: DispatchOrder,
    state: str,
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    check: bool = True,
) -> DispatchOrder:
    """Move a dispatch order one step along ordered → en route → on scene → returned."""
    if check:
        require_command(user)
    dispatch.check_order_transition(order.state, state)
    at = at or now()
    order.state = state
    fields = ["state"]
    if state in _ORDER_FIELDS:
        setattr(order, _ORDER_FIELDS[state], at)
        fields.append(_ORDER_FIELDS[state])
    order.save(update_fields=fields)
    log(
        order.incident,
        "dispatch_state",
        f"{order.team.name}{dispatch.ORDER_LABELS[state]}",
        user=user,
        at=at,
        data={"order": order.pk, "state": state},
    )
    return order


@transaction.atomic
def allocate_shelters(
    incident: Incident,
    evacuees: int,
    *,
    user: Any = None,
    at: dt.datetime | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """Place evacuees in the nearest shelters with free capacity; closed shelters
    chosen are opened. Occupancy is updated under row locks."""
    if check:
        require_command(user)
    _require_open(incident)
    if incident.lon is None:
        raise ValidationError("事件没有位置,无法分配避护场所")
    if evacuees <= 0:
        raise ValidationError("转移人数应为正整数")
    at = at or now()
    shelters = {s.pk: s for s in Shelter.objects.select_for_update()}
    plan = dispatch.allocate_shelters(
        incident.lon,
        incident.lat,
        evacuees,
        [dispatch.ShelterSlot(s.pk, s.lon, s.lat, s.free, s.is_open) for s in shelters.values()],
    )
    rows = []
    for p in plan.placements:
        s = shelters[p.shelter_id]
        s.occupancy += p.people
        s.is_open = True
        s.save(update_fields=["occupancy", "is_open"])
        rows.append(
            ShelterAllocation.objects.create(
                incident=incident, shelter=s, people=p.people, distance_km=p.distance_km, at=at
            )
        )
    text = ";".join(
        f"{shelters[p.shelter_id].name}{p.people}人{'(新开放)' if p.opens else ''}"
        for p in plan.placements
    )
    log(
        incident,
        "shelters",
        f"安置转移群众 {evacuees - plan.unplaced} 人:{text or '无可用场所'}"
        + (f";尚有 {plan.unplaced} 人未安置" if plan.unplaced else ""),
        user=user,
        at=at,
    )
    return {"allocations": rows, "unplaced": plan.unplaced}
