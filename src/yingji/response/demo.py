"""Demo data for incident command (`yingji demo` calls `load_demo`).

Idempotent and deterministic: the shipped red rainstorm plan (five stops),
a duty roster around today with joint duty on holidays, rescue teams,
warehouses with stock, shelters (the four central shelters of seed item 41 at
中大, 华工, 华农 and 奥体中心 among them), helipads and hospitals over Guangzhou,
and one past incident (June 2022) with its whole timeline. Coordinates are
WGS-84 and approximate (good enough for a demo map, not survey data).
Notifications of the past incident are history: queued held and marked sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from yingji.core import audit, outbox
from yingji.core.models import Department, DepartmentKind, Notification, Region, Role
from yingji.response import plans, resources, services
from yingji.response.models import (
    EmergencyPlan,
    Helipad,
    Hospital,
    Incident,
    RescueTeam,
    Shelter,
    StockItem,
    Warehouse,
)

PAST_INCIDENT = "白云区“6·1”暴雨内涝(演示)"
# The response under way when the demo opens: so that the duty desk, the command
# screen and every office's workbench have something live to act on.
CURRENT_INCIDENT = "天河区石牌街道暴雨内涝(演示)"
CURRENT_STREET = "440106006"  # 石牌街道
WAITING_KINDS = (DepartmentKind.DISTRICT_GOV, DepartmentKind.STREET_OFFICE)

TEAMS = [
    # name, kind, members, capabilities, base, lon, lat, department
    (
        "市消防救援支队特勤大队",
        "professional",
        120,
        ["城市搜救", "水上救援", "排涝", "危化处置"],
        "越秀区",
        113.2755,
        23.1335,
        "市消防救援支队",
    ),
    (
        "天河消防救援站",
        "professional",
        45,
        ["城市搜救", "水上救援", "排涝"],
        "天河区",
        113.3520,
        23.1370,
        "市消防救援支队",
    ),
    (
        "白云消防救援站",
        "professional",
        40,
        ["城市搜救", "排涝"],
        "白云区",
        113.2730,
        23.1900,
        "市消防救援支队",
    ),
    (
        "番禺消防救援站",
        "professional",
        40,
        ["城市搜救", "水上救援"],
        "番禺区",
        113.3840,
        22.9380,
        "市消防救援支队",
    ),
    (
        "南沙水上救援队",
        "professional",
        30,
        ["水上救援"],
        "南沙区",
        113.5250,
        22.8010,
        "市消防救援支队",
    ),
    ("市水务局排涝抢险队", "professional", 60, ["排涝"], "海珠区", 113.3170, 23.0960, "市水务局"),
    (
        "市政排水抢险一队",
        "professional",
        35,
        ["排涝", "电力保障"],
        "荔湾区",
        113.2430,
        23.1250,
        "市水务局",
    ),
    (
        "广州危化品应急救援队",
        "professional",
        50,
        ["危化处置", "城市搜救"],
        "黄埔区",
        113.4590,
        23.1060,
        "危化处",
    ),
    ("从化森林消防队", "professional", 40, ["森林灭火"], "从化区", 113.5860, 23.5480, "防火处"),
    (
        "增城地质灾害应急队",
        "professional",
        25,
        ["地质灾害", "城市搜救"],
        "增城区",
        113.8100,
        23.2610,
        "减灾处",
    ),
    (
        "花都区应急救援队",
        "grassroots",
        30,
        ["城市搜救", "排涝"],
        "花都区",
        113.2200,
        23.4040,
        "花都区政府",
    ),
    (
        "天河社会应急力量孵化基地蓝天救援队",
        "social",
        80,
        ["水上救援", "城市搜救", "医疗救护"],
        "天河区",
        113.3810,
        23.1650,
        "救援预案处",
    ),
    (
        "广州山地救援队",
        "social",
        40,
        ["山地救援", "医疗救护"],
        "白云区",
        113.2980,
        23.2050,
        "救援预案处",
    ),
    ("广州应急通信保障队", "professional", 20, ["通信保障"], "越秀区", 113.2810, 23.1290, "指挥处"),
]

WAREHOUSES = [
    (
        "市级应急物资储备库(白云)",
        "白云区太和镇",
        113.3310,
        23.3020,
        [
            ("冲锋舟", "水上救援", 40, "艘"),
            ("救生衣", "水上救援", 3000, "件"),
            ("排涝泵", "排涝", 60, "台"),
            ("帐篷", "生活保障", 1500, "顶"),
            ("折叠床", "生活保障", 5000, "张"),
        ],
    ),
    (
        "市级应急物资储备库(番禺)",
        "番禺区石楼镇",
        113.4880,
        22.9500,
        [
            ("大流量排涝车", "排涝", 8, "台"),
            ("沙袋", "排涝", 50000, "个"),
            ("发电机", "电力保障", 30, "台"),
        ],
    ),
    (
        "天河区应急物资仓库",
        "天河区龙洞",
        113.3780,
        23.2030,
        [
            ("救生衣", "水上救援", 800, "件"),
            ("应急照明灯", "电力保障", 400, "台"),
            ("饮用水", "生活保障", 20000, "瓶"),
        ],
    ),
    (
        "海珠区应急物资仓库",
        "海珠区琶洲",
        113.3650,
        23.1000,
        [("排涝泵", "排涝", 20, "台"), ("沙袋", "排涝", 20000, "个")],
    ),
]

SHELTERS = [
    # name, grade, address, lon, lat, capacity, area m², facilities
    (
        "中山大学南校区中心避难场所",
        "中心",
        "海珠区新港西路135号",
        113.2980,
        23.0960,
        20000,
        120000,
        ["供水", "供电", "医疗", "厕所", "广播"],
    ),
    (
        "华南理工大学五山校区中心避难场所",
        "中心",
        "天河区五山路381号",
        113.3430,
        23.1530,
        25000,
        150000,
        ["供水", "供电", "医疗", "厕所", "广播"],
    ),
    (
        "华南农业大学中心避难场所",
        "中心",
        "天河区五山路483号",
        113.3590,
        23.1600,
        25000,
        160000,
        ["供水", "供电", "医疗", "厕所"],
    ),
    (
        "广州奥林匹克体育中心中心避难场所",
        "中心",
        "天河区奥体路",
        113.5500,
        23.1680,
        30000,
        200000,
        ["供水", "供电", "医疗", "厕所", "直升机起降"],
    ),
    (
        "天河体育中心避护场所",
        "固定",
        "天河区天河路299号",
        113.3250,
        23.1390,
        8000,
        50000,
        ["供水", "供电", "厕所"],
    ),
    (
        "越秀公园避护场所",
        "固定",
        "越秀区解放北路988号",
        113.2700,
        23.1400,
        6000,
        40000,
        ["供水", "厕所"],
    ),
    (
        "白云区同和街避护场所",
        "紧急",
        "白云区同和街",
        113.3190,
        23.1970,
        1500,
        8000,
        ["供水", "厕所"],
    ),
    (
        "番禺区市桥避护场所",
        "固定",
        "番禺区市桥街",
        113.3640,
        22.9450,
        5000,
        30000,
        ["供水", "供电", "厕所"],
    ),
    (
        "黄埔区大沙地避护场所",
        "固定",
        "黄埔区大沙地",
        113.4560,
        23.1030,
        4000,
        25000,
        ["供水", "厕所"],
    ),
    (
        "花都区新华避护场所",
        "固定",
        "花都区新华街",
        113.2180,
        23.4030,
        4000,
        22000,
        ["供水", "厕所"],
    ),
]

HELIPADS = [
    ("广州白云国际机场通航停机坪", 113.3050, 23.3920, "地面", True),
    ("中山大学附属第一医院楼顶停机坪", 113.2870, 23.1300, "楼顶", False),
    ("广州奥林匹克体育中心临时起降点", 113.5510, 23.1700, "地面", False),
    ("南沙区应急航空起降点", 113.5300, 22.7900, "地面", True),
]

HOSPITALS = [
    ("中山大学附属第一医院", "三级甲等", 113.2865, 23.1297, 3000),
    ("广东省人民医院", "三级甲等", 113.2907, 23.1266, 3800),
    ("南方医科大学南方医院", "三级甲等", 113.3275, 23.1900, 2700),
    ("广州市第一人民医院", "三级甲等", 113.2660, 23.1360, 2000),
    ("广州市番禺区中心医院", "三级甲等", 113.3670, 22.9380, 1800),
    ("广州市花都区人民医院", "三级甲等", 113.2140, 23.3890, 1300),
]


def _dept(name: str) -> Department | None:
    return plans.find_department(name)


def load_resources() -> dict[str, int]:
    """Teams, warehouses with stock, shelters, helipads, hospitals (upsert by name)."""
    for name, kind, members, caps, base, lon, lat, dept in TEAMS:
        RescueTeam.objects.update_or_create(
            name=name,
            defaults={
                "kind": kind,
                "members": members,
                "capabilities": caps,
                "base": base,
                "lon": lon,
                "lat": lat,
                "department": _dept(dept),
            },
        )
    for name, address, lon, lat, stock in WAREHOUSES:
        w, _ = Warehouse.objects.update_or_create(
            name=name, defaults={"address": address, "lon": lon, "lat": lat}
        )
        for item, category, qty, unit in stock:
            StockItem.objects.update_or_create(
                warehouse=w,
                name=item,
                defaults={"category": category, "quantity": qty, "unit": unit},
            )
    for name, grade, address, lon, lat, cap, area, fac in SHELTERS:
        Shelter.objects.get_or_create(
            name=name,
            defaults={
                "grade": grade,
                "address": address,
                "lon": lon,
                "lat": lat,
                "capacity": cap,
                "area_m2": area,
                "facilities": fac,
            },
        )
    for name, lon, lat, surface, night in HELIPADS:
        Helipad.objects.update_or_create(
            name=name, defaults={"lon": lon, "lat": lat, "surface": surface, "night_capable": night}
        )
    for name, grade, lon, lat, beds in HOSPITALS:
        Hospital.objects.update_or_create(
            name=name, defaults={"grade": grade, "lon": lon, "lat": lat, "beds": beds}
        )
    return {
        "teams": len(TEAMS),
        "warehouses": len(WAREHOUSES),
        "shelters": len(SHELTERS),
        "helipads": len(HELIPADS),
        "hospitals": len(HOSPITALS),
    }


def _users(role: str) -> list[Any]:
    User = get_user_model()
    return list(User.objects.filter(profile__role=role, is_active=True).order_by("username"))


def load_roster(today: dt.date) -> int:
    """Shifts from a week ago to three weeks ahead (existing ones are kept)."""
    officers = _users(Role.DUTY_OFFICER)
    if not officers:
        return 0
    joint = [
        d
        for d in (_dept(n) for n in ("指挥中心", "三防指挥中心", "市公安局", "市消防救援支队"))
        if d
    ]
    return len(
        services.build_roster(
            today - dt.timedelta(days=7), 28, officers, _users(Role.LEADER), joint
        )
    )


def _past_incident(plan: EmergencyPlan) -> bool:
    """A June 2022 rainstorm in 白云区, played through the real services."""
    if Incident.objects.filter(title=PAST_INCIDENT).exists():
        return False
    User = get_user_model()
    duty = User.objects.filter(profile__role=Role.DUTY_OFFICER).order_by("username").first()
    if duty is None:  # the demo accounts come first in `yingji demo`; without them, no history
        return False
    last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    tz = timezone.get_current_timezone()
    t0 = dt.datetime(2022, 6, 1, 5, 40, tzinfo=tz)

    def at(minutes: int) -> dt.datetime:
        return t0 + dt.timedelta(minutes=minutes)

    with outbox.held():
        inc = services.register_incident(
            services.IncidentInput(
                title=PAST_INCIDENT,
                incident_type="暴雨",
                occurred_at=t0,
                lon=113.3190,
                lat=23.1970,
                address="白云区同和街、京溪街一带",
                summary="凌晨短时强降雨,多处低洼路段和地下车库积水。",
                source=Incident.Source.DESK,
            ),
            user=duty,
            check=False,
            at=at(0),
        )
        act = services.activate(plan, inc, "III", user=duty, check=False, at=at(10))
        services.add_report(
            inc,
            text="京溪街地下车库被淹,转移群众1200人,2人重伤",
            deaths=0,
            missing=0,
            injured=2,
            economic_loss=650,
            evacuated=1200,
            user=duty,
            at=at(50),
        )
        for i, card in enumerate(act.cards.order_by("pk")):
            services.acknowledge(card, user=duty, at=at(10 + 3 + i % 9))
            if i % 4 != 3:  # a few cards finish late, as they do
                services.complete(
                    card, result="已按预案落实", user=duty, at=at(10 + card.limit_minutes - 5)
                )
            else:
                services.complete(
                    card, result="已落实(超时)", user=duty, at=at(10 + card.limit_minutes + 25)
                )
        team = RescueTeam.objects.get(name="白云消防救援站")
        order = resources.dispatch_team(
            inc, team, task="地下车库排涝搜救", user=duty, check=False, at=at(20)
        )
        resources.advance_order(order, "en_route", user=duty, check=False, at=at(23))
        resources.advance_order(order, "on_scene", user=duty, check=False, at=at(41))
        resources.allocate_shelters(inc, 1200, user=duty, check=False, at=at(60))
        resources.advance_order(order, "returned", user=duty, check=False, at=at(300))
        services.stand_down(act, user=duty, check=False, at=at(420))
        services.close_incident(inc, user=duty, at=at(480))
        # Shelters emptied again after the event (history, not today's occupancy).
        for a in inc.allocations.select_related("shelter"):
            s = a.shelter
            s.occupancy = max(0, s.occupancy - a.people)
            s.is_open = False
            s.save(update_fields=["occupancy", "is_open"])
    Notification.objects.filter(
        pk__gt=last, dedupe_key__startswith="response:", status=Notification.Status.QUEUED
    ).update(status=Notification.Status.SENT, sent_at=t0)
    return True


def _current_incident(plan: EmergencyPlan) -> bool:
    """A rainstorm in 石牌街道 under a level-Ⅱ response that began 20 minutes
    before the demo was loaded: the bureau's departments have acknowledged
    their cards and some have reported; the district government's and the street
    office's cards still wait (they are on those accounts' workbenches and the
    command screen, and escalate when their limits pass, as real ones do)."""
    if Incident.objects.filter(title=CURRENT_INCIDENT).exists():
        return False
    User = get_user_model()
    duty = User.objects.filter(profile__role=Role.DUTY_OFFICER).order_by("username").first()
    if duty is None:
        return False
    # 石牌街道's centre in the loaded pack (its boundary is synthesised in the
    # demo pack, so no fixed coordinate is sure to fall inside it).
    street = Region.objects.filter(code=CURRENT_STREET).values("centroid_lon", "centroid_lat")
    centre = street.first()
    if centre is None or centre["centroid_lon"] is None:
        return False
    t0 = timezone.now() - dt.timedelta(minutes=20)

    def at(minutes: int) -> dt.datetime:
        return t0 + dt.timedelta(minutes=minutes)

    inc = services.register_incident(
        services.IncidentInput(
            title=CURRENT_INCIDENT,
            incident_type="暴雨",
            occurred_at=t0,
            lon=centre["centroid_lon"],
            lat=centre["centroid_lat"],
            address="天河区石牌街道石牌东路一带",
            summary="短时强降雨,石牌东路、龙口西路低洼路段积水约 40 厘米。",
            source=Incident.Source.DESK,
        ),
        user=duty,
        check=False,
        at=at(0),
    )
    act = services.activate(plan, inc, "II", user=duty, check=False, at=at(5))
    for i, card in enumerate(act.cards.select_related("department").order_by("pk")):
        if card.department.kind in WAITING_KINDS:  # the district's and the street's: waiting
            continue
        services.acknowledge(card, user=duty, at=at(6 + i % 7))
        if i % 3 == 0:
            services.complete(card, result="已按预案落实", user=duty, at=at(12 + i % 6))
    return True


PAST_DRILL = "2022年“5·12”红色暴雨双盲演练(演示)"
DRILL_SCENARIO = [
    {
        "at": 0,
        "kind": "alert",
        "event": "暴雨红色预警信号",
        "level": "red",
        "area_codes": ["440106"],
    },
    {"at": 12, "kind": "alarm", "rule": "rainstorm", "level": "red", "region_codes": ["440106"]},
    {
        "at": 35,
        "kind": "report",
        "text": "天河区多处积水,转移群众2600人,1人受伤",
        "injured": 1,
        "evacuated": 2600,
    },
]


def _past_drill(plan: EmergencyPlan) -> bool:
    """A finished blind drill of the rainstorm plan with its report (May 2022)."""
    from yingji.response import drills
    from yingji.response.models import DeskItem, Drill

    if Drill.objects.filter(title=PAST_DRILL).exists():
        return False
    User = get_user_model()
    duty = User.objects.filter(profile__role=Role.DUTY_OFFICER).order_by("username").first()
    if duty is None:
        return False
    t0 = dt.datetime(2022, 5, 12, 9, 30, tzinfo=timezone.get_current_timezone())

    def at(minutes: int) -> dt.datetime:
        return t0 + dt.timedelta(minutes=minutes)

    last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with outbox.held():
        drill = drills.create_drill(
            title=PAST_DRILL,
            plan=plan,
            scenario=DRILL_SCENARIO,
            scheduled_at=t0,
            blind=True,
            user=duty,
        )
        drills.advance(drill, at(1))
        item = DeskItem.objects.get(source_ref=f"{drills.REF_PREFIX}{drill.pk}-0")
        incident = services.accept_desk_item(
            item, user=duty, incident_type="暴雨", at=at(4), title="天河区红色暴雨(演练)"
        )
        act = services.activate(plan, incident, "II", user=duty, at=at(9))
        # Response times vary by card, deterministically: some late, a few never done.
        for i, card in enumerate(act.cards.order_by("pk")):
            if i % 7 == 6:
                continue
            services.acknowledge(card, user=duty, at=at(9 + 2 + (i * 5) % (card.ack_minutes + 6)))
            if i % 5 != 4:
                services.complete(
                    card,
                    result="已落实(演练)",
                    user=duty,
                    at=at(9 + card.limit_minutes - 10 + (i * 11) % 25),
                )
        team = RescueTeam.objects.get(name="天河消防救援站")
        resources.dispatch_team(
            incident, team, task="石牌桥隧道排涝(演练)", user=duty, check=False, at=at(15)
        )
        drills.advance(drill, at(40))
        drills.finish(drill, user=duty, at=at(150))
    Notification.objects.filter(
        pk__gt=last, dedupe_key__startswith="response:", status=Notification.Status.QUEUED
    ).update(status=Notification.Status.SENT, sent_at=t0)
    return True


def load_demo(stdout: Any = None) -> str:
    """Load everything above; returns a one-line summary."""
    with audit.acting_as(None, "演示数据"), transaction.atomic():
        plan, created = plans.load_red_rainstorm()
        counts = load_resources()
        shifts = load_roster(timezone.localdate())
        past = _past_incident(plan)
        drilled = _past_drill(plan)
        current = _current_incident(plan)
    summary = (
        f"应急指挥:预案《{plan.title}》{'已导入' if created else '已存在'},"
        f"队伍 {counts['teams']} 支、仓库 {counts['warehouses']} 个、避护场所 {counts['shelters']} 处、"
        f"停机坪 {counts['helipads']} 个、医院 {counts['hospitals']} 家,新排班 {shifts} 班,"
        f"历史事件{'已生成' if past else '已存在'},双盲演练{'已生成' if drilled else '已存在'},"
        f"正在响应的事件{'已生成' if current else '已存在'}"
    )
    return summary
