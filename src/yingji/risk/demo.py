"""Demo data for the risk registers (idempotent, seed 2026, runs in seconds):
enterprises over Guangzhou's streets, risk points with assessment history,
hazards in every state of the rectification loop (walked through the real
workflow), 回头看 re-checks, and two years of accidents for the double decrease.

Dates are fixed (the demo "today" is 2026-11-27) so the demo is reproducible;
the dashboard at ?as_of=2026-11-27 shows the demo year as it stood then.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from shapely.geometry import Point, shape

from yingji.core import outbox
from yingji.core.audit import acting_as
from yingji.core.models import Region
from yingji.risk import creditcode, services
from yingji.risk.hazardflow import STATE_LABELS
from yingji.risk.models import Accident, DecreaseTarget, Enterprise, Hazard, RiskPoint

SEED = 2026
DEMO_TODAY = dt.date(2026, 11, 27)
ENTERPRISES = 300
HAZARDS = 600
PUBLIC_SITES = 30

# (industry code, key categories, name ending, weight)
PROFILES = [
    ("2614", ["hc_production", "major_hazard_installation"], "化工有限公司", 4),
    ("2669", ["hc_use"], "精细化工有限公司", 4),
    ("5166", ["hc_trade"], "石化贸易有限公司", 3),
    ("5265", ["hc_trade"], "加油站", 4),
    ("5942", ["hc_storage", "major_hazard_installation"], "危险品仓储有限公司", 2),
    ("4500", ["town_gas"], "燃气有限公司", 3),
    ("4710", ["construction"], "建筑工程有限公司", 8),
    ("4813", ["construction"], "市政工程有限公司", 4),
    ("5430", ["transport"], "客运有限公司", 3),
    ("5436", ["transport", "hc_trade"], "危险货物运输有限公司", 2),
    ("3216", ["aluminium_casting"], "铝业有限公司", 2),
    ("3120", ["steel_metallurgy"], "钢铁有限公司", 1),
    ("2021", ["dust_explosion"], "木业有限公司", 4),
    ("1351", ["ammonia_refrigeration"], "冷链食品有限公司", 3),
    ("1011", ["non_coal_mine"], "石场", 1),
    ("4620", ["confined_space"], "污水处理有限公司", 3),
    ("6110", ["crowded_place"], "酒店有限公司", 5),
    ("5211", ["crowded_place"], "百货商场", 5),
    ("9011", ["crowded_place"], "娱乐有限公司", 3),
    ("3670", [], "汽车零部件有限公司", 6),
    ("3912", [], "电子科技有限公司", 6),
]
NAME_WORDS = [
    "恒达",
    "华粤",
    "南方",
    "穗丰",
    "永安",
    "宏图",
    "金穗",
    "广业",
    "珠江",
    "联泰",
    "利和",
    "创新",
    "华兴",
    "祥和",
    "粤海",
    "新港",
    "东方",
    "骏达",
    "嘉禾",
    "信达",
    "合众",
    "天成",
]
POINT_NAMES = [
    "储罐区",
    "装卸区",
    "仓库",
    "配电房",
    "生产车间",
    "锅炉房",
    "有限空间(污水池)",
    "除尘系统",
    "液氨制冷机房",
    "燃气调压站",
    "塔吊作业区",
    "深基坑",
    "高处作业平台",
    "厨房燃气区",
    "疏散通道",
]
HAZARD_TEXTS = {
    "fire": ["消防通道被杂物堵塞", "灭火器压力不足", "自动喷淋系统故障", "应急照明失效"],
    "equipment": ["可燃气体报警器失效", "压力表超期未检", "安全阀未定期校验", "防护罩缺失"],
    "operation": ["动火作业未办理审批", "有限空间作业未检测气体", "高处作业未系安全带"],
    "management": ["安全培训记录不全", "应急预案未演练", "隐患排查台账不完整"],
    "electrical": ["配电箱未接地", "临时用电线路私拉乱接"],
    "hazardous_chemicals": ["危化品混存", "储罐区未设置紧急切断", "防雷防静电检测超期"],
    "environment": ["作业场所粉尘积累", "通风设施不足"],
}
# Where each hazard ends up (weights): every state of the loop appears.
FINAL_STATES = [
    ("reported", 7),
    ("assigned", 9),
    ("rectifying", 16),
    ("submitted", 8),
    ("rejected", 4),
    ("accepted", 5),
    ("closed", 51),
]
PATH = ["assign", "start", "submit", "accept", "close"]
ACCIDENT_TYPES = [
    ("fall", 30),
    ("struck_by_object", 14),
    ("machinery", 12),
    ("vehicle", 10),
    ("collapse", 8),
    ("electric_shock", 7),
    ("lifting", 6),
    ("poisoning", 5),
    ("fire", 4),
    ("scald", 2),
    ("other_explosion", 2),
]


def _pick(rng: random.Random, weighted: list) -> Any:
    return rng.choices(weighted, weights=[w[-1] for w in weighted])[0]


def _point_in(rng: random.Random, region: Region) -> tuple[float, float]:
    geom = shape(region.boundary)
    min_x, min_y, max_x, max_y = geom.bounds
    for _ in range(60):
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if geom.contains(Point(x, y)):
            return round(x, 6), round(y, 6)
    return region.centroid_lon, region.centroid_lat


def _acting_user():
    users = get_user_model().objects
    return users.filter(username="supervisor").first() or users.filter(is_superuser=True).first()


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def load_demo(stdout=None) -> str:
    """Load the risk demo once; later calls only report what is there."""
    if Enterprise.objects.filter(credit_code=creditcode.make("91440100", 1)).exists():
        return _summary("已存在")
    user = _acting_user()
    if user is None:
        raise RuntimeError(
            "演示数据需要督查账号 supervisor 或一个超级用户:请先运行 yingji demo_users"
        )
    streets = list(Region.objects.filter(level="street", boundary__isnull=False).order_by("code"))
    if not streets:
        raise RuntimeError("演示数据需要广州行政区划:请先运行 yingji regions load guangzhou")
    rng = random.Random(SEED)
    with acting_as(user, "演示数据"), outbox.held(), transaction.atomic():
        enterprises = _enterprises(rng, streets)
        _risk_points(rng, enterprises, streets)
        _hazards(rng, enterprises, user)
        _accidents(rng, enterprises, streets)
        DecreaseTarget.objects.get_or_create(
            year=2026,
            defaults={"max_accidents": 140, "max_deaths": 60, "note": "不高于2025年(演示)"},
        )
    return _summary("已生成")


def _summary(verb: str) -> str:
    states = dict(Hazard.objects.values_list("state").annotate(n=Count("id")).order_by())
    by_state = "、".join(
        f"{label}{states.get(state.value, 0)}" for state, label in STATE_LABELS.items()
    )
    return (
        f"{verb}企业 {Enterprise.objects.count()} 家、风险点 {RiskPoint.objects.count()} 个、"
        f"隐患 {sum(states.values())} 项({by_state})、"
        f"事故 {Accident.objects.count()} 起(2025–2026)"
    )


def _enterprises(rng: random.Random, streets: list[Region]) -> list[Enterprise]:
    out = []
    for i in range(1, ENTERPRISES + 1):
        industry, categories, ending, _ = _pick(rng, PROFILES)
        street = rng.choice(streets)
        lon, lat = _point_in(rng, street)
        name = f"广州市{street.name.removesuffix('街道').removesuffix('镇')}{rng.choice(NAME_WORDS)}{ending}"
        if Enterprise.objects.filter(name=name).exists():
            name = f"{name[:-4]}{i}{name[-4:]}"
        out.append(
            services.save_enterprise(
                credit_code=creditcode.make("91440100", i),
                name=name,
                industry_code=industry,
                lon=lon,
                lat=lat,
                key_categories=list(categories),
                address=f"{street.name}{rng.randint(1, 300)}号",
                contact_person=rng.choice("张王李陈刘黄周吴")
                + rng.choice(["伟", "敏", "强", "婷", "军", "芳"]),
                contact_phone=f"138{rng.randint(10000000, 99999999)}",
                employees=rng.randint(10, 2000),
            )
        )
    return out


LEC_CHOICES = [
    ((3, 6, 7), 30),
    ((1, 6, 7), 30),
    ((3, 3, 15), 15),
    ((6, 6, 7), 12),
    ((6, 6, 15), 6),
    ((10, 6, 7), 4),
    ((0.5, 6, 3), 20),
]
LS_CHOICES = [((2, 2), 30), ((2, 3), 25), ((3, 3), 15), ((3, 4), 10), ((4, 5), 5), ((1, 2), 25)]


def _risk_points(rng: random.Random, enterprises: list[Enterprise], streets: list[Region]) -> None:
    n = 0
    for e in enterprises:
        for _ in range(rng.randint(1, 4)):
            n += 1
            point = RiskPoint.objects.create(
                code=f"FX{n:05d}",
                enterprise=e,
                name=rng.choice(POINT_NAMES),
                location="厂区",
                district=e.district,
                street=e.street,
                lon=e.lon,
                lat=e.lat,
                control_measures="落实岗位巡检、定期检测和应急处置卡",
                responsible_person=e.contact_person,
                hazard_factors="火灾、爆炸、中毒和窒息、高处坠落",
            )
            _assess(rng, point, dt.date(2025, rng.randint(3, 12), rng.randint(1, 28)))
            if rng.random() < 0.3:  # re-assessed this year: the grade history has two entries
                _assess(rng, point, dt.date(2026, rng.randint(1, 10), rng.randint(1, 28)))
    sites = ["地铁站", "体育中心", "会展中心", "火车站", "大型商圈", "客运码头"]
    for i in range(1, PUBLIC_SITES + 1):
        street = rng.choice(streets)
        lon, lat = _point_in(rng, street)
        point = RiskPoint.objects.create(
            code=f"GG{i:04d}",
            site_name=f"{street.name}{rng.choice(sites)}",
            name="人员密集区域",
            district=street.parent,
            street=street,
            lon=lon,
            lat=lat,
            control_measures="大客流预警、限流疏导",
            responsible_person="场所管理方",
        )
        _assess(rng, point, dt.date(2026, rng.randint(1, 10), rng.randint(1, 28)))


def _assess(rng: random.Random, point: RiskPoint, day: dt.date) -> None:
    if rng.random() < 0.6:
        (lk, ex, c), _ = _pick(rng, LEC_CHOICES)
        services.assess(
            point,
            method="lec",
            likelihood=lk,
            exposure=ex,
            consequence=c,
            assessed_on=day,
            assessor="企业安全管理员",
        )
    else:
        (lk, s), _ = _pick(rng, LS_CHOICES)
        services.assess(
            point,
            method="ls",
            likelihood=lk,
            consequence=s,
            assessed_on=day,
            assessor="第三方评估机构",
        )


def _hazards(rng: random.Random, enterprises: list[Enterprise], user) -> None:
    sources = (
        ["self_inspection"] * 5
        + ["regulator_inspection"] * 3
        + ["public_report", "unannounced_visit"]
    )
    for i in range(1, HAZARDS + 1):
        e = rng.choice(enterprises)
        category = rng.choice(list(HAZARD_TEXTS))
        major = rng.random() < 0.08
        found = _day(rng, dt.date(2026, 1, 5), DEMO_TODAY - dt.timedelta(days=3))
        h = services.create_hazard(
            e,
            description=rng.choice(HAZARD_TEXTS[category]),
            source=rng.choice(sources),
            level="major" if major else "general",
            category=category,
            found_on=found,
            code=f"YH2026{i:05d}",
            location=rng.choice(POINT_NAMES),
            responsible_person=e.contact_person,
        )
        # The first hazards cover every state for certain; the rest follow the weights.
        final = FINAL_STATES[i - 1][0] if i <= len(FINAL_STATES) else _pick(rng, FINAL_STATES)[0]
        _walk(rng, h, final, user, found)


def _walk(rng: random.Random, h: Hazard, final: str, user, found: dt.date) -> None:
    """Move the hazard through the real workflow to `final`, on plausible dates."""
    if final == "reported":
        return
    day = found + dt.timedelta(days=rng.randint(0, 2))
    span = 45 if h.level == "major" else 14
    deadline = (
        services.default_deadline(h.level, found)
        if rng.random() < 0.7
        else found + dt.timedelta(days=rng.randint(7, span))
    )
    services.transition(h, "assign", user, on=min(day, DEMO_TODAY), deadline=deadline)
    if final == "assigned":
        return
    if h.level == "major":
        services.save_plan(
            h,
            user,
            goals="彻底消除重大事故隐患",
            measures="停用相关设施,更换改造",
            funds=f"{rng.randint(5, 80)}万元",
            deadline=deadline,
            responsible_person=h.enterprise.contact_person or "企业主要负责人",
            contingency_plan="设置警戒区,落实专人监护,制定现场处置方案",
        )
        services.list_for_supervision(h, user, on=min(day + dt.timedelta(days=1), DEMO_TODAY))
    day = min(day + dt.timedelta(days=rng.randint(1, 3)), DEMO_TODAY)
    services.transition(h, "start", user, on=day)
    if final == "rectifying":
        return
    # Some finish late: that is what the overdue figures are for.
    day = min(deadline + dt.timedelta(days=rng.randint(-8, 6)), DEMO_TODAY)
    day = max(day, found)
    services.transition(h, "submit", user, on=day, comment="已按要求完成整改,附整改前后照片")
    if final == "submitted":
        return
    if final == "rejected" or rng.random() < 0.1:
        day = min(day + dt.timedelta(days=rng.randint(1, 5)), DEMO_TODAY)
        services.transition(h, "reject", user, on=day, comment="整改不彻底,需重新整改")
        if final == "rejected":
            return
        day = min(day + dt.timedelta(days=1), DEMO_TODAY)
        services.transition(h, "restart", user, on=day)
        day = min(day + dt.timedelta(days=rng.randint(2, 6)), DEMO_TODAY)
        services.transition(h, "submit", user, on=day, comment="已重新整改")
    day = min(day + dt.timedelta(days=rng.randint(1, 6)), DEMO_TODAY)
    services.transition(h, "accept", user, on=day, comment="现场验收合格")
    if final == "accepted":
        return
    day = min(day + dt.timedelta(days=rng.randint(0, 3)), DEMO_TODAY)
    services.transition(h, "close", user, on=day)
    for recheck in h.rechecks.filter(due__lt=DEMO_TODAY):
        passed = rng.random() < 0.95
        recheck.done_on, recheck.passed = recheck.due, passed
        recheck.note = "复查整改到位" if passed else "问题有反弹,已另行立案"
        recheck.save()


def _accidents(rng: random.Random, enterprises: list[Enterprise], streets: list[Region]) -> None:
    # 2025 whole year, 2026 to the demo day: fewer accidents and deaths (双下降).
    plan = [
        (2025, dt.date(2025, 1, 1), dt.date(2025, 12, 31), 150, 0.42),
        (2026, dt.date(2026, 1, 1), DEMO_TODAY, 118, 0.38),
    ]
    for year, start, end, count, death_rate in plan:
        for i in range(1, count + 1):
            day = _day(rng, start, end)
            at = timezone.make_aware(
                dt.datetime.combine(day, dt.time(rng.randint(6, 22), rng.randint(0, 59)))
            )
            kind, _ = _pick(rng, ACCIDENT_TYPES)
            deaths = 0
            if rng.random() < death_rate:
                deaths = 1 if rng.random() < 0.85 else rng.randint(2, 4)
            enterprise = rng.choice(enterprises) if rng.random() < 0.7 else None
            lon = lat = None
            place = ""
            if enterprise is None:
                street = rng.choice(streets)
                lon, lat = _point_in(rng, street)
                place = f"{street.name}某在建工地"
            services.save_accident(
                code=f"SG{year}{i:04d}",
                occurred_at=at,
                accident_type=kind,
                deaths=deaths,
                serious_injuries=rng.choice([0, 0, 0, 1, 2]),
                direct_loss=Decimal(rng.randint(5, 600)),
                enterprise=enterprise,
                lon=lon,
                lat=lat,
                industry_code="" if enterprise else "4710",
                place=place,
                description="演示数据:事故简要经过",
            )
