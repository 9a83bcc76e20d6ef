"""The response layers of the one map: incidents, rescue teams, warehouses,
shelters, helipads and hospitals (registered from ResponseConfig.ready)."""

from __future__ import annotations

from typing import Any

from yingji.core import layers

GROUP = "应急指挥"


def _in_bbox(lon: float | None, lat: float | None, bbox: layers.BBox | None) -> bool:
    if lon is None or lat is None:
        return False
    return bbox is None or (bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3])


def _collection(rows: list[tuple[float, float, dict[str, Any]]], bbox: layers.BBox | None) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
            }
            for lon, lat, props in rows
            if _in_bbox(lon, lat, bbox)
        ],
    }


def _visible(request: Any) -> bool:
    from yingji.core.scope import scope_for

    user = getattr(request, "user", None)
    return user is None or scope_for(user) != scope_for(None)


LEVEL_COLOURS = {"I": "#b71c1c", "II": "#e65100", "III": "#f9a825", "IV": "#1565c0"}


def incidents(request: Any, bbox: layers.BBox | None) -> dict:
    from yingji.response.models import Incident
    from yingji.response.services import visible_incidents

    if not _visible(request):
        return _collection([], bbox)
    rows = []
    qs = (
        visible_incidents(getattr(request, "user", None))
        if hasattr(request, "user")
        else Incident.objects.all()
    )
    for i in qs.exclude(status=Incident.Status.CLOSED).select_related("street"):
        rows.append(
            (
                i.lon,
                i.lat,
                {
                    "name": str(i),
                    "code": i.get_level_display(),
                    "status": i.get_status_display(),
                    "exercise": i.is_exercise,
                    "color": LEVEL_COLOURS.get(i.level, "#1565c0"),
                    "url": f"/response/incidents/{i.pk}/",
                },
            )
        )
    return _collection(rows, bbox)


def teams(request: Any, bbox: layers.BBox | None) -> dict:
    from yingji.response.dispatch import ACTIVE_ORDER_STATES, ORDER_LABELS
    from yingji.response.models import DispatchOrder, RescueTeam

    if not _visible(request):
        return _collection([], bbox)
    states = dict(
        DispatchOrder.objects.filter(state__in=ACTIVE_ORDER_STATES).values_list("team_id", "state")
    )
    return _collection(
        [
            (
                t.lon,
                t.lat,
                {
                    "name": t.name,
                    "code": f"{t.get_kind_display()} {t.members}人 · {'、'.join(t.capabilities)}",
                    "status": ORDER_LABELS.get(states.get(t.pk, ""), "待命"),
                },
            )
            for t in RescueTeam.objects.all()
        ],
        bbox,
    )


def warehouses(request: Any, bbox: layers.BBox | None) -> dict:
    from yingji.response.models import Warehouse

    if not _visible(request):
        return _collection([], bbox)
    return _collection(
        [(w.lon, w.lat, {"name": w.name, "code": w.address}) for w in Warehouse.objects.all()], bbox
    )


def shelters(request: Any, bbox: layers.BBox | None) -> dict:
    from yingji.response.models import Shelter

    return _collection(
        [
            (
                s.lon,
                s.lat,
                {
                    "name": s.name,
                    "code": f"{s.grade} · 容量 {s.capacity} · 在场 {s.occupancy}",
                    "status": "已开放" if s.is_open else "未开放",
                },
            )
            for s in Shelter.objects.all()
        ],
        bbox,
    )


def helipads(request: Any, bbox: layers.BBox | None) -> dict:
    from yingji.response.models import Helipad

    return _collection(
        [(h.lon, h.lat, {"name": h.name, "code": h.surface}) for h in Helipad.objects.all()], bbox
    )


def hospitals(request: Any, bbox: layers.BBox | None) -> dict:
    from yingji.response.models import Hospital

    return _collection(
        [
            (h.lon, h.lat, {"name": h.name, "code": f"{h.grade} {h.beds}床"})
            for h in Hospital.objects.all()
        ],
        bbox,
    )


def register_layers() -> None:
    """Register the response layers; incidents and shelters are on by default."""
    layers.register(
        "incidents",
        "突发事件",
        group=GROUP,
        loader=incidents,
        default_on=True,
        style={"color": "#b71c1c", "fillColor": "#e53935", "radius": 9, "fillOpacity": 0.8},
    )
    layers.register(
        "rescue_teams",
        "救援队伍",
        group=GROUP,
        loader=teams,
        style={"color": "#2e7d32", "radius": 5, "fillOpacity": 0.7},
    )
    layers.register(
        "warehouses",
        "物资仓库",
        group=GROUP,
        loader=warehouses,
        style={"color": "#6d4c41", "radius": 5, "fillOpacity": 0.7},
    )
    layers.register(
        "shelters",
        "避护场所",
        group=GROUP,
        loader=shelters,
        default_on=True,
        style={"color": "#00838f", "radius": 7, "fillOpacity": 0.6},
    )
    layers.register(
        "helipads",
        "直升机停机坪",
        group=GROUP,
        loader=helipads,
        style={"color": "#4527a0", "radius": 5, "fillOpacity": 0.7},
    )
    layers.register(
        "hospitals",
        "医院",
        group=GROUP,
        loader=hospitals,
        style={"color": "#ad1457", "radius": 5, "fillOpacity": 0.7},
    )
