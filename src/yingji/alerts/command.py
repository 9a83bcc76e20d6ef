"""Warnings on the command screen (core/command.py): the warnings in force
with their areas, a panel listing them, a figure and the timeline of releases.
Registered from AlertsConfig.ready.

Areas travel light: a region area is its code (the screen draws it from the
simplified outlines it loads once), a circle is its centre and radius, and a
drawn polygon is simplified (SIMPLIFY degrees) and rounded — never a full
boundary per update.

A published warning is public (the public page and the feed show it), so every
user of the screen sees every warning in force; exercise and test messages are
not warnings in force and are left out. Drills inject their warnings without
storing an alert (response/drills.py), so these feeds are on the normal screen
only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from yingji.core import command

SIMPLIFY = 0.002  # degrees, ≈ 200 m
MAX_VERTICES = 400
PANEL_ALERTS = 8
TIMELINE_HOURS = 24
COLOUR_WORDS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色", "white": "白色"}
SEVERITY = {"red": 0, "orange": 1, "yellow": 2, "blue": 3, "white": 4}


def _in_force(ctx: command.Context) -> list[Any]:
    if "alerts.in_force" not in ctx.cache:
        from django.db.models import Q

        from yingji.alerts import workflow as wf
        from yingji.alerts.models import Alert

        ctx.cache["alerts.in_force"] = sorted(
            Alert.objects.filter(state=wf.PUBLISHED, cap_status="Actual")
            .filter(Q(expires__isnull=True) | Q(expires__gt=ctx.now))
            .only("pk", "headline", "colour", "event", "sent", "expires"),
            key=lambda a: (SEVERITY.get(a.colour, 9), -(a.sent.timestamp() if a.sent else 0)),
        )
    return ctx.cache["alerts.in_force"]


def _polygon(geometry: dict[str, Any]) -> list | None:
    """A drawn area as rings of [lon, lat], simplified and rounded (the first
    polygon of a multipolygon's parts each as rings)."""
    import shapely
    import shapely.geometry

    shape = shapely.geometry.shape(geometry).simplify(SIMPLIFY, preserve_topology=True)
    polygons = list(getattr(shape, "geoms", [shape]))
    rings = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon":
            continue
        coords = list(polygon.exterior.coords)
        step = max(1, len(coords) // MAX_VERTICES)
        rings.append([[round(x, 4), round(y, 4)] for x, y in coords[::step]])
    return rings or None


def warning_marks(ctx: command.Context) -> list[dict[str, Any]]:
    from yingji.alerts.models import AlertArea

    alerts = {a.pk: a for a in _in_force(ctx)}
    if not alerts:
        return []
    marks = []
    for pk, alert_id, kind, region_id, geometry, radius_km, description in (
        AlertArea.objects.filter(alert_id__in=alerts)
        .order_by("pk")
        .values_list("pk", "alert_id", "kind", "region_id", "geometry", "radius_km", "description")
    ):
        alert = alerts[alert_id]
        title = (
            alert.headline if description in alert.headline else f"{alert.headline}({description})"
        )
        mark: dict[str, Any] = {"id": pk, "lv": alert.colour, "ti": title}
        if kind == AlertArea.Kind.REGION and region_id:
            mark["rg"] = region_id
        elif kind == AlertArea.Kind.CIRCLE and geometry and radius_km:
            lon, lat = geometry["coordinates"][:2]
            mark["ci"] = [round(lon, 4), round(lat, 4), round(radius_km * 1000)]
        elif geometry:
            rings = _polygon(geometry)
            if rings is None:
                continue
            mark["pg"] = rings
        else:
            continue
        marks.append(mark)
    return marks


def _hhmm(at: dt.datetime | None) -> str:
    from django.utils import timezone

    return timezone.localtime(at).strftime("%m-%d %H:%M") if at else ""


def warnings_panel(ctx: command.Context) -> dict[str, Any]:
    alerts = _in_force(ctx)
    rows = [
        {
            "t": a.headline,
            "v": COLOUR_WORDS.get(a.colour, ""),
            "d": f"发布 {_hhmm(a.sent)}" + (f"  至 {_hhmm(a.expires)}" if a.expires else ""),
            "l": a.colour,
        }
        for a in alerts[:PANEL_ALERTS]
    ]
    return {"rows": rows, "more": max(0, len(alerts) - len(rows)), "empty": "当前没有生效的预警"}


def figures(ctx: command.Context) -> list[dict[str, Any]]:
    alerts = _in_force(ctx)
    severe = sum(1 for a in alerts if a.colour in ("red", "orange"))
    return [
        {
            "t": "生效预警" + (f"(红橙 {severe})" if severe else ""),
            "v": len(alerts),
            "tone": "bad" if severe else ("warn" if alerts else ""),
        }
    ]


def timeline(ctx: command.Context) -> list[dict[str, Any]]:
    """Warnings released (sent) within TIMELINE_HOURS: issued, updated, cancelled."""
    from yingji.alerts.models import Alert

    since = ctx.now - dt.timedelta(hours=TIMELINE_HOURS)
    verbs = {"Alert": "发布", "Update": "更新", "Cancel": "解除"}
    return [
        {
            "at": int(sent.timestamp()),
            "t": f"{verbs.get(msg_type, '发布')}:{headline}",
            "k": "预警",
            "l": colour if msg_type != "Cancel" else "",
        }
        for headline, colour, msg_type, sent in Alert.objects.filter(
            sent__gte=since, cap_status="Actual"
        )
        .order_by("-sent")
        .values_list("headline", "colour", "msg_type", "sent")[: command.TIMELINE_LIMIT]
    ]


def register() -> None:
    """Called from AlertsConfig.ready()."""
    command.register(
        "warnings",
        "生效预警区域",
        kind=command.LAYER,
        build=warning_marks,
        order=5,
        style={"shape": "area", "fillOpacity": 0.22, "color": "#ff453a"},
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "warnings.panel",
        "生效预警",
        kind=command.PANEL,
        build=warnings_panel,
        order=20,
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "alerts.figures",
        "预警",
        kind=command.FIGURES,
        build=figures,
        order=20,
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "alerts.timeline", "预警", kind=command.TIMELINE, build=timeline, modes=command.NORMAL_ONLY
    )
