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
import threading
import time
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
            Event.objects.filter(state=Event.State.OPEN, replayed=False)
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


# Where sensors are, per process: a sensor in alarm is looked up once, not on
# every poll (thousands in a storm). A sensor saved or deleted in this process is
# forgotten at once (signals); one moved by another process within POSITION_TTL.
POSITION_TTL = 120.0
_positions: dict[int, tuple[float, float]] = {}
_positions_at = [0.0]
_positions_lock = threading.Lock()


def forget_positions(*_args: Any, **_kwargs: Any) -> None:
    with _positions_lock:
        _positions.clear()
        _positions_at[0] = time.monotonic()


def _where(ids: list[int]) -> dict[int, tuple[float, float]]:
    """{sensor id: (lon, lat)}. The ones not yet known are read by id; on
    PostgreSQL as one array (`= ANY`): as an IN list of thousands of parameters,
    binding them costs more than the lookups."""
    from django.db import connection

    from yingji.monitoring.models import Sensor

    with _positions_lock:
        if time.monotonic() - _positions_at[0] > POSITION_TTL or len(_positions) > 100_000:
            _positions.clear()
            _positions_at[0] = time.monotonic()
        missing = [i for i in ids if i not in _positions]
    if missing:
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(Sensor._meta.db_table)
            with connection.cursor() as cur:
                cur.execute(
                    f"SELECT id, lon, lat FROM {table} WHERE id = ANY(%s)",  # noqa: S608
                    [missing],
                )
                rows = cur.fetchall()
        else:
            rows = []
            for i in range(0, len(missing), 900):  # SQLite's bound on parameters
                rows.extend(
                    Sensor.objects.filter(pk__in=missing[i : i + 900])
                    .order_by()
                    .values_list("pk", "lon", "lat")
                )
        with _positions_lock:
            for pk, lon, lat in rows:
                _positions[pk] = (lon, lat)
    with _positions_lock:
        return {i: _positions[i] for i in ids if i in _positions}


def _trends(ids: list[int], since_ms: int) -> dict[int, list[tuple[int, float]]]:
    """{sensor id: its last TREND_POINTS readings since `since_ms`, newest first}.
    One query on PostgreSQL (a lateral LIMIT per sensor, on the (sensor, ts)
    index); one per sensor elsewhere (a handful)."""
    from django.db import connection

    from yingji.monitoring.models import Reading

    if not ids:
        return {}
    out: dict[int, list[tuple[int, float]]] = {i: [] for i in ids}
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Reading._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                "SELECT s.id, r.ts_ms, r.value FROM unnest(%s::bigint[]) AS s(id) "  # noqa: S608
                f"CROSS JOIN LATERAL (SELECT ts_ms, value FROM {table} "
                "WHERE sensor_id = s.id AND ts_ms >= %s ORDER BY ts_ms DESC LIMIT %s) r",
                [list(ids), since_ms, TREND_POINTS],
            )
            for sid, ts, value in cur.fetchall():
                out[sid].append((ts, value))
        for rows in out.values():
            rows.sort(reverse=True)
        return out
    for sid in ids:
        out[sid] = list(
            Reading.objects.filter(sensor_id=sid, ts_ms__gte=since_ms)
            .order_by("-ts_ms")
            .values_list("ts_ms", "value")[:TREND_POINTS]
        )
    return out


def _active_alarms(ctx: command.Context) -> list[tuple]:
    """The active sensor alarms in scope as (sensor id, level, value, rule name,
    area code, event id, alarm id), read once per update, and where their
    sensors are (ctx.cache["monitoring.where"]). The sensors are never joined:
    with 160,000 sensors a join tempts the planner into reading them all."""
    if "monitoring.alarms" not in ctx.cache:
        from yingji.monitoring import lifecycle
        from yingji.monitoring.models import Alarm

        rows = [
            (sid, level, value, rule, street or district, event, pk)
            for pk, sid, level, value, rule, street, district, event in Alarm.objects.filter(
                state__in=lifecycle.ACTIVE_STATES, sensor__isnull=False, replayed=False
            )
            .filter(_alarm_scope(ctx))
            .order_by()
            .values_list(
                "pk",
                "sensor_id",
                "level",
                "value",
                "rule__name",
                "street_code",
                "district_code",
                "event_id",
            )
        ]
        ctx.cache["monitoring.where"] = _where(sorted({r[0] for r in rows}))
        ctx.cache["monitoring.alarms"] = rows
    return ctx.cache["monitoring.alarms"]


def _sensors_in_alarm(ctx: command.Context) -> list[tuple]:
    """Each sensor in alarm once, at its highest active level, most severe first
    and then the latest alarm first: (sensor id, level, value, rule, area)."""
    if "monitoring.sensors" not in ctx.cache:
        from yingji.monitoring.rules import level_number

        top: dict[int, tuple] = {}
        for row in _active_alarms(ctx):
            had = top.get(row[0])
            if had is None or (level_number(row[1]), row[6]) > (level_number(had[1]), had[6]):
                top[row[0]] = row
        ranked = sorted(top.values(), key=lambda r: (-level_number(r[1]), -r[6]))
        ctx.cache["monitoring.sensors"] = [r[:5] for r in ranked]
    return ctx.cache["monitoring.sensors"]


def event_marks(ctx: command.Context) -> list[dict[str, Any]]:
    """One ring per open event, where its sensors in alarm are (their mean
    position; the district's centre while none is in alarm), at its level, with
    the number of sensors in alarm."""
    from yingji.monitoring.models import HAZARD_LABELS

    events = _open_events(ctx)
    if not events:
        return []
    alarms = _active_alarms(ctx)
    where = ctx.cache["monitoring.where"]
    sensors: dict[int, dict[int, tuple[float, float]]] = {}
    for sid, _level, _value, _rule, _area, event, _pk in alarms:
        at = where.get(sid)
        if event is not None and at is not None and at[0] is not None:
            sensors.setdefault(event, {})[sid] = at
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
    where = ctx.cache["monitoring.where"]
    shown = []
    for sid, level, *_ in sensors[:MAX_SENSOR_MARKS]:
        pt = _pt(*where.get(sid, (None, None)))
        if pt is not None:
            shown.append({"id": sid, "pt": pt, "lv": level})
    return {"items": shown, "more": max(0, len(sensors) - MAX_SENSOR_MARKS)}


def readings_panel(ctx: command.Context) -> dict[str, Any]:
    """The most severe sensors in alarm: the latest reading, the alarm's rule and
    value, the area, and the last readings (a sparkline)."""
    from yingji.monitoring.rules import LEVEL_LABELS

    sensors = _sensors_in_alarm(ctx)
    top = sensors[:PANEL_SENSORS]
    if not top:
        return {"rows": [], "empty": "当前没有报警的传感器"}
    from yingji.monitoring.models import Sensor

    info = {
        row[0]: row[1:]
        for row in Sensor.objects.filter(pk__in=[s[0] for s in top]).values_list(
            "pk", "last_seen_ms", "name", "unit", "last_value", "street__name", "district__name"
        )
    }
    now_ms = int(ctx.now.timestamp() * 1000)
    trends = _trends([s[0] for s in top], now_ms - TREND_WINDOW_MS)
    rows = []
    for sid, level, value, rule, _area in top:
        last_seen, name, unit, last_value, street, district = info.get(
            sid, (None, "", "", None, "", "")
        )
        recent = trends.get(sid, [])
        if recent:  # the readings themselves (the sensor's row is touched lazily)
            last_seen, last_value = recent[0]
        seen = dt.datetime.fromtimestamp(last_seen / 1000, tz=dt.UTC) if last_seen else None
        rows.append(
            {
                "t": name,
                "v": f"{_number(last_value)} {unit}".strip(),
                "d": "  ".join(
                    part
                    for part in (
                        street or district or "",
                        f"{rule} {_number(value)} {unit}".strip(),
                        LEVEL_LABELS.get(level, ""),
                        _hhmm(seen),
                    )
                    if part
                ),
                "l": level,
                "s": [round(v, 2) for _ts, v in reversed(recent)],
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
        Event.objects.filter(Q(started_at__gte=since) | Q(closed_at__gte=since), replayed=False)
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
    from django.db.models.signals import post_delete, post_save

    post_save.connect(
        forget_positions, sender="monitoring.Sensor", dispatch_uid="monitoring.command.saved"
    )
    post_delete.connect(
        forget_positions, sender="monitoring.Sensor", dispatch_uid="monitoring.command.deleted"
    )
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
