"""Monitoring on the command screen (core/command.py): the open events and
their level, the sensors in alarm, their latest readings, figures and the
events' timeline. Registered from MonitoringConfig.ready.

Sensors and monitoring events belong to no drill (a drill's alarms go straight
to the duty desk, response/drills.py), so these feeds are on the normal screen
only. Every read goes through the user's scope (the alarm's sensor department,
district or street; the event's district).

Sizes: the city in alarm is at most a few thousand sensors of 160,000; the map
shows the MAX_SENSOR_MARKS most severe (the rest are counted, "more"), each as
an id, a point and a level only (names are in the readings panel), so a storm
of 1,000 events stays within an update's budget (bench/bench_command.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from yingji.core import command

MAX_SENSOR_MARKS = 500
PANEL_SENSORS = 6
TREND_POINTS = 12
TREND_WINDOW_MS = 3 * 3600 * 1000
TIMELINE_HOURS = 24
TIMELINE_EVENTS = 40


def _pt(lon: float | None, lat: float | None) -> list[float] | None:
    if lon is None or lat is None:
        return None
    return [round(lon, 4), round(lat, 4)]


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _hhmm(at: dt.datetime | None) -> str:
    from django.utils import timezone

    return timezone.localtime(at).strftime("%H:%M") if at else ""


def _alarm_scope(ctx: command.Context):
    scope = ctx.scope
    return scope.q(department_field="sensor__department", region_field="district_code") | scope.q(
        region_field="street_code"
    )


def _open_events(ctx: command.Context) -> list[tuple]:
    """(pk, hazard, level, max_level, district name, centroid lon, lat) of the
    open events in scope, read once per update."""
    if "monitoring.events" not in ctx.cache:
        from yingji.monitoring.models import Event

        ctx.cache["monitoring.events"] = list(
            Event.objects.filter(state=Event.State.OPEN)
            .filter(ctx.scope.q(region_field="district__code"))
            .order_by("pk")
            .values_list(
                "pk",
                "hazard",
                "level",
                "max_level",
                "district__name",
                "district__centroid_lon",
                "district__centroid_lat",
            )
        )
    return ctx.cache["monitoring.events"]


def _positions(ids: list[int]) -> dict[int, tuple[float, float, int]]:
    """{sensor id: (lon, lat, last seen ms)} for a few thousand sensors. On
    PostgreSQL the ids go as one array (`= ANY`): as an IN list of thousands of
    parameters, binding them costs more than the index lookups."""
    from django.db import connection

    from yingji.monitoring.models import Sensor

    out: dict[int, tuple[float, float, int]] = {}
    if not ids:
        return out
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Sensor._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT id, lon, lat, last_seen_ms FROM {table} WHERE id = ANY(%s)",  # noqa: S608
                [list(ids)],
            )
            rows = cur.fetchall()
    else:
        rows = []
        for i in range(0, len(ids), 900):  # SQLite's bound on parameters
            rows.extend(
                Sensor.objects.filter(pk__in=ids[i : i + 900])
                .order_by()
                .values_list("pk", "lon", "lat", "last_seen_ms")
            )
    for pk, lon, lat, seen in rows:
        out[pk] = (lon, lat, seen or 0)
    return out


def _active_alarms(ctx: command.Context) -> list[dict[str, Any]]:
    """The active sensor alarms in scope, with their sensor's position, read once
    per update. The sensors are read by id (never joined: with 160,000 sensors a
    join tempts the planner into reading them all)."""
    if "monitoring.alarms" not in ctx.cache:
        from yingji.monitoring import lifecycle
        from yingji.monitoring.models import Alarm, AlarmRule

        rows = list(
            Alarm.objects.filter(state__in=lifecycle.ACTIVE_STATES, sensor__isnull=False)
            .filter(_alarm_scope(ctx))
            .order_by()
            .values_list(
                "sensor_id", "level", "value", "rule_id", "street_code", "district_code", "event_id"
            )
        )
        rules = dict(
            AlarmRule.objects.filter(pk__in={r[3] for r in rows})
            .order_by()
            .values_list("pk", "name")
        )
        where = _positions(sorted({r[0] for r in rows}))
        ctx.cache["monitoring.alarms"] = [
            {
                "sensor": sid,
                "level": level,
                "value": value,
                "rule": rules.get(rule, ""),
                "area": street or district,
                "event": event,
                "lon": where.get(sid, (None, None, 0))[0],
                "lat": where.get(sid, (None, None, 0))[1],
                "seen": where.get(sid, (None, None, 0))[2],
            }
            for sid, level, value, rule, street, district, event in rows
        ]
    return ctx.cache["monitoring.alarms"]


def _sensors_in_alarm(ctx: command.Context) -> list[dict[str, Any]]:
    """Each sensor in alarm once, at its highest active level, most severe first
    (then the latest reading first)."""
    if "monitoring.sensors" not in ctx.cache:
        from yingji.monitoring.rules import level_number

        top: dict[int, dict[str, Any]] = {}
        for a in _active_alarms(ctx):
            had = top.get(a["sensor"])
            if had is None or level_number(a["level"]) > level_number(had["level"]):
                top[a["sensor"]] = {
                    "id": a["sensor"],
                    "level": a["level"],
                    "value": a["value"],
                    "rule": a["rule"],
                    "area": a["area"],
                    "pt": _pt(a["lon"], a["lat"]),
                    "seen": a["seen"],
                }
        ctx.cache["monitoring.sensors"] = sorted(
            top.values(), key=lambda s: (-level_number(s["level"]), -s["seen"], s["id"])
        )
    return ctx.cache["monitoring.sensors"]


def event_marks(ctx: command.Context) -> list[dict[str, Any]]:
    """One ring per open event, where its sensors in alarm are (their mean
    position; the district's centre while none is in alarm), at its level, with
    the number of sensors in alarm."""
    from yingji.monitoring.models import HAZARD_LABELS

    events = _open_events(ctx)
    if not events:
        return []
    sensors: dict[int, dict[int, tuple[float, float]]] = {}
    for a in _active_alarms(ctx):
        if a["event"] is not None and a["lon"] is not None and a["lat"] is not None:
            sensors.setdefault(a["event"], {})[a["sensor"]] = (a["lon"], a["lat"])
    marks = []
    for pk, hazard, level, max_level, district, clon, clat in events:
        points = list(sensors.get(pk, {}).values())
        if points:
            lon = sum(p[0] for p in points) / len(points)
            lat = sum(p[1] for p in points) / len(points)
        else:
            lon, lat = clon, clat
        pt = _pt(lon, lat)
        if pt is None:
            continue
        marks.append(
            {
                "id": pk,
                "pt": pt,
                "lv": level or max_level or "blue",
                "tx": f"{district}{HAZARD_LABELS.get(hazard, hazard)}",
                "n": len(points) or None,  # none in alarm: the event is easing
            }
        )
    return marks


def sensor_marks(ctx: command.Context) -> dict[str, Any]:
    sensors = _sensors_in_alarm(ctx)
    shown = [
        {"id": s["id"], "pt": s["pt"], "lv": s["level"]}
        for s in sensors[:MAX_SENSOR_MARKS]
        if s["pt"] is not None
    ]
    return {"items": shown, "more": max(0, len(sensors) - MAX_SENSOR_MARKS)}


def readings_panel(ctx: command.Context) -> dict[str, Any]:
    """The most severe sensors in alarm: the latest reading, the alarm's rule and
    value, the area, and the last readings (a sparkline)."""
    from yingji.core.models import Region
    from yingji.monitoring.models import Reading, Sensor
    from yingji.monitoring.rules import LEVEL_LABELS

    sensors = _sensors_in_alarm(ctx)
    top = sensors[:PANEL_SENSORS]
    if not top:
        return {"rows": [], "empty": "当前没有报警的传感器"}
    info = {
        pk: (name, unit, last_value, last_seen)
        for pk, name, unit, last_value, last_seen in Sensor.objects.filter(
            pk__in=[s["id"] for s in top]
        ).values_list("pk", "name", "unit", "last_value", "last_seen_ms")
    }
    names = dict(
        Region.objects.filter(code__in={s["area"] for s in top if s["area"]}).values_list(
            "code", "name"
        )
    )
    rows = []
    for s in top:
        name, unit, last_value, last_seen = info.get(s["id"], ("", "", None, None))
        trend: list[float] = []
        if last_seen:
            trend = list(
                Reading.objects.filter(sensor_id=s["id"], ts_ms__gte=last_seen - TREND_WINDOW_MS)
                .order_by("-ts_ms")
                .values_list("value", flat=True)[:TREND_POINTS]
            )[::-1]
        seen = dt.datetime.fromtimestamp(last_seen / 1000, tz=dt.UTC) if last_seen else None
        rows.append(
            {
                "t": name,
                "v": f"{_number(last_value)} {unit}".strip(),
                "d": "  ".join(
                    part
                    for part in (
                        names.get(s["area"], ""),
                        f"{s['rule']} {_number(s['value'])} {unit}".strip(),
                        LEVEL_LABELS.get(s["level"], ""),
                        _hhmm(seen),
                    )
                    if part
                ),
                "l": s["level"],
                "s": [round(v, 2) for v in trend],
            }
        )
    return {"rows": rows, "more": max(0, len(sensors) - len(top))}


def figures(ctx: command.Context) -> list[dict[str, Any]]:
    events = _open_events(ctx)
    sensors = _sensors_in_alarm(ctx)
    red = sum(1 for e in events if e[2] == "red")
    return [
        {
            "t": "监测事件" + (f"(红色 {red})" if red else ""),
            "v": len(events),
            "tone": "bad" if red else ("warn" if events else ""),
        },
        {"t": "报警传感器", "v": len(sensors), "tone": "bad" if sensors else ""},
    ]


def timeline(ctx: command.Context) -> list[dict[str, Any]]:
    """Events begun or ended within TIMELINE_HOURS."""
    from django.db.models import Q

    from yingji.monitoring.models import HAZARD_LABELS, Event
    from yingji.monitoring.rules import LEVEL_LABELS

    since = ctx.now - dt.timedelta(hours=TIMELINE_HOURS)
    out = []
    rows = (
        Event.objects.filter(Q(started_at__gte=since) | Q(closed_at__gte=since))
        .filter(ctx.scope.q(region_field="district__code"))
        .order_by("-started_at")
        .values_list(
            "hazard", "level", "max_level", "district__name", "started_at", "closed_at", "state"
        )[:TIMELINE_EVENTS]
    )
    for hazard, level, max_level, district, started, closed, state in rows:
        what = f"{district}{HAZARD_LABELS.get(hazard, hazard)}监测事件"
        if started >= since:
            now_level = level or max_level
            out.append(
                {
                    "at": int(started.timestamp()),
                    "t": f"{what}开始"
                    + (f",现为{LEVEL_LABELS.get(now_level, '')}" if now_level else ""),
                    "k": "监测",
                    "l": now_level,
                }
            )
        if state == Event.State.CLOSED and closed and closed >= since:
            out.append(
                {
                    "at": int(closed.timestamp()),
                    "t": f"{what}结束(最高{LEVEL_LABELS.get(max_level, '')})",
                    "k": "监测",
                    "l": "",
                }
            )
    return out


def register() -> None:
    """Called from MonitoringConfig.ready()."""
    command.register(
        "events",
        "监测事件",
        kind=command.LAYER,
        build=event_marks,
        order=10,
        style={"shape": "ring", "size": 30, "nUnit": "个传感器报警"},
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "sensors",
        "报警传感器",
        kind=command.LAYER,
        build=sensor_marks,
        order=20,
        style={"shape": "dot", "size": 6},
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "readings",
        "报警传感器最新读数",
        kind=command.PANEL,
        build=readings_panel,
        order=60,
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "monitoring.figures",
        "监测",
        kind=command.FIGURES,
        build=figures,
        order=10,
        modes=command.NORMAL_ONLY,
    )
    command.register(
        "monitoring.timeline",
        "监测",
        kind=command.TIMELINE,
        build=timeline,
        modes=command.NORMAL_ONLY,
    )
