"""Response on the command screen (core/command.py): incidents and their level,
dispatches under way, shelters and their occupancy, action cards not yet
acknowledged by area, the city's resources by street, the duty officer and
leader on shift, figures and the incidents' timeline; and the drills the
screen can show. Registered from ResponseConfig.ready.

Modes: the normal screen shows real incidents only (no exercise, no drill) and
what hangs off them (dispatches, cards, allocations); `?drill=<id>` shows only
that drill's incidents and what hangs off them, its injected warnings, and the
drill's steps in the timeline.

Resources (10,000 teams, warehouses, shelters, hospitals and helipads) never
ship one by one: the idle inventory is context, and what the room acts on is
what moves — dispatches under way and open shelters, shipped in full. So the
inventory is counted per street (a mark at the street's centre, "at", with the
counts per kind, "c"), the counts computed with the point → street lookup and kept per
process until a resource register changes (a count, a highest id or the number
of teams available) or RESOURCE_TTL passes; an update costs five aggregate
queries and about 180 marks, which the version diff then leaves out of every
update until a count changes.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, defaultdict
from typing import Any

from yingji.core import command

TIMELINE_HOURS = 24
RESOURCE_TTL = 600.0  # seconds: a moved resource (same counts) is seen within this
PANEL_CARD_AREAS = 8
CITY = "city"  # the cards of departments without a region (municipal bureaus)


def _pt(lon: float | None, lat: float | None) -> list[float] | None:
    if lon is None or lat is None:
        return None
    return [round(lon, 4), round(lat, 4)]


def _mode_q(ctx: command.Context, prefix: str = ""):
    """Real incidents on the normal screen; the drill's on a drill's screen."""
    from django.db.models import Q

    if ctx.drill is not None:
        return Q(**{f"{prefix}drill_id": ctx.drill})
    return Q(**{f"{prefix}is_exercise": False, f"{prefix}drill__isnull": True})


def _incident_scope(ctx: command.Context, prefix: str = ""):
    """The one scope rule (services.visible_incidents) on a related incident."""
    from django.db.models import Q

    if ctx.scope.sees_all:
        return Q()
    from yingji.response.services import visible_incidents

    return Q(**{f"{prefix}pk__in": visible_incidents(ctx.user).values("pk")})


def _drill_mark(ctx: command.Context) -> dict[str, int]:
    return {"dr": 1} if ctx.drill is not None else {}


def _incidents(ctx: command.Context) -> list[tuple]:
    if "response.incidents" not in ctx.cache:
        from yingji.response.models import Incident

        ctx.cache["response.incidents"] = list(
            Incident.objects.exclude(status=Incident.Status.CLOSED)
            .filter(_mode_q(ctx), _incident_scope(ctx))
            .order_by("pk")
            .values_list(
                "pk",
                "title",
                "level",
                "status",
                "lon",
                "lat",
                "street__centroid_lon",
                "street__centroid_lat",
                "district__centroid_lon",
                "district__centroid_lat",
            )
        )
    return ctx.cache["response.incidents"]


def incident_marks(ctx: command.Context) -> list[dict[str, Any]]:
    from yingji.response.levels import LABELS
    from yingji.response.models import Incident

    statuses = dict(Incident.Status.choices)
    marks = []
    for pk, title, level, status, lon, lat, slon, slat, dlon, dlat in _incidents(ctx):
        pt = _pt(lon, lat) or _pt(slon, slat) or _pt(dlon, dlat)
        if pt is None:
            continue
        marks.append(
            {
                "id": pk,
                "pt": pt,
                "lv": level,
                "tx": title[:14],
                "ti": f"{title} · {LABELS.get(level, level)} · {statuses.get(status, status)}",
                **_drill_mark(ctx),
            }
        )
    return marks


def _dispatches(ctx: command.Context) -> list[tuple]:
    if "response.dispatches" not in ctx.cache:
        from yingji.response.dispatch import ACTIVE_ORDER_STATES
        from yingji.response.models import DispatchOrder

        ctx.cache["response.dispatches"] = list(
            DispatchOrder.objects.filter(state__in=sorted(ACTIVE_ORDER_STATES))
            .filter(_mode_q(ctx, "incident__"), _incident_scope(ctx, "incident__"))
            .order_by("pk")
            .values_list(
                "pk",
                "state",
                "distance_km",
                "team__name",
                "team__lon",
                "team__lat",
                "incident__title",
                "incident__lon",
                "incident__lat",
            )
        )
    return ctx.cache["response.dispatches"]


def dispatch_marks(ctx: command.Context) -> list[dict[str, Any]]:
    """A dashed line from each team under way to its incident (green on scene)."""
    from yingji.response.dispatch import ON_SCENE, ORDER_LABELS

    marks = []
    for pk, state, km, team, tlon, tlat, incident, ilon, ilat in _dispatches(ctx):
        start, end = _pt(tlon, tlat), _pt(ilon, ilat)
        if start is None or end is None:
            continue
        marks.append(
            {
                "id": pk,
                "ln": [start, end],
                "lv": "green" if state == ON_SCENE else "blue",
                "tx": f"{team} → {incident} · {ORDER_LABELS.get(state, state)} · {km:.1f} 公里",
                **_drill_mark(ctx),
            }
        )
    return marks


def _shelters(ctx: command.Context) -> list[tuple]:
    """(pk, name, lon, lat, capacity, people): open or occupied shelters; on a
    drill's screen, the shelters allocated to its incidents with those people."""
    if "response.shelters" not in ctx.cache:
        from django.db.models import Q, Sum

        from yingji.response.models import Shelter, ShelterAllocation

        if ctx.drill is not None:
            allocated = dict(
                ShelterAllocation.objects.filter(_mode_q(ctx, "incident__"))
                .values("shelter_id")
                .annotate(people=Sum("people"))
                .values_list("shelter_id", "people")
            )
            rows = [
                (pk, name, lon, lat, capacity, allocated[pk])
                for pk, name, lon, lat, capacity in Shelter.objects.filter(pk__in=allocated)
                .order_by("pk")
                .values_list("pk", "name", "lon", "lat", "capacity")
            ]
        else:
            rows = list(
                Shelter.objects.filter(Q(is_open=True) | Q(occupancy__gt=0))
                .filter(ctx.scope.q(region_field="street__code"))
                .order_by("pk")
                .values_list("pk", "name", "lon", "lat", "capacity", "occupancy")
            )
        ctx.cache["response.shelters"] = rows
    return ctx.cache["response.shelters"]


def _fill_level(people: int, capacity: int) -> str:
    share = people / capacity if capacity else 1.0
    return "red" if share >= 0.9 else ("orange" if share >= 0.6 else "green")


def shelter_marks(ctx: command.Context) -> list[dict[str, Any]]:
    return [
        {
            "id": pk,
            "pt": _pt(lon, lat),
            "lv": _fill_level(people, capacity),
            "n": people,
            "tx": f"{name} · 在场 {people} 人 / 容量 {capacity} 人",
            **_drill_mark(ctx),
        }
        for pk, name, lon, lat, capacity, people in _shelters(ctx)
        if lon is not None and lat is not None
    ]


# ------------------------------------------------------------------ resources

RESOURCE_KINDS = (  # kind, model, the short label in a street's title
    ("team", "RescueTeam", "队伍"),
    ("warehouse", "Warehouse", "仓库"),
    ("shelter", "Shelter", "避护场所"),
    ("hospital", "Hospital", "医院"),
    ("helipad", "Helipad", "停机坪"),
)
_resources: dict[str, Any] = {"key": None, "at": 0.0, "marks": [], "unplaced": 0}
_resources_lock = threading.Lock()


def _resource_fingerprint() -> tuple:
    """Each register's count and highest id, and the teams available: one query."""
    from django.apps import apps
    from django.db import connection

    q = connection.ops.quote_name
    parts = []
    for _kind, model_name, _label in RESOURCE_KINDS:
        table = q(apps.get_model("response", model_name)._meta.db_table)
        parts.append(f"(SELECT COUNT(*) FROM {table})")
        parts.append(f"(SELECT MAX(id) FROM {table})")
    teams = q(apps.get_model("response", "RescueTeam")._meta.db_table)
    parts.append(f"(SELECT COUNT(*) FROM {teams} WHERE available)")
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts))  # noqa: S608 (model tables)
        return tuple(cur.fetchone())


def _count_resources() -> tuple[list[dict[str, Any]], int]:
    """Per street: how many of each kind (and teams available); marks at the
    street's centre. Returns (marks, resources in no street)."""
    import numpy as np
    from django.apps import apps

    from yingji.core import regions
    from yingji.core.models import Region

    counts: dict[str, Counter] = defaultdict(Counter)
    unplaced = 0
    for kind, model_name, _label in RESOURCE_KINDS:
        model = apps.get_model("response", model_name)
        fields = ["lon", "lat"] + (["available"] if model_name == "RescueTeam" else [])
        rows = list(model.objects.order_by().values_list(*fields))
        if not rows:
            continue
        lons = np.array([r[0] for r in rows], dtype=float)
        lats = np.array([r[1] for r in rows], dtype=float)
        streets = regions.lookup_codes_many(lons, lats)["street"]
        for i, code in enumerate(streets):
            if code is None:
                unplaced += 1
                continue
            counts[code][kind] += 1
            if kind == "team" and rows[i][2]:
                counts[code]["team_up"] += 1
    known = set(Region.objects.filter(code__in=counts).values_list("code", flat=True))
    marks = []
    for code in sorted(counts):
        c = counts[code]
        if code not in known:
            unplaced += sum(v for k, v in c.items() if k != "team_up")
            continue
        total = sum(c[kind] for kind, *_ in RESOURCE_KINDS)
        numbers = [c["team"], c["team_up"], *(c[kind] for kind, *_ in RESOURCE_KINDS[1:])]
        marks.append({"id": code, "at": code, "n": total, "lv": "grey", "c": numbers})
    return marks, unplaced


def resource_marks(ctx: command.Context) -> dict[str, Any]:
    key = _resource_fingerprint()
    with _resources_lock:
        fresh = time.monotonic() - _resources["at"] < RESOURCE_TTL
        if _resources["key"] != key or not fresh:
            marks, unplaced = _count_resources()
            _resources.update(key=key, at=time.monotonic(), marks=marks, unplaced=unplaced)
        marks, unplaced = _resources["marks"], _resources["unplaced"]
    if not ctx.scope.sees_all:
        marks = [m for m in marks if ctx.scope.covers_region(m["id"])]
    return {"items": marks, "more": unplaced}


def forget_resources() -> None:
    """Drop the per-street counts (tests; a bulk import that changes no count)."""
    with _resources_lock:
        _resources.update(key=None, at=0.0, marks=[], unplaced=0)


# ------------------------------------------------------------------ cards


def _open_cards(ctx: command.Context) -> list[tuple]:
    """(region code, area name, department, overdue) of each card issued and not
    yet acknowledged, in an active activation of the screen's incidents."""
    if "response.cards" not in ctx.cache:
        from yingji.response import cards
        from yingji.response.models import ActionCard, Activation

        scope = ctx.scope
        rows = []
        for region, name, level, parent, department, issued, ack_minutes in (
            ActionCard.objects.filter(
                state=cards.ISSUED, activation__status=Activation.Status.ACTIVE
            )
            .filter(_mode_q(ctx, "activation__incident__"))
            .filter(
                scope.q(department_field="department")
                | scope.q(region_field="department__region__code")
            )
            .order_by()
            .values_list(
                "department__region_id",
                "department__region__name",
                "department__region__level",
                "department__region__parent__name",
                "department__name",
                "issued_at",
                "ack_minutes",
            )
        ):
            overdue = issued + dt.timedelta(minutes=ack_minutes) < ctx.now
            if region is None:
                area = "市直部门"
            else:
                area = f"{parent}{name}" if level == "street" and parent else name
            rows.append((region or CITY, area, department, overdue))
        ctx.cache["response.cards"] = rows
    return ctx.cache["response.cards"]


def _card_areas(ctx: command.Context) -> list[dict[str, Any]]:
    """Per area (the department's region; CITY for municipal bureaus): cards,
    overdue cards and the departments, most cards first."""
    by_area: dict[str, dict[str, Any]] = {}
    for code, name, department, overdue in _open_cards(ctx):
        area = by_area.setdefault(
            code, {"code": code, "name": name, "n": 0, "late": 0, "depts": []}
        )
        area["n"] += 1
        area["late"] += overdue
        if department not in area["depts"]:
            area["depts"].append(department)
    return sorted(by_area.values(), key=lambda a: (-a["n"], a["code"]))


def _card_detail(area: dict[str, Any]) -> str:
    depts = "、".join(area["depts"][:3])
    if len(area["depts"]) > 3:
        depts += f"等 {len(area['depts'])} 个单位"
    return depts


def card_marks(ctx: command.Context) -> list[dict[str, Any]]:
    """A badge at each area's centre: its cards not acknowledged, red when one is
    past its time to acknowledge (the departments are in the panel)."""
    return [
        {
            "id": a["code"],
            "at": a["code"],
            "n": a["n"],
            "c": [a["late"]],
            "lv": "red" if a["late"] else "orange",
            **_drill_mark(ctx),
        }
        for a in _card_areas(ctx)
        if a["code"] != CITY
    ]


def cards_panel(ctx: command.Context) -> dict[str, Any]:
    areas = _card_areas(ctx)
    rows = [
        {
            "t": a["name"],
            "v": f"{a['n']} 张",
            "d": (f"超时 {a['late']} 张  " if a["late"] else "") + _card_detail(a),
            "l": "red" if a["late"] else "orange",
        }
        for a in areas[:PANEL_CARD_AREAS]
    ]
    return {
        "rows": rows,
        "more": max(0, len(areas) - len(rows)),
        "empty": "行动卡均已签收",
    }


# ------------------------------------------------------------------ duty, figures, timeline


def _person(user: Any) -> tuple[str, str]:
    if user is None:
        return "未排班", ""
    profile = getattr(user, "profile", None)
    name = (profile.full_name if profile else "") or user.get_username()
    return name, (profile.phone if profile else "") or ""


def duty_panel(ctx: command.Context) -> dict[str, Any]:
    from django.utils import timezone

    from yingji.response.models import DutyShift

    shift = (
        DutyShift.objects.filter(starts_at__lte=ctx.now, ends_at__gt=ctx.now)
        .select_related("officer__profile", "leader__profile")
        .first()
    )
    if shift is None:
        return {"rows": [], "empty": "当前时段没有排班"}
    span = (
        f"{timezone.localtime(shift.starts_at):%m-%d %H:%M} 至 "
        f"{timezone.localtime(shift.ends_at):%m-%d %H:%M}"
    )
    officer, officer_phone = _person(shift.officer)
    leader, leader_phone = _person(shift.leader)
    rows = [
        {"t": "值班员", "v": officer, "d": "  ".join(p for p in (officer_phone, span) if p)},
        {"t": "带班领导", "v": leader, "d": leader_phone},
    ]
    if shift.period:
        names = "、".join(d.name for d in shift.departments.all())
        rows.append({"t": "联合值守", "v": shift.period, "d": names})
    return {"rows": rows}


def figures(ctx: command.Context) -> list[dict[str, Any]]:
    from yingji.response.dispatch import EN_ROUTE, ORDERED

    incidents = _incidents(ctx)
    severe = sum(1 for i in incidents if i[2] in ("I", "II"))
    responding = sum(1 for i in incidents if i[3] == "responding")
    moving = sum(1 for d in _dispatches(ctx) if d[1] in (ORDERED, EN_ROUTE))
    cards = _open_cards(ctx)
    late = sum(1 for c in cards if c[3])
    people = sum(s[5] for s in _shelters(ctx))
    return [
        {
            "t": "突发事件" + (f"(响应中 {responding})" if responding else ""),
            "v": len(incidents),
            "tone": "bad" if severe else ("warn" if incidents else ""),
        },
        {"t": "在途队伍", "v": moving, "tone": "warn" if moving else ""},
        {
            "t": "未签收行动卡" + (f"(超时 {late})" if late else ""),
            "v": len(cards),
            "tone": "bad" if late else ("warn" if cards else ""),
        },
        {"t": "避护场所在场人数", "v": people, "tone": ""},
    ]


def timeline(ctx: command.Context) -> list[dict[str, Any]]:
    """The incidents' timelines within TIMELINE_HOURS; on a drill's screen the
    drill's whole timeline and its injected steps."""
    from yingji.response.models import Drill, TimelineEntry

    entries = TimelineEntry.objects.all()
    if ctx.drill is None:  # a drill's screen shows its whole timeline
        entries = entries.filter(at__gte=ctx.now - dt.timedelta(hours=TIMELINE_HOURS))
    out = [
        {
            "at": int(at.timestamp()),
            "t": f"{title}:{text}" if not text.startswith(title) else text,
            "k": "事件",
            "l": level,
            **_drill_mark(ctx),
        }
        for at, text, title, level in entries.filter(
            _mode_q(ctx, "incident__"), _incident_scope(ctx, "incident__")
        )
        .order_by("-at", "-pk")
        .values_list("at", "text", "incident__title", "incident__level")[: command.TIMELINE_LIMIT]
    ]
    if ctx.drill is not None:
        from yingji.response.drills import step_summary

        drill = Drill.objects.filter(pk=ctx.drill).first()
        if drill is not None and drill.started_at:
            for i in drill.injected:
                if 0 <= i < len(drill.scenario):
                    step = drill.scenario[i]
                    at = drill.started_at + dt.timedelta(minutes=step.get("at", 0))
                    out.append(
                        {"at": int(at.timestamp()), "t": step_summary(step), "k": "注入", "dr": 1}
                    )
    return out


def drill_warning_marks(ctx: command.Context) -> list[dict[str, Any]]:
    """A drill's injected warnings, by area (they are not stored as alerts)."""
    from yingji.response.models import Drill

    drill = Drill.objects.filter(pk=ctx.drill).first() if ctx.drill is not None else None
    if drill is None:
        return []
    marks = []
    for i in drill.injected:
        if not 0 <= i < len(drill.scenario):
            continue
        step = drill.scenario[i]
        if step.get("kind") != "alert":
            continue
        for code in step.get("area_codes", []):
            marks.append(
                {
                    "id": f"{i}-{code}",
                    "rg": code,
                    "lv": step.get("level", ""),
                    "ti": f"演练预警:{step.get('event', '')}",
                    "dr": 1,
                }
            )
    return marks


def drill_title(drill_id: int) -> str | None:
    from yingji.response.models import Drill

    return Drill.objects.filter(pk=drill_id).values_list("title", flat=True).first()


def register() -> None:
    """Called from ResponseConfig.ready()."""
    command.register_drill(drill_title)
    command.register(
        "drill_warnings",
        "演练预警区域",
        kind=command.LAYER,
        build=drill_warning_marks,
        order=6,
        style={"shape": "area", "fillOpacity": 0.22, "color": "#ff9f0a"},
        modes=command.DRILL_ONLY,
    )
    command.register(
        "incidents",
        "突发事件",
        kind=command.LAYER,
        build=incident_marks,
        order=12,
        style={"shape": "ring", "size": 34},
    )
    command.register(
        "dispatches",
        "在途调度",
        kind=command.LAYER,
        build=dispatch_marks,
        order=30,
        style={"shape": "line", "color": "#3d9bff", "levelWords": False},
    )
    command.register(
        "shelters",
        "开放避护场所(在场人数)",
        kind=command.LAYER,
        build=shelter_marks,
        order=40,
        style={
            "shape": "badge",
            "size": 30,
            "nUnit": "人在场",
            "color": "#32d74b",
            "levelWords": False,
        },
    )
    command.register(
        "cards",
        "未签收行动卡(按区域)",
        kind=command.LAYER,
        build=card_marks,
        order=50,
        style={
            "shape": "badge",
            "size": 28,
            "nUnit": "张未签收",
            "color": "#ff9f0a",
            "levelWords": False,
            "parts": ["超时"],
        },
    )
    command.register(
        "resources",
        "应急资源(按镇街汇总)",
        kind=command.LAYER,
        build=resource_marks,
        order=90,
        style={
            "shape": "badge",
            "size": 22,
            "nUnit": "项资源",
            "color": "#98a2b3",
            "levelWords": False,
            "parts": ["队伍", "可用", "仓库", "避护场所", "医院", "停机坪"],
        },
        modes=command.NORMAL_ONLY,
    )
    command.register("duty", "值班信息", kind=command.PANEL, build=duty_panel, order=10)
    command.register("cards.panel", "未签收行动卡", kind=command.PANEL, build=cards_panel, order=70)
    command.register("response.figures", "应急", kind=command.FIGURES, build=figures, order=30)
    command.register("response.timeline", "应急", kind=command.TIMELINE, build=timeline)
